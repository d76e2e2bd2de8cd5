"""Is a candidate's source the expert's, or base's? Then its grade follows by identity.

A candidate identical to the expert gets share 1; one identical to base (no change to any
non-test file) gets speedup 1.

Two processes of the same code still differ in timing by noise; grading a byte-identical
candidate (the gold control, or an agent that found the expert's exact change) on that noise
would turn a certain answer into an uncertain one. Test files are left out of the comparison,
since the candidate's are always reset to base's for the guard tests.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from . import repos
from .errors import PatchError
from .patches import apply_patch


def _blob_id(data: bytes) -> str:
    # Line endings are normalised: a patch applied to a CRLF export adds LF lines, while
    # the expert's export has CRLF throughout; the code is the same.
    data = data.replace(b"\r\n", b"\n")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _is_test_path(path: str, test_paths: list[str]) -> bool:
    return any(
        path == t or path.startswith(t.rstrip("/") + "/") or fnmatch.fnmatch(path, t)
        for t in test_paths
    )


def tree_blobs(tree: Path, test_paths: list[str]) -> dict[str, str]:
    out = {}
    for dirpath, _dirs, files in os.walk(tree):
        for f in files:
            full = Path(dirpath) / f
            rel = full.relative_to(tree).as_posix()
            if full.is_file() and not full.is_symlink() and not _is_test_path(rel, test_paths):
                out[rel] = _blob_id(full.read_bytes())
    return out


def _patched(base: Path, dest: Path, patch: str) -> bool:
    """Copy the exported ``base`` to ``dest`` and apply ``patch`` there; False if it does not apply."""
    shutil.copytree(base, dest, symlinks=True)
    try:
        apply_patch(patch, dest)
    except PatchError:
        return False
    return True


def source_identity(
    git_dir: Path, base_commit: str, opt_commit: str, patch: str, test_paths: list[str]
) -> str | None:
    """``"base"`` when ``patch`` changes no non-test file, ``"expert"`` when base + ``patch`` has
    exactly the expert's non-test files, else None; base is exported once for both questions.

    The expert's side is made the way the candidate's is: base exported with ``git archive``,
    then the expert's diff applied. Exporting the expert commit instead would differ wherever
    ``.gitattributes`` rewrites files on export (``export-subst`` puts the commit's own hash
    into version files; ``eol`` converts line endings). Line endings are also normalised, since
    a patch applied to a CRLF tree leaves mixed endings.
    """
    if not patch.strip():
        return "base"
    work = Path(tempfile.mkdtemp(prefix="pb-identity-"))
    try:
        repos.export_tree(git_dir, base_commit, work / "base")
        if not _patched(work / "base", work / "tree", patch):
            return None
        candidate = tree_blobs(work / "tree", test_paths)
        if not _patched(work / "base", work / "opt", repos.diff(git_dir, base_commit, opt_commit)):
            shutil.rmtree(work / "opt", ignore_errors=True)
            repos.export_tree(git_dir, opt_commit, work / "opt")
        if candidate == tree_blobs(work / "opt", test_paths):
            return "expert"
        return "base" if candidate == tree_blobs(work / "base", test_paths) else None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def same_source_as_expert(
    git_dir: Path, base_commit: str, opt_commit: str, patch: str, test_paths: list[str]
) -> bool:
    """True when base + ``patch`` has exactly the expert's non-test files."""
    return source_identity(git_dir, base_commit, opt_commit, patch, test_paths) == "expert"


def same_source_as_base(
    git_dir: Path, base_commit: str, opt_commit: str, patch: str, test_paths: list[str]
) -> bool:
    """True when ``patch`` changes no non-test file of base (an empty or tests-only patch)."""
    return source_identity(git_dir, base_commit, opt_commit, patch, test_paths) == "base"
