"""Scan rules added after labelling 14 repositories: more ways to say "faster", comment-only commits.

The messages below are our own phrasings of the kinds the labelled set showed the
shipped patterns missing (benchmarks/mining_labels/labels.json), each with a control
that must stay below the message threshold.
"""

from __future__ import annotations

import pytest
from gitrepo_factory import RepoBuilder

from perfbench.errors import InputError
from perfbench.mining.commits import ScanConfig, find_candidates
from perfbench.mining.hunks import only_comments
from perfbench.mining.patterns import MessageMatcher


def weight(message: str) -> float:
    cfg = ScanConfig()
    verdict = MessageMatcher(cfg.perf_patterns, cfg.negative_patterns).judge(message)
    return sum(w for _, w in verdict.signals)


@pytest.mark.parametrize(
    "message",
    [
        "Minor speed improvement in format_number by parsing the pattern a single time",
        "Improve the speed of the tokenizer",
        "Read plugin entry points once through importlib.metadata",
        "Evaluate the generated methods only once",
        "Do not rebuild the registry each time we descend into a child schema",
        "Move the constant tuple out of the loop",
        "Hoist the attribute lookup in render()",
        "Pre-compute the dump-only field names",
        "Fix: slow header parsing on long values without separators",
        "Significant slowdown when tables nest deeply",
        "Reorder the comparison to avoid the cost of a swap",
    ],
)
def test_phrasings_of_speedups_are_strong_enough(message):
    assert weight(message) >= ScanConfig().min_message_weight


@pytest.mark.parametrize(
    "message",
    [
        "Compile all templates at once in the CLI",
        "Warn once per deprecated argument",
        "Slow down the retry loop of the uploader",
        "Document the loop variables",
        "Unnecessarily strict check removed",
    ],
)
def test_controls_of_the_new_phrasings_stay_weak(message):
    assert weight(message) < ScanConfig().min_message_weight


def test_a_ci_or_test_suite_slowdown_is_still_vetoed():
    cfg = ScanConfig()
    verdict = MessageMatcher(cfg.perf_patterns, cfg.negative_patterns).judge(
        "ci: fix slow workflow by caching pip"
    )
    assert verdict.rejection and verdict.rejection.startswith("ci-only")


def test_only_comments_reads_the_hunk_lines():
    py = "@@ -3,0 +4,2 @@\n+    # islice is enough when the length is known\n+\n"
    assert only_comments(py, ["#"])
    mixed = py + "@@ -9 +11 @@\n-    return x\n+    return y\n"
    assert not only_comments(mixed, ["#"])
    c_text = "@@ -1,0 +2,3 @@\n+/* a note\n+ * on the fast path\n+ */\n"
    assert only_comments(c_text, ["//", "/*", "*"])
    directive = "@@ -1 +1 @@\n-#define N 8\n+#define N 16\n"
    assert not only_comments(directive, ["//", "/*", "*"])  # C: '#' is code
    assert not only_comments(py, [])  # no markers known: no verdict
    assert not only_comments("", ["#"])  # nothing changed: no verdict


TAIL_V1 = '''def tail(n, items):
    """The last n items."""
    if hasattr(items, "__len__"):
        return list(items)[-n:]
    return list(items)[-n:]
'''
TAIL_V2 = '''def tail(n, items):
    """The last n items."""
    # Slicing a sized input is the fast path; the optimisation is below.
    if hasattr(items, "__len__"):
        return list(items)[-n:]
    return list(items)[-n:]
'''
TAIL_V3 = '''from collections import deque


def tail(n, items):
    """The last n items."""
    # Slicing a sized input is the fast path; the optimisation is below.
    if hasattr(items, "__len__"):
        return list(items)[-n:]
    return list(deque(items, maxlen=n))
'''


def test_a_comment_only_commit_is_rejected_and_a_code_change_kept(tmp_path):
    b = RepoBuilder(tmp_path / "it")
    b.commit("tail", {"it/__init__.py": "", "it/core.py": TAIL_V1})
    note = b.commit("Add a comment about the tail optimization", {"it/core.py": TAIL_V2})
    real = b.commit("Optimize tail for iterators with a bounded deque", {"it/core.py": TAIL_V3})
    result = find_candidates(b.path, ScanConfig(), explain=True)
    reasons = {r.sha: r.reason for r in result.rejections}
    assert reasons[note] == "comment-only: only comments changed in it/core.py"
    assert real in {c.sha for c in result.candidates}
    # Without comment markers for .py the note is judged on its message like before.
    loose = find_candidates(b.path, ScanConfig(comment_prefixes={}), explain=True)
    assert note in {c.sha for c in loose.candidates}


def test_comment_prefixes_must_map_extensions_to_markers():
    with pytest.raises(InputError, match="comment_prefixes"):
        ScanConfig.from_dict({"comment_prefixes": {"py": ["#"]}})
    with pytest.raises(InputError, match="comment_prefixes"):
        ScanConfig.from_dict({"comment_prefixes": {".py": "#"}})
    assert ScanConfig.from_dict({"comment_prefixes": {".lua": ["--"]}}).comment_prefixes == {
        ".lua": ["--"]
    }
