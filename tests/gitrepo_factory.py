"""Build realistic git repositories for tests, offline and reproducibly.

Dates, names and configuration are fixed (no system or global git config is read),
so the same script gives the same shas on every machine. :class:`RepoBuilder` drives
real ``git`` commands for small histories with branches and merges;
:class:`FastImporter` streams thousands of commits through one ``git fast-import``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

FileContent = str | bytes | None  # None deletes the file
START = datetime(2023, 1, 2, 9, 0, tzinfo=timezone.utc)
AUTHOR = ("Ada Lovelace", "ada@example.com")


def git_env(home: str | Path | None = None, *, author: tuple[str, str] = AUTHOR) -> dict[str, str]:
    """An environment in which git ignores the machine's configuration and never prompts."""
    name, email = author
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        LC_ALL="C",
    )
    # Settings for every git call, without a config file: no signing, hooks or auto-gc.
    settings = {
        "commit.gpgsign": "false",
        "gc.auto": "0",
        "maintenance.auto": "false",
        "core.hooksPath": os.devnull,
        "init.defaultBranch": "main",
    }
    env["GIT_CONFIG_COUNT"] = str(len(settings))
    for i, (key, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    if home is not None:
        env["HOME"] = str(home)
    return env


def _iso(when: datetime | str) -> str:
    return when if isinstance(when, str) else when.isoformat()


class RepoBuilder:
    """A working repository that grows one commit at a time.

    Every call that makes a commit returns its sha. Without ``date`` a commit is
    dated one ``step`` after the previous one, starting at ``start``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        branch: str = "main",
        start: datetime = START,
        step: timedelta = timedelta(days=1),
        author: tuple[str, str] = AUTHOR,
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.env = git_env(self.path, author=author)
        self._next = start
        self.step = step
        self.git("init", "-q", "-b", branch)

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def _dates(
        self, date: datetime | str | None, committer_date: datetime | str | None
    ) -> dict[str, str]:
        if date is None:
            when: datetime | str = self._next
            self._next += self.step
        else:
            when = date
            if isinstance(date, datetime):
                self._next = max(self._next, date + self.step)
        return {
            "GIT_AUTHOR_DATE": _iso(when),
            "GIT_COMMITTER_DATE": _iso(committer_date if committer_date is not None else when),
        }

    def write(self, files: Mapping[str, FileContent], executable: Iterable[str] = ()) -> None:
        """Write (or with None delete) files in the working tree without committing."""
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        for name in executable:
            (self.path / name).chmod(0o755)

    def commit(
        self,
        message: str,
        files: Mapping[str, FileContent] | None = None,
        *,
        date: datetime | str | None = None,
        committer_date: datetime | str | None = None,
        executable: Iterable[str] = (),
        author: tuple[str, str] | None = None,
    ) -> str:
        """Write ``files``, stage everything and commit; an empty change makes an empty commit."""
        self.write(files or {}, executable)
        self.git("add", "-A")
        env = self._dates(date, committer_date)
        if author:
            env.update(GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1])
        self._commit_with_message(message, env)
        return self.head()

    def _commit_with_message(self, message: str, env: Mapping[str, str]) -> None:
        proc = subprocess.run(
            [
                "git",
                "commit",
                "-q",
                "--allow-empty",
                "--no-verify",
                "--cleanup=verbatim",
                "-F",
                "-",
            ],
            cwd=self.path,
            env={**self.env, **env},
            input=message.encode("utf-8"),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"git commit failed: {proc.stderr.decode(errors='replace').strip()}")

    def head(self) -> str:
        """The sha at HEAD, read from the ref file when it is loose (saves a process per commit)."""
        head = (self.path / ".git" / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = self.path / ".git" / head[5:]
            if ref.is_file():
                return ref.read_text().strip()
        elif len(head) == 40:
            return head
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str, start: str | None = None) -> None:
        """Create ``name`` (at ``start`` or HEAD) and switch to it."""
        self.git("checkout", "-q", "-b", name, *([start] if start else []))

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(
        self,
        branch: str,
        message: str | None = None,
        *,
        date: datetime | str | None = None,
    ) -> str:
        """Merge ``branch`` into the current branch with a merge commit (never a fast-forward)."""
        env = self._dates(date, None)
        message = message or f"Merge branch '{branch}'"
        self.git("merge", "-q", "--no-ff", "--no-edit", "-m", message, branch, env=env)
        return self.head()

    def tag(self, name: str) -> None:
        self.git("tag", name)


class FastImporter:
    """Writes a large history through one ``git fast-import`` process into a bare repository.

    :meth:`commit` returns a mark (an int); :meth:`close` returns the shas by mark.
    Files are given whole, as in :class:`RepoBuilder`.
    """

    def __init__(
        self, path: str | Path, *, branch: str = "main", author: tuple[str, str] = AUTHOR
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        # glibc's allocator otherwise returns memory after every object, making
        # fast-import four times slower.
        self.env = {**git_env(self.path, author=author), "MALLOC_TOP_PAD_": str(64 << 20)}
        self.branch = branch
        self.author = author
        subprocess.run(
            ["git", "init", "-q", "--bare", "-b", branch, str(self.path)], env=self.env, check=True
        )
        self._marks_file = self.path / "fast-import.marks"
        self._proc = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done", f"--export-marks={self._marks_file}"],
            cwd=self.path,
            env=self.env,
            stdin=subprocess.PIPE,
        )
        assert self._proc.stdin is not None
        self._out = self._proc.stdin
        self._mark = 0

    @staticmethod
    def _data(payload: bytes) -> bytes:
        return b"data %d\n%s\n" % (len(payload), payload)

    def commit(
        self,
        message: str,
        files: Mapping[str, FileContent],
        *,
        date: datetime,
        branch: str | None = None,
        parent: int | None = None,
        merge: Iterable[int] = (),
        author: tuple[str, str] | None = None,
    ) -> int:
        """Add a commit on ``branch`` (after ``parent`` if given, else the branch tip)."""
        self._mark += 1
        name, email = author or self.author
        stamp = f"{int(date.timestamp())} +0000".encode()
        who = f"{name} <{email}> ".encode() + stamp
        parts = [
            f"commit refs/heads/{branch or self.branch}\n".encode(),
            b"mark :%d\n" % self._mark,
            b"author " + who + b"\n",
            b"committer " + who + b"\n",
            self._data(message.encode("utf-8")),
        ]
        if parent is not None:
            parts.append(b"from :%d\n" % parent)
        parts.extend(b"merge :%d\n" % m for m in merge)
        for path, content in files.items():
            quoted = path.encode("utf-8")
            if content is None:
                parts.append(b"D " + quoted + b"\n")
            else:
                raw = content if isinstance(content, bytes) else content.encode("utf-8")
                parts.append(b"M 100644 inline " + quoted + b"\n" + self._data(raw))
        self._out.write(b"".join(parts))
        return self._mark

    def close(self) -> dict[int, str]:
        """Finish the import; returns sha by mark."""
        self._out.write(b"done\n")
        self._out.close()
        if self._proc.wait() != 0:
            raise RuntimeError("git fast-import failed")
        marks: dict[int, str] = {}
        for line in self._marks_file.read_text().splitlines():
            mark, sha = line.split()
            marks[int(mark[1:])] = sha
        self._marks_file.unlink()
        return marks
