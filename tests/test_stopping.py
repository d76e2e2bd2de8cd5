"""The stop rules and the correctness-first flow, on a fake backend (no process is started)."""

from __future__ import annotations

import pytest
from fake_backend import FakeBackend

from perfbench.correctness import CorrectnessResult, GuardResult, compare_results
from perfbench.grading import FAIL, PASS, Identity, VerdictStop, grade
from perfbench.measure.protocol import MeasureConfig, Measurement, Protocol, TimedWorkload
from perfbench.measure.stats import LookSchedule
from perfbench.records import Grading
from perfbench.sandbox.base import BASE, CANDIDATE, EXPERT, Limits, VariantBuild

WORKLOADS = [
    TimedWorkload("w1", "w1", 11, False),
    TimedWorkload("w2", "w2", 12, False),
    TimedWorkload("vis", "vis", 0, True),
]


def times(base: float, expert: float, cand: float) -> dict[str, dict[str, float]]:
    return {
        v: {w.name: t for w in WORKLOADS}
        for v, t in ((BASE, base), (EXPERT, expert), (CANDIDATE, cand))
    }


def measure(
    backend: FakeBackend,
    config: MeasureConfig,
    thresholds: Grading = Grading(),
    identity: Identity = Identity(),
) -> Measurement:
    judge = Limits(timeout_s=10)

    def check(m: Measurement) -> None:
        result = compare_results(backend, m, CANDIDATE, judge)
        if result.correct is False:
            m.failures[CANDIDATE] = f"incorrect: {result.detail}"

    stop = VerdictStop(thresholds, identity, config.ci_method, config.seed, config.improved_level)
    return Protocol(backend, WORKLOADS, config, Limits(), stop=stop, check=check).measure(
        [BASE, EXPERT, CANDIDATE]
    )


def graded(m: Measurement, config: MeasureConfig, thresholds: Grading = Grading()):
    return grade(
        build=VariantBuild(CANDIDATE, True),
        measurement=m,
        correctness=CorrectnessResult(True),
        expert_correctness=CorrectnessResult(True),
        guard=GuardResult(False, None),
        thresholds=thresholds,
        level=config.level,
    )


def test_clear_verdicts_stop_at_the_first_look():
    config = MeasureConfig()
    for cand, verdict in (
        (0.005, PASS),
        (0.02, FAIL),
    ):  # as fast as the expert; twice as slow as base
        m = measure(FakeBackend(times(0.01, 0.005, cand), noise=0.02), config)
        assert m.blocks == config.min_blocks and m.stop_reason.startswith("verdict settled")
        assert graded(m, config).opt == verdict


def test_a_candidate_on_the_threshold_runs_to_the_cap():
    config = MeasureConfig(max_blocks=18)
    # speedup exactly 1.2x, share far below: the share side decides FAIL early...
    m = measure(FakeBackend(times(0.012, 0.002, 0.01), noise=0.05), config)
    assert graded(m, config).opt == FAIL and m.blocks == config.min_blocks
    # ...but with an expert equally fast, nothing is decided: the cap ends it.
    m = measure(FakeBackend(times(0.012, 0.01, 0.01), noise=0.05), config)
    assert m.blocks == 18 and m.stop_reason == "block cap (18)"


def test_a_wrong_candidate_fails_after_one_block():
    backend = FakeBackend(times(0.01, 0.005, 0.001), results={CANDIDATE: "wrong"})
    m = measure(backend, MeasureConfig())
    assert m.blocks == 1 and m.failures[CANDIDATE].startswith("incorrect")
    assert m.stop_reason == "candidate failed"
    timed = [r for r in backend.requests if r[1] == "runner.py" and r[2].get("mode") == "time"]
    assert len(timed) == 3 * len(WORKLOADS)  # one block of three variants, nothing more


def test_width_rule_remains_an_option():
    config = MeasureConfig(stop_rule="width", target_half_width=0.05, max_blocks=27)
    m = Protocol(
        FakeBackend(times(0.01, 0.005, 0.005), noise=0.02), WORKLOADS, config, Limits()
    ).measure([BASE, EXPERT, CANDIDATE])
    assert m.stop_reason.startswith("CI half-width") and m.blocks in LookSchedule(5, 27).looks()


def test_stops_only_at_looks():
    config = MeasureConfig(max_blocks=40)
    m = measure(FakeBackend(times(0.0105, 0.0100, 0.0100), noise=0.04, seed=3), config)
    assert m.blocks in config.schedule.looks()


def test_identity_to_base_is_decided_without_timing_noise():
    config = MeasureConfig()
    m = measure(
        FakeBackend(times(0.01, 0.005, 0.01), noise=0.2), config, identity=Identity(to_base=True)
    )
    assert m.blocks == config.min_blocks  # speedup 1 by identity: FAIL at the first look


@pytest.mark.parametrize("min_blocks,max_blocks", [(5, 40), (3, 30), (5, 5)])
def test_look_schedule(min_blocks, max_blocks):
    s = LookSchedule(min_blocks, max_blocks)
    looks = s.looks()
    assert looks[0] == min_blocks and looks[-1] == max_blocks and looks == sorted(set(looks))
    assert s.level == pytest.approx(1 - 0.05 / len(looks))


def test_short_timed_totals_are_not_called_contended():
    # process_time advances in 4 ms ticks under an RLIMIT_CPU here: a process whose timed calls
    # add up to a millisecond reads a CPU share of 0. The waiting time from schedstat is used
    # instead, and process_time only over totals of 50 ms or more.
    from perfbench.sandbox.base import ProcResult

    backend = FakeBackend(times(0.0001, 0.0001, 0.0001))
    protocol = Protocol(backend, WORKLOADS, MeasureConfig(), Limits())
    m = Measurement(workloads=WORKLOADS, variants=[BASE])
    w = WORKLOADS[0]
    base = {
        "nonce": "n",
        "ok": True,
        "times": [1e-4] * 10,
        "loops": 1,
        "min": 1e-4,
        "median": 1e-4,
        "mean": 1e-4,
    }
    ticked = protocol._sample(
        0, 0, BASE, w, ProcResult(0, b"", b"", 0.1), {**base, "cpu_s": 0.0}, m
    )
    assert ticked.ok and ticked.cpu_share != ticked.cpu_share  # NaN: not judged
    waited = protocol._sample(
        0, 1, BASE, w, ProcResult(0, b"", b"", 0.1), {**base, "wait_s": 0.0}, m
    )
    assert waited.cpu_share == 1.0
    preempted = protocol._sample(
        0, 2, BASE, w, ProcResult(0, b"", b"", 0.1), {**base, "wait_s": 0.0005}, m
    )
    assert preempted.cpu_share == pytest.approx(0.5)
    m.samples = [ticked, waited]
    assert not m.contended()
    m.samples = [preempted]
    assert m.contended()


def test_timing_plan_keeps_costly_inputs_from_making_long_processes():
    from perfbench.measure.protocol import MeasureConfig, timing_plan

    cfg = MeasureConfig()
    # A cheap input: loops reach four calibration targets of base, repeats fill the budget.
    loops, repeats = timing_plan(10e-6, 5e-6, 1e-6, cfg)
    assert loops * 10e-6 >= 4 * cfg.calibrate_target_s
    assert repeats == cfg.repeats
    # A 70 µs call whose input takes 50 ms to build (a test module executed afresh): before,
    # 86 loops x 5 repeats made a 26 s process; now one process stays near twice the budget.
    loops, repeats = timing_plan(70e-6, 60e-6, 0.05, cfg)
    assert loops == 1 and repeats == cfg.min_repeats
    assert loops * repeats * (70e-6 + 0.05) <= 2 * cfg.process_budget_s
    # A slow base never repeats for longer than max_repeat_s.
    loops, _ = timing_plan(0.02, 0.001, 0.0, cfg)
    assert loops == 1
