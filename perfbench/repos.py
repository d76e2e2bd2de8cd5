"""Repositories: where they come from, a local mirror cache, and exported trees.

A repository is located through a URL template (``https://github.com/{repo}.git``
by default; ``{repo}``, ``{owner}``, ``{name}`` placeholders) so that local
mirrors and git bundles work offline. Variant trees are exported with
``git archive``: they carry no ``.git``, so code under test cannot read commits
after ``base_commit`` (the expert's solution) from its own tree.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import tarfile
from pathlib import Path

import git

from .errors import RepositoryError
from .locks import file_lock

log = logging.getLogger(__name__)

DEFAULT_URL_TEMPLATE = "https://github.com/{repo}.git"
URL_TEMPLATE_ENV = "PERFBENCH_REPO_URL"
CACHE_ENV = "PERFBENCH_CACHE"


def default_cache_dir() -> Path:
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "perfbench"
    )
    return Path(base)


def format_url(template: str, repo: str) -> str:
    owner, _, name = repo.partition("/")
    try:
        return template.format(repo=repo, owner=owner, name=name)
    except (KeyError, IndexError) as exc:
        raise RepositoryError(
            f"bad repository URL template {template!r}: unknown placeholder {exc}; use {{repo}}, {{owner}}, {{name}}"
        ) from None


class RepoCache:
    """Bare mirrors of repositories under ``cache_dir/repos``, fetched once and reused."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        url_template: str | None = None,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.cache_dir = (cache_dir or default_cache_dir()) / "repos"
        self.url_template = url_template or os.environ.get(URL_TEMPLATE_ENV) or DEFAULT_URL_TEMPLATE
        self.explicit_template = bool(url_template or os.environ.get(URL_TEMPLATE_ENV))
        self.overrides = dict(overrides or {})

    def url_for(self, repo: str) -> str:
        """An explicit template (flag or environment) wins over the dataset's own locations."""
        if not self.explicit_template and repo in self.overrides:
            return self.overrides[repo]
        return format_url(self.url_template, repo)

    def mirror(self, repo: str, needed: tuple[str, ...] = ()) -> Path:
        """Path of a bare mirror of ``repo`` holding the ``needed`` commits, cloning or fetching as needed."""
        dest = self.cache_dir / (repo.replace("/", "__") + ".git")
        with file_lock(dest.with_suffix(".lock")):
            url = self.url_for(repo)
            if not dest.exists():
                log.info("cloning %s from %s", repo, url)
                tmp = dest.with_suffix(".partial")
                _run_git(
                    ["clone", "--mirror", "--quiet", url, str(tmp)], what=f"clone {repo} from {url}"
                )
                tmp.rename(dest)
            missing = [c for c in needed if not has_commit(dest, c)]
            if missing:
                log.info("fetching %s for %d missing commits", repo, len(missing))
                _run_git(
                    ["--git-dir", str(dest), "fetch", "--quiet", url, "+refs/*:refs/*"],
                    what=f"fetch {repo} from {url}",
                )
                still = [c for c in missing if not has_commit(dest, c)]
                if still:
                    raise RepositoryError(f"{repo}: commit {still[0]} not found in {url}")
        return dest


def _run_git(
    args: list[str], *, what: str, cwd: Path | None = None, input: bytes | None = None
) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise RepositoryError(f"cannot {what}: {msg[-1] if msg else 'git failed'}")
    return proc.stdout


def has_commit(git_dir: Path, commit: str) -> bool:
    proc = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
    )
    return proc.returncode == 0


def resolve_commit(git_dir: Path, commit: str) -> str:
    return (
        _run_git(
            ["--git-dir", str(git_dir), "rev-parse", f"{commit}^{{commit}}"],
            what=f"resolve {commit}",
        )
        .decode()
        .strip()
    )


def missing_blobs(git_dir: Path, commit: str) -> list[str]:
    """Paths of files in ``commit`` whose content the mirror lacks.

    Snapshots of big repositories may leave out their largest blobs (test fonts,
    sample images); ``git archive`` then fails on the whole tree.
    """
    listing = _run_git(
        ["--git-dir", str(git_dir), "ls-tree", "-r", "-z", commit], what=f"list {commit}"
    )
    entries = []
    for rec in listing.split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        kind, sha = meta.split()[1:3]
        if kind == b"blob":
            entries.append((sha, path.decode(errors="surrogateescape")))
    if not entries:
        return []
    checked = _run_git(
        ["--git-dir", str(git_dir), "cat-file", "--batch-check"],
        what=f"check blobs of {commit}",
        input=b"".join(sha + b"\n" for sha, _ in entries),
    ).splitlines()
    return [
        path for (_, path), line in zip(entries, checked, strict=True) if line.endswith(b" missing")
    ]


def export_tree(git_dir: Path, commit: str, dest: Path) -> None:
    """Write the tree of ``commit`` into ``dest`` without any git metadata.

    Files whose blobs the mirror lacks are left out with a warning (the same ones
    for every variant of an instance, so comparisons stay fair); any other git
    failure is an error.
    """
    args = ["--git-dir", str(git_dir), "archive", "--format=tar", commit]
    try:
        data = _run_git(args, what=f"export {commit}")
    except RepositoryError as err:
        try:
            absent = missing_blobs(git_dir, commit)
        except RepositoryError:
            absent = []
        if not absent:
            raise err from None
        log.warning(
            "export %s: the mirror lacks %d file(s), left out: %s",
            commit[:12],
            len(absent),
            ", ".join(absent),
        )
        excludes = [f":(exclude,literal){p}" for p in absent]
        data = _run_git([*args, "--", ".", *excludes], what=f"export {commit}")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="tar")


def export_paths(git_dir: Path, commit: str, dest: Path, paths: list[str]) -> list[str]:
    """Overwrite ``paths`` (files or folders) in ``dest`` with their content at ``commit``; returns those found."""
    found = []
    for p in paths:
        proc = subprocess.run(
            ["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit, "--", p],
            capture_output=True,
        )
        if proc.returncode != 0:
            continue
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            tar.extractall(dest, filter="tar")
        found.append(p)
    return found


def diff(git_dir: Path, base: str, opt: str) -> str:
    """The unified diff from ``base`` to ``opt`` (the expert patch)."""
    repo = git.Repo(str(git_dir))
    text = repo.git.diff(base, opt, "--binary", "--no-color", "--no-ext-diff")
    return text + "\n" if text and not text.endswith("\n") else text


def commit_date(git_dir: Path, commit: str) -> str:
    return (
        _run_git(
            ["--git-dir", str(git_dir), "show", "-s", "--format=%cI", commit], what=f"read {commit}"
        )
        .decode()
        .strip()
    )
