"""Apply a candidate patch to a variant tree, with the usual fallbacks, or refuse it.

Fallbacks, in order: ``git apply``, ``git apply`` ignoring whitespace, then
``patch -p1`` with a small fuzz. The method that worked is recorded. Patches
that touch paths outside the tree, git metadata, our own files, or files
that Python runs at interpreter start (``sitecustomize.py``, ``*.pth``:
they would run before the harness binds its timer) are refused.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import PatchError

_DIFF_GIT = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.M)
_FILE_HEADER = re.compile(r"^(?:---|\+\+\+) (?:[ab]/)?(\S+)", re.M)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@", re.M)

PROTECTED_PATTERNS = (
    ".git/*",
    ".perfbench/*",
    "sitecustomize.py",
    "*/sitecustomize.py",
    "usercustomize.py",
    "*/usercustomize.py",
    "*.pth",
)


@dataclass(frozen=True)
class ApplyResult:
    applied: bool
    method: str
    files: list[str]
    log: str


def touched_paths(patch: str) -> list[str]:
    """Paths a unified diff reads or writes (both sides of renames)."""
    paths: list[str] = []
    for a, b in _DIFF_GIT.findall(patch):
        paths += [a, b]
    for p in _FILE_HEADER.findall(patch):
        if p != "/dev/null":
            paths.append(p)
    seen: dict[str, None] = {}
    for p in paths:
        seen.setdefault(p, None)
    return list(seen)


def check_patch(patch: str, extra_protected: tuple[str, ...] = ()) -> list[str]:
    """Validate a patch's form and paths; returns the touched paths or raises PatchError."""
    if not patch.strip():
        return []
    if not (_HUNK.search(patch) or "GIT binary patch" in patch or _DIFF_GIT.search(patch)):
        raise PatchError("patch is not a unified diff (no 'diff --git' header or '@@' hunk)")
    paths = touched_paths(patch)
    if not paths:
        raise PatchError("patch names no files")
    for p in paths:
        pure = PurePosixPath(p)
        if pure.is_absolute() or ".." in pure.parts:
            raise PatchError(f"patch refused: path {p!r} leaves the repository")
        for pattern in (*PROTECTED_PATTERNS, *extra_protected):
            if fnmatch.fnmatch(p, pattern):
                raise PatchError(f"patch refused: it touches protected path {p!r}")
    return paths


def apply_patch(patch: str, tree: Path, extra_protected: tuple[str, ...] = ()) -> ApplyResult:
    """Apply ``patch`` to the plain (non-git) folder ``tree``; raises PatchError if no method works."""
    files = check_patch(patch, extra_protected)
    if not patch.strip():
        return ApplyResult(True, "empty", [], "")
    if not patch.endswith("\n"):
        patch += "\n"
    # Keep git from discovering a repository above the tree and applying there.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tree.parent), "LC_ALL": "C"}
    attempts = [
        ("git apply", ["git", "apply", "--whitespace=nowarn", "-p1"]),
        (
            "git apply --ignore-whitespace",
            ["git", "apply", "--ignore-whitespace", "--whitespace=nowarn", "-p1"],
        ),
        (
            "patch --fuzz=2",
            [
                "patch",
                "--batch",
                "--forward",
                "-p1",
                "--fuzz=2",
                "--no-backup-if-mismatch",
                "-r",
                "-",
            ],
        ),
    ]
    logs = []
    for name, cmd in attempts:
        check_cmd = [*cmd[:2], "--check", *cmd[2:]] if cmd[0] == "git" else [*cmd, "--dry-run"]
        try:
            probe = subprocess.run(
                check_cmd, cwd=tree, input=patch.encode(), capture_output=True, env=env, timeout=120
            )
        except FileNotFoundError:
            logs.append(f"{name}: {cmd[0]} is not installed")
            continue
        out = (probe.stdout + probe.stderr).decode(errors="replace").strip()
        logs.append(f"$ {' '.join(check_cmd)}\n{out}")
        if probe.returncode != 0:
            continue
        done = subprocess.run(
            cmd, cwd=tree, input=patch.encode(), capture_output=True, env=env, timeout=120
        )
        out = (done.stdout + done.stderr).decode(errors="replace").strip()
        logs.append(f"$ {' '.join(cmd)}\n{out}")
        if done.returncode == 0:
            return ApplyResult(True, name, files, "\n".join(logs))
    last = logs[-1].splitlines()[-1] if logs and logs[-1].splitlines() else "no method applied it"
    raise PatchError(f"patch does not apply: {last}")
