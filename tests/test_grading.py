"""Verdicts from synthetic measurements: the grading rules, without timing anything."""

import random

import pytest

from perfbench.correctness import CorrectnessResult, GuardResult
from perfbench.grading import FAIL, INCONCLUSIVE, PASS, grade
from perfbench.measure.protocol import CONTROL, Measurement, Sample, TimedWorkload
from perfbench.records import Grading
from perfbench.sandbox.base import BASE, CANDIDATE, EXPERT, VariantBuild

WORKLOADS = [TimedWorkload("hidden", "h.py", 11, False), TimedWorkload("visible", "v.py", 0, True)]


def measurement(
    times: dict[str, dict[str, float]],
    blocks: int = 8,
    noise: float = 0.01,
    seed: int = 1,
    control: bool = False,
) -> Measurement:
    rng = random.Random(seed)
    variants = [BASE, EXPERT, CANDIDATE] + ([CONTROL] if control else [])
    m = Measurement(workloads=WORKLOADS, variants=variants)
    for b in range(blocks):
        for v in variants:
            for w in WORKLOADS:
                t = times[v][w.name] * (1 + rng.gauss(0, noise))
                m.samples.append(Sample(b, 0, v, w.name, True, min_s=t, mean_s=t))
    m.blocks = blocks
    return m


def run_grade(m: Measurement, correct: bool = True, guard: bool | None = True, **thresholds: float):
    return grade(
        build=VariantBuild(CANDIDATE, True, apply_method="git apply"),
        measurement=m,
        correctness=CorrectnessResult(correct, "ok" if correct else "result[0]: expected 1, got 2"),
        expert_correctness=CorrectnessResult(True),
        guard=GuardResult(guard is not None, guard),
        thresholds=Grading(**thresholds),
    )


def times(base: float, expert: float, cand: float, cand_visible: float | None = None):
    return {
        BASE: {"hidden": base, "visible": base},
        EXPERT: {"hidden": expert, "visible": expert},
        CANDIDATE: {"hidden": cand, "visible": cand if cand_visible is None else cand_visible},
        CONTROL: {"hidden": base, "visible": base},
    }


def test_pass_when_bounds_clear():
    g = run_grade(measurement(times(10, 5, 5)))
    assert g.opt == PASS and g.opt_gso and g.improved
    assert g.speedup.low > 1.9 and g.share_of_expert.low > 0.95


def test_fail_when_slower_than_expert():
    g = run_grade(measurement(times(10, 5, 8)))
    assert g.opt == FAIL and "share of expert" in g.reason and g.improved


def test_fail_when_no_speedup():
    g = run_grade(measurement(times(10, 5, 10)))
    assert g.opt == FAIL and not g.improved and "below 1.2x" in g.reason


def test_inconclusive_when_noise_straddles():
    g = run_grade(measurement(times(10, 5, 5.1), blocks=5, noise=0.15, seed=3))
    assert g.opt == INCONCLUSIVE
    assert g.share_of_expert.low < 0.95 < g.share_of_expert.high


def test_incorrect_and_guard_failures_fail():
    assert run_grade(measurement(times(10, 5, 5)), correct=False).opt == FAIL
    g = run_grade(measurement(times(10, 5, 5)), guard=False)
    assert g.opt == FAIL and "guard_failed" in g.flags


def test_overfit_flag():
    g = run_grade(measurement(times(10, 5, 10, cand_visible=0.1)))
    assert "overfit" in g.flags and g.opt == FAIL
    assert g.visible_speedup.estimate > 50


def test_overfit_is_relative_to_the_experts_own_visible_gain():
    # The expert itself gains 10x on the visible workload and 2x on the hidden one; a candidate
    # with the same shape of gain is not overfit, one with a far steeper visible gain is.
    t = times(10, 5, 5)
    t[EXPERT]["visible"] = 1.0
    t[CANDIDATE]["visible"] = 1.0
    assert "overfit" not in run_grade(measurement(t)).flags
    t[CANDIDATE]["visible"] = 0.05
    assert "overfit" in run_grade(measurement(t)).flags


def test_identical_to_base_fails_by_identity_whatever_the_noise():
    # Noise that makes the unchanged candidate look 10% faster cannot turn it into a pass.
    m = measurement(times(11, 10, 10), noise=0.005)
    g = grade(
        build=VariantBuild(CANDIDATE, True, apply_method="git apply"),
        measurement=m,
        correctness=CorrectnessResult(True),
        expert_correctness=CorrectnessResult(True),
        guard=GuardResult(True, True),
        thresholds=Grading(min_speedup=1.05),
        identical_to_base=True,
    )
    assert g.opt == FAIL and not g.improved and "identical_to_base" in g.flags
    assert g.speedup.estimate == 1.0 and g.speedup.method == "identity"
    assert g.measured_speedup.estimate > 1.05 and "identical to base" in g.reason


def test_preempted_processes_flag_contended():
    m = measurement(times(10, 5, 5))
    assert "contended" not in run_grade(m).flags  # no CPU figures: nothing to say
    for s in m.samples:
        s.cpu_share = 0.99 if s.variant != BASE else 0.6
    g = run_grade(m)
    assert "contended" in g.flags and m.cpu_shares()[BASE] == 0.6


def test_noisy_control_flag():
    t = times(10, 5, 5)
    t[CONTROL] = {"hidden": 11.0, "visible": 11.0}
    g = run_grade(measurement(t, control=True))
    assert "noisy" in g.flags and g.control.high < 1
    quiet = run_grade(measurement(times(10, 5, 5), control=True))
    assert "noisy" not in quiet.flags


@pytest.mark.parametrize("min_speedup", [1.05, 1.2])
def test_per_instance_threshold(min_speedup):
    g = run_grade(measurement(times(11, 10, 10), noise=0.005), min_speedup=min_speedup)
    assert g.opt == (PASS if min_speedup == 1.05 else FAIL)


def test_candidate_failure_is_graded_with_reason():
    m = measurement(times(10, 5, 5))
    m.failures[CANDIDATE] = "workload hidden: timeout"
    g = run_grade(m)
    assert g.opt == FAIL and "timeout" in g.flags and "timeout" in g.reason


def test_warm_only_flag_catches_memoized_inputs():
    m = measurement(times(10, 5, 0.01))
    for s in m.samples:
        s.first_call_s = 10.0 if s.variant in (BASE, CANDIDATE) else 5.0
    g = run_grade(m)
    assert "warm_only" in g.flags and g.cold_speedup.estimate == pytest.approx(1.0)
    honest = measurement(times(10, 5, 5))
    for s in honest.samples:
        s.first_call_s = s.min_s * 1.5
    assert "warm_only" not in run_grade(honest).flags


def test_identical_to_expert_share_is_one_by_identity():
    noisy = measurement(times(10, 5, 5), blocks=5, noise=0.15, seed=3)
    g = grade(
        build=VariantBuild(CANDIDATE, True),
        measurement=noisy,
        correctness=CorrectnessResult(True),
        expert_correctness=CorrectnessResult(True),
        guard=GuardResult(True, True),
        thresholds=Grading(),
        identical_to_expert=True,
    )
    assert g.share_of_expert.low == 1.0 and g.share_of_expert.method == "identity"
    assert g.opt == PASS and "identical_to_expert" in g.flags


def test_identical_to_expert_pools_the_two_timings_of_one_program():
    m = measurement(times(11, 10, 10), blocks=12, noise=0.06, seed=5)
    alone = m.ratio(BASE, CANDIDATE, ["hidden"], "t", 0)
    g = grade(
        build=VariantBuild(CANDIDATE, True),
        measurement=m,
        correctness=CorrectnessResult(True),
        expert_correctness=CorrectnessResult(True),
        guard=GuardResult(True, True),
        thresholds=Grading(),
        identical_to_expert=True,
    )
    assert g.speedup.n_blocks == alone.n_blocks
    assert g.speedup.half_width < alone.half_width  # two timings of the same code per block
    assert 1.0 < g.speedup.estimate < 1.25


def test_work_deferred_into_the_result_cannot_pass():
    # The candidate's calls look 5x faster, but serializing its results (after the timed region)
    # takes as long as base's calls: a lazy result. Flagged, and at most INCONCLUSIVE.
    m = measurement(times(10, 5, 2))
    for s in m.samples:
        s.encode_s = 8.0 if s.variant == CANDIDATE else 0.1
    g = run_grade(m)
    assert "deferred_work" in g.flags and g.opt == INCONCLUSIVE and "deferred" in g.reason
    honest = measurement(times(10, 5, 2))
    for s in honest.samples:
        s.encode_s = 0.1
    assert "deferred_work" not in run_grade(honest).flags and run_grade(honest).opt == PASS
