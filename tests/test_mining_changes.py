"""Units of the workload generators: changed functions, the probe, and the replay helpers."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest
from gitrepo_factory import RepoBuilder

from perfbench.mining.workloads.changes import analyze, changed_ranges, index_functions, module_of
from perfbench.mining.workloads.probe import (
    find_test_paths,
    probe_id,
    run_probe,
    select_test_files,
)
from perfbench.repos import export_tree

SHAPES_V1 = '''"""Shapes."""

import math

SCALE = 1


def area(w, h):
    return w * h * SCALE


class Grid:
    def __init__(self, cells):
        self.cells = list(cells)

    @property
    def size(self):
        return len(self.cells)

    def count(self, value):
        n = 0
        for c in self.cells:
            if c == value:
                n += 1
        return n

    @classmethod
    def filled(cls, n, value):
        return cls([value] * n)

    @staticmethod
    def norm(x, y):
        return math.sqrt(x * x + y * y)


def outer(xs):
    def inner(x):
        return x + 1
    return [inner(x) for x in xs]


def untouched():
    return 0
'''

SHAPES_V2 = (
    SHAPES_V1.replace("SCALE = 1", "SCALE = 1.0")
    .replace(
        """        n = 0
        for c in self.cells:
            if c == value:
                n += 1
        return n""",
        "        return _count(self.cells, value)",
    )
    .replace("        return x + 1", "        return x + 2")
    .replace("        return len(self.cells)", "        return len(self.cells) + 0")
    .replace("        return math.sqrt(x * x + y * y)", "        return math.hypot(x, y)")
    + """

def _count(cells, value):
    return cells.count(value)
"""
)


@pytest.fixture
def shapes_repo(tmp_path: Path):
    b = RepoBuilder(tmp_path / "repo")
    base = b.commit(
        "shapes",
        {
            "src/geo/__init__.py": "",
            "src/geo/shapes.py": SHAPES_V1,
            "tools/helper.py": "def f():\n    return 1\n",
        },
    )
    opt = b.commit(
        "faster count",
        {"src/geo/shapes.py": SHAPES_V2, "tools/helper.py": "def f():\n    return 2\n"},
    )
    trees = {}
    for name, sha in (("base", base), ("opt", opt)):
        trees[name] = tmp_path / name
        export_tree(b.path / ".git", sha, trees[name])
    return b, base, opt, trees


def test_changed_ranges_cover_edits_and_insertions():
    diff = "@@ -3,2 +3,3 @@\n-a\n-b\n+c\n+d\n+e\n@@ -10,0 +12,2 @@\n+x\n+y\n@@ -20 +22 @@\n-q\n+r\n"
    old, new, anchors = changed_ranges(diff)
    assert old == [3, 4, 20]
    assert new == [3, 4, 5, 12, 13, 22]
    assert anchors == [10]


def test_index_functions_kinds_and_lines():
    funcs = {f.qualname: f for f in index_functions(SHAPES_V1)}
    assert funcs["Grid.size"].kind == "property"
    assert funcs["Grid.filled"].kind == "classmethod"
    assert funcs["Grid.norm"].kind == "staticmethod"
    assert funcs["Grid.count"].kind == "method"
    assert funcs["area"].kind == "function" and funcs["area"].signature == "area(w, h)"
    assert "outer.<locals>.inner" in funcs
    assert funcs["Grid.filled"].first_line == funcs["Grid.filled"].def_line - 1  # the decorator
    assert not index_functions("def broken(:\n")


def test_module_of_src_flat_and_lone(tmp_path: Path):
    for rel in ("src/pkg/__init__.py", "src/pkg/sub/__init__.py", "flat/__init__.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert module_of(tmp_path, "src/pkg/sub/mod.py") == ("pkg.sub.mod", "src")
    assert module_of(tmp_path, "src/pkg/__init__.py") == ("pkg", "src")
    assert module_of(tmp_path, "flat/core.py") == ("flat.core", ".")
    assert module_of(tmp_path, "scripts/run.py") == ("run", "scripts")
    assert module_of(tmp_path, "setup.py") == ("setup", ".")
    assert module_of(tmp_path, "src/pkg/ext.c") == ("", "")
    assert module_of(tmp_path, "src/pkg/bad-name.py") == ("", "")


def test_analyze_maps_lines_to_base_functions(shapes_repo):
    b, base, opt, trees = shapes_repo
    changes = analyze(
        b.path / ".git",
        base,
        opt,
        trees["base"],
        trees["opt"],
        ["src/geo/shapes.py", "tools/helper.py"],
    )
    by_api = {cf.api: cf for cf in changes.functions}
    assert set(by_api) == {
        "geo.shapes.Grid.count",
        "geo.shapes.Grid.size",
        "geo.shapes.Grid.norm",
        "geo.shapes.outer",
        "geo.shapes.area",  # reads SCALE, which the commit changes at module level
        "helper.f",
    }
    assert by_api["geo.shapes.area"].via == ["SCALE"] and not by_api["geo.shapes.outer"].via
    assert by_api["geo.shapes.Grid.count"].callable
    assert not by_api["geo.shapes.Grid.size"].callable  # a property
    assert by_api["geo.shapes.outer"].changed_lines  # the nested function's line counts for outer
    assert changes.roots == ["src", "tools"]
    assert 5 in changes.changed_lines["src/geo/shapes.py"]  # the module-level SCALE line
    assert "untouched" not in {cf.func.name for cf in changes.functions}


def test_analyze_attributes_new_helpers_to_their_callers(tmp_path: Path):
    b = RepoBuilder(tmp_path / "repo")
    v1 = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
    v2 = v1 + "\n\ndef _fast(xs):\n    return sum(xs)\n"
    v2 = v2.replace(
        "    s = 0\n    for x in xs:\n        s += x\n    return s\n", "    return _fast(xs)\n", 1
    )
    base = b.commit("v1", {"m.py": v1})
    opt = b.commit("v2", {"m.py": v2})
    for name, sha in (("base", base), ("opt", opt)):
        export_tree(b.path / ".git", sha, tmp_path / name)
    changes = analyze(b.path / ".git", base, opt, tmp_path / "base", tmp_path / "opt", ["m.py"])
    assert [cf.api for cf in changes.functions] == ["m.total"]


def test_find_and_select_test_files(tmp_path: Path):
    for rel, text in {
        "tests/test_core.py": "from pkg.core import dedupe\n",
        "tests/test_other.py": "import os\n",
        "pkg/tests/test_inner.py": "from pkg import core\n",
        "tests/helpers.py": "dedupe = 1\n",
        ".venv/tests/test_x.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)

    class Fake:  # the two attributes select_test_files reads
        functions = (type("CF", (), {"func": type("F", (), {"name": "dedupe"})()})(),)
        modules = ("pkg.core",)

    paths = find_test_paths(tmp_path)
    assert paths == ["tests", "pkg/tests"]  # the top level first
    # A test module at the top with only data in tests/ (chardet): the module, not the data.
    (tmp_path / "test.py").write_text("def test_detect():\n    pass\n")
    (tmp_path / "samples" / "test").mkdir(parents=True)
    (tmp_path / "samples" / "test" / "sample.txt").write_text("data")
    assert find_test_paths(tmp_path) == ["tests", "pkg/tests", "test.py"]
    (tmp_path / "test.py").unlink()
    files = select_test_files(tmp_path, paths, Fake())  # type: ignore[arg-type]
    assert files == ["tests/test_core.py", "pkg/tests/test_inner.py"]


# --- the probe --------------------------------------------------------------------------------

LIB = """
def total(xs, start=0, *more, scale=1, **opts):
    s = start
    for x in xs:
        s += x
    return s * scale


def bump(items):
    items.append(1)
    return len(items)


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def check(x):
    if x < 0:
        raise ValueError("negative")
    try:
        int("nope")
    except ValueError:
        pass
    return x


def lazy(n):
    for i in range(n):
        yield i * 2


def summary(xs):
    return {"total": total(xs), "n": len(xs)}
"""

LIB_TESTS = """
import unittest

import pytest

from lib import bump, check, fact, lazy, summary, total


def test_total():
    assert total([1, 2, 3]) == 6
    assert total([1, 2], 10, 5, scale=2, flag=True) == 26


def test_bump():
    assert bump([0, 0]) == 3


def test_fact():
    assert fact(5) == 120


def test_check():
    assert check(3) == 3
    with pytest.raises(ValueError):
        check(-1)


def test_lazy():
    assert list(lazy(3)) == [0, 2, 4]


def test_uses_fixture(tmp_path):
    assert total([1]) == 1


@pytest.mark.parametrize("n", [1, 4])
def test_param(n):
    assert total(range(n)) == n * (n - 1) // 2


class TestPlain:
    def test_method(self):
        assert total([2]) == 2


class TestCase(unittest.TestCase):
    def test_unit(self):
        self.assertEqual(total([5]), 5)


def _make_class():
    class Made:
        def test_made(self):
            assert total([3]) == 3

    return Made


TestMade = _make_class()


class LocalList(list):
    pass


def test_with_a_class_of_the_tests():
    assert bump(LocalList()) == 1


def test_fails():
    assert total([1]) == 2


def test_summary():
    assert summary([1, 2]) == {"total": 3, "n": 2}


def test_unrelated():
    assert 1 + 1 == 2
"""


@pytest.fixture
def probed(tmp_path: Path):
    import sys

    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_lib.py").write_text(LIB_TESTS)
    from perfbench.mining.workloads.changes import ChangedFunction, ChangeSet

    funcs = {f.qualname: f for f in index_functions(LIB)}
    changed = [
        ChangedFunction("lib.py", "lib", ".", funcs[n])
        for n in ("total", "bump", "fact", "check", "lazy")
    ]
    changes = ChangeSet(changed, {"lib.py": [funcs["check"].def_line + 2]}, ["."])
    result = run_probe(
        mode="tests",
        tree=tmp_path,
        pythonpath=["."],
        changes=changes,
        python=sys.executable,
        timeout_s=120,
        pytest_args=["tests"],
    )
    return result, tmp_path


def _calls(result, name):
    return [
        pickle.loads(__import__("base64").b64decode(c.blob))
        for c in result.calls[probe_id("lib.py", name)]
    ]


def test_probe_records_outermost_successful_calls(probed):
    result, _ = probed
    assert result.ok, result.errors
    assert ((([1, 2, 3], 0), {"scale": 1})) in _calls(result, "total")
    assert ((([1, 2], 10, 5), {"scale": 2, "flag": True})) in _calls(result, "total")
    assert _calls(result, "fact") == [((5,), {})]  # the recursion is one call
    assert _calls(result, "check") == [
        ((3,), {})
    ]  # check(-1) raised; its caught ValueError is fine
    assert result.stats[probe_id("lib.py", "check")]["raised"] == 1
    assert result.stats[probe_id("lib.py", "bump")]["test_code"] == 1  # LocalList: not importable
    bump = result.calls[probe_id("lib.py", "bump")][0]
    assert bump.mutates and bump.literal == "(([0, 0],), {})"
    assert _calls(result, "lazy") == [((3,), {})]
    assert result.calls[probe_id("lib.py", "total")][0].unit == "tests/test_lib.py::test_total"
    # summary() is no changed function, but the library call through which a test reached one
    (entry,) = [e for e in result.entries if e.name == "summary"]
    assert entry.targets == [probe_id("lib.py", "total")] and entry.path == "lib.py"
    assert [pickle.loads(__import__("base64").b64decode(c.blob)) for c in entry.calls] == [
        (([1, 2],), {})
    ]
    assert {e.name for e in result.entries} == {"summary"}  # direct calls are no entry points


def test_probe_reports_coverage_outcomes_and_callability(probed):
    result, _ = probed
    units = result.units
    assert units["tests/test_lib.py::test_fails"].outcome == "failed"
    assert units["tests/test_lib.py::test_unrelated"].covers is False
    assert units["tests/test_lib.py::test_check"].lines >= 1  # ran the changed line
    # A test with fixtures is callable: it runs through pytest's own fixture machinery.
    fixture_info = units["tests/test_lib.py::test_uses_fixture"].info
    assert fixture_info["callable"] and fixture_info["pytest"] and fixture_info["why"] == ""
    assert "tmp_path" in fixture_info["fixtures"]
    assert units["tests/test_lib.py::test_param[4]"].info["callable"]
    assert units["tests/test_lib.py::TestPlain::test_method"].info["cls"] == "TestPlain"
    assert units["tests/test_lib.py::TestCase::test_unit"].info["unittest"] is True
    assert units["tests/test_lib.py::TestMade::test_made"].info["cls"] == "TestMade"  # as named
    covering = [u.id for u in result.covering()]
    assert "tests/test_lib.py::test_fails" not in covering
    assert "tests/test_lib.py::test_unrelated" not in covering
    assert covering[0] == "tests/test_lib.py::test_check"  # a changed function and a changed line
    assert len(covering) == 13


def test_probe_failure_is_reported(tmp_path: Path):
    from perfbench.mining.workloads.changes import ChangeSet

    result = run_probe(
        mode="tests",
        tree=tmp_path,
        pythonpath=["."],
        changes=ChangeSet([], {}, ["."]),
        python=str(tmp_path / "no-python"),
        timeout_s=30,
    )
    assert not result.ok and "cannot start" in result.errors[0]


# --- the replay helpers -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime():
    path = Path(__file__).parent.parent / "perfbench" / "mining" / "workloads" / "replay_runtime.py"
    spec = importlib.util.spec_from_file_location("replay_runtime_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grow_distinct_keeps_order_and_distinctness(runtime):
    keys = [1, 3, 7]
    grown = runtime._grow(keys, 3, "distinct")
    assert len(grown) == 9 and grown == sorted(grown) and len(set(grown)) == 9
    pairs = runtime._grow([(0, 1), (2, 3)], 2, "distinct")
    assert len(pairs) == 4 and all(len(p) == 2 for p in pairs) and len(set(pairs)) == 4
    words = runtime._grow(["a", "b", "a"], 2, "distinct")
    assert words == ["a", "b", "a", "a~1", "b~1", "a~1"]
    assert runtime._grow({1: "x"}, 3, "distinct") == {1: "x", 2: "x", 3: "x"}
    assert runtime._grow({1, 2}, 2, "distinct") == {1, 2, 3, 4}
    assert runtime._grow(True, 5, "distinct") is True
    assert runtime._grow(7, 5, "distinct") == 7  # scalars keep their value


def test_grow_repeat_and_strings(runtime):
    assert runtime._grow([1, 2], 3, "repeat") == [1, 2, 1, 2, 1, 2]
    assert runtime._grow("ab ", 2, "distinct") == "ab ab "
    assert runtime._grow(b"x" * 16, 3, "repeat") == b"x" * 48
    assert runtime._grow("utf-8", 3, "distinct") == "utf-8"  # a short word is a key, not data
    assert runtime._grow({"k": 1}, 3, "repeat") == {"k": 1}
    assert runtime._grow([1], 1, "distinct") == [1]
    assert runtime._grow(range(2, 5), 3, "repeat") == range(2, 11)
    assert runtime._grow((1, 2), 2, "distinct") == (1, 2)  # maybe a record such as a point
    assert runtime._grow((1, 2), 2, "sequences") == (1, 2, 3, 4)


def test_materialize_consumes_lazy_results(runtime):
    assert runtime._materialize(x for x in range(3)) == [0, 1, 2]
    assert runtime._materialize(map(str, [1])) == ["1"]
    assert runtime._materialize([1]) == [1]
    assert runtime._materialize("abc") == "abc"
