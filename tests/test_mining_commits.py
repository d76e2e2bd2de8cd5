"""The commits stage of the miner on a realistic, locally built history."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from gitrepo_factory import FastImporter, RepoBuilder, git_env

from perfbench.errors import InputError, RepositoryError
from perfbench.mining import Candidate, Rejection, ScanConfig, find_candidates, scan
from perfbench.mining.commits import read_diffs
from perfbench.mining.patterns import MessageMatcher, PathClassifier, PathGlob, PathSet

UTC = timezone.utc

CORE_SLOW = '''"""Core helpers."""


def dedupe(items):
    """Items in first-seen order without repeats."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
'''

CORE_FAST = '''"""Core helpers."""


def dedupe(items):
    """Items in first-seen order without repeats."""
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
'''

PARSE_V1 = '''"""Parsing of key=value records."""


def parse(text):
    records = []
    for line in text.split("\\n"):
        fields = {}
        for part in line.split(";"):
            if "=" in part:
                key, value = part.split("=", 1)
                fields[key.strip()] = value.strip()
        records.append(fields)
    return records
'''

PARSE_V2 = '''"""Parsing of key=value records."""


def _fields(line):
    fields = {}
    for part in line.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip()] = value.strip()
    return fields


def parse(text):
    return [_fields(line) for line in text.split("\\n")]
'''

PARSE_V3 = '''"""Parsing of key=value records."""

import re

_PAIR = re.compile(r"\\s*([^=;]+?)\\s*=\\s*([^;]*?)\\s*(?:;|$)")


def parse(text):
    return [dict(_PAIR.findall(line)) for line in text.split("\\n")]
'''

TOKENIZE_V1 = '''"""Tokenizer."""

import re


def tokenize(text, pattern=r"\\w+"):
    return re.findall(pattern, text)
'''

TOKENIZE_FIX = TOKENIZE_V1.replace("return re.findall", "return [t for t in re.findall") + "\n"
TOKENIZE_FIX = TOKENIZE_FIX.replace("pattern, text)", "pattern, text) if t]")

TOKENIZE_CACHED = '''"""Tokenizer."""

import functools
import re


@functools.lru_cache(maxsize=64)
def _compiled(pattern):
    return re.compile(pattern)


def tokenize(text, pattern=r"\\w+"):
    return [t for t in _compiled(pattern).findall(text) if t]
'''

RENDER_V1 = '''"""HTML rendering."""


def render(rows):
    html = "<table>"
    for row in rows:
        html += "<tr>"
        for cell in row:
            html += "<td>" + str(cell) + "</td>"
        html += "</tr>"
    return html + "</table>"
'''

RENDER_V2 = '''"""HTML rendering."""


def render(rows):
    parts = ["<table>"]
    for row in rows:
        parts.append("<tr>")
        parts.extend(f"<td>{cell}</td>" for cell in row)
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)
'''

RENDER_V3 = RENDER_V2.replace(
    '    parts = ["<table>"]\n',
    '    if not rows:\n        return "<table></table>"\n    parts = ["<table>"]\n',
)

INDEX_V1 = '''"""Sorted index."""


def lookup(keys, key):
    for i, k in enumerate(keys):
        if k >= key:
            return i
    return len(keys)
'''

INDEX_V2 = '''"""Sorted index."""

import bisect


def lookup(keys, key):
    return bisect.bisect_left(keys, key)
'''


TOKENIZE_TESTS = "def test_words():\n    pass\n\n\ndef test_empty():\n    pass\n"


def _plugin(i: int, extra: str = "") -> str:
    return f'"""Plugin {i}."""\n\nimport os\nimport sys\n{extra}\n\ndef run():\n    return {i}\n'


def _lines(n: int, stem: str) -> str:
    return "".join(f"{stem}_{i} = {i}\n" for i in range(n))


@dataclass
class History:
    path: object
    sha: dict[str, str]
    expected: dict[str, str]  # label -> "candidate" or a rejection code

    def label(self, sha: str) -> str:
        return {v: k for k, v in self.sha.items()}[sha]


def build_history(path) -> History:
    """About thirty commits of a small text-processing library, each with a known verdict."""
    b = RepoBuilder(path)
    sha: dict[str, str] = {}
    expected: dict[str, str] = {}

    def add(label: str, verdict: str, message: str, files=None, **kw) -> None:
        sha[label] = b.commit(message, files, **kw)
        expected[label] = verdict

    add(
        "init",
        "no-perf-signal",
        "Initial commit",
        {
            "README.md": "# textkit\n",
            "pyproject.toml": '[project]\nname = "textkit"\nversion = "1.0"\n',
            "src/textkit/__init__.py": '__version__ = "1.0"\n',
            "src/textkit/core.py": CORE_SLOW,
            "src/textkit/parse.py": PARSE_V1,
            "tests/test_core.py": "from textkit.core import dedupe\n\n\ndef test_dedupe():\n"
            "    assert dedupe([1, 1, 2]) == [1, 2]\n",
        },
    )
    add(
        "tokenizer",
        "no-perf-signal",
        "Add tokenizer module",
        {
            "src/textkit/tokenize.py": TOKENIZE_V1,
            "tests/test_tokenize.py": "def test_words():\n    pass\n",
        },
    )
    add(
        "ci",
        "no-perf-signal",
        "Add CI workflow",
        {
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        },
    )
    add(
        "refactor",
        "no-perf-signal",
        "Refactor parse into smaller helpers",
        {"src/textkit/parse.py": PARSE_V2},
    )
    add(
        "docs_api",
        "no-perf-signal",
        "Document the public API",
        {"docs/api.rst": "API\n===\n\n.. autofunction:: textkit.parse\n"},
    )
    add(
        "tests_only",
        "no-perf-signal",
        "Add tests for tokenizer edge cases",
        {"tests/test_tokenize.py": TOKENIZE_TESTS},
    )
    add(
        "ci_speed",
        "ci-only",
        "Speed up CI by caching pip downloads",
        {
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - uses: actions/cache@v4\n",
        },
    )
    add(
        "dedupe",
        "candidate",
        "Speed up dedupe: use a set instead of list scans\n\n"
        "Membership tests on the output list made dedupe O(n^2).\n",
        {"src/textkit/core.py": CORE_FAST},
    )
    add(
        "xdist",
        "ci-only",
        "Make the test suite faster with pytest-xdist",
        {
            "tox.ini": "[testenv]\ncommands = pytest -n auto\n",
            "tests/conftest.py": "import pytest\n",
        },
    )
    add(
        "fixtures",
        "no-source-change",
        "Add faster fixtures for parser tests",
        {
            "tests/test_parse.py": "def test_parse():\n    pass\n",
            "tests/conftest.py": "import pytest\n\n\n@pytest.fixture(scope='session')\n"
            "def text():\n    return 'a=1'\n",
        },
    )
    add(
        "vendor",
        "path-filter",
        "Vendor simdjson for faster JSON parsing",
        {
            "vendor/simdjson/simdjson.c": _lines(24000, "int v"),
            "vendor/simdjson/simdjson.h": _lines(200, "int h"),
        },
    )
    add(
        "tables",
        "data-only",
        "Add precomputed unicode tables for faster lookup",
        {"src/textkit/_tables.py": _lines(3000, "CP")},
    )
    add(
        "parse3x",
        "candidate",
        "Make parse 3x faster\n\nOne compiled regex finds all pairs instead of splitting twice.\n",
        {
            "src/textkit/parse.py": PARSE_V3,
            "tests/test_parse.py": "def test_parse():\n    assert True\n",
        },
    )
    b.branch("csv-export")
    add(
        "csv",
        "no-perf-signal",
        "Add CSV export",
        {
            "src/textkit/export.py": "import csv\n\n\ndef export(rows, fh):\n"
            "    csv.writer(fh).writerows(rows)\n",
            "tests/test_export.py": "def test_export():\n    pass\n",
        },
    )
    b.checkout("main")
    add("readme", "no-perf-signal", "Update README badges", {"README.md": "# textkit\n\n![ci]\n"})
    sha["merge"] = b.merge("csv-export")
    expected["merge"] = "merge"
    add(
        "perf_docs",
        "docs-only",
        "docs: add performance tips",
        {"docs/performance.rst": "Performance\n===========\n\nReuse parsers.\n"},
    )
    add(
        "fix",
        "no-perf-signal",
        "Fix off-by-one in tokenizer",
        {"src/textkit/tokenize.py": TOKENIZE_FIX},
    )
    add(
        "regex_cache",
        "candidate",
        "Cache compiled regexes in tokenizer",
        {"src/textkit/tokenize.py": TOKENIZE_CACHED},
    )
    add(
        "stale_cache",
        "weak-signal",
        "Clear stale cache entries on reload",
        {"src/textkit/core.py": CORE_FAST + "\n\ndef reload(state):\n    state.clear()\n"},
    )
    add(
        "plugins",
        "no-perf-signal",
        "Add plugin system",
        {f"src/textkit/plugins/p{i:02d}.py": _plugin(i) for i in range(25)},
    )
    add(
        "imports",
        "too-many-files",
        "Optimize imports across the package",
        {
            f"src/textkit/plugins/p{i:02d}.py": _plugin(i).replace("import sys\n", "")
            for i in range(25)
        },
    )
    add(
        "render_feature",
        "no-perf-signal",
        "Add HTML renderer",
        {"src/textkit/render.py": RENDER_V1},
    )
    add(
        "render",
        "candidate",
        "Avoid quadratic string concatenation in render",
        {
            "src/textkit/render.py": RENDER_V2,
            "tests/test_render.py": "from textkit.render import render\n\n\ndef test_render():\n"
            "    assert render([[1]]) == '<table><tr><td>1</td></tr></table>'\n",
        },
    )
    add(
        "bench",
        "no-source-change",
        "Add asv benchmark to track parse performance",
        {
            "benchmarks/bench_parse.py": "from textkit.parse import parse\n\n\ndef time_parse():\n"
            "    parse('a=1;b=2' * 100)\n"
        },
    )
    add(
        "docs_build",
        "ci-only",
        "Faster docs build with parallel sphinx",
        {"docs/conf.py": "extensions = []\nparallel = True\n"},
    )
    add("index", "no-perf-signal", "Add sorted index", {"src/textkit/index.py": INDEX_V1})
    add("index_bisect", "no-perf-signal", "Rework index lookup", {"src/textkit/index.py": INDEX_V2})
    add("logo", "no-perf-signal", "Add logo", {"docs/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary"})
    add(
        "revert",
        "revert",
        'Revert "Cache compiled regexes in tokenizer"',
        {"src/textkit/tokenize.py": TOKENIZE_FIX},
    )
    add(
        "bump",
        "no-perf-signal",
        "Bump version to 1.1",
        {
            "pyproject.toml": '[project]\nname = "textkit"\nversion = "1.1"\n',
            "src/textkit/__init__.py": '__version__ = "1.1"\n',
        },
    )
    # Written in 2022, rebased and committed in 2024: the date range goes by the commit date.
    add(
        "rebased",
        "candidate",
        "Add a fast path for ASCII input to tokenize",
        {
            "src/textkit/tokenize.py": TOKENIZE_FIX
            + "\n\ndef is_ascii(text):\n    return text.isascii()\n"
        },
        date="2022-06-01T10:00:00+00:00",
        committer_date="2024-02-20T10:00:00+00:00",
    )
    add(
        "render_2024",
        "candidate",
        "Speed up render of empty tables",
        {"src/textkit/render.py": RENDER_V3},
        date="2024-03-01T12:00:00+02:00",
    )
    add(
        "yaml",
        "no-perf-signal",
        "Add YAML export",
        {"src/textkit/yaml_export.py": "def export(rows):\n    return str(rows)\n"},
        date="2024-03-05T08:00:00+00:00",
    )
    return History(path, sha, expected)


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    return build_history(tmp_path_factory.mktemp("textkit"))


def _codes(items) -> dict[str, str]:
    return {i.sha: ("candidate" if isinstance(i, Candidate) else i.code) for i in items}


def _candidate_shas(result) -> set[str]:
    return {c.sha for c in result.candidates}


def _expected_candidates(history: History) -> set[str]:
    return {history.sha[k] for k, v in history.expected.items() if v == "candidate"}


# --- what is kept and why the rest is not ----------------------------------------------------


def test_every_commit_is_explained(history):
    result = find_candidates(history.path, explain=True)
    count = subprocess.run(
        ["git", "-C", str(history.path), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert result.scanned == int(count) == len(history.expected)
    got = {
        history.label(sha): code
        for sha, code in _codes(result.candidates + result.rejections).items()
    }
    assert got == history.expected


def test_default_scan_finds_the_real_speedups(history):
    result = find_candidates(history.path)
    assert _candidate_shas(result) == _expected_candidates(history)
    assert "merge" not in {r.code for r in result.rejections}  # git dropped it itself
    assert result.scanned == len(history.expected) - 1
    by_label = {history.label(c.sha): c for c in result.candidates}
    dedupe = by_label["dedupe"]
    assert dedupe.source_files == ["src/textkit/core.py"]
    assert "message: speed up, complexity, better data structure" in dedupe.reasons_for
    assert "diff: uses a set" in dedupe.reasons_for
    assert any("quantified speed-up" in r for r in by_label["parse3x"].reasons_for)
    assert (
        "diff: adds a functools cache, precompiles a regex" in by_label["regex_cache"].reasons_for
    )
    assert by_label["parse3x"].commit.files[0].path == "src/textkit/parse.py"
    assert by_label["parse3x"].commit.subject == "Make parse 3x faster"
    assert "One compiled regex" in by_label["parse3x"].commit.message
    assert by_label["dedupe"].commit.parents == [history.sha["ci_speed"]]
    assert by_label["render_2024"].commit.author_date == "2024-03-01T12:00:00+02:00"


def test_rejection_reasons_say_why(history):
    result = find_candidates(history.path, explain=True)
    reason = {history.label(r.sha): r.reason for r in result.rejections}
    assert reason["tables"] == (
        "data-only: only generated/data files changed (3000 lines in src/textkit/_tables.py)"
    )
    assert reason["imports"] == "too-many-files: 25 source files changed > 20"
    assert reason["merge"] == "merge: 2 parents"
    assert reason["ci_speed"] == "ci-only: message is about CI speed"
    assert reason["xdist"] == "ci-only: message is about test-suite speed"
    assert reason["docs_build"] == "ci-only: message is about build speed"
    assert reason["fixtures"].startswith("no-source-change: only tests touched (tests/")
    assert reason["bench"].startswith("no-source-change: only docs/config touched")
    assert reason["vendor"].startswith(
        "path-filter: every changed file is excluded (vendor/simdjson/"
    )
    assert reason["perf_docs"] == "docs-only: message is about documentation"
    assert reason["fix"].startswith("no-perf-signal")
    assert reason["revert"].startswith("revert:")
    assert reason["stale_cache"] == (
        "weak-signal: message weight 1 < 2 (message: cache) and no speed-up idiom in the diff"
    )


# --- filters ---------------------------------------------------------------------------------


def test_date_range_uses_commit_dates(history):
    cfg = ScanConfig(since="2024-01-01")
    assert {history.label(s) for s in _candidate_shas(find_candidates(history.path, cfg))} == {
        "rebased",
        "render_2024",
    }
    explained = find_candidates(history.path, cfg, explain=True)
    reason = {history.label(r.sha): r.reason for r in explained.rejections}
    assert reason["dedupe"].startswith(
        "out-of-date-range: committed 2023-01-09T09:00:00+00:00, before since"
    )
    assert reason["yaml"] == "no-perf-signal: the message names no performance change"

    window = ScanConfig(since="2023-01-09", until="2023-01-14")  # both days included
    got = {history.label(s) for s in _candidate_shas(find_candidates(history.path, window))}
    assert got == {"dedupe", "parse3x"}
    window_end = ScanConfig(since="2023-01-09", until="2023-01-14T08:59:59+00:00")
    assert {
        history.label(s) for s in _candidate_shas(find_candidates(history.path, window_end))
    } == {"dedupe"}
    # A time zone other than UTC: 2024-03-01T12:00+02:00 is 10:00 UTC.
    late = ScanConfig(since="2024-03-01T10:30:00+00:00")
    assert _candidate_shas(find_candidates(history.path, late)) == set()
    early = ScanConfig(since="2024-03-01T09:30:00+00:00")
    assert {history.label(s) for s in _candidate_shas(find_candidates(history.path, early))} == {
        "render_2024"
    }


def test_include_and_exclude_paths(history):
    only_core = ScanConfig(include_paths=["src/textkit/core.py"])
    assert {
        history.label(s) for s in _candidate_shas(find_candidates(history.path, only_core))
    } == {"dedupe"}
    explained = find_candidates(history.path, only_core, explain=True)
    reason = {history.label(r.sha): r.reason for r in explained.rejections}
    assert reason["parse3x"].startswith("path-filter: no changed file matches include_paths")

    cfg = ScanConfig()
    cfg.exclude_paths += ["tokenize.py"]  # a bare name matches at any depth
    got = {history.label(s) for s in _candidate_shas(find_candidates(history.path, cfg))}
    assert got == _labels(history, "candidate") - {"regex_cache", "rebased"}
    reason = {
        history.label(r.sha): r.reason
        for r in find_candidates(history.path, cfg, explain=True).rejections
    }
    assert (
        reason["regex_cache"]
        == "path-filter: every changed file is excluded (src/textkit/tokenize.py)"
    )

    # Excluding the tests of a commit changes what it counts, not whether it is kept.
    no_tests = ScanConfig(exclude_paths=["tests/"])
    render = next(
        c
        for c in find_candidates(history.path, no_tests).candidates
        if c.sha == history.sha["render"]
    )
    assert [f.path for f in render.commit.files] == ["src/textkit/render.py"]
    assert "source share: 100%" in render.reasons_for


def _labels(history: History, verdict: str) -> set[str]:
    return {k for k, v in history.expected.items() if v == verdict}


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"since": "2023-01-10", "until": "2024-03-01"},
        {"include_paths": ["src/textkit/*.py"], "exclude_paths": ["render.py"]},
        {"include_paths": ["src/"], "order": "date", "max_candidates": 3},
        {"include_paths": ["/src/textkit/render.py", "/tests"], "until": "2024-03-01T09:59:59Z"},
        {"exclude_paths": ["**/core.py", "tests/"], "require_message_signal": False},
    ],
)
def test_git_prefilter_agrees_with_explain(history, settings):
    """Without explain git drops commits itself; the kept candidates must not change."""
    fast = find_candidates(history.path, ScanConfig.from_dict(settings))
    slow = find_candidates(history.path, ScanConfig.from_dict(settings), explain=True)
    assert [(c.sha, c.score) for c in fast.candidates] == [
        (c.sha, c.score) for c in slow.candidates
    ]
    assert fast.scanned <= slow.scanned


def test_order_and_max_candidates(history):
    by_date = find_candidates(history.path, ScanConfig(order="date")).candidates
    assert [history.label(c.sha) for c in by_date] == [
        "render_2024",
        "rebased",
        "render",
        "regex_cache",
        "parse3x",
        "dedupe",
    ]
    by_score = find_candidates(history.path, ScanConfig(order="score")).candidates
    scores = [c.score for c in by_score]
    assert scores == sorted(scores, reverse=True)
    assert history.label(by_score[0].sha) in {"dedupe", "parse3x"}
    top2 = find_candidates(history.path, ScanConfig(order="score", max_candidates=2))
    assert [c.sha for c in top2.candidates] == [c.sha for c in by_score[:2]]
    newest2 = find_candidates(history.path, ScanConfig(order="date", max_candidates=2))
    assert [c.sha for c in newest2.candidates] == [c.sha for c in by_date[:2]]
    assert newest2.scanned < len(history.expected)  # it stopped reading history early


def test_diff_signals(history):
    cfg = ScanConfig(require_message_signal=False)
    result = find_candidates(history.path, cfg, explain=True)
    got = {history.label(c.sha): c for c in result.candidates}
    assert set(got) == _labels(history, "candidate") | {"index_bisect"}
    assert got["index_bisect"].reasons_for[-1] == "diff: uses bisect"
    reason = {history.label(r.sha): r.reason for r in result.rejections}
    assert reason["fix"] == "no-perf-signal: neither the message nor the diff suggests a speed-up"
    assert reason["ci_speed"].startswith("ci-only")  # a misleading message still rejects

    # Without diffs a weak message ("cache" alone) has nothing to back it up.
    plain = find_candidates(history.path, ScanConfig(diff_signals=False), explain=True)
    assert _candidate_shas(plain) == _expected_candidates(history) - {history.sha["regex_cache"]}
    assert not any(r.startswith("diff:") for c in plain.candidates for r in c.reasons_for)
    reason = {history.label(r.sha): r.reason for r in plain.rejections}
    assert reason["regex_cache"] == (
        "weak-signal: message weight 1 < 2 (message: cache) and no speed-up idiom in the diff"
    )
    lenient = find_candidates(history.path, ScanConfig(diff_signals=False, min_message_weight=0))
    assert _candidate_shas(lenient) == _expected_candidates(history) | {history.sha["stale_cache"]}


def test_size_limits(history):
    result = find_candidates(history.path, ScanConfig(min_lines=20, max_lines=5000), explain=True)
    reason = {history.label(r.sha): r.reason for r in result.rejections}
    assert reason["rebased"] == "too-small: 4 lines changed < 20"
    assert reason["tables"].startswith("data-only")  # a table alone speeds nothing up


def test_bare_mirror_gives_the_same_result(history, tmp_path):
    mirror = tmp_path / "mirror.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(history.path), str(mirror)],
        env=git_env(tmp_path),
        check=True,
    )
    assert _candidate_shas(find_candidates(mirror)) == _expected_candidates(history)


def test_scan_streams_and_can_stop(history):
    items = scan(history.path, explain=True)
    first = next(items)
    assert isinstance(first, Rejection) and first.sha == history.sha["yaml"]
    items.close()  # stops git without complaint


def test_patch_line_counts_match_numstat(history):
    """Line counts come from -U0 patches; they must equal git's own numstat."""
    out = subprocess.run(
        ["git", "-C", str(history.path), "log", "--no-merges", "--numstat", "--format=@%H"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    numstat: dict[str, set] = {}
    for line in out.splitlines():
        if line.startswith("@"):
            sha = line[1:]
            numstat[sha] = set()
        elif line:
            added, deleted, path = line.split("\t", 2)
            numstat[sha].add((path, added, deleted))
    diffs = read_diffs(history.path, list(numstat))
    for sha, files in numstat.items():
        got = {
            (f.path, "-" if f.binary else str(f.added), "-" if f.binary else str(f.deleted))
            for f in diffs[sha].files
        }
        assert got == files, history.label(sha)


# --- odd input -------------------------------------------------------------------------------


def test_odd_file_names_and_messages(tmp_path):
    b = RepoBuilder(tmp_path / "odd")
    b.commit("Start", {"src/m.py": "x = 1\n"})
    odd = "src/dir with space/ünï\tcode.py"
    sha = b.commit(
        "Make lookups faster\x1e\x1f for odd names\n\n1\t2\tnot/a/numstat.py\n",
        {odd: "def f():\n    return frozenset()\n", "data/blob.bin": bytes(range(256))},
    )
    (cand,) = find_candidates(b.path).candidates
    assert cand.sha == sha
    assert cand.commit.subject == "Make lookups faster\x1e\x1f for odd names"
    paths = {f.path: f for f in cand.commit.files}
    assert set(paths) == {odd, "data/blob.bin"}
    assert paths["data/blob.bin"].binary and paths["data/blob.bin"].lines == 0
    assert (paths[odd].added, paths[odd].deleted) == (2, 0)
    assert cand.source_files == [odd]
    assert "diff: uses a set" in cand.reasons_for


def test_bad_input_is_reported_clearly(tmp_path, history):
    with pytest.raises(InputError, match="no such folder"):
        find_candidates(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        find_candidates(tmp_path / "file.txt")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RepositoryError, match="is not a git repository"):
        scan(plain)  # fails at once, not on the first iteration
    with pytest.raises(RepositoryError, match="inside a git repository"):
        find_candidates(history.path / "src")
    with pytest.raises(InputError, match=r"since.*'last year' is not a date"):
        find_candidates(history.path, ScanConfig(since="last year"))
    with pytest.raises(InputError, match="is after until"):
        find_candidates(history.path, ScanConfig(since="2024-01-02", until="2024-01-01"))
    with pytest.raises(RepositoryError, match="revision 'nope' is not a commit"):
        find_candidates(history.path, ScanConfig(rev="nope"))
    empty = RepoBuilder(tmp_path / "empty")
    with pytest.raises(RepositoryError, match="has no commits yet"):
        find_candidates(empty.path)


def test_config_from_data(tmp_path):
    cfg = ScanConfig.from_dict(
        {"max_lines": 10, "perf_patterns": ["zoom", {"pattern": "whizz", "weight": 5}]}
    )
    assert cfg.max_lines == 10 and cfg.perf_patterns[1].weight == 5
    assert cfg.test_patterns == ScanConfig().test_patterns  # the rest keeps the defaults
    cfg.test_patterns.append("spec/")
    assert "spec/" not in ScanConfig().test_patterns  # defaults are not shared
    with pytest.raises(InputError, match=r"max_line.*unknown setting"):
        ScanConfig.from_dict({"max_line": 10})
    with pytest.raises(InputError, match=r"max_files.*expected a whole number"):
        ScanConfig.from_dict({"max_files": "ten"})
    with pytest.raises(InputError, match=r"negative_patterns\[0\].*whole must be true or false"):
        ScanConfig.from_dict({"negative_patterns": [{"pattern": "x", "whole": "yes"}]})
    with pytest.raises(InputError, match=r"perf_patterns\[0\].*bad regular expression"):
        scan(
            tmp_path,
            ScanConfig(
                perf_patterns=ScanConfig.from_dict({"perf_patterns": ["(oops"]}).perf_patterns
            ),
        )
    with pytest.raises(InputError, match=r"order.*expected one of score, date"):
        scan(tmp_path, ScanConfig(order="random"))
    bad = tmp_path / "mining.json"
    bad.write_text('{"max_lines": 10,\n "order": }\n')
    with pytest.raises(InputError, match=r"mining.json, line 2"):
        ScanConfig.from_file(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"order": "date", "since": "2023-01-01"}))
    assert ScanConfig.from_file(good).order == "date"


# --- message patterns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "Make parse 3x faster",
        "Speedup of 40% in the reader",
        "Replace O(n^2) scan",
        "foo(n) helper",
        "perf: trim",
        "Reduce redundant copies",
        "Use a heap for the scheduler",
        "Fix typo",
        "Bump version",
        "zz",
    ],
)
def test_the_quick_prefilter_agrees_with_the_patterns(message):
    cfg = ScanConfig(
        perf_patterns=[
            *ScanConfig().perf_patterns,
            *ScanConfig.from_dict({"perf_patterns": [r"\bsp\w+|zz"]}).perf_patterns,
        ]
    )
    matcher = MessageMatcher(cfg.perf_patterns, [])
    assert matcher.has_signal(message) == any(rx.search(message) for _, rx in matcher.perf)


# --- path patterns ---------------------------------------------------------------------------


def test_path_globs_follow_gitignore_rules():
    def matches(pattern: str, path: str) -> bool:
        return PathSet([pattern], field="t").match(path)

    assert matches("tests/", "tests/test_a.py") and matches("tests/", "pkg/tests/a.py")
    assert not matches("tests/", "tests")  # a folder pattern needs something below it
    assert matches("test_*.py", "pkg/sub/test_core.py") and not matches("test_*.py", "pkg/core.py")
    assert matches("src/textkit", "src/textkit/core.py") and not matches(
        "src/textkit", "lib/src/textkit/x.py"
    )
    assert matches("src/*.py", "src/a.py") and not matches("src/*.py", "src/sub/a.py")
    assert matches("src/**/*.py", "src/a.py") and matches("src/**/*.py", "src/sub/deeper/a.py")
    assert matches("**/vendor/**", "a/vendor/b.c") and matches("file[0-9].c", "x/file3.c")
    kinds = PathClassifier(
        include=[],
        exclude=["vendor/"],
        tests=["tests/", "conftest.py"],
        non_source=["docs/"],
        source_exts=[".py", ".c"],
    )
    assert [
        kinds.kind(p)
        for p in (
            "a/core.py",
            "tests/x.py",
            "conftest.py",
            "docs/conf.py",
            "README.md",
            "vendor/x.c",
            "lib/ext.C",
        )
    ] == ["source", "test", "test", "other", "other", None, "source"]


def test_git_pathspecs_cover_the_globs(tmp_path):
    """The pre-filter given to git must keep every path the Python globs keep."""
    paths = [
        "a.py",
        "src/a.py",
        "src/sub/b.py",
        "lib/src/c.py",
        "tests/t.py",
        "pkg/tests/t.py",
        "vendor/v.c",
        "x/vendor/w.c",
        "file3.c",
        "d/file3.c",
        "src/textkit/core.py",
        "sx/y.py",
    ]
    b = RepoBuilder(tmp_path / "specs")
    b.commit("all", {p: "x\n" for p in paths})
    for pattern in [
        "src",
        "src/",
        "tests/",
        "*.py",
        "src/*.py",
        "src/**/*.py",
        "s*",
        "vendor/",
        "**/vendor/**",
        "file[0-9].c",
        "/a.py",
        "src/textkit/core.py",
        "sub",
    ]:
        specs = [f":(glob){s}" for s in PathGlob(pattern).pathspecs()]
        listed = set(b.git("ls-files", "--", *specs).split("\n")) - {""}
        wanted = {p for p in paths if PathSet([pattern], field="t").match(p)}
        assert wanted == listed, pattern


# --- scale -----------------------------------------------------------------------------------


def test_thousands_of_commits_in_a_fraction_of_a_second(tmp_path):
    repo = tmp_path / "big.git"
    fi = FastImporter(repo)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    planted = set()
    for i in range(2000):
        speedup = i % 500 == 250
        message = f"Speed up step {i} with a cache" if speedup else f"Change step {i}"
        mark = fi.commit(
            message,
            {f"src/m{i % 40}.py": f"STEP = {i}\n", f"tests/test_{i % 7}.py": f"{i}\n"},
            date=start + timedelta(hours=i),
        )
        if speedup:
            planted.add(mark)
    marks = fi.close()
    began = time.perf_counter()
    result = find_candidates(repo, ScanConfig(diff_signals=False))
    elapsed = time.perf_counter() - began
    assert result.scanned == 2000
    assert _candidate_shas(result) == {marks[m] for m in planted}
    assert elapsed < 2.0, f"{elapsed:.2f}s for 2000 commits"


@pytest.mark.parametrize(
    "message",
    [
        # Real subjects of speed-ups the curated dataset kept and the first patterns missed.
        "Fix lexer being extremely slow on large amounts of whitespace",
        "Generate __version__ at build to avoid slow importlib.metadata import",
        "Improve paragraph parsing speed",
        "fix(inline): avoid bracket parsing DoS",
        "Fix O(n^2) CPU exhaustion in parse_link_text",
        "Prevent catastrophic backtracking in the Lua lexer",
    ],
)
def test_messages_of_real_speedups_are_strong_enough(message):
    cfg = ScanConfig()
    verdict = MessageMatcher(cfg.perf_patterns, cfg.negative_patterns).judge(message)
    assert sum(w for _, w in verdict.signals) >= cfg.min_message_weight, verdict


@pytest.mark.parametrize(
    "message", ["Convert DOS line endings", "Update dos2unix docs", "Add shortcut key docs"]
)
def test_lookalikes_of_the_new_patterns_stay_weak(message):
    cfg = ScanConfig()
    verdict = MessageMatcher(cfg.perf_patterns, cfg.negative_patterns).judge(message)
    assert sum(w for _, w in verdict.signals) < cfg.min_message_weight, verdict
