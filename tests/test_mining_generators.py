"""The ``replay``, ``tests`` and ``asv`` generators on one real speed-up commit (no measuring)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from gitrepo_factory import RepoBuilder

from perfbench.mining.commits import ScanConfig, find_candidates
from perfbench.mining.workloads import GENERATORS, GenConfig, make_generators
from perfbench.mining.workloads.context import CandidateRejected, build_context
from perfbench.mining.workloads.llm_gen import check_source
from perfbench.mining.workloads.runner import WorkloadRunner

KIT_V1 = '''"""Collections helpers."""


def unique(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


class Bag:
    def __init__(self, items):
        self.items = list(items)

    def count_all(self, values):
        return [self.items.count(v) for v in values]


def unused(xs):
    return sorted(xs)


def distinct_count(items):
    """How many different items: the public face of unique()."""
    return len(unique(items))
'''

KIT_V2 = (
    KIT_V1.replace(
        """    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out""",
        """    return list(dict.fromkeys(items))""",
    )
    .replace(
        """        return [self.items.count(v) for v in values]""",
        """        counts = {}
        for item in self.items:
            counts[item] = counts.get(item, 0) + 1
        return [counts.get(v, 0) for v in values]""",
    )
    .replace("    return sorted(xs)", "    return sorted(xs, key=None)")
)

KIT_TESTS = """from kit.core import Bag, distinct_count, unique
from .helpers import twice


def test_unique():
    assert unique([2, 1, 2, 3, 1]) == [2, 1, 3]
    assert unique(twice(300)) == list(range(300))


def test_bag():
    bag = Bag([1, 2, 2, 3, 3, 3] * 50)
    assert bag.count_all([3, 2, 1, 9]) == [150, 100, 50, 0]


def test_distinct_count():
    assert distinct_count(twice(200)) == 200


def test_with_fixture(tmp_path):
    assert unique([1, 1]) == [1]
"""

KIT_BENCH = """from kit.core import Bag, unique

from .common import twice


class TimeUnique:
    params = [[100, 1000]]
    param_names = ["n"]

    def setup(self, n):
        self.items = twice(n)

    def time_unique(self, n):
        unique(self.items)


def time_bag():
    Bag(range(500)).count_all(range(500))
"""


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    b = RepoBuilder(root / "kit")
    b.commit(
        "kit",
        {
            "kit/__init__.py": "",
            "kit/core.py": KIT_V1,
            "tests/test_core.py": KIT_TESTS,
            "benchmarks/__init__.py": "",
            "benchmarks/common.py": "def twice(n):\n    return list(range(n)) * 2\n",
            "tests/__init__.py": "",
            "tests/helpers.py": "def twice(n):\n    return list(range(n)) * 2\n",
            "benchmarks/bench_core.py": KIT_BENCH,
        },
    )
    b.commit(
        "Speed up unique and Bag.count_all: linear instead of quadratic", {"kit/core.py": KIT_V2}
    )
    cand = find_candidates(b.path, ScanConfig()).candidates[0]
    gen = GenConfig(
        max_workloads=3, target_seconds=0.01, probe_timeout_s=300, python=sys.executable
    )
    return build_context(b.path / ".git", "test/kit", cand, root / "work", gen)


def test_context_finds_the_changed_functions(ctx):
    assert [cf.api for cf in ctx.changes.functions] == [
        "kit.core.unique",
        "kit.core.Bag.count_all",
        "kit.core.unused",
    ]
    assert ctx.pythonpath == ["."] and ctx.test_paths == ["tests"]
    assert "dict.fromkeys" in ctx.diff_text


def test_replay_grows_recorded_calls(ctx):
    (replay,) = make_generators(["replay"])
    res = replay.generate(ctx)
    by_name = {w.name: w for w in res.workloads}
    assert set(by_name) == {"replay_unique", "replay_bag.count_all", "replay_distinct_count"}, [
        str(d) for d in res.drops
    ]
    unique = by_name["replay_unique"]
    assert unique.apis == ["kit.core.unique"] and unique.generator == "replay"
    assert "([2, 1, 2, 3, 1],), {})" in unique.source  # plain data is inlined as a literal
    assert unique.details["trial_speedup"] > 3, unique.details
    method = by_name["replay_bag.count_all"]
    assert "GROW_FROM = 1" in method.source and "_load(" in method.source  # self is pickled
    assert method.details["trial_speedup"] > 3, method.details
    entry = by_name["replay_distinct_count"]  # a public function whose calls reach unique()
    assert entry.apis == ["kit.core.distinct_count", "kit.core.unique"]
    assert "it runs kit.core.unique" in entry.description
    assert entry.details["trial_speedup"] > 3, entry.details
    assert check_source(unique.source) is None


def test_replay_workload_is_deterministic_and_seeded(ctx):
    (replay,) = make_generators(["replay"])
    source = replay.generate(ctx).workloads[0].source
    namespace: dict = {}
    sys.path.insert(0, str(ctx.base_tree))
    try:
        exec(compile(source, "replay.py", "exec"), namespace)
        a, b, c = namespace["setup"](1), namespace["setup"](1), namespace["setup"](2)
        assert a == b and namespace["run"](a) == namespace["run"](b)
        assert a != c or namespace["BASE_SCALE"] == 1  # hidden seeds change the input size
    finally:
        sys.path.remove(str(ctx.base_tree))
        for name in [m for m in sys.modules if m == "kit" or m.startswith("kit.")]:
            del sys.modules[name]


def test_tests_generator_uses_callable_covering_tests(ctx):
    (tests,) = make_generators(["tests"])
    ctx.config.max_workloads = 4
    try:
        res = tests.generate(ctx)
    finally:
        ctx.config.max_workloads = 3
    names = {w.name for w in res.workloads}
    # The test taking tmp_path runs with the fixture pytest sets up for it (it used to be lost).
    assert names == {"test_unique", "test_bag", "test_distinct_count", "test_with_fixture"}, (
        res.drops
    )
    w = next(w for w in res.workloads if w.name == "test_bag")
    assert w.apis == ["kit.core.Bag.count_all"] and "TEST_SOURCE = None" in w.source
    assert "def test_bag" not in w.source  # read from the tree, not inlined
    fixture = next(w for w in res.workloads if w.name == "test_with_fixture")
    assert "tmp_path" in fixture.details["fixtures"] and "pytest.main" in fixture.source
    assert "fixtures set up by pytest" in fixture.description


def test_asv_generator_wraps_benchmarks_that_hit_the_change(ctx):
    (asv,) = make_generators(["asv"])
    res = asv.generate(ctx)
    names = {w.name for w in res.workloads}
    assert names == {"asv_timeunique.time_unique", "asv_time_bag"}, res.drops
    unique = next(w for w in res.workloads if "unique" in w.name)
    assert "[1]" in unique.details["benchmark"]  # the slowest parameter combination (n=1000)


def test_runner_screen_rejects_bad_workloads(ctx):
    runner: WorkloadRunner = ctx.runner
    ok = (
        "from kit.core import unique\n\ndef setup(seed=0):\n    return list(range(50)) * 2\n\n"
        "def run(d):\n    return unique(d)\n"
    )
    assert runner.screen(ok)[0] is None
    flaky = "import os\n\ndef setup(seed=0):\n    return 0\n\ndef run(d):\n    return os.getpid()\n"
    assert "nondeterministic" in runner.screen(flaky)[0]
    broken = "def setup(seed=0):\n    return 0\n\ndef run(d):\n    raise RuntimeError('boom')\n"
    assert "fails at base" in runner.screen(broken)[0] and "boom" in runner.screen(broken)[0]
    differs = (
        "import kit.core\n\ndef setup(seed=0):\n    return 0\n\n"
        "def run(d):\n    return kit.core.unused.__code__.co_code.hex()\n"
    )
    assert "differ between base and opt" in runner.screen(differs)[0]


def test_root_commit_is_rejected(tmp_path: Path):
    b = RepoBuilder(tmp_path / "r")
    b.commit("Speed up everything with a set", {"m.py": "def f(x):\n    return set(x)\n"})
    cand = find_candidates(b.path, ScanConfig()).candidates[0]
    with pytest.raises(CandidateRejected) as info:
        build_context(b.path / ".git", "a/b", cand, tmp_path / "w", GenConfig())
    assert info.value.stage == "export" and "root commit" in info.value.reasons[0]


LAZY_V1 = '''"""A package that builds its tables when imported."""

from .tables import TABLE, lookup

__all__ = ["TABLE", "lookup", "name"]


def name():
    return "lazy"
'''

TABLES = """TABLE = {i: sum(j * j for j in range(i % 300)) for i in range(20000)}


def lookup(i):
    return TABLE[i]
"""

LAZY_V2 = '''"""A package that builds its tables on first use."""

__all__ = ["TABLE", "lookup", "name"]


def __getattr__(attr):
    if attr in ("TABLE", "lookup"):
        from . import tables

        return getattr(tables, attr)
    raise AttributeError(attr)


def name():
    return "lazy"
'''


def _imports_generated(b: RepoBuilder, tmp_path: Path):
    """The imports generator's result on the repository's last commit."""
    cand = find_candidates(b.path, ScanConfig()).candidates[0]
    gen = GenConfig(max_workloads=2, python=sys.executable)
    context = build_context(b.path / ".git", "test/repo", cand, tmp_path / "work", gen)
    return context, GENERATORS["imports"]().generate(context)


def test_imports_generator_times_cold_imports_of_import_time_commits(tmp_path: Path):
    b = RepoBuilder(tmp_path / "lazy")
    b.commit(
        "lazy",
        {
            "lazy/__init__.py": LAZY_V1,
            "lazy/tables.py": TABLES,
            "tests/test_lazy.py": "from lazy import name\n\n\ndef test_name():\n    assert name()\n",
        },
    )
    b.commit("Make import faster: load the tables lazily", {"lazy/__init__.py": LAZY_V2})
    context, result = _imports_generated(b, tmp_path)
    assert [w.name for w in result.workloads] == ["import_lazy"], result.drops
    w = result.workloads[0]
    assert w.apis == ["import lazy"] and w.details["trial_speedup"] > 2
    # Seeded: the names touched after the import depend on the seed, deterministically.
    module: dict = {}
    exec(compile(w.source, "w.py", "exec"), module)
    sys.path.insert(0, str(context.base_tree))
    try:
        first, again = module["setup"](1), module["setup"](1)
        assert first[1] == again[1] and "lazy" in first[0]
        assert module["run"](first) == module["run"](again)
    finally:
        sys.path.remove(str(context.base_tree))
        for name in [m for m in sys.modules if m == "lazy" or m.startswith("lazy.")]:
            del sys.modules[name]


def test_imports_generator_skips_commits_not_about_imports(ctx):
    result = GENERATORS["imports"]().generate(ctx)
    assert not result.workloads and "is about import time" in result.drops[0].reason


PATTERNS_EAGER = """import re

_PATTERNS = [re.compile(r"(?:ab|cd){%d}x[%d-9]+(?P<w%d>\\\\w+)\\\\s*" % (i % 7 + 1, i % 10, i)) for i in range(300)]


def first_match(text):
    return next((i for i, p in enumerate(_PATTERNS) if p.match(text)), -1)
"""

PATTERNS_LAZY = """import re

_PATTERNS = []


def _patterns():
    if not _PATTERNS:
        _PATTERNS.extend(
            re.compile(r"(?:ab|cd){%d}x[%d-9]+(?P<w%d>\\\\w+)\\\\s*" % (i % 7 + 1, i % 10, i))
            for i in range(300)
        )
    return _PATTERNS


def first_match(text):
    return next((i for i, p in enumerate(_patterns()) if p.match(text)), -1)
"""


def test_imports_generator_empties_the_regex_cache_between_calls(tmp_path: Path):
    """pyparsing dd5c650 deferred its module-level regex compiles: re's own cache kept the
    patterns of the previous call's import, so the cold import at base cost no compiles."""
    b = RepoBuilder(tmp_path / "pat")
    b.commit(
        "pat",
        {
            "pat/__init__.py": PATTERNS_EAGER,
            "tests/test_pat.py": "from pat import first_match\n\n\ndef test_m():\n"
            "    assert first_match('zz') == -1\n",
        },
    )
    b.commit("Faster import: compile the patterns lazily", {"pat/__init__.py": PATTERNS_LAZY})
    _, result = _imports_generated(b, tmp_path)
    assert [w.name for w in result.workloads] == ["import_pat"], result.drops
    assert "re.purge()" in result.workloads[0].source
    assert result.workloads[0].details["trial_speedup"] > 2


def test_install_steps_run_in_both_trees_and_a_failing_one_says_why(tmp_path: Path):
    """babel builds its CLDR data from outside downloads: without the install step that puts
    it in the tree, 214 of 295 tests failed at base and none reached the change."""
    from perfbench.mining.recipes import recipe_for

    b = RepoBuilder(tmp_path / "cldr")
    reader = "from pathlib import Path\n\nDATA = (Path(__file__).parent / 'data.txt').read_text()\n"
    b.commit("data", {"cldr/__init__.py": reader + "\n\ndef f(x):\n    return [x] + []\n"})
    b.commit("Faster f", {"cldr/__init__.py": reader + "\n\ndef f(x):\n    return [x]\n"})
    cand = find_candidates(b.path, ScanConfig()).candidates[0]
    gen = GenConfig(python=sys.executable, install=["echo built > cldr/data.txt"])
    context = build_context(b.path / ".git", "test/cldr", cand, tmp_path / "work", gen)
    for tree in (context.base_tree, context.opt_tree):
        assert (tree / "cldr" / "data.txt").read_text() == "built\n"
    gen = GenConfig(python=sys.executable, install=["echo no such release >&2; exit 3"])
    with pytest.raises(CandidateRejected) as info:
        build_context(b.path / ".git", "test/cldr", cand, tmp_path / "work2", gen)
    assert info.value.stage == "export"
    assert "install step failed (exit 3)" in info.value.reasons[0]
    assert "no such release" in info.value.reasons[0]
    # Known repositories carry their steps as data.
    assert recipe_for("Python-Babel/babel").install and not recipe_for("test/cldr").install
