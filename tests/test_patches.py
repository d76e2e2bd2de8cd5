import pytest

from perfbench.errors import PatchError
from perfbench.patches import apply_patch, check_patch

ORIGINAL = "".join(f"line {i}\n" for i in range(1, 21))


def make_diff(old: str, new: str, path: str = "f.txt") -> str:
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}"
    )
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


@pytest.fixture
def tree(tmp_path):
    t = tmp_path / "tree"
    t.mkdir()
    (t / "f.txt").write_text(ORIGINAL)
    return t


def test_git_apply(tree):
    new = ORIGINAL.replace("line 10\n", "line ten\n")
    res = apply_patch(make_diff(ORIGINAL, new), tree)
    assert res.method == "git apply" and res.files == ["f.txt"]
    assert (tree / "f.txt").read_text() == new


def test_whitespace_fallback(tree):
    new = ORIGINAL.replace("line 10\n", "line ten\n")
    diff = make_diff(ORIGINAL, new).replace(" line 9\n", " line   9\n")
    res = apply_patch(diff, tree)
    assert res.method == "git apply --ignore-whitespace"


def test_fuzz_fallback(tree):
    new = ORIGINAL.replace("line 10\n", "line ten\n")
    diff = make_diff(ORIGINAL, new)
    (tree / "f.txt").write_text(ORIGINAL.replace("line 8\n", "line eight\n"))  # context drifted
    res = apply_patch(diff, tree)
    assert res.method == "patch --fuzz=2"
    assert "line ten" in (tree / "f.txt").read_text()


def test_does_not_apply(tree):
    diff = make_diff("nothing\nlike\nthis\n", "nothing\nat\nall\n")
    with pytest.raises(PatchError, match="does not apply"):
        apply_patch(diff, tree)
    assert (tree / "f.txt").read_text() == ORIGINAL


def test_not_a_diff():
    with pytest.raises(PatchError, match="not a unified diff"):
        check_patch("please make it faster")


@pytest.mark.parametrize(
    "path", ["../escape.py", "/etc/passwd", ".git/config", "src/sitecustomize.py", "x.pth"]
)
def test_refused_paths(path):
    with pytest.raises(PatchError, match="refused"):
        check_patch(make_diff("a\n", "b\n", path))


def test_empty_patch_applies_trivially(tree):
    assert apply_patch("", tree).method == "empty"
