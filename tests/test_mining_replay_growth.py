"""Replay growth on real-code failures: texts keep their lines, small scales still vary by seed.

Seen while mining sqlparse: a statement repeated without a break glued one copy's last
word to the next copy's first, and a workload whose recorded inputs were slow enough at
1x got the same inputs at every seed, so it could not be a hidden workload.
"""

from __future__ import annotations

import random
from pathlib import Path

from perfbench.mining.workloads import replay_runtime as rt
from perfbench.mining.workloads.runner import Trial, WorkloadRunner

SQL = "\n  SELECT a, b\n  FROM t\n  WHERE a > 1\n  "


def test_texts_of_lines_grow_by_lines_and_texts_of_words_by_words():
    grown = rt._grow("SELECT a\nFROM t", 3, "repeat")
    assert grown == "SELECT a\nFROM t\nSELECT a\nFROM t\nSELECT a\nFROM t"
    assert grown.count("\n") == 5 and "tSELECT" not in grown
    assert rt._grow("red green blue", 2, "distinct") == "red green blue red green blue"
    # Text that already ends with its break, and text without any, repeat as before.
    assert rt._grow("a = 1\nb = 2\n", 2, "repeat") == "a = 1\nb = 2\na = 1\nb = 2\n"
    assert rt._grow("x" * 20, 2, "repeat") == "x" * 40
    assert rt._grow(b"k1 v1\nk2 v2", 2, "repeat") == b"k1 v1\nk2 v2\nk1 v1\nk2 v2"
    assert rt._grow("opt", 5, "repeat") == "opt"  # a short word is a key, not data
    # Leading and trailing blank lines do not decide: the statement above has lines.
    assert rt._grow(SQL, 2, "repeat") == SQL + "\n" + SQL


def test_the_grown_text_has_factor_times_the_lines_and_tokens():
    for factor in (2, 5, 17):
        grown = rt._grow(SQL, factor, "repeat")
        assert grown.split() == SQL.split() * factor
        assert grown.count("FROM t\n") == factor


def test_small_scales_vary_with_the_seed():
    for base in (1, 2, 3, 8, 64):
        scales = {rt.seeded_scale(random.Random(seed), base, seed) for seed in range(1, 6)}
        assert len(scales) > 1, (base, scales)
        assert min(scales) >= max(1, int(0.75 * base)) and max(scales) <= 1.5 * base + 1
        # The visible seed (and calibration) runs exactly the calibrated scale.
        assert rt.seeded_scale(random.Random(0), base, 0) == base


class _Scripted(WorkloadRunner):
    """A runner whose base trials return the digests of a script, one per seed."""

    def __init__(self, digests: dict[int, str | None]) -> None:
        super().__init__("python3", {"base": Path("."), "opt": Path(".")}, [])
        self.digests = digests
        self.asked: list[int] = []

    def trial(self, source, variant, seed, *, target_s=0.02, **kw):  # type: ignore[override]
        self.asked.append(seed)
        digest = self.digests[seed]
        return Trial(ok=digest is not None, digest=digest or "", error="" if digest else "boom")


def test_varies_with_seed_tries_more_seeds_before_saying_no():
    same_first = _Scripted({2: "a", 3: "a", 1: "b", 4: "a"})
    assert same_first.varies_with_seed("src") is True
    assert same_first.asked == [2, 3, 1]  # stops at the first difference
    fixed = _Scripted({2: "a", 3: "a", 1: "a", 4: "a"})
    assert fixed.varies_with_seed("src") is False and fixed.asked == [2, 3, 1, 4]
    assert _Scripted({2: "a", 3: None, 1: "b", 4: "a"}).varies_with_seed("src") is None
    assert _Scripted({2: None, 3: "a", 1: "a", 4: "a"}).varies_with_seed("src") is None


def test_counts_mode_scales_whole_numbers_and_leaves_flags_and_units():
    assert rt._grow(360, 4, "counts") == 1440  # a number whose size is the work (factor(n))
    assert rt._grow(-7, 3, "counts") == -21
    assert rt._grow(1, 9, "counts") == 1 and rt._grow(0, 9, "counts") == 0  # units stay
    assert rt._grow(True, 9, "counts") is True and rt._grow(2.5, 9, "counts") == 2.5
    assert rt._grow(360, 4, "distinct") == 360  # the other modes leave numbers alone
    assert rt._grow([1, 2], 2, "counts") == [1, 2, 3, 4]  # sequences grow as in distinct


def test_replay_tries_the_counts_mode_after_the_others():
    from perfbench.mining.workloads.replay import MODES

    assert MODES[-1] == "counts" and set(MODES) >= {"distinct", "repeat", "sequences"}


def test_stretch_repeats_the_inside_of_a_text_or_list_in_place():
    statement = "select a, -- c\n  b -- d\nfrom t;"
    grown = rt._grow(statement, 3, "stretch")
    assert grown == "select a, -- c\n  b -- d\n  b -- d\n  b -- d\nfrom t;"
    assert grown.count(";") == 1  # still one statement, now with more inside
    assert rt._grow("alpha beta gamma delta", 2, "stretch") == "alpha beta beta gamma gamma delta"
    assert rt._grow("a b", 3, "stretch") == "a a a b b b"  # no inside: every part stretches
    assert rt._grow([1, 2], 3, "stretch") == [1, 1, 1, 2, 2, 2]
    assert rt._grow(b"x\ny\nz", 2, "stretch") == b"x\ny\ny\nz"
    assert rt._grow("key", 4, "stretch") == "key"  # a short word stays a key
    assert rt._grow(7, 4, "stretch") == 7


def test_search_tries_every_mode_on_all_calls_then_the_best_reaching_calls_alone():
    from perfbench.mining.workloads.probe import RecordedCall
    from perfbench.mining.workloads.replay import MODES, SEARCH_SINGLES, search_order

    calls = [RecordedCall(f"b{i}", 100 * i, False, None, reach=i % 3) for i in range(5)]
    order = search_order(calls)
    assert [mode for _, mode, _ in order[: len(MODES)]] == list(MODES)
    assert all(len(c) == 5 for c, _, _ in order[: len(MODES)])
    singles = [c[0] for c, _, _ in order[len(MODES) :: len(MODES)]]
    assert len(singles) == SEARCH_SINGLES
    assert [(c.reach, c.bytes) for c in singles] == [(2, 200), (1, 400), (1, 100)]
    assert search_order(calls[:1]) == [(calls[:1], mode, "") for mode in MODES]
    # Pumps (from a changed pattern) come after the other modes, for all calls and each single.
    pumped = search_order(calls, ["<a", "<"])
    per_set = len(MODES) + 2
    assert [(m, p) for _, m, p in pumped[len(MODES) : per_set]] == [("pump", "<a"), ("pump", "<")]
    assert len(pumped) == per_set * (1 + SEARCH_SINGLES)


def test_unclosed_repeats_a_text_without_its_closing_brackets():
    grown = rt._grow("see <http://a.b/c> (x) [y] {z}", 3, "unclosed")
    assert grown == " ".join(["see <http://a.b/c (x [y {z"] * 3)
    assert not set(grown) & set(">)]}") and grown.count("<http") == 3
    assert rt._grow(b"<a href=x> y", 2, "unclosed") == b"<a href=x y <a href=x y"
    assert rt._grow([3, 4], 2, "unclosed") == [3, 4, 5, 6]  # non-text grows as in distinct
    assert rt._grow("k>", 5, "unclosed") == "k>"  # a short word stays a key


def test_a_bytearray_grows_like_bytes_and_stays_a_bytearray():
    """Seen on chardet: remove_xml_tags(buf) gets a bytearray; left ungrown, every seed gave the
    same inputs and the workload (3.25x) could not be a hidden one."""
    buf = bytearray(b"<p>some text</p>\n<b>more</b>")
    for mode in ("distinct", "repeat", "stretch", "unclosed"):
        grown = rt._grow(buf, 3, mode)
        assert type(grown) is bytearray and len(grown) > len(buf), mode
        assert grown == bytearray(rt._grow(bytes(buf), 3, mode))


def test_a_yes_or_no_function_still_varies_with_the_seed(tmp_path):
    """jsonschema 4f8361f: ``uniq(items)`` answers True at every size, so its replay held at
    114x but looked like fixed inputs; the inputs' sizes now go with the results."""
    import sys
    from types import SimpleNamespace

    from perfbench.mining.workloads.probe import RecordedCall
    from perfbench.mining.workloads.replay import render

    (tmp_path / "dedupe.py").write_text(
        "def uniq(items):\n    return all(a != b for i, a in enumerate(items) for b in items[i + 1:])\n"
    )
    func = SimpleNamespace(kind="function", qualname="uniq")
    cf = SimpleNamespace(api="dedupe.uniq", module="dedupe", func=func)
    call = RecordedCall("", 40, False, None, literal=repr(((list(range(10)),), {})))
    source = render(cf, [call], mode="distinct", scale=3, units=["tests/test_dedupe.py"])
    namespace: dict = {}
    sys.path.insert(0, str(tmp_path))
    try:
        exec(compile(source, "workload.py", "exec"), namespace)
        answers = [namespace["run"](namespace["setup"](seed)) for seed in range(5)]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("dedupe", None)
    assert all(results == [True] for _, results in answers)
    assert len({tuple(sizes) for sizes, _ in answers}) > 1
    runner = WorkloadRunner(sys.executable, {"base": tmp_path, "opt": tmp_path}, ["."])
    assert runner.varies_with_seed(source) is True


def test_lazy_results_are_consumed_to_the_inner_iterators():
    """more-itertools 2d7d14d and 3f43b98 (ichunked): the outer iterator was consumed but its
    chunks, where the work happens, were not, so growth showed 7 us at 1x and at 256x."""
    import itertools

    assert rt._materialize(iter([iter([1, 2]), iter([3])])) == [[1, 2], [3]]
    groups = rt._materialize(itertools.groupby("aabbb"))
    assert groups == [("a", ["a", "a"]), ("b", ["b", "b", "b"])]
    evens, odds = rt._materialize((iter([0, 2]), iter([1])))
    assert (evens, odds) == ([0, 2], [1])
    assert rt._materialize((1, "x")) == (1, "x")
    kept = [iter([1])]  # a list is a value, not lazy work: left as it is
    assert rt._materialize(kept) is kept


def test_capture_takes_each_call_once_and_a_generators_arguments_as_called(tmp_path):
    """A generator's frame is "called" at every resumption; only its first call is a call."""
    import sys

    from perfbench.mining.workloads import capture_runtime as cap

    (tmp_path / "gen_mod.py").write_text(
        "def pairs(items, step=1):\n"
        "    for i in range(0, len(items) - 1, step):\n"
        "        yield items[i], items[i + 1]\n"
    )
    sys.path.insert(0, str(tmp_path))
    namespace: dict = {}
    exec(compile(Path(cap.__file__).read_text(), "capture_runtime", "exec"), namespace)
    namespace["CAPTURE"] = ("gen_mod", "pairs", 6, False)

    def _test_setup(seed):
        return seed

    def _test_run(data):
        import gen_mod

        assert list(gen_mod.pairs([1, 2, 3, 4], step=1)) == [(1, 2), (2, 3), (3, 4)]
        assert list(gen_mod.pairs("abc")) == [("a", "b"), ("b", "c")]

    namespace["_test_setup"], namespace["_test_run"] = _test_setup, _test_run
    try:
        exec(compile("result = _captured(0)", "capture", "exec"), namespace)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("gen_mod", None)
    assert namespace["result"] == [(([1, 2, 3, 4], 1), {}), (("abc", 1), {})]


def test_workloads_whose_calls_repeat_their_inputs_cannot_be_hidden():
    """sqlparse a51df6d and chardet f1f9d42 were calibrated at scale 1: a process's hundred
    timed calls drew two input sizes between them, so a candidate caching format() by its
    arguments was served 98 of them from its cache."""
    from perfbench.mining.pipeline import MIN_DISTINCT_INPUTS, _can_hide
    from perfbench.mining.workloads.base import GeneratedWorkload
    from perfbench.mining.workloads.replay import distinct_inputs

    assert distinct_inputs(1) == 2 and distinct_inputs(8) < MIN_DISTINCT_INPUTS
    assert distinct_inputs(4096) > 90

    def workload(**details):
        return GeneratedWorkload("w", "", "replay", "", [], {"varies_with_seed": True, **details})

    assert not _can_hide(workload(distinct_inputs=distinct_inputs(1)))
    assert _can_hide(workload(distinct_inputs=distinct_inputs(4096)))
    assert _can_hide(workload(no_inputs=True))  # a cold import: no inputs to memoise
    assert _can_hide(workload())  # tests and asv workloads: judged by the seed alone


class _Record:
    def __init__(self, name, values):
        self.name, self.values = name, values


class _Slotted:
    __slots__ = ("tags",)

    def __init__(self, tags):
        self.tags = tags


def test_records_grow_by_what_they_hold():
    """attrs 1315e42 and 7369ad9 (astuple, asdict of an instance): the calls were taken live,
    but an instance did not grow, so 25 us at 1x stayed 25 us at 256x."""
    record = _Record("r", [1, 2, 3])
    grown = rt._grow(record, 4, "distinct")
    assert grown is not record and record.values == [1, 2, 3]  # the recorded one is untouched
    assert grown.name == "r" and len(grown.values) == 12
    assert rt._size(grown) > rt._size(record)
    slotted = rt._grow(_Slotted(["a b", "c d"]), 3, "repeat")
    assert slotted.tags == ["a b", "c d"] * 3
    assert rt._grow(len, 3, "distinct") is len  # functions and classes keep their identity
    assert rt._grow(_Record, 3, "distinct") is _Record


def test_a_search_that_finds_nothing_gives_up(monkeypatch):
    """jsonschema bd68ca3: with nothing found, every option was tried (15 minutes of trials)."""
    from types import SimpleNamespace

    from perfbench.mining.workloads.replay import MODES, ReplayGenerator

    generator = ReplayGenerator()
    calls = []

    def never(*args, **kwargs):
        calls.append(args)
        return "growing the inputs does not make the call slower"

    monkeypatch.setattr(generator, "_scaled", never)
    ctx = SimpleNamespace(
        config=SimpleNamespace(replay_search_seconds=0.0, replay_good_trial_speedup=1.5)
    )
    options = [([], mode, "") for mode in MODES] * 3
    found = generator._search(ctx, None, [], options, [], 0)
    assert isinstance(found, str) and "search stopped after" in found
    assert len(calls) < len(options)
