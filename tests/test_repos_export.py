"""export_tree on mirrors that lack some blobs (snapshots of big repositories drop their largest files)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from perfbench import repos
from perfbench.errors import RepositoryError
from tests.gitrepo_factory import RepoBuilder


def _drop_blob(repo: RepoBuilder, path: str) -> None:
    sha = repo.git("rev-parse", f"HEAD:{path}").strip()
    (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    r = RepoBuilder(tmp_path / "src")
    r.commit(
        "files",
        {
            "pkg/mod.py": "X = 1\n",
            "Tests/fonts/big font.otf": b"\x00font" * 50,
            "Tests/images/sample.bin": b"\x01img" * 50,
        },
    )
    return r


def test_complete_mirror_exports_everything(repo: RepoBuilder, tmp_path: Path) -> None:
    assert repos.missing_blobs(repo.path / ".git", "HEAD") == []
    repos.export_tree(repo.path / ".git", "HEAD", tmp_path / "out")
    assert (tmp_path / "out/Tests/fonts/big font.otf").read_bytes() == b"\x00font" * 50


def test_missing_blobs_are_left_out_with_a_warning(
    repo: RepoBuilder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _drop_blob(repo, "Tests/fonts/big font.otf")
    git_dir = repo.path / ".git"
    assert repos.missing_blobs(git_dir, "HEAD") == ["Tests/fonts/big font.otf"]
    with caplog.at_level(logging.WARNING, logger="perfbench.repos"):
        repos.export_tree(git_dir, "HEAD", tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "pkg/mod.py").read_text() == "X = 1\n"
    assert (out / "Tests/images/sample.bin").exists()
    assert not (out / "Tests/fonts/big font.otf").exists()
    assert "big font.otf" in caplog.text


def test_other_failures_still_raise(repo: RepoBuilder, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="export"):
        repos.export_tree(repo.path / ".git", "0" * 40, tmp_path / "out")
