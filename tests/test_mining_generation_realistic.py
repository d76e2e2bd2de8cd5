"""Generation on failures seen on real repositories: module-level changes, fixtures, replay choice."""

from __future__ import annotations

import sys
from pathlib import Path

from gitrepo_factory import RepoBuilder

from perfbench.mining.commits import ScanConfig, find_candidates
from perfbench.mining.workloads import GENERATORS, GenConfig
from perfbench.mining.workloads.context import build_context

SLUG_V1 = '''"""Slugs."""

import re

_SEPARATORS = re.compile(r"(?:[^a-z0-9]|-)+")


def slugify(text):
    return _SEPARATORS.sub("-", text.lower()).strip("-")


def unrelated(x):
    return x + 1
'''

SLUG_V2 = SLUG_V1.replace('r"(?:[^a-z0-9]|-)+"', 'r"[^a-z0-9]+"')

SLUG_TESTS = """from slugs.core import slugify, unrelated


def test_slugify():
    assert slugify("Hello,  World!") == "hello-world"


def test_unrelated():
    assert unrelated(1) == 2
"""


def _context(tmp_path: Path, files: dict, new: dict, message: str, **gen: object):
    b = RepoBuilder(tmp_path / "repo")
    b.commit("start", files)
    b.commit(message, new)
    cand = find_candidates(b.path, ScanConfig()).candidates[0]
    settings = {"max_workloads": 2, "target_seconds": 0.005, "python": sys.executable}
    settings.update({"replay_search_seconds": 10.0, **gen})
    config = GenConfig(**settings)
    return build_context(b.path / ".git", "test/repo", cand, tmp_path / "work", config)


def test_a_module_level_change_is_covered_by_the_tests_that_use_it(tmp_path):
    """Only a module-level regex changes: the functions reading it are the targets, tests cover."""
    ctx = _context(
        tmp_path,
        {"slugs/__init__.py": "", "slugs/core.py": SLUG_V1, "tests/test_core.py": SLUG_TESTS},
        {"slugs/core.py": SLUG_V2},
        "Speed up slugify: a simpler separator regex",
    )
    (cf,) = ctx.changes.functions
    assert cf.api == "slugs.core.slugify" and cf.via == ["_SEPARATORS"]
    covering = [u.id for u in ctx.probe().covering()]
    assert covering == ["tests/test_core.py::test_slugify"]


FIXTURE_TESTS = """import os

import pytest

from slugs.core import slugify


@pytest.fixture
def filepath(tmp_path):
    path = tmp_path / "titles.txt"
    path.write_text("Hello,  World!\\n" * 50)
    return str(path)


def test_slugify_file(filepath, benchmark):
    with open(filepath) as fh:
        lines = fh.read().splitlines()
    result = benchmark(lambda: [slugify(t) for t in lines])
    assert result[0] == "hello-world"


def test_slugify_env(monkeypatch):
    monkeypatch.setenv("X", "1")
    assert slugify(os.environ["X"] + " a") == "1-a"
"""

CONFTEST = '''import pytest


class Rounds:
    """Like pytest-benchmark's fixture: calls the function many times (no good for timing)."""

    def __call__(self, func):
        for _ in range(20):
            result = func()
        return result


try:
    import pytest_benchmark  # noqa: F401  (its own fixture then)
except ImportError:

    @pytest.fixture
    def benchmark():
        return Rounds()
'''


def test_tests_with_fixtures_run_through_pytest_and_say_so(tmp_path):
    """`filepath` and `benchmark` fixtures: set up by pytest, benchmark stood in for."""
    ctx = _context(
        tmp_path,
        {
            "slugs/__init__.py": "",
            "slugs/core.py": SLUG_V1,
            "tests/test_core.py": FIXTURE_TESTS,
            "tests/conftest.py": CONFTEST,
        },
        {"slugs/core.py": SLUG_V2},
        "Speed up slugify: a simpler separator regex",
    )
    result = GENERATORS["tests"]().generate(ctx)
    (w,) = result.workloads
    assert w.name == "test_slugify_file"
    assert w.details["fixtures"][:2] == ["filepath", "benchmark"]  # then what they depend on
    assert "Stand-ins replace: benchmark." in w.source
    dropped = [str(d) for d in result.drops]
    assert any("only a running pytest test provides: monkeypatch" in d for d in dropped), dropped


HTML_V1 = '''"""Markup."""


def render(text):
    out = []
    for line in text.split("\\n"):
        if line.startswith("<"):
            kept = ""
            for ch in line:
                kept = kept + ch
            out.append(kept)
        else:
            out.append("<p>" + line + "</p>")
    return "".join(out)
'''

HTML_V2 = HTML_V1.replace(
    """            kept = ""
            for ch in line:
                kept = kept + ch
            out.append(kept)""",
    "            out.append(line)",
)

HTML_TESTS = (
    "from mark.core import render\n\n"
    + "".join(
        f"\ndef test_plain_{i}():\n    assert render({('word ' * (300 + i) + chr(10)) * 3!r})\n"
        for i in range(6)
    )
    + "\n\ndef test_raw():\n    assert render('<b>some bold text</b>') == '<b>some bold text</b>'\n"
)


def test_replay_chooses_the_inputs_that_reach_the_changed_lines(tmp_path):
    """Large recorded inputs without raw HTML never run the changed raw-HTML code."""
    ctx = _context(
        tmp_path,
        {"mark/__init__.py": "", "mark/core.py": HTML_V1, "tests/test_core.py": HTML_TESTS},
        {"mark/core.py": HTML_V2},
        "Speed up raw HTML handling in render",
        max_calls=2,
        target_seconds=0.002,
    )
    from perfbench.mining.workloads.probe import probe_id
    from perfbench.mining.workloads.replay import choose_calls

    recorded = ctx.probe().calls[probe_id("mark/core.py", "render")]
    assert len(recorded) >= 3
    chosen = choose_calls(recorded, 2, 400_000)
    assert all(c.reach for c in chosen) and any("<b>" in (c.literal or "") for c in chosen)
    result = GENERATORS["replay"]().generate(ctx)
    w = next((w for w in result.workloads if w.details["function"] == "mark.core:render"), None)
    assert w is not None, [str(d) for d in result.drops]
    assert "<b>some bold text</b>" in w.source


SQL_V1 = '''"""Statements."""


def comments_per_statement(text):
    counts = []
    for statement in text.split(";"):
        found = []
        for line in statement.split("\\n"):
            if "--" in line:
                found = found + [line.strip()]
        counts.append(len(found))
    return counts
'''

SQL_V2 = SQL_V1.replace("found = found + [line.strip()]", "found.append(line.strip())")

SQL_TESTS = """from sql.core import comments_per_statement


def test_comments():
    text = "select a, -- first\\n  b, -- second\\n  c -- third\\nfrom t;"
    assert comments_per_statement(text) == [3, 0]
"""


def test_replay_searches_the_growth_that_reaches_the_slow_case(tmp_path):
    """Repeating a statement makes many statements with few comments each (~1.0x at opt);
    stretching its lines in place makes one statement with many, the quadratic case."""
    ctx = _context(
        tmp_path,
        {"sql/__init__.py": "", "sql/core.py": SQL_V1, "tests/test_core.py": SQL_TESTS},
        {"sql/core.py": SQL_V2},
        "Speed up comments_per_statement: append instead of copying the list",
        target_seconds=0.005,
        max_scale=512,
    )
    result = GENERATORS["replay"]().generate(ctx)
    w = next((w for w in result.workloads if w.details["function"].endswith("per_statement")), None)
    assert w is not None, [str(d) for d in result.drops]
    assert w.details["mode"] == "stretch", w.details["search"]
    assert w.details["trial_speedup"] >= 1.5, w.details["search"]
    repeat = [line for line in w.details["search"] if " repeat " in line]
    repeat_speedup = float(repeat[0].rsplit(": ", 1)[1].rstrip("x"))
    assert repeat_speedup * 3 < w.details["trial_speedup"], w.details["search"]


LINK_V1 = '''"""Links."""

import re

AUTOLINK = re.compile(r"<(https?://[^>]*)>")


def autolinks(text):
    return AUTOLINK.findall(text)
'''

LINK_V2 = LINK_V1.replace('r"<(https?://[^>]*)>"', 'r"<(https?://[^<>]*)>"')

LINK_TESTS = """from links.core import autolinks


def test_autolinks():
    assert autolinks("see <http://a.example/x> and <https://b.example> here") == [
        "http://a.example/x",
        "https://b.example",
    ]
"""


def test_replay_finds_the_unclosed_input_of_a_quadratic_pattern(tmp_path):
    """A link pattern that scans to the end for a missing '>' is quadratic only on links that
    never close; the test's links all close, so repeating them shows nothing."""
    ctx = _context(
        tmp_path,
        {"links/__init__.py": "", "links/core.py": LINK_V1, "tests/test_core.py": LINK_TESTS},
        {"links/core.py": LINK_V2},
        "Speed up autolinks: the link pattern no longer runs past the next opening",
        target_seconds=0.005,
        max_scale=512,
    )
    result = GENERATORS["replay"]().generate(ctx)
    w = next((w for w in result.workloads if w.details["function"].endswith("autolinks")), None)
    assert w is not None, [str(d) for d in result.drops]
    assert w.details["mode"] == "unclosed", w.details["search"]
    assert w.details["trial_speedup"] >= 1.5, w.details["search"]


MAIL_V1 = '''"""Mail links."""

import re

AUTOMAIL = re.compile(r"<([^> !]*@[^> ]*)>")


def automails(text):
    return AUTOMAIL.findall(text)
'''

MAIL_V2 = MAIL_V1.replace('r"<([^> !]*@[^> ]*)>"', 'r"<([^<> !]*@[^@<> ]*)>"')

MAIL_TESTS = """from mail.core import automails


def test_automails():
    assert automails("write to <ann@example.org> or <bob@example.org> today") == [
        "ann@example.org",
        "bob@example.org",
    ]
"""


def test_replay_pumps_the_changed_pattern_when_no_recorded_text_is_slow(tmp_path):
    """The old pattern backtracks only on '<a@' runs without a space or '>': no test text has
    one, and neither repeating nor unclosing the texts makes one; the pattern itself does."""
    ctx = _context(
        tmp_path,
        {"mail/__init__.py": "", "mail/core.py": MAIL_V1, "tests/test_core.py": MAIL_TESTS},
        {"mail/core.py": MAIL_V2},
        "Speed up automails: the mail pattern no longer backtracks over other links",
        target_seconds=0.005,
        max_scale=512,
    )
    result = GENERATORS["replay"]().generate(ctx)
    w = next((w for w in result.workloads if w.details["function"].endswith("automails")), None)
    assert w is not None, [str(d) for d in result.drops]
    assert w.details["mode"] == "pump", w.details["search"]
    assert w.details["pump"].startswith("<a@"), w.details
    assert w.details["trial_speedup"] >= 1.5, w.details["search"]
    assert "PUMP = '<a@" in w.source


HELPER_V1 = '''"""Token helpers."""


def imt(token, kinds):
    return any(token.startswith(k) for k in list(kinds))
'''

HELPER_V2 = HELPER_V1.replace("for k in list(kinds)", "for k in kinds")

GROUPING = """from tok.util import imt


def group(tokens):
    return [t for t in tokens if imt(t, ("k", "x"))]
"""


def test_the_probe_runs_all_tests_when_those_naming_the_change_do_not_run_it(tmp_path):
    """Seen on sqlparse (012c9f1): the changed helper is called only through the grouping code,
    and the one test file naming its module never calls it."""
    from perfbench.mining.workloads.probe import select_test_files

    ctx = _context(
        tmp_path,
        {
            "tok/__init__.py": "",
            "tok/util.py": HELPER_V1,
            "tok/grouping.py": GROUPING,
            "tests/test_util_names.py": "import tok.util\n\n\ndef test_module():\n"
            "    assert tok.util.__name__\n",
            "tests/test_grouping.py": "from tok.grouping import group\n\n\ndef test_group():\n"
            "    assert group(['key', 'x1', 'b']) == ['key', 'x1']\n",
        },
        {"tok/util.py": HELPER_V2},
        "Speed up imt: no list copy per call",
    )
    named = select_test_files(ctx.base_tree, ctx.test_paths, ctx.changes)
    assert named == ["tests/test_util_names.py"]  # the file naming the module runs no imt
    covering = [u.id for u in ctx.probe().covering()]
    assert covering == ["tests/test_grouping.py::test_group"], ctx.probe().summary()


REGISTRY_V1 = '''"""Names known to a registry built at run time (like jsonschema's validator classes)."""


def make_registry(names):
    cls = type("Registry", (), {"describe": lambda self: len(self.names)})
    registry = cls()
    registry.names = list(names)
    return registry


def count_known(registry, items):
    return sum(1 for item in items if item in registry.names)
'''

REGISTRY_V2 = REGISTRY_V1.replace(
    "    return sum(1 for item in items if item in registry.names)",
    "    known = set(registry.names)\n    return sum(1 for item in items if item in known)",
)

REGISTRY_TESTS = """from reg.core import count_known, make_registry


def test_count_known():
    registry = make_registry([f"n{i}" for i in range(60)])
    assert count_known(registry, [f"n{i}" for i in range(0, 120, 2)]) == 30
"""


def test_replay_takes_unpicklable_calls_live_from_their_test(tmp_path):
    """jsonschema bd68ca3 and attrs 7369ad9: the changed function's arguments were objects of
    classes made at run time, so no call could be pickled (249 of 482 and 333 of 413) and
    replay had nothing; a capture workload runs the test in its setup and copies the calls."""
    ctx = _context(
        tmp_path,
        {"reg/__init__.py": "", "reg/core.py": REGISTRY_V1, "tests/test_core.py": REGISTRY_TESTS},
        {"reg/core.py": REGISTRY_V2},
        "Speed up count_known with a set",
    )
    result = GENERATORS["replay"]().generate(ctx)
    w = next((w for w in result.workloads if w.details["function"] == "reg.core:count_known"), None)
    assert w is not None, [str(d) for d in result.drops]
    assert w.details["captured_from"] == "tests/test_core.py::test_count_known"
    assert w.details["trial_speedup"] > 1.5
    assert "taken live" in w.source and ctx.runner.varies_with_seed(w.source) is True
