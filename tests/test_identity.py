"""The identity rule: a candidate with the expert's exact source gets share 1 without measurement."""

from pathlib import Path

from gitrepo_factory import RepoBuilder

from perfbench import repos
from perfbench.identity import same_source_as_base, same_source_as_expert


def _history(tmp_path: Path, attributes: str | None) -> tuple[Path, str, str]:
    b = RepoBuilder(tmp_path / "repo")
    files = {
        "pkg/__init__.py": "",
        "pkg/m.py": "def f(xs):\n    return sorted(xs)\n",
        "tests/test_m.py": "def test_f():\n    assert True\n",
    }
    if attributes is not None:
        files[".gitattributes"] = attributes
    base = b.commit("Add f", files)
    opt = b.commit(
        "Speed up f", {"pkg/m.py": "def f(xs):\n    xs = list(xs)\n    xs.sort()\n    return xs\n"}
    )
    return b.path / ".git", base, opt


def test_expert_patch_is_identical_even_with_crlf_export(tmp_path: Path):
    # eol=crlf makes exported files differ from their blobs; the comparison must not care.
    git_dir, base, opt = _history(tmp_path, "*.py text eol=crlf\n")
    patch = repos.diff(git_dir, base, opt)
    assert same_source_as_expert(git_dir, base, opt, patch, ["tests"])


def test_other_patches_are_not_identical(tmp_path: Path):
    git_dir, base, opt = _history(tmp_path, None)
    expert = repos.diff(git_dir, base, opt)
    assert same_source_as_expert(git_dir, base, opt, expert, ["tests"])
    other = expert.replace("xs.sort()", "xs.sort(reverse=False)")
    assert not same_source_as_expert(git_dir, base, opt, other, ["tests"])
    assert not same_source_as_expert(git_dir, base, opt, "", ["tests"])
    # A change to a test file only does not make base identical to the expert.
    tests_only = (
        "--- a/tests/test_m.py\n+++ b/tests/test_m.py\n@@ -1,2 +1,2 @@\n def test_f():\n"
        "-    assert True\n+    assert 1\n"
    )
    assert not same_source_as_expert(git_dir, base, opt, tests_only, ["tests"])


def test_empty_and_tests_only_patches_are_identical_to_base(tmp_path: Path):
    git_dir, base, opt = _history(tmp_path, "*.py text eol=crlf\n")
    assert same_source_as_base(git_dir, base, opt, "", ["tests"])
    tests_only = (
        "--- a/tests/test_m.py\n+++ b/tests/test_m.py\n@@ -1,2 +1,2 @@\n def test_f():\n"
        "-    assert True\n+    assert 1\n"
    )
    assert same_source_as_base(git_dir, base, opt, tests_only, ["tests"])
    assert not same_source_as_base(git_dir, base, opt, repos.diff(git_dir, base, opt), ["tests"])


def test_export_subst_version_files_do_not_hide_identity(tmp_path: Path):
    # versioneer-style: the version file gets the exported commit's hash; base + expert patch
    # and the expert commit's own export differ there, the code does not.
    b = RepoBuilder(tmp_path / "repo")
    base = b.commit(
        "Add f",
        {
            ".gitattributes": "pkg/_version.py export-subst\n",
            "pkg/__init__.py": "",
            "pkg/_version.py": 'full = "$Format:%H$"\n',
            "pkg/m.py": "def f(xs):\n    return sorted(xs)\n",
        },
    )
    opt = b.commit("Speed up f", {"pkg/m.py": "def f(xs):\n    return list(xs)\n"})
    git_dir = b.path / ".git"
    assert same_source_as_expert(git_dir, base, opt, repos.diff(git_dir, base, opt), ["tests"])
