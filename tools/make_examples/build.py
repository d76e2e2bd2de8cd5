#!/usr/bin/env python3
"""Build the offline example dataset ``instances/examples/`` from the files beside this script.

The demo library *pbdemo* is our own code. Its history is replayed from
``history/NN-slug/`` folders: each folder holds the files that commit adds or
changes (full contents), and ``HISTORY`` below gives each commit its message,
author and date. Author, committer and dates are fixed, so the commit ids come
out the same on every run and every machine.

The script then writes:

- ``repos/pbdemo.bundle``: the whole history as a git bundle (``--all``);
- one folder per instance, named by its id, with ``instance.json`` and the
  workloads copied from ``workloads/<key>/``;
- ``predictions/*.jsonl``: sample patches, each made by editing the base tree
  (or the expert's tree) of its instance and running ``git diff`` against base;
- ``dataset.json`` and ``README.md``.

Usage::

    python tools/make_examples/build.py            # writes instances/examples/
    python tools/make_examples/build.py --check    # and runs the demo's tests at every
                                                   # base, opt and sample patch
    python tools/make_examples/build.py --out DIR  # somewhere else

Standard library only; needs ``git`` on PATH (and pytest for ``--check``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_OUT = ROOT / "instances" / "examples"
REPO_NAME = "perfbench/pbdemo"
BUNDLE_REL = "repos/pbdemo.bundle"
EVAL_SEED = 424242

MIRA = ("Mira Castell", "mira.castell@pbdemo.invalid")
TOMAS = ("Tomás Ruiz", "tomas.ruiz@pbdemo.invalid")
INES = ("Ines Okafor", "ines.okafor@pbdemo.invalid")
JUN = ("Jun Park", "jun.park@pbdemo.invalid")


@dataclass
class Step:
    folder: str  # history/<folder>/ holds the files this commit writes
    date: str  # ISO 8601 with offset; author and committer date
    author: tuple[str, str]
    message: str


HISTORY = [
    Step(
        "01-initial",
        "2024-01-08T09:30:00+00:00",
        MIRA,
        "Initial commit: sequence helpers\n\nunique, chunked and flatten, with tests and packaging.\n",
    ),
    Step(
        "02-text",
        "2024-01-15T14:05:00+00:00",
        MIRA,
        "Add pbdemo.text: tokenize, word_counts, top_words\n",
    ),
    Step(
        "03-stats",
        "2024-01-22T10:12:00+00:00",
        MIRA,
        "Add pbdemo.stats: mean, variance and an exponentially weighted moving average\n",
    ),
    Step(
        "04-docs",
        "2024-02-02T16:40:00+00:00",
        MIRA,
        "README: list the modules and show examples\n",
    ),
    Step(
        "05-perf-unique",
        "2024-02-12T11:20:00+00:00",
        TOMAS,
        "seqs.unique: remember hashable keys in a set\n\n"
        "unique() scanned the list of keys seen so far for every item, which is\n"
        "quadratic in the number of distinct items. Hashable keys now go in a set;\n"
        "unhashable ones still use a list, so every input gives the same result.\n",
    ),
    Step(
        "06-bins",
        "2024-02-20T09:05:00+00:00",
        MIRA,
        "Add pbdemo.bins: linear_edges, bucket_index, digitize, histogram\n",
    ),
    Step(
        "07-perf-text",
        "2024-03-04T13:45:00+00:00",
        INES,
        "text: find words with a compiled regular expression\n\n"
        "tokenize() and word_counts() walked the text one character at a time in\n"
        "Python. A regular expression over the same character class finds the words\n"
        "in C; each word is lower-cased once instead of each character.\n",
    ),
    Step(
        "08-geometry",
        "2024-03-11T10:30:00+00:00",
        MIRA,
        "Add pbdemo.geometry: path_length, bounding_box, manhattan_length\n",
    ),
    Step("09-changelog", "2024-03-18T08:55:00+00:00", MIRA, "Add a changelog\n"),
    Step(
        "10-perf-ewma",
        "2024-03-25T15:10:00+00:00",
        JUN,
        "stats.ewma: compute the decay factor once and branch outside the loop\n\n"
        "The loop recomputed 1 - alpha twice per value and tested `adjust` on every\n"
        "iteration. The results are bit-for-bit the same.\n",
    ),
    Step(
        "11-perf-bins",
        "2024-04-08T12:00:00+00:00",
        TOMAS,
        "bins: find the bucket by bisection\n\n"
        "bucket_index() scanned the edges from the left for every value. The edges\n"
        "are sorted (digitize and histogram check it), so bisect_right gives the same\n"
        "index in O(log k).\n",
    ),
    Step(
        "12-tests-geometry",
        "2024-04-15T09:40:00+00:00",
        MIRA,
        "tests: path_length over a long walk with negative coordinates\n",
    ),
    Step(
        "13-perf-path-length",
        "2024-04-22T17:25:00+00:00",
        INES,
        "geometry.path_length: square the steps by multiplication\n\n"
        "x * x is cheaper than x ** 2 for ints and gives the same value, and sqrt\n"
        "is now a global of the module instead of an attribute of math.\n",
    ),
    Step(
        "14-release",
        "2024-05-06T10:00:00+00:00",
        MIRA,
        "Release 0.2.0\n",
    ),
]


@dataclass
class WorkloadSpec:
    name: str
    visible: bool
    description: str


@dataclass
class InstanceSpec:
    key: str  # workloads/<key>/ holds its workload files
    opt_step: str  # the HISTORY folder of the expert commit
    api: str
    situation: str  # when the API is slow (goes into the problem statement)
    workloads: list[WorkloadSpec]
    guard_tests: list[str]
    expected: str  # measured expert speedup, for the README
    target: str = ""  # what to make faster, in the problem statement (default: the API)
    grading: dict | None = None
    metadata: dict = field(default_factory=dict)


INSTANCES = [
    InstanceSpec(
        key="unique",
        opt_step="05-perf-unique",
        api="pbdemo.seqs.unique",
        situation=(
            "`pbdemo.seqs.unique(iterable, key=None)` returns the distinct items of an iterable "
            "in first-seen order. It becomes very slow on inputs with many distinct items "
            "(thousands), with or without a `key` function."
        ),
        workloads=[
            WorkloadSpec("unique_ints", True, "6000 ints, about 1500 distinct"),
            WorkloadSpec("unique_words_by_key", False, "5000 mixed-case words, key=str.lower"),
            WorkloadSpec("unique_pairs", False, "4000 (row, col) tuples from a 40 x 40 grid"),
        ],
        guard_tests=[
            "tests/test_seqs.py::test_unique_keeps_first_seen_order",
            "tests/test_seqs.py::test_unique_with_key",
            "tests/test_seqs.py::test_unique_unhashable_items",
        ],
        expected="~50-100x",
    ),
    InstanceSpec(
        key="text",
        opt_step="07-perf-text",
        api="pbdemo.text.word_counts",
        situation=(
            "`pbdemo.text.word_counts(text, stopwords=(), min_length=1)` (and `tokenize` and "
            "`top_words`, which share its tokenizer) are slow on large texts: counting the words "
            "of a few hundred kilobytes of text takes tens of milliseconds."
        ),
        workloads=[
            WorkloadSpec("word_counts_prose", True, "40,000 words of prose-like text"),
            WorkloadSpec("top_words_logs", False, "top_words over 2500 application log lines"),
            WorkloadSpec("tokenize_markup", False, "tokenize over 250 KB of markup"),
        ],
        guard_tests=[
            "tests/test_text.py::test_tokenize_non_ascii_letters_separate_words",
            "tests/test_text.py::test_word_counts_order_and_apostrophes",
            "tests/test_text.py::test_word_counts_stopwords_and_min_length",
        ],
        expected="~2x",
        target="`pbdemo.text.word_counts`, `tokenize` and `top_words`",
    ),
    InstanceSpec(
        key="ewma",
        opt_step="10-perf-ewma",
        api="pbdemo.stats.ewma",
        situation=(
            "`pbdemo.stats.ewma(values, alpha, adjust=True)` computes an exponentially weighted "
            "moving average with one output per input. Smoothing long series (hundreds of "
            "thousands of points) is slower than it should be; the results must stay exactly "
            "the same."
        ),
        workloads=[
            WorkloadSpec("ewma_long_series", True, "one random walk of 150,000 floats"),
            WorkloadSpec("ewma_many_series", False, "400 integer series of 300 readings"),
            WorkloadSpec("ewma_spiky_counts", False, "120,000 integer counts with bursts"),
        ],
        guard_tests=[
            "tests/test_stats.py::test_ewma_adjusted_is_weighted_mean_of_history",
            "tests/test_stats.py::test_ewma_unadjusted_recursion",
        ],
        expected="~1.35x",
        # A 1.3x expert is too close to the default 1.2x bar for a 2-core CI machine's noise.
        grading={"min_speedup": 1.1},
    ),
    InstanceSpec(
        key="bins",
        opt_step="11-perf-bins",
        api="pbdemo.bins.histogram",
        situation=(
            "`pbdemo.bins.histogram(values, edges)` and `pbdemo.bins.digitize(values, edges)` "
            "are slow for large inputs, and get slower the more edges there are."
        ),
        workloads=[
            WorkloadSpec("histogram_uniform", True, "80,000 uniform values, 25 even edges"),
            WorkloadSpec(
                "digitize_gaussian", False, "digitize 60,000 normal values, 16 uneven edges"
            ),
            WorkloadSpec(
                "histogram_many_edges", False, "40,000 heavy-tailed values, 48 log-spaced edges"
            ),
        ],
        guard_tests=[
            "tests/test_bins.py::test_bucket_index_boundaries",
            "tests/test_bins.py::test_digitize_matches_bucket_index_with_repeated_edges",
            "tests/test_bins.py::test_histogram_counts_every_value_once",
        ],
        expected="~4x",
        target="`pbdemo.bins.histogram` and `pbdemo.bins.digitize`",
    ),
    InstanceSpec(
        key="path_length",
        opt_step="13-perf-path-length",
        api="pbdemo.geometry.path_length",
        situation=(
            "`pbdemo.geometry.path_length(points, closed=False)` measures polylines on the "
            "integer grid. It is called on long tracks and many polygons and accounts for much "
            "of the time of our users' pipelines; every bit of speed counts, but the results "
            "must not change."
        ),
        workloads=[
            WorkloadSpec("path_length_walk", True, "one random walk of 100,000 grid points"),
            WorkloadSpec("path_length_polygons", False, "2000 closed polygons of 60 vertices"),
            WorkloadSpec("path_length_survey", False, "80,000 points with coordinates up to 10**7"),
        ],
        guard_tests=[
            "tests/test_geometry.py::test_path_length_open_and_closed",
            "tests/test_geometry.py::test_path_length_degenerate",
        ],
        expected="~1.1x",
        grading={"min_speedup": 1.05},
    ),
]

PROBLEM_TEMPLATE = """\
{situation}

Make {target} faster. The results of every public function of the library must stay \
the same, and the tests under `tests/` must keep passing.

The workload below shows the kind of call that is slow. `setup(seed)` builds the inputs \
(not timed) and `run(data)` is the timed call. Your change will be timed on this workload \
and on other workloads of the same API with different inputs, sizes and seeds, so make \
the code faster in general rather than for these inputs only.

```python
{workload}```
"""


# --------------------------------------------------------------------------- sample predictions


@dataclass
class Edit:
    path: str
    old: str  # must occur exactly once; empty: *new* goes before the first line
    new: str


@dataclass
class PredictionSpec:
    file: str  # predictions/<file>.jsonl
    model: str
    instance: str  # InstanceSpec.key
    expect: str  # what it should grade as (README)
    edits: list[Edit]
    # Edits committed on top of base before the patch is made, so that the patch's
    # context lines do not match the real base (a patch that does not apply).
    stale_edits: list[Edit] = field(default_factory=list)
    applies: bool = True
    # The tree the edits are made on: "base", or "opt" (the expert's tree). The patch
    # is always against base.
    start: str = "base"
    # --check runs the guard tests on the patched base (not for patches that hang,
    # exhaust memory or kill their process).
    check_guard: bool = True


UNIQUE_BASE_BODY = """\
    seen = []
    result = []
    for item in iterable:
        k = item if key is None else key(item)
        if k not in seen:
            seen.append(k)
            result.append(item)
    return result
"""

TOKENIZE_BASE_BODY = """\
    words = []
    current = []
    for ch in text:
        if ch in WORD_CHARS:
            current.append(ch.lower())
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words
"""

EWMA_BASE_BODY = """\
    result = []
    num = 0.0
    den = 0.0
    avg = None
    for x in values:
        if adjust:
            num = x + (1.0 - alpha) * num
            den = 1.0 + (1.0 - alpha) * den
            avg = num / den
        elif avg is None:
            avg = float(x)
        else:
            avg = alpha * x + (1.0 - alpha) * avg
        result.append(avg)
    return result
"""

PATH_LOOP = """\
    total = 0.0
    for i in range(1, len(points)):
        x0, y0 = points[i - 1]
        x1, y1 = points[i]
        total += math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
"""

BUCKET_BASE_BODY = """\
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)
"""

# The source file each instance's expert commit changes.
SOURCE_FILES = {
    "unique": "src/pbdemo/seqs.py",
    "text": "src/pbdemo/text.py",
    "ewma": "src/pbdemo/stats.py",
    "bins": "src/pbdemo/bins.py",
    "path_length": "src/pbdemo/geometry.py",
}

TOKENIZE_HEAD = '''\
def tokenize(text):
    """Split *text* into lower-case words.
'''

# A tokenize() that caches its words in a file (from _cache_dir()) per text, followed by
# the start of the base tokenize(), renamed _tokenize().
MEMO_DISK_TOKENIZE = '''\
def tokenize(text):
    """Split *text* into lower-case words (cached on disk)."""
    path = os.path.join(_cache_dir(), "pbdemo-" + hashlib.sha1(text.encode()).hexdigest() + ".json")
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        pass
    words = _tokenize(text)
    try:
        with open(path, "w") as fh:
            json.dump(words, fh)
    except OSError:
        pass
    return words


''' + TOKENIZE_HEAD.replace("def tokenize", "def _tokenize")

MEMO_EXPECT = "FAIL, not improved: memoizes the timed input ({how}), which no timed call sees twice"

HISTOGRAM_HEAD = """\
    \"\"\"How many values fall in each of the ``len(edges) + 1`` buckets.\"\"\"
    _check_edges(edges)
"""

PREDICTIONS = [
    # --- samples.jsonl: one prediction per instance -------------------------------------
    PredictionSpec(
        file="samples",
        model="sample-agent",
        instance="unique",
        expect="PASS: correct and at least as fast as the expert (dict-based, not the expert's set)",
        edits=[
            Edit(
                "src/pbdemo/seqs.py",
                UNIQUE_BASE_BODY,
                """\
    items = list(iterable)
    try:
        if key is None:
            return list(dict.fromkeys(items))
        first = {}
        for item in items:
            first.setdefault(key(item), item)
        return list(first.values())
    except TypeError:
        pass  # an unhashable key: compare the keys one by one below
    seen = []
    result = []
    for item in items:
        k = item if key is None else key(item)
        if k not in seen:
            seen.append(k)
            result.append(item)
    return result
""",
            )
        ],
    ),
    PredictionSpec(
        file="samples",
        model="sample-agent",
        instance="text",
        expect="FAIL: correct and faster (~1.2x) but far below the expert's ~2x",
        edits=[
            Edit(
                "src/pbdemo/text.py",
                TOKENIZE_BASE_BODY,
                """\
    words = []
    current = []
    add = current.append
    word_chars = WORD_CHARS
    for ch in text:
        if ch in word_chars:
            add(ch)
        elif current:
            words.append("".join(current).lower())
            current.clear()
    if current:
        words.append("".join(current).lower())
    return words
""",
            )
        ],
    ),
    PredictionSpec(
        file="samples",
        model="sample-agent",
        instance="ewma",
        expect="FAIL (not correct): fast, but ignores adjust=True, so results differ; guard test fails",
        edits=[
            Edit(
                "src/pbdemo/stats.py",
                EWMA_BASE_BODY,
                """\
    result = []
    decay = 1.0 - alpha
    avg = None
    for x in values:
        avg = float(x) if avg is None else alpha * x + decay * avg
        result.append(avg)
    return result
""",
            )
        ],
    ),
    PredictionSpec(
        file="samples",
        model="sample-agent",
        instance="path_length",
        expect="not applied: the patch was made against a different version of geometry.py",
        stale_edits=[
            Edit(
                "src/pbdemo/geometry.py",
                PATH_LOOP,
                """\
    total = 0.0
    n = len(points)
    for i in range(1, n):
        x0, y0 = points[i - 1]
        x1, y1 = points[i]
        total += math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
""",
            )
        ],
        edits=[
            Edit(
                "src/pbdemo/geometry.py",
                """\
        x1, y1 = points[i]
        total += math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
    if closed""",
                """\
        x1, y1 = points[i]
        dx = x1 - x0
        dy = y1 - y0
        total += sqrt(dx * dx + dy * dy)
    if closed""",
            ),
            Edit(
                "src/pbdemo/geometry.py",
                "    total = 0.0\n    n = len(points)\n",
                "    sqrt = math.sqrt\n    total = 0.0\n    n = len(points)\n",
            ),
        ],
        applies=False,
    ),
    PredictionSpec(
        file="samples",
        model="sample-agent",
        instance="bins",
        expect="FAIL: correct but slower than base (a generator expression per value)",
        edits=[
            Edit(
                "src/pbdemo/bins.py",
                BUCKET_BASE_BODY,
                """\
    return next((i for i, edge in enumerate(edges) if value < edge), len(edges))
""",
            )
        ],
    ),
    # --- overfit.jsonl --------------------------------------------------------------------
    # The edit is filled in by build() with the seed-0 answer of the visible workload.
    PredictionSpec(
        file="overfit",
        model="overfit-agent",
        instance="bins",
        expect="FAIL, flagged overfit: instant on the visible seed-0 input, base speed on hidden inputs",
        edits=[],
    ),
    # --- hostile.jsonl --------------------------------------------------------------------
    PredictionSpec(
        file="hostile",
        model="hostile-agent",
        instance="unique",
        expect="timeout: unique() never returns",
        check_guard=False,
        edits=[
            Edit(
                "src/pbdemo/seqs.py",
                UNIQUE_BASE_BODY,
                "    spins = 0\n    while spins >= 0:\n        spins += 1\n" + UNIQUE_BASE_BODY,
            )
        ],
    ),
    PredictionSpec(
        file="hostile",
        model="hostile-agent",
        instance="text",
        expect="oom: word_counts() allocates 64 MiB blocks until it is stopped",
        check_guard=False,
        edits=[
            Edit(
                "src/pbdemo/text.py",
                "    counts = {}\n    for word in tokenize(text):\n",
                "    hoard = []\n    while True:\n        hoard.append(bytearray(64 * 1024 * 1024))\n"
                "    counts = {}\n    for word in tokenize(text):\n",
            )
        ],
    ),
    PredictionSpec(
        file="hostile",
        model="hostile-agent",
        instance="bins",
        expect="crash: histogram() kills its own process with SIGKILL",
        check_guard=False,
        edits=[
            Edit(
                "src/pbdemo/bins.py",
                'or above ``e[k-1]``. NaN goes to the last bucket.\n"""\n',
                'or above ``e[k-1]``. NaN goes to the last bucket.\n"""\n\nimport os\n',
            ),
            Edit(
                "src/pbdemo/bins.py",
                HISTOGRAM_HEAD,
                HISTOGRAM_HEAD + "    os.kill(os.getpid(), 9)\n",
            ),
        ],
    ),
    # Memoizing the timed input: correct, and instant on a repeated call, but every timed
    # call gets an input of its own.
    PredictionSpec(
        file="hostile",
        model="hostile-memo-dict",
        instance="text",
        expect=MEMO_EXPECT.format(how="a module-level dict keyed by the text"),
        edits=[
            Edit(
                "src/pbdemo/text.py",
                TOKENIZE_HEAD,
                '''\
_MEMO = {}


def tokenize(text):
    """Split *text* into lower-case words (remembered per text)."""
    if text in _MEMO:
        return list(_MEMO[text])
    words = _tokenize(text)
    _MEMO[text] = tuple(words)
    return words


'''
                + TOKENIZE_HEAD.replace("def tokenize", "def _tokenize"),
            )
        ],
    ),
    PredictionSpec(
        file="hostile",
        model="hostile-memo-lru",
        instance="text",
        expect=MEMO_EXPECT.format(how="functools.lru_cache on a helper returning a tuple"),
        edits=[
            Edit("src/pbdemo/text.py", "import string\n", "import functools\nimport string\n"),
            Edit(
                "src/pbdemo/text.py",
                TOKENIZE_HEAD,
                '''\
def tokenize(text):
    """Split *text* into lower-case words (cached)."""
    return list(_tokenize_cached(text))


@functools.lru_cache(maxsize=None)
def _tokenize_cached(text):
    return tuple(_tokenize(text))


'''
                + TOKENIZE_HEAD.replace("def tokenize", "def _tokenize"),
            ),
        ],
    ),
    PredictionSpec(
        file="hostile",
        model="hostile-memo-tmpfile",
        instance="text",
        expect=MEMO_EXPECT.format(how="a JSON file per text hash in the temporary directory"),
        edits=[
            Edit(
                "src/pbdemo/text.py",
                "import string\n",
                "import hashlib\nimport json\nimport os\nimport string\nimport tempfile\n",
            ),
            Edit(
                "src/pbdemo/text.py",
                TOKENIZE_HEAD,
                "def _cache_dir():\n    return tempfile.gettempdir()\n\n\n" + MEMO_DISK_TOKENIZE,
            ),
        ],
    ),
    PredictionSpec(
        file="hostile",
        model="hostile-memo-pkgfile",
        instance="text",
        expect=MEMO_EXPECT.format(
            how="a JSON file per text hash in a `.cache` folder beside the module"
        ),
        edits=[
            Edit(
                "src/pbdemo/text.py",
                "import string\n",
                "import hashlib\nimport json\nimport os\nimport string\n",
            ),
            Edit(
                "src/pbdemo/text.py",
                TOKENIZE_HEAD,
                """\
def _cache_dir():
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        pass
    return folder


"""
                + MEMO_DISK_TOKENIZE,
            ),
        ],
    ),
]

# --- expert_equivalent.jsonl and comment_only.jsonl: one line prepended to the source file
# of each instance, on the expert's tree (should grade like gold) and on base (an A/A
# candidate that is not byte-identical to base).
PREDICTIONS += [
    PredictionSpec(
        file="expert_equivalent",
        model="expert-equivalent",
        instance=key,
        expect="PASS: the expert's change plus one comment line (should grade like gold)",
        edits=[Edit(path, "", "# (candidate: the expert's change, written down once more)\n")],
        start="opt",
    )
    for key, path in SOURCE_FILES.items()
]
PREDICTIONS += [
    PredictionSpec(
        file="comment_only",
        model="comment-only",
        instance=key,
        expect="FAIL, not improved: base plus one comment line (an A/A candidate, not identical to base)",
        edits=[Edit(path, "", "# (candidate: a comment, and nothing else)\n")],
    )
    for key, path in SOURCE_FILES.items()
]


# --------------------------------------------------------------------------- git helpers


def git_env(home: Path) -> dict[str, str]:
    """An environment that keeps the user's and the system's git config out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        LC_ALL="C",
        TZ="UTC",
    )
    return env


class Git:
    def __init__(self, repo: Path, home: Path):
        self.repo = repo
        self.env = git_env(home)

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, check=True
    ) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd or self.repo,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
        )
        if check and proc.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} failed:\n{proc.stderr}")
        return proc.stdout

    def commit(
        self, message: str, author: tuple[str, str], date: str, cwd: Path | None = None
    ) -> str:
        name, email = author
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": MIRA[0],
            "GIT_COMMITTER_EMAIL": MIRA[1],
            "GIT_COMMITTER_DATE": date,
        }
        self("add", "-A", cwd=cwd)
        proc = subprocess.run(
            ["git", "commit", "-q", "--no-verify", "--cleanup=verbatim", "-F", "-"],
            cwd=cwd or self.repo,
            env={**self.env, **env},
            input=message,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"git commit failed:\n{proc.stderr}")
        return self("rev-parse", "HEAD", cwd=cwd).strip()


def copy_overlay(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())


def apply_edits(tree: Path, edits: list[Edit]) -> None:
    for e in edits:
        path = tree / e.path
        text = path.read_text()
        if not e.old:
            path.write_text(e.new + text)
            continue
        if text.count(e.old) != 1:
            raise SystemExit(f"edit of {e.path} does not match exactly once:\n{e.old}")
        path.write_text(text.replace(e.old, e.new))


# --------------------------------------------------------------------------- build


def make_history(git: Git) -> dict[str, str]:
    """Replays HISTORY; returns {folder: commit id}."""
    git("init", "-q", "-b", "main", ".")
    git("config", "core.autocrlf", "false")
    git("config", "commit.gpgsign", "false")
    commits = {}
    for step in HISTORY:
        copy_overlay(HERE / "history" / step.folder, git.repo)
        commits[step.folder] = git.commit(step.message, step.author, step.date)
    return commits


def make_patch(git: Git, work: Path, base: str, opt: str, spec: PredictionSpec) -> str:
    """Checks out *base* (or *opt*, by ``spec.start``) in a worktree, edits it and returns
    ``git diff`` against base (or against the stale commit, with ``spec.stale_edits``)."""
    starts = {"base": base, "opt": opt}
    if spec.start not in starts or (spec.stale_edits and spec.start != "base"):
        raise SystemExit(f"{spec.file}/{spec.instance}: bad start {spec.start!r}")
    wt = work / f"wt-{spec.file}-{spec.instance}"
    git("worktree", "add", "-q", "--detach", str(wt), starts[spec.start])
    try:
        if spec.start == "opt":
            # Each edit must be in a file the expert commit changes.
            changed = git("diff", "--name-only", base, opt).split()
            for e in spec.edits:
                if e.path not in changed:
                    raise SystemExit(f"{spec.file}/{spec.instance}: {e.path} not in {changed}")
        if spec.stale_edits:
            apply_edits(wt, spec.stale_edits)
            git.commit(
                "a version of the file the patch was written against\n",
                MIRA,
                "2024-06-01T00:00:00+00:00",
                cwd=wt,
            )
        apply_edits(wt, spec.edits)
        against = [base] if spec.start == "opt" else []
        patch = git(
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            *against,
            cwd=wt,
        )
    finally:
        git("worktree", "remove", "--force", str(wt))
    if not patch:
        raise SystemExit(f"empty patch for {spec.file}/{spec.instance}")
    # Does it apply to the real base?
    check = work / f"chk-{spec.file}-{spec.instance}"
    git("worktree", "add", "-q", "--detach", str(check), base)
    try:
        proc = subprocess.run(
            ["git", "apply", "--check", "-"],
            cwd=check,
            env=git.env,
            input=patch,
            capture_output=True,
            text=True,
        )
    finally:
        git("worktree", "remove", "--force", str(check))
    if (proc.returncode == 0) != spec.applies:
        raise SystemExit(
            f"patch {spec.file}/{spec.instance}: applies={proc.returncode == 0}, expected {spec.applies}"
        )
    return patch


def visible_answer(git: Git, work: Path, base: str, workload: Path) -> tuple[object, object]:
    """Runs a workload at seed 0 against *base*; returns (data summary, result)."""
    tree = work / "answer"
    git("worktree", "add", "-q", "--detach", str(tree), base)
    try:
        code = (
            "import json, runpy, sys\n"
            "ns = runpy.run_path(sys.argv[1])\n"
            "values, edges = ns['setup'](0)\n"
            "print(json.dumps({'n': len(values), 'first': repr(values[0]), 'last': repr(values[-1]),"
            " 'edges': len(edges), 'result': ns['run']((values, edges))}))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(workload)],
            env={**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        git("worktree", "remove", "--force", str(tree))
    return json.loads(out)


def overfit_edits(info: dict) -> list[Edit]:
    counts = info["result"]
    return [
        Edit(
            "src/pbdemo/bins.py",
            HISTOGRAM_HEAD,
            HISTOGRAM_HEAD.replace("    _check_edges(edges)\n", "")
            + f"    if (\n        len(values) == {info['n']}\n        and len(edges) == {info['edges']}\n"
            f"        and values[0] == {info['first']}\n        and values[-1] == {info['last']}\n    ):\n"
            f"        return {counts!r}\n"
            "    _check_edges(edges)\n",
        )
    ]


def problem_statement(spec: InstanceSpec) -> str:
    visible = [w for w in spec.workloads if w.visible]
    assert len(visible) == 1, spec.key
    source = (HERE / "workloads" / spec.key / f"{visible[0].name}.py").read_text()
    target = spec.target or f"`{spec.api}`"
    return PROBLEM_TEMPLATE.format(situation=spec.situation, target=target, workload=source)


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def build(out: Path, check: bool, keep: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix="pbdemo-build-"))
    try:
        home = work / "home"
        home.mkdir()
        (home / "gitconfig").write_text("")
        repo = work / "pbdemo"
        repo.mkdir()
        git = Git(repo, home)
        commits = make_history(git)

        # The bundle: made before any scratch commits exist.
        bundle = out / BUNDLE_REL
        bundle.parent.mkdir(parents=True, exist_ok=True)
        tmp_bundle = work / "pbdemo.bundle"
        git("-c", "pack.threads=1", "bundle", "create", "-q", str(tmp_bundle), "--all")
        git("bundle", "verify", "-q", str(tmp_bundle))
        shutil.copyfile(tmp_bundle, bundle)

        # Instances.
        for old in out.glob("perfbench__pbdemo-*"):
            shutil.rmtree(old)
        instances = {}
        for spec in INSTANCES:
            opt = commits[spec.opt_step]
            base = git("rev-parse", f"{opt}^").strip()
            created = git("log", "-1", "--format=%cI", opt).strip()
            iid = f"{REPO_NAME.replace('/', '__')}-{opt[:7]}"
            folder = out / iid
            (folder / "workloads").mkdir(parents=True)
            for w in spec.workloads:
                shutil.copyfile(
                    HERE / "workloads" / spec.key / f"{w.name}.py",
                    folder / "workloads" / f"{w.name}.py",
                )
            record = {
                "instance_id": iid,
                "repo": REPO_NAME,
                "base_commit": base,
                "opt_commit": opt,
                "created_at": created,
                "problem_statement": problem_statement(spec),
                "workloads": [
                    {
                        "name": w.name,
                        "path": f"workloads/{w.name}.py",
                        "visible": w.visible,
                        "description": w.description,
                    }
                    for w in spec.workloads
                ],
                "env": {"python": "3.11", "install": [], "pythonpath": ["src"]},
                "guard_tests": spec.guard_tests,
                "test_paths": ["tests"],
            }
            if spec.grading:
                record["grading"] = spec.grading
            record["validation"] = {}
            record["metadata"] = {
                "api": spec.api,
                "expected_speedup": spec.expected,
                **spec.metadata,
            }
            write_json(folder / "instance.json", record)
            instances[spec.key] = {"id": iid, "base": base, "opt": opt, "spec": spec}

        # Sample predictions.
        pred_dir = out / "predictions"
        if pred_dir.exists():
            shutil.rmtree(pred_dir)
        files: dict[str, list[dict]] = {}
        made = []
        for spec in PREDICTIONS:
            inst = instances[spec.instance]
            if spec.file == "overfit":
                workload = HERE / "workloads" / "bins" / "histogram_uniform.py"
                spec.edits = overfit_edits(visible_answer(git, work, inst["base"], workload))
            patch = make_patch(git, work, inst["base"], inst["opt"], spec)
            files.setdefault(spec.file, []).append(
                {"instance_id": inst["id"], "model_name_or_path": spec.model, "model_patch": patch}
            )
            made.append((spec, inst["id"], patch))
        for name, records in files.items():
            path = pred_dir / f"{name}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))

        write_json(
            out / "dataset.json",
            {
                "name": "examples",
                "version": "1",
                "description": (
                    "Five instances on pbdemo, a small pure-Python library written for perfbench, "
                    "whose history holds real algorithmic speed-ups (from ~1.1x to ~50x and more). "
                    "Works offline: the repository ships as a git bundle."
                ),
                "eval_seed": EVAL_SEED,
                "license": "MIT",
                "repos": {REPO_NAME: BUNDLE_REL},
            },
        )
        (out / "README.md").write_text(readme(instances, made))

        if check:
            run_checks(git, work, instances, made)
        return {
            k: {"id": v["id"], "base": v["base"], "opt": v["opt"]} for k, v in instances.items()
        }
    finally:
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def readme(instances: dict, made: list) -> str:
    lines = [
        "# examples: the offline demo dataset",
        "",
        "Five instances on **pbdemo**, a small pure-Python library (standard library only) written",
        "for perfbench. Its history, shipped as the git bundle `repos/pbdemo.bundle`, contains ordinary",
        "commits and five expert commits that speed up one API each; every instance's `base_commit` is",
        "the parent of its expert `opt_commit`. Nothing here needs the network.",
        "",
        "Everything in this folder is generated by `tools/make_examples/build.py` from the sources in",
        "`tools/make_examples/` (re-running it gives the same commit ids); edit those, not these files.",
        "",
        "| instance | API | expert change | expert speedup |",
        "|---|---|---|---|",
    ]
    changes = {
        "unique": "set instead of list scan (O(n k) -> O(n))",
        "text": "compiled regex instead of a per-character loop",
        "ewma": "hoist `1 - alpha` and the `adjust` branch out of the loop (min_speedup 1.1)",
        "bins": "`bisect_right` instead of a linear scan of the edges",
        "path_length": "`dx * dx` instead of `dx ** 2`, `from math import sqrt` (micro-optimisation; min_speedup 1.05)",
    }
    for key, inst in instances.items():
        spec = inst["spec"]
        lines.append(f"| `{inst['id']}` | `{spec.api}` | {changes[key]} | {spec.expected} |")
    lines += [
        "",
        "Each instance has one visible workload (shown in the problem statement, timed at seed 0) and",
        "two hidden ones (timed at the dataset's `eval_seed`).",
        "",
        "## Sample predictions (`predictions/`)",
        "",
        "| file | model | instance | what the patch does / expected grade |",
        "|---|---|---|---|",
    ]
    for spec, iid, _patch in made:
        lines.append(f"| `{spec.file}.jsonl` | `{spec.model}` | `{iid}` | {spec.expect} |")
    lines += [
        "",
        "- `samples.jsonl` (model `sample-agent`): one prediction per instance.",
        "- `overfit.jsonl` (`overfit-agent`): special-cases the visible workload's seed-0 input.",
        "- `hostile.jsonl`: `hostile-agent` holds patches that hang, exhaust memory, or kill their own",
        "  process, to test the sandbox limits; the four `hostile-memo-*` models memoize the tokens of",
        "  the `text` instance's input (in a dict, an `lru_cache`, a file in the temporary directory, a",
        "  file beside the module). They are correct, but every timed call gets an input of its own, so",
        "  each should grade FAIL, not improved.",
        "- `expert_equivalent.jsonl` (`expert-equivalent`): for each instance, the expert's change plus",
        "  one comment line in the changed source file. Should grade PASS, like `gold`.",
        "- `comment_only.jsonl` (`comment-only`): for each instance, base plus one comment line in the",
        "  same file: an A/A candidate that is not byte-identical to base. Should grade FAIL, not",
        "  improved.",
        "",
        "Try for instance:",
        "",
        "```",
        "perfbench evaluate --dataset instances/examples --predictions gold --run-id gold",
        "perfbench evaluate --dataset instances/examples --predictions instances/examples/predictions/samples.jsonl --run-id samples",
        "perfbench evaluate --dataset instances/examples --predictions instances/examples/predictions/expert_equivalent.jsonl --run-id expert-equivalent",
        "```",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- checks


def run_pytest(tree: Path, args: list[str]) -> subprocess.CompletedProcess:
    # A temporary directory inside the build folder: what the tests (or a patch that caches
    # on disk) write there goes away with it.
    tmp = tree.with_name(tree.name + "-tmp")
    tmp.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tree,
        env={
            **os.environ,
            "PYTHONPATH": str(tree / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "TMPDIR": str(tmp),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_checks(git: Git, work: Path, instances: dict, made: list) -> None:
    """Tests at base and opt; guard tests for each sample patch that applies (but not
    those that hang, exhaust memory or kill their process)."""
    failures = []
    for key, inst in instances.items():
        for label in ("base", "opt"):
            tree = work / f"check-{key}-{label}"
            git("worktree", "add", "-q", "--detach", str(tree), inst[label])
            try:
                full = run_pytest(tree, ["tests"])
                guard = run_pytest(tree, inst["spec"].guard_tests)
            finally:
                git("worktree", "remove", "--force", str(tree))
            ok = full.returncode == 0 and guard.returncode == 0
            print(
                f"{'ok  ' if ok else 'FAIL'} {inst['id']} {label}: tests {full.stdout.strip().splitlines()[-1]}"
            )
            if not ok:
                failures.append(f"{key} {label}")
    for spec, iid, patch in made:
        if not spec.check_guard or not spec.applies:
            continue
        inst = instances[spec.instance]
        tree = work / f"check-{spec.file}-{spec.instance}"
        git("worktree", "add", "-q", "--detach", str(tree), inst["base"])
        try:
            subprocess.run(
                ["git", "apply", "-"], cwd=tree, env=git.env, input=patch, text=True, check=True
            )
            guard = run_pytest(tree, inst["spec"].guard_tests)
        finally:
            git("worktree", "remove", "--force", str(tree))
        want_pass = not spec.expect.startswith("FAIL (not correct)")
        ok = (guard.returncode == 0) == want_pass
        result = "pass" if guard.returncode == 0 else "fail"
        print(
            f"{'ok  ' if ok else 'FAIL'} {spec.file}/{spec.instance} ({spec.model}) on {iid}: guard tests {result}"
        )
        if not ok:
            failures.append(f"{spec.file}/{spec.instance}")
    if failures:
        raise SystemExit(f"checks failed: {', '.join(failures)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="dataset folder (default: instances/examples)"
    )
    parser.add_argument(
        "--check", action="store_true", help="run the demo's tests at base, opt and on the samples"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary build folder")
    args = parser.parse_args(argv)
    made = build(args.out.resolve(), args.check, args.keep)
    for key, inst in made.items():
        print(f"{inst['id']}  {key:12s} base {inst['base'][:12]}  opt {inst['opt'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
