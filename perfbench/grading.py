"""Grading (DESIGN.md section 7): from a measurement to a three-valued verdict with flags.

``opt`` is GSO's success criterion made honest about noise: PASS when the CI
lower bounds clear both thresholds (speedup over base >= ``min_speedup``, share
of the expert's speedup >= ``expert_share``), FAIL when an upper bound misses
one, INCONCLUSIVE otherwise. GSO's point-estimate verdict is kept beside it.
Flags are reported beside the verdict and never folded into it silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .correctness import CorrectnessResult, GuardResult
from .measure.protocol import CONTROL, Measurement
from .measure.stats import RatioEstimate
from .records import Grading
from .sandbox.base import BASE, CANDIDATE, EXPERT, VariantBuild

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
IMPROVED_MARGIN = 1.0  # "improved": CI of speedup over base lies above this
# The A/A control flags an instance noisy when its CI excludes 1 by more than this: a CI that
# merely excludes 1 does so 5% of the time on a perfect machine, and a 0.3% bias between two
# processes of identical code is not what makes a verdict wrong.
AA_TOLERANCE = 0.01
# "warm_only": the repeated-call speedup exceeds the first-call (cold) speedup this many times.
WARM_ONLY_FACTOR = 5.0
# "overfit": the candidate's visible/hidden gain ratio exceeds the expert's own by this factor.
OVERFIT_FACTOR = 1.5
# "deferred_work": serializing the candidate's results (not timed) takes longer than base's by
# more than this share of base's timed call: the work moved out of the timed call into a lazy
# result. Such a candidate cannot PASS.
DEFERRED_SHARE = 0.25


@dataclass
class Grade:
    applied: bool
    built: bool
    correct: bool
    improved: bool
    opt: str
    opt_gso: bool
    reason: str
    apply_method: str = ""
    correct_detail: str = ""
    guard: dict[str, Any] = field(default_factory=dict)
    speedup: RatioEstimate | None = None
    expert_speedup: RatioEstimate | None = None
    share_of_expert: RatioEstimate | None = None
    hidden_speedup: RatioEstimate | None = None
    visible_speedup: RatioEstimate | None = None
    control: RatioEstimate | None = None
    cold_speedup: RatioEstimate | None = None
    measured_speedup: RatioEstimate | None = None  # as timed, when an identity rule replaced it
    per_workload: dict[str, dict[str, Any]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.to_dict() if isinstance(value, RatioEstimate) else value
        return out


def failed(
    reason: str,
    *,
    applied: bool,
    built: bool,
    apply_method: str = "",
    flags: list[str] | None = None,
) -> Grade:
    return Grade(
        applied=applied,
        built=built,
        correct=False,
        improved=False,
        opt=FAIL,
        opt_gso=False,
        reason=reason,
        apply_method=apply_method,
        flags=list(flags or []),
    )


def failure_flags(reason: str) -> list[str]:
    text = reason.lower()
    flags = []
    if "timeout" in text or "timed out" in text:
        flags.append("timeout")
    if "memoryerror" in text or "out of memory" in text or "cannot allocate" in text:
        flags.append("oom")
    if "sigkill" in text or "signal" in text:
        flags.append("crashed")
    return flags


@dataclass(frozen=True)
class Identity:
    """What is known of a candidate's source before it is timed."""

    to_expert: bool = False  # the same source as the expert's: share 1 by identity
    to_base: bool = False  # no source file changed: speedup 1 by identity


def verdict_ratios(
    m: Measurement, identity: Identity, ci_method: str, seed: int, level: float
) -> tuple[RatioEstimate, RatioEstimate, RatioEstimate]:
    """(speedup over base, share of the expert, expert speedup) on the hidden workloads, with
    the identity rules applied: the intervals the verdict rests on, at ``level``."""
    hidden = [w.name for w in m.workloads if not w.visible] or [w.name for w in m.workloads]
    expert = m.ratio(BASE, EXPERT, hidden, ci_method, seed, level)
    speedup = m.ratio(BASE, CANDIDATE, hidden, ci_method, seed, level)
    share = m.ratio(EXPERT, CANDIDATE, hidden, ci_method, seed, level)
    if identity.to_base:
        # No source change at all (an empty patch, or one that only touches tests): the speedup is
        # 1 by identity, and what was timed is the A/A noise of the machine, kept beside it.
        speedup = RatioEstimate(1.0, 1.0, 1.0, speedup.n_blocks, "identity", level)
        share = RatioEstimate(
            1 / expert.estimate,
            _inv(expert.high),
            _inv(expert.low),
            expert.n_blocks,
            "identity",
            level,
        )
    if identity.to_expert:
        # The same source as the expert's: the share is 1 by identity, not by measurement, and
        # expert and candidate are two timings of one program, so the speedup pools them.
        share = RatioEstimate(1.0, 1.0, 1.0, share.n_blocks, "identity", level)
        speedup = m.pooled_ratio(BASE, [EXPERT, CANDIDATE], hidden, ci_method, seed, level)
    return speedup, share, expert


def opt_verdict(speedup: RatioEstimate, share: RatioEstimate, thresholds: Grading) -> str:
    """PASS when both lower bounds clear their thresholds, FAIL when an upper bound misses one."""
    if speedup.low >= thresholds.min_speedup and share.low >= thresholds.expert_share:
        return PASS
    if speedup.high < thresholds.min_speedup or share.high < thresholds.expert_share:
        return FAIL
    return INCONCLUSIVE


class VerdictStop:
    """Stop rule: measure until every threshold of the verdict is decided by its interval.

    Decided means: ``opt`` is PASS or FAIL, and ``improved`` (speedup vs 1) is settled: the
    speedup's interval (at ``improved``'s own level) excludes 1, or the candidate has failed for
    being too slow (the speedup's upper bound is under ``min_speedup``): whether a change too
    small to count is faster than base at all is not worth more blocks, and ``improved`` then
    stays false (not shown). Intervals are the schedule's per-look intervals, whose error holds
    under this repeated looking (stats.LookSchedule).
    """

    def __init__(
        self,
        thresholds: Grading,
        identity: Identity,
        ci_method: str = "t",
        seed: int = 0,
        improved_level: float | None = None,
    ) -> None:
        self.thresholds, self.identity = thresholds, identity
        self.ci_method, self.seed = ci_method, seed
        self.improved_level = improved_level

    def decide(self, m: Measurement, active: list[str], level: float) -> str | None:
        if CANDIDATE not in active:
            return "candidate failed"
        speedup, share, _ = verdict_ratios(m, self.identity, self.ci_method, self.seed, level)
        verdict = opt_verdict(speedup, share, self.thresholds)
        if verdict == INCONCLUSIVE:
            return None
        strict = verdict_ratios(
            m, self.identity, self.ci_method, self.seed, self.improved_level or level
        )[0]
        improved_known = strict.low > IMPROVED_MARGIN or strict.high < IMPROVED_MARGIN
        if not improved_known and not (
            verdict == FAIL and speedup.high < self.thresholds.min_speedup
        ):
            return None
        return f"verdict settled ({verdict}: speedup {speedup.fmt()}, share {share.fmt()})"


def _inv(x: float) -> float:
    return 1 / x if x > 0 else float("inf")


def grade(
    *,
    build: VariantBuild,
    measurement: Measurement,
    correctness: CorrectnessResult,
    expert_correctness: CorrectnessResult,
    guard: GuardResult,
    thresholds: Grading,
    ci_method: str = "t",
    seed: int = 0,
    level: float = 0.95,
    improved_level: float | None = None,
    identical_to_expert: bool = False,
    identical_to_base: bool = False,
) -> Grade:
    """Grade a candidate that applied and built; its measurement may still show failures.

    ``level`` is the coverage of every interval: the measurement's per-look level when it
    stopped on what its intervals showed (MeasureConfig.level); ``improved`` is decided at
    ``improved_level`` (MeasureConfig.improved_level), by default the same.
    """
    m = measurement
    hidden = [w.name for w in m.workloads if not w.visible] or [w.name for w in m.workloads]
    visible = [w.name for w in m.workloads if w.visible]
    identity = Identity(to_expert=identical_to_expert, to_base=identical_to_base)

    def ratio(a: str, b: str, names: list[str]) -> RatioEstimate:
        return m.ratio(a, b, names, ci_method, seed, level)

    guard_info = {"ran": guard.ran, "passed": guard.passed, "detail": guard.detail}
    if BASE in m.failures or EXPERT in m.failures:
        which = BASE if BASE in m.failures else EXPERT
        g = failed(
            f"{which} variant failed: {m.failures[which]}",
            applied=True,
            built=True,
            apply_method=build.apply_method,
            flags=["reference_failed"],
        )
        g.guard = guard_info
        return g
    expert = ratio(BASE, EXPERT, hidden)
    flags: list[str] = []
    if CANDIDATE in m.failures:
        # Stopped early: wrong results or failing guard tests end the measurement (correctness
        # first), as do a crash, a timeout or running out of memory.
        reason = f"candidate failed: {m.failures[CANDIDATE]}"
        flags = failure_flags(reason)
        if guard.passed is False:
            flags.append("guard_failed")
        if expert_correctness.correct is False:
            flags.append("expert_differs")
        g = failed(reason, applied=True, built=True, apply_method=build.apply_method, flags=flags)
        g.correct_detail = correctness.detail
        g.expert_speedup = expert if m.blocks >= 2 else None
        g.guard = guard_info
        return g

    measured = ratio(BASE, CANDIDATE, hidden)
    speedup, share, _ = verdict_ratios(m, identity, ci_method, seed, level)
    g = Grade(
        # One definition of correct (README): every result equals base's AND the guard tests pass.
        applied=True,
        built=True,
        correct=bool(correctness.correct) and guard.passed is not False,
        improved=False,
        opt=FAIL,
        opt_gso=False,
        reason="",
        apply_method=build.apply_method,
        correct_detail=correctness.detail,
        guard=guard_info,
        speedup=speedup,
        expert_speedup=expert,
        share_of_expert=share,
        hidden_speedup=speedup,
        measured_speedup=measured if identical_to_base else None,
    )
    for name in [w.name for w in m.workloads]:
        g.per_workload[name] = {
            "speedup": ratio(BASE, CANDIDATE, [name]).to_dict(),
            "expert_speedup": ratio(BASE, EXPERT, [name]).to_dict(),
            "visible": name in visible,
            "correct": correctness.per_workload.get(name, ""),
        }
    if visible:
        g.visible_speedup = ratio(BASE, CANDIDATE, visible)
        # Faster where the agent could see the inputs than where it could not, beyond what the
        # expert's own change shows (an expert's gain may differ between workloads too).
        expert_visible = ratio(BASE, EXPERT, visible)
        gap = g.visible_speedup.estimate / max(speedup.estimate, 1e-9)
        expert_gap = expert_visible.estimate / max(expert.estimate, 1e-9)
        if (
            not identical_to_expert
            and not identical_to_base
            and g.visible_speedup.low > speedup.high
            and gap > OVERFIT_FACTOR * max(expert_gap, 1.0)
        ):
            flags.append("overfit")
    g.cold_speedup = m.cold_ratio(BASE, CANDIDATE, hidden, ci_method, seed, level)
    expert_cold = m.cold_ratio(BASE, EXPERT, hidden, ci_method, seed, level)
    if g.cold_speedup.n_blocks and expert_cold.n_blocks:
        # Fast only once the same input has been seen (memoizing the timed call's input): the
        # warm/cold gap is far wider than the expert's own (whose caches may be legitimate).
        gap = speedup.estimate / max(g.cold_speedup.estimate, 1e-9)
        expert_gap = expert.estimate / max(expert_cold.estimate, 1e-9)
        if gap > WARM_ONLY_FACTOR * max(expert_gap, 1.0):
            flags.append("warm_only")
    if CONTROL in m.variants:
        g.control = ratio(BASE, CONTROL, hidden)
        if g.control.low > 1 + AA_TOLERANCE or g.control.high < 1 - AA_TOLERANCE:
            flags.append("noisy")
    if m.voided_blocks:
        flags.append("integrity")
    deferred = {
        w.name: extra
        for w in m.workloads
        if (
            extra := m.median_of(CANDIDATE, w.name, "encode_s")
            - m.median_of(BASE, w.name, "encode_s")
        )
        > DEFERRED_SHARE * m.median_of(BASE, w.name, "figure")
    }
    if deferred:
        flags.append("deferred_work")
    if m.contended():
        flags.append("contended")
    if expert_correctness.correct is False:
        flags.append("expert_differs")
    if not expert.above(1.0):
        flags.append("expert_not_faster")
    if guard.passed is False:
        flags.append("guard_failed")
    if identical_to_expert:
        flags.append("identical_to_expert")
    if identical_to_base:
        flags.append("identical_to_base")
    g.flags = flags

    if not correctness.correct:
        g.reason = f"not correct: {correctness.detail}"
        return g
    if guard.passed is False:
        g.reason = f"not correct: guard tests failed: {guard.detail}"
        return g
    # ``improved`` is a claim of its own, decided at its own (stricter) level.
    g.improved = verdict_ratios(m, identity, ci_method, seed, improved_level or level)[0].above(
        IMPROVED_MARGIN
    )
    g.opt_gso = (
        speedup.estimate >= thresholds.min_speedup and share.estimate >= thresholds.expert_share
    )
    g.opt = opt_verdict(speedup, share, thresholds)
    if g.opt == PASS and "deferred_work" in flags:
        g.opt = INCONCLUSIVE
        name, extra = max(deferred.items(), key=lambda kv: kv[1])
        g.reason = (
            f"speedup {speedup.fmt()} would pass, but reading the candidate's results of {name} takes "
            f"{extra * 1e3:.2g} ms a call more than base's: work deferred out of the timed call"
        )
        return g
    if g.opt == PASS:
        g.reason = (
            f"speedup {speedup.fmt()} clears {thresholds.min_speedup}x and "
            f"{share.low:.0%} of the expert's clears {thresholds.expert_share:.0%}"
        )
    elif g.opt == FAIL:
        if speedup.high < thresholds.min_speedup:
            g.reason = f"speedup {speedup.fmt()} below {thresholds.min_speedup}x"
        else:
            g.reason = f"share of expert {share.fmt()} below {thresholds.expert_share:.0%}"
    else:
        g.reason = f"CIs straddle the thresholds after {m.blocks} blocks ({m.stop_reason})"
    if identical_to_base:
        g.reason = f"no source file changed (identical to base); timed A/A: {measured.fmt()}"
    return g
