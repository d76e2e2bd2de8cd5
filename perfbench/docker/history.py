"""A repository for agents whose history ends at base_commit.

Agents must not read the expert's solution from git: later commits, other
branches, tags, the remote, the reflog, or unreachable objects left in packs.
Only base_commit's ancestry is fetched from the mirror (nothing later is ever
copied), put on one branch, and everything else is expired and pruned; then the
result is checked object by object.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import RepositoryError

BRANCH = "main"
_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "perfbench",
    "GIT_AUTHOR_EMAIL": "perfbench@localhost",
    "GIT_COMMITTER_NAME": "perfbench",
    "GIT_COMMITTER_EMAIL": "perfbench@localhost",
}


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **_ENV}
    )
    if proc.returncode != 0:
        raise RepositoryError(
            f"git {' '.join(args[:3])} failed in {repo}: {proc.stderr.strip()[-300:]}"
        )
    return proc.stdout


def cut_history(
    mirror: Path, base_commit: str, dest: Path, forbidden: tuple[str, ...] = ()
) -> None:
    """Make ``dest`` a checkout of ``base_commit`` holding its ancestry only.

    ``forbidden`` commits (the expert's) must not be present afterwards; a
    RepositoryError says so if anything of them survived.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _git(dest, "init", "-q", "-b", BRANCH)
    upload_pack = "git -c uploadpack.allowAnySHA1InWant=true upload-pack"
    _git(
        dest,
        "fetch",
        "-q",
        "--no-tags",
        f"--upload-pack={upload_pack}",
        str(mirror.resolve()),
        base_commit,
    )
    _git(dest, "reset", "-q", "--hard", base_commit)
    for ref in _git(dest, "for-each-ref", "--format=%(refname)").split():
        if ref != f"refs/heads/{BRANCH}":
            _git(dest, "update-ref", "-d", ref)
    for remote in _git(dest, "remote").split():
        _git(dest, "remote", "remove", remote)
    for name in ("FETCH_HEAD", "ORIG_HEAD"):
        (dest / ".git" / name).unlink(missing_ok=True)
    _git(dest, "reflog", "expire", "--expire=now", "--all")
    _git(dest, "gc", "-q", "--prune=now")
    shutil.rmtree(dest / ".git" / "logs", ignore_errors=True)
    check_history(dest, base_commit, forbidden)


def check_history(repo: Path, base_commit: str, forbidden: tuple[str, ...] = ()) -> None:
    """Raise RepositoryError unless every object in ``repo`` is reachable from ``base_commit``."""
    later = _git(repo, "rev-list", "--all", f"^{base_commit}").split()
    if later:
        raise RepositoryError(f"{len(later)} commits after base remain in {repo}")
    reachable = {
        line.split()[0]
        for line in _git(repo, "rev-list", "--objects", base_commit).splitlines()
        if line
    }
    stored = set(
        _git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
    )
    extra = stored - reachable
    if extra:
        raise RepositoryError(f"{len(extra)} objects not reachable from base remain in {repo}")
    leaked = [c for c in forbidden if c in stored]
    if leaked:
        raise RepositoryError(f"commit {leaked[0]} is present in {repo}")
