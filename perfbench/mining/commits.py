"""The ``commits`` stage of the miner: stream history, keep likely speed-ups, explain the rest.

One ``git log --name-status -z`` process streams the whole history and is parsed
incrementally; no process is spawned per commit. The cheap filters (merge, date,
paths, message, kind and number of files) run on that stream: they need only tree
diffs, which git computes about three times faster than line counts. Line counts
and added lines come from one ``-U0`` patch per survivor, read in batches of
:data:`BATCH` commits per ``git`` process.

With ``explain=True`` git is asked for everything (merges too, no date or path
limits) so that every commit comes back as a :class:`Candidate` or a
:class:`Rejection` with a reason. Without it git itself drops merges, commits
outside the date range and (for anchored ``include_paths``) commits elsewhere,
which is faster, and those produce no record. Either way the exact filters run
here too, so both modes keep the same candidates.

Rejection codes, in the order the checks run: ``merge``, ``out-of-date-range``,
``path-filter``, ``no-perf-signal`` / ``ci-only`` / ``docs-only`` / ``revert`` (the
message), ``no-source-change``, ``too-many-files``, then with the patch ``too-large``,
``data-only`` (only generated or data files such as tables changed; their lines never
count towards ``too-large``), ``comment-only`` (every changed line of code is a comment),
``too-small``, ``weak-signal`` (a lone weak word such as "cache" that the diff does
not back up) and ``no-perf-signal`` (when the message is not required).
"""

from __future__ import annotations

import codecs
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..errors import InputError, RepositoryError
from .hunks import changed_text, looks_like_data, only_comments
from .patterns import (
    ORDERS,
    DiffMatcher,
    MessageMatcher,
    PathClassifier,
    PathSet,
    ScanConfig,
    parse_bound,
)

__all__ = [
    "Candidate",
    "CommitInfo",
    "FileChange",
    "Rejection",
    "ScanConfig",
    "ScanResult",
    "check_repository",
    "find_candidates",
    "scan",
]

log = logging.getLogger(__name__)

BATCH = 64  # survivors per `git log --no-walk` process
_HEADER_FIELDS = 5  # sha, parents, author date, committer date, message
_LOG_FORMAT = "%x1e%H%x00%P%x00%aI%x00%cI%x00%B%x00"
_GIT_CONFIG = [
    "-c",
    "core.quotepath=off",
    "-c",
    "i18n.logOutputEncoding=UTF-8",
    "-c",
    "log.showSignature=false",
    "-c",
    "log.follow=false",
]
_DIFF_OPTS = ["--no-renames", "--no-color", "--no-ext-diff", "--no-textconv"]


# --- records --------------------------------------------------------------------------------


@dataclass
class FileChange:
    """One changed file; binary files count no lines."""

    path: str
    added: int
    deleted: int
    binary: bool = False

    @property
    def lines(self) -> int:
        return self.added + self.deleted


@dataclass
class CommitInfo:
    """A commit as the miner sees it; ``files`` are the changes within the configured paths."""

    sha: str
    parents: list[str]
    author_date: str
    subject: str
    message: str
    files: list[FileChange] = field(default_factory=list)
    committer_date: str = ""

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass
class Candidate:
    """A commit that looks like a performance improvement, with why it scored what it did.

    ``position`` is its place in the scanned history (0 = newest); ``source_files``
    are the non-test source files it changes, the ones later stages measure.
    """

    commit: CommitInfo
    score: float
    reasons_for: list[str]
    source_files: list[str] = field(default_factory=list)
    position: int = 0

    @property
    def sha(self) -> str:
        return self.commit.sha


@dataclass
class Rejection:
    """A commit that was left out; ``reason`` is ``code`` or ``code: detail``."""

    sha: str
    subject: str
    reason: str

    @property
    def code(self) -> str:
        return self.reason.split(":", 1)[0]


@dataclass
class ScanResult:
    """What :func:`find_candidates` found; ``scanned`` counts the commits git handed over."""

    candidates: list[Candidate]
    rejections: list[Rejection]
    scanned: int
    seconds: float

    def rejection_counts(self) -> dict[str, int]:
        return dict(Counter(r.code for r in self.rejections).most_common())


@dataclass
class _Pending:
    """A commit that passed the cheap filters and waits for its line counts and diff."""

    commit: CommitInfo
    position: int
    signals: list[tuple[str, float]]
    data_files: dict[str, int] = field(default_factory=dict)  # generated/data path -> lines


# --- judging --------------------------------------------------------------------------------


def _some(paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f", +{len(paths) - limit} more" if len(paths) > limit else "")


class Rules:
    """A checked, compiled :class:`ScanConfig` that judges commits.

    :meth:`judge` runs the checks that need only the stream (cheapest first);
    :meth:`finish` the ones that need line counts and the diff.
    """

    def __init__(self, config: ScanConfig) -> None:
        self.config = cfg = config
        if cfg.order not in ORDERS:
            raise InputError(
                f"expected one of {', '.join(ORDERS)}, got {cfg.order!r}", field="order"
            )
        for name in ("max_files", "max_lines", "min_lines"):
            if getattr(cfg, name) < 0:
                raise InputError("must not be negative", field=name)
        if cfg.min_lines > cfg.max_lines:
            raise InputError(
                f"min_lines {cfg.min_lines} exceeds max_lines {cfg.max_lines}", field="min_lines"
            )
        if cfg.max_candidates is not None and cfg.max_candidates < 1:
            raise InputError("must be at least 1 (or unset for no limit)", field="max_candidates")
        if not cfg.require_message_signal and not cfg.diff_signals:
            raise InputError(
                "require_message_signal=false needs diff_signals=true: "
                "a commit must show some signal",
                field="require_message_signal",
            )
        self.since = parse_bound(cfg.since, "since", end_of_day=False)
        self.until = parse_bound(cfg.until, "until", end_of_day=True)
        if self.since and self.until and self.since > self.until:
            raise InputError(f"since {cfg.since} is after until {cfg.until}", field="since")
        self.message = MessageMatcher(cfg.perf_patterns, cfg.negative_patterns)
        self.diff = DiffMatcher(cfg.diff_patterns)
        self.paths = PathClassifier(
            include=cfg.include_paths,
            exclude=cfg.exclude_paths,
            tests=cfg.test_patterns,
            non_source=cfg.non_source_patterns,
            source_exts=cfg.source_exts,
        )
        self.kind = self.paths.kind
        self.data_paths = PathSet(cfg.data_patterns, field="data_patterns")
        if not 0 < cfg.data_literal_share <= 1:
            raise InputError("must be above 0 and at most 1", field="data_literal_share")

    def git_args(self) -> list[str]:
        """Pre-filters for ``git log``: merges, a date range with a day of slack, anchored paths.

        They only let git skip work; :meth:`judge` applies the exact filters again.
        """
        args = ["--no-merges"]
        if self.since:
            args.append(
                f"--since={(self.since - timedelta(days=1)).replace(microsecond=0).isoformat()}"
            )
        if self.until:
            args.append(
                f"--until={(self.until + timedelta(days=1)).replace(microsecond=0).isoformat()}"
            )
        specs = self.paths.pathspecs()
        return [*args, "--full-history", "--", *specs] if specs else [*args, "--"]

    def _out_of_range(self, commit: CommitInfo) -> str | None:
        if not (self.since or self.until):
            return None
        try:
            when = datetime.fromisoformat(commit.committer_date)
        except ValueError:
            return None
        if self.since and when < self.since:
            return f"committed {commit.committer_date}, before since {self.config.since}"
        if self.until and when > self.until:
            return f"committed {commit.committer_date}, after until {self.config.until}"
        return None

    def judge(self, commit: CommitInfo, position: int) -> Rejection | _Pending:
        """The checks that need no diff, cheapest first."""
        cfg = self.config

        def reject(reason: str) -> Rejection:
            return Rejection(commit.sha, commit.subject, reason)

        if commit.is_merge:
            return reject(f"merge: {len(commit.parents)} parents")
        out_of_range = self._out_of_range(commit)
        if out_of_range:
            return reject(f"out-of-date-range: {out_of_range}")
        kinds = [(f, self.kind(f.path)) for f in commit.files]
        kept = [(f, k) for f, k in kinds if k is not None]
        if commit.files and not kept:
            changed = _some([f.path for f in commit.files])
            if self.paths.include and not any(
                self.paths.include.match(f.path) for f in commit.files
            ):
                return reject(f"path-filter: no changed file matches include_paths ({changed})")
            return reject(f"path-filter: every changed file is excluded ({changed})")
        commit.files = [f for f, _ in kept]

        verdict = self.message.judge(commit.message)
        if verdict.rejection and (
            cfg.require_message_signal or not verdict.rejection.startswith("no-perf-signal")
        ):
            return reject(verdict.rejection)

        sources = sum(1 for _, k in kept if k == "source")
        if not sources:
            if not kept:
                return reject("no-source-change: no files changed")
            touched = " and ".join(
                sorted({"tests" if k == "test" else "docs/config" for _, k in kept})
            )
            paths = _some([f.path for f in commit.files])
            return reject(f"no-source-change: only {touched} touched ({paths})")
        if sources > cfg.max_files:
            return reject(f"too-many-files: {sources} source files changed > {cfg.max_files}")
        return _Pending(commit, position, verdict.signals)

    def is_data(self, path: str, hunk: bytes | None) -> bool:
        """A generated or data file (by its path, or by what its hunks hold), not code."""
        if self.data_paths.match(path):
            return True
        cfg = self.config
        return hunk is not None and looks_like_data(
            hunk.decode("utf-8", "replace"),
            min_lines=cfg.data_min_lines,
            min_share=cfg.data_literal_share,
        )

    def size(self, pending: _Pending, diff: _Diff | None) -> Rejection | None:
        """Apply the size limits once the line counts are known (from the patch).

        Generated and data files (tables, lock files, vendored data) are counted apart:
        regenerating a table alongside a small code change does not make it too large.
        """
        cfg, commit = self.config, pending.commit
        if diff is not None:
            commit.files = [f for f in diff.files if self.kind(f.path) is not None]
            pending.data_files = {
                f.path: f.lines
                for f in commit.files
                if self.kind(f.path) == "source" and self.is_data(f.path, diff.hunks.get(f.path))
            }
        code = self._code(pending)
        if pending.data_files and not code:
            return Rejection(
                commit.sha,
                commit.subject,
                f"data-only: only generated/data files changed "
                f"({sum(pending.data_files.values())} lines in {_some(sorted(pending.data_files))})",
            )
        if diff is not None and code and all(self._comments_only(f.path, diff) for f in code):
            return Rejection(
                commit.sha,
                commit.subject,
                f"comment-only: only comments changed in {_some([f.path for f in code])}",
            )
        lines = sum(f.lines for f in code)
        if lines > cfg.max_lines:
            extra = (
                f" (besides {sum(pending.data_files.values())} lines of generated/data files)"
                if pending.data_files
                else ""
            )
            return Rejection(
                commit.sha,
                commit.subject,
                f"too-large: {lines} lines changed > {cfg.max_lines}{extra}",
            )
        if lines < cfg.min_lines:
            return Rejection(
                commit.sha, commit.subject, f"too-small: {lines} lines changed < {cfg.min_lines}"
            )
        return None

    def _comments_only(self, path: str, diff: _Diff) -> bool:
        hunk = diff.hunks.get(path)
        prefixes = self.config.comment_prefixes.get(os.path.splitext(path)[1], [])
        return hunk is not None and only_comments(hunk.decode("utf-8", "replace"), prefixes)

    def _code(self, pending: _Pending) -> list[FileChange]:
        """The changed source files that are code (not generated or data files)."""
        return [
            f
            for f in pending.commit.files
            if self.kind(f.path) == "source" and f.path not in pending.data_files
        ]

    def source_paths(self, pending: _Pending) -> list[str]:
        return [f.path for f in self._code(pending)]

    def finish(self, pending: _Pending, added_lines: list[str]) -> Candidate | Rejection:
        """Diff signals and the score, for a commit within the size limits.

        ``added_lines`` are the changed tokens of the added lines (see
        :func:`~perfbench.mining.hunks.changed_text`), so an idiom counts only where
        the commit wrote it, not where it merely touched a line that had it.
        """
        cfg, commit = self.config, pending.commit

        def reject(reason: str) -> Rejection:
            return Rejection(commit.sha, commit.subject, reason)

        source = self._code(pending)
        lines = sum(f.lines for f in source)
        found = self.diff.signals(added_lines) if added_lines else []
        weight = sum(w for _, w in pending.signals)
        if not pending.signals and not found:
            return reject("no-perf-signal: neither the message nor the diff suggests a speed-up")
        if pending.signals and not found and weight < cfg.min_message_weight:
            names = ", ".join(name for name, _ in pending.signals)
            return reject(
                f"weak-signal: message weight {weight:g} < {cfg.min_message_weight:g} "
                f"(message: {names}) and no speed-up idiom in the diff"
            )

        data_lines = sum(pending.data_files.values())
        share = lines / ((sum(f.lines for f in commit.files) - data_lines) or 1)
        score = min(6.0, weight) + share + min(3.0, sum(w for _, w in found))
        if cfg.max_lines:
            score += 2.0 * (1 - lines / cfg.max_lines)
        reasons = []
        if pending.signals:
            reasons.append("message: " + ", ".join(name for name, _ in pending.signals))
        plural = "s" if len(source) != 1 else ""
        reasons.append(f"size: {lines} lines in {len(source)} source file{plural}")
        reasons.append(f"source share: {share:.0%}")
        if pending.data_files:
            reasons.append(
                f"not counted: {data_lines} lines of generated/data files "
                f"({_some(sorted(pending.data_files))})"
            )
        if found:
            reasons.append("diff: " + ", ".join(name for name, _ in found))
        return Candidate(
            commit=commit,
            score=round(score, 2),
            reasons_for=reasons,
            source_files=[f.path for f in source],
            position=pending.position,
        )


# --- git ------------------------------------------------------------------------------------


def _git() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise RepositoryError("git is not installed or not on PATH; the miner needs it")
    return exe


def _git_env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}


def _git_cmd(repo: Path, args: list[str]) -> list[str]:
    return [_git(), "-C", str(repo), *_GIT_CONFIG, *args]


def _run_git(
    repo: Path, args: list[str], *, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        _git_cmd(repo, args), input=input, capture_output=True, env=_git_env(), check=False
    )


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message from git"


def check_repository(repo_path: str | Path, rev: str = "HEAD") -> Path:
    """The repository's folder, after checking that it is a repository's top and ``rev`` a commit.

    One ``git rev-parse`` answers all of it when all is well; only a failure costs
    more processes, to say precisely what is wrong.
    """
    repo = Path(repo_path).expanduser()
    if not repo.exists():
        raise InputError("no such folder", source=repo)
    if not repo.is_dir():
        raise InputError("not a folder; pass a git repository's folder", source=repo)
    if not rev or rev.startswith("-"):
        raise InputError(f"{rev!r} is not a revision", field="rev")
    probe = _run_git(
        repo, ["rev-parse", "--is-bare-repository", "--show-prefix", f"{rev}^{{commit}}", "--"]
    )
    if probe.returncode != 0:
        where = _run_git(repo, ["rev-parse", "--git-dir"])
        if where.returncode != 0:
            raise RepositoryError(f"{repo} is not a git repository ({_last_line(where.stderr)})")
        heads = _run_git(repo, ["rev-list", "-n", "1", "--all"])
        if heads.returncode == 0 and not heads.stdout.strip():
            raise RepositoryError(f"{repo} has no commits yet")
        raise RepositoryError(f"{repo}: revision {rev!r} is not a commit in this repository")
    bare, _, rest = probe.stdout.decode("utf-8", "replace").partition("\n")
    prefix = rest.partition("\n")[0].strip()
    if bare.strip() == "false" and prefix:
        raise RepositoryError(
            f"{repo} is a folder inside a git repository ({prefix!r}), not its top folder"
        )
    return repo


class _LogParser:
    """Turns the NUL-separated ``git log --name-status -z`` stream into commits, chunk by chunk.

    A commit starts with a token beginning with \\x1e; the other header fields follow
    by position, so a message may hold anything but NUL. Then come a status token and
    a path token per changed file, until the next \\x1e token.
    """

    def __init__(self) -> None:
        self._rest = b""
        self._fields: list[bytes] = []
        self._need = 0  # header fields still to come
        self._path_next = False
        self._current: CommitInfo | None = None

    def feed(self, chunk: bytes) -> list[CommitInfo]:
        tokens = (self._rest + chunk).split(b"\0")
        self._rest = tokens.pop()
        return self._tokens(tokens)

    def close(self) -> list[CommitInfo]:
        done = self._tokens([self._rest] if self._rest else [])
        self._rest = b""
        if self._current is not None:
            done.append(self._current)
            self._current = None
        return done

    def _tokens(self, tokens: list[bytes]) -> list[CommitInfo]:
        # The hot loop of a scan: state lives in locals and is stored back at the end.
        done: list[CommitInfo] = []
        fields, need, path_next, current = self._fields, self._need, self._path_next, self._current
        for tok in tokens:
            if need:
                fields.append(tok)
                need -= 1
                if not need:
                    current = _make_commit(fields)
            elif path_next:
                path_next = False
                if current is not None:
                    current.files.append(FileChange(tok.decode("utf-8", "replace"), 0, 0))
            elif tok[:1] == b"\x1e":
                if current is not None:
                    done.append(current)
                current = None
                fields = [tok[1:]]
                need = _HEADER_FIELDS - 1
            elif tok.strip(b"\n"):  # a status letter; the path follows
                path_next = True
        self._fields, self._need, self._path_next, self._current = fields, need, path_next, current
        return done


def _make_commit(fields: list[bytes]) -> CommitInfo:
    sha, parents, adate, cdate, body = fields
    message = body.decode("utf-8", "replace").strip("\n")
    subject = message.split("\n\n", 1)[0]
    if "\n" in subject:  # git's subject joins the first paragraph's lines
        subject = " ".join(line.strip() for line in subject.split("\n"))
    return CommitInfo(
        sha=sha.decode("ascii", "replace"),
        parents=parents.decode("ascii", "replace").split(),
        author_date=adate.decode("ascii", "replace"),
        subject=subject.strip(),
        message=message,
        committer_date=cdate.decode("ascii", "replace"),
    )


def log_command(repo: Path, rules: Rules, explain: bool) -> list[str]:
    """The one ``git log`` that streams the history for a scan."""
    args = ["log", rules.config.rev, "--name-status", "-z", *_DIFF_OPTS, f"--format={_LOG_FORMAT}"]
    return _git_cmd(repo, [*args, "--"] if explain else [*args, *rules.git_args()])


def iter_commits(repo: Path, rules: Rules, explain: bool) -> Iterator[CommitInfo]:
    """Commits newest first from one ``git log`` process; stops git if the caller stops early."""
    cmd = log_command(repo, rules, explain)
    log.debug("running %s", " ".join(cmd))
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=_git_env())
        assert proc.stdout is not None
        parser = _LogParser()
        finished = False
        try:
            while chunk := proc.stdout.read1(1 << 20):
                yield from parser.feed(chunk)
            yield from parser.close()
            finished = True
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if finished and code != 0:
            err.seek(0)
            raise RepositoryError(f"git log failed in {repo}: {_last_line(err.read())}")


@dataclass
class _Diff:
    """One commit's ``-U0`` patch: line counts per file, and the hunks to search for idioms."""

    files: list[FileChange]
    hunks: dict[str, bytes]

    def added_lines(self, paths: Iterable[str], max_chars: int = 200_000) -> list[str]:
        """The changed tokens of lines added to ``paths``, up to about ``max_chars`` characters.

        A line whose only change is, say, an annotation contributes that annotation,
        not the whole line (:func:`~perfbench.mining.hunks.changed_text`).
        """
        lines: list[str] = []
        for path in paths:
            for text in changed_text(self.hunks.get(path, b"").decode("utf-8", "replace")):
                lines.append(text)
                max_chars -= len(text) + 1
                if max_chars < 0:
                    return lines
        return lines


def _unquote(name: bytes) -> str:
    """A file name in a diff header, which git C-quotes when it holds odd characters."""
    if len(name) >= 2 and name.startswith(b'"') and name.endswith(b'"'):
        name = codecs.escape_decode(name[1:-1])[0]
    return name.decode("utf-8", "replace")


def _parse_patch(body: bytes) -> _Diff:
    """Counts come from C-speed ``bytes.count``: with ``-U0`` every hunk line is + or -."""
    files: list[FileChange] = []
    hunks: dict[str, bytes] = {}
    for section in body.split(b"\ndiff --git ")[1:]:
        header, _, rest = section.partition(b"\n")
        # "a/P b/P": both sides name the same path without renames, so take the first half.
        path = _unquote(header[: (len(header) - 1) // 2])[2:]
        start = rest.find(b"\n@@") if not rest.startswith(b"@@") else 0
        if start < 0:
            binary = b"\nBinary files " in b"\n" + rest
            files.append(FileChange(path, 0, 0, binary=binary))
            continue
        text = b"\n" + rest[start:].lstrip(b"\n")
        files.append(FileChange(path, text.count(b"\n+"), text.count(b"\n-")))
        hunks[path] = text
    return _Diff(files, hunks)


def read_diffs(repo: Path, shas: list[str]) -> dict[str, _Diff]:
    """The ``-U0`` patches of the given commits, from one ``git log`` process."""
    if not shas:
        return {}
    proc = _run_git(
        repo,
        [
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "-p",
            "-U0",
            *_DIFF_OPTS,
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--format=%x1e%H",
            "--",
        ],
        input=("\n".join(shas) + "\n").encode(),
    )
    if proc.returncode != 0:
        raise RepositoryError(f"git log -p failed in {repo}: {_last_line(proc.stderr)}")
    diffs: dict[str, _Diff] = {}
    # A patch line starts with a marker (" +-@\\") or a header word, never with \x1e.
    for chunk in (b"\n" + proc.stdout).split(b"\n\x1e")[1:]:
        sha, _, body = chunk.partition(b"\n")
        diffs[sha.decode("ascii", "replace").strip()] = _parse_patch(body)
    return diffs


# --- the scan -------------------------------------------------------------------------------


def scan(
    repo_path: str | Path, config: ScanConfig | None = None, *, explain: bool = False
) -> Iterator[Candidate | Rejection]:
    """Candidates and rejections of a repository's history, streamed newest first.

    The configuration and repository are checked before this returns, so bad input
    fails here, not on the first iteration. Commits that pass the cheap filters are
    finished in batches, so their records trail the stream by up to :data:`BATCH`.
    """
    rules = Rules(config or ScanConfig())
    repo = check_repository(repo_path, rules.config.rev)
    return _scan(repo, rules, explain)


def _scan(repo: Path, rules: Rules, explain: bool) -> Iterator[Candidate | Rejection]:
    cfg = rules.config
    stop_after = cfg.max_candidates if cfg.order == "date" else None
    found = 0
    pending: list[_Pending] = []

    def flush() -> Iterator[Candidate | Rejection]:
        nonlocal found
        diffs = read_diffs(repo, [p.commit.sha for p in pending])
        for p in pending:
            diff = diffs.get(p.commit.sha)
            result = rules.size(p, diff)
            if result is None:
                added = diff.added_lines(rules.source_paths(p)) if diff and cfg.diff_signals else []
                result = rules.finish(p, added)
            if isinstance(result, Candidate):
                if stop_after is not None and found >= stop_after:
                    continue
                found += 1
            yield result
        pending.clear()

    commits = iter_commits(repo, rules, explain)
    try:
        for position, commit in enumerate(commits):
            result = rules.judge(commit, position)
            if isinstance(result, Rejection):
                yield result
                continue
            pending.append(result)
            enough = stop_after is not None and found + len(pending) >= stop_after
            if enough or len(pending) >= BATCH:
                yield from flush()
            if stop_after is not None and found >= stop_after:
                break
        yield from flush()
    finally:
        commits.close()


def find_candidates(
    repo_path: str | Path, config: ScanConfig | None = None, *, explain: bool = False
) -> ScanResult:
    """Scan, then sort candidates (by score or newest first) and cut at ``max_candidates``."""
    cfg = config or ScanConfig()
    start = time.perf_counter()
    candidates: list[Candidate] = []
    rejections: list[Rejection] = []
    for item in scan(repo_path, cfg, explain=explain):
        (candidates if isinstance(item, Candidate) else rejections).append(item)
    if cfg.order == "score":
        candidates.sort(key=lambda c: (-c.score, c.position))
    else:
        candidates.sort(key=lambda c: c.position)
    scanned = len(candidates) + len(rejections)
    if cfg.max_candidates is not None:
        candidates = candidates[: cfg.max_candidates]
    seconds = time.perf_counter() - start
    log.info(
        "scanned %d commits in %.2fs: %d candidates, rejections %s",
        scanned,
        seconds,
        len(candidates),
        dict(Counter(r.code for r in rejections)),
    )
    return ScanResult(candidates, rejections, scanned, seconds)
