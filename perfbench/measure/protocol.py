"""The measurement protocol (docs/design.md, "Measurement"): randomized interleaved blocks of fresh processes.

One *block* runs every (variant, workload) pair once, each in a fresh process,
in an order drawn from a seeded generator and recorded. Every timed call in a
process runs on an input of its own (harness/runner.py), so reusing an input
earns nothing. After the first block a ``check`` hook may stop a candidate that
is already known to fail (wrong results). At each *look* of a
:class:`~perfbench.measure.stats.LookSchedule` a stop rule decides whether the
answer is settled: by default the verdict's thresholds (``grading.VerdictStop``),
or the width of every interval. A cap on blocks or seconds ends it otherwise.
The loop count of each workload is calibrated once on the references and used
for every variant.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from typing import Protocol as Protocol_

from ..sandbox.base import BASE, CANDIDATE, EXPERT, Backend, Limits, ProcResult
from . import stats

log = logging.getLogger(__name__)

CONTROL = "base_aa"  # base measured a second time, for the A/A noise control
MIN_PROCESS_TIMEOUT_S = 30.0  # filling a 4 GB memory limit takes about 16 s here


STOP_RULES = ("verdict", "width")


@dataclass(frozen=True)
class MeasureConfig:
    min_blocks: int = 5
    max_blocks: int = 40
    time_budget_s: float = 600.0
    target_half_width: float = 0.02
    # "verdict": stop once every threshold of the verdict is decided; "width": once every
    # interval is within +-target_half_width. Both look only at the schedule's looks.
    stop_rule: str = "verdict"
    look_growth: float = 1.5
    alpha: float = 0.05
    # ``improved`` (speedup above 1) is a claim of its own, on a stricter budget: an A/A
    # candidate must be called improved in at most 1% of runs.
    improved_alpha: float = 0.02
    # Many short repeats, each on inputs of its own; a process's figure is their median: on a
    # shared machine a repeat of a few milliseconds often falls between other processes' time
    # slices, a long one never does (measured: median 50 µs vs 150 µs per call under load 6).
    repeats: int = 20
    min_repeats: int = 5
    process_budget_s: float = 0.15
    warmup: int = 1
    calibrate_target_s: float = 0.0015
    max_repeat_s: float = 0.03
    seed: int = 0
    ci_method: str = "t"
    control: bool = False
    process_timeout_s: float = 120.0

    @property
    def schedule(self) -> stats.LookSchedule:
        return stats.LookSchedule(self.min_blocks, self.max_blocks, self.look_growth, self.alpha)

    @property
    def level(self) -> float:
        """Two-sided coverage of every interval reported (per look, see LookSchedule)."""
        return self.schedule.level

    @property
    def improved_level(self) -> float:
        """Coverage of the interval that decides ``improved``."""
        return self.schedule.level_for(self.improved_alpha)


def timing_plan(
    base_per_call_s: float, fastest_per_call_s: float, overhead_s: float, cfg: MeasureConfig
) -> tuple[int, int]:
    """Loops per timed repeat and repeats per process for one workload, the same for every variant.

    The loop count makes one timed repeat of the faster reference (the expert) last at least
    ``calibrate_target_s`` and one of base at least four times that, but never longer than
    ``max_repeat_s`` for base: a 100x speedup must not cost minutes of base timing. Every call
    gets an input of its own, built untimed (``overhead_s`` per call): where building it costs
    far more than the call (a test module executed afresh), the loops are cut so that the
    fewest repeats still fit twice the process budget; otherwise a 70 µs call with a 60 ms input
    made a 27 s process. As many repeats as fit the budget follow, inputs included: more short
    processes beat fewer long ones, since the spread between processes is what blocks average.
    """
    base = max(base_per_call_s, 1e-9)
    fastest = max(min(fastest_per_call_s, base), 1e-9)
    loops = max(
        math.ceil(cfg.calibrate_target_s / fastest), math.ceil(4 * cfg.calibrate_target_s / base)
    )
    loops = min(loops, int(cfg.max_repeat_s / base))
    per_loop = base + max(overhead_s, 0.0)
    loops = max(1, min(loops, int(2 * cfg.process_budget_s / (cfg.min_repeats * per_loop))))
    repeats = max(cfg.min_repeats, min(cfg.repeats, int(cfg.process_budget_s / (loops * per_loop))))
    return loops, repeats


@dataclass(frozen=True)
class TimedWorkload:
    """A workload as measured: its path inside the sandbox, its seed and whether the agent saw it."""

    name: str
    path: str
    seed: int
    visible: bool


@dataclass
class Sample:
    """One timed process."""

    block: int
    position: int
    variant: str
    workload: str
    ok: bool
    min_s: float = math.nan
    median_s: float = math.nan  # the process's figure: median per-call time of its repeats
    mean_s: float = math.nan
    times: list[float] = field(default_factory=list)
    loops: int = 0
    digest: str = ""
    error: str = ""
    wall_s: float = 0.0
    setup_s: float = 0.0
    import_s: float = 0.0
    first_call_s: float = math.nan
    start: float = 0.0
    end: float = 0.0
    cpu_share: float = (
        math.nan
    )  # share of the timed repeats' wall time spent on the CPU; <1 = preempted
    calls: int = 0  # timed calls, each on an input of its own
    encode_s: float = math.nan  # per call: serializing its result, after the timed region

    @property
    def figure(self) -> float:
        """The process's per-call time: the median of its repeats (the minimum in old records)."""
        return self.min_s if math.isnan(self.median_s) else self.median_s


# A timed process that got less than this share of its CPU was preempted (the CPU was shared).
# Preemption inflates long calls more than short ones (a 20 ms call spans several time slices, a
# 1 ms call often none), so it inflates the speedup of a slow base over a fast expert.
CONTENDED_SHARE = 0.9


@dataclass
class Measurement:
    """Everything the protocol observed for one instance and one candidate."""

    workloads: list[TimedWorkload]
    variants: list[str]
    loops: dict[str, int] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    orders: list[list[str]] = field(default_factory=list)
    # variant -> workload -> encoded result of each timed call of the first block
    results: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # variant -> reason
    digests: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    voided_blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = ""
    blocks: int = 0
    seconds: float = 0.0
    load_average: list[float] = field(default_factory=list)

    def per_block(self, variant: str) -> list[dict[str, float]]:
        """Per block, workload -> per-call time (median of the process's repeats) of ``variant``."""
        table: dict[int, dict[str, float]] = {}
        for s in self.samples:
            if s.variant == variant and s.ok:
                table.setdefault(s.block, {})[s.workload] = s.figure
        return [table.get(b, {}) for b in range(self.blocks)]

    def cold_per_block(self, variant: str) -> list[dict[str, float]]:
        """Per block, workload -> time of the process's first call (cold: before any repeat)."""
        table: dict[int, dict[str, float]] = {}
        for s in self.samples:
            if s.variant == variant and s.ok and s.first_call_s > 0:
                table.setdefault(s.block, {})[s.workload] = s.first_call_s
        return [table.get(b, {}) for b in range(self.blocks)]

    def cold_ratio(
        self,
        numer: str,
        denom: str,
        workloads: list[str],
        method: str,
        seed: int,
        level: float = 0.95,
    ) -> stats.RatioEstimate:
        logs = stats.block_log_ratios(
            self.cold_per_block(numer), self.cold_per_block(denom), workloads
        )
        return stats.ratio_from_logs(logs, method, seed, level)

    def ratio(
        self,
        numer: str,
        denom: str,
        workloads: list[str],
        method: str,
        seed: int,
        level: float = 0.95,
    ) -> stats.RatioEstimate:
        logs = stats.block_log_ratios(self.per_block(numer), self.per_block(denom), workloads)
        return stats.ratio_from_logs(logs, method, seed, level)

    def pooled_ratio(
        self,
        numer: str,
        denoms: list[str],
        workloads: list[str],
        method: str,
        seed: int,
        level: float = 0.95,
    ) -> stats.RatioEstimate:
        """``numer`` over the geometric mean of ``denoms``, variants known to run the same code.

        Two independent timings of one program per block halve the variance its side adds.
        """
        tables = [self.per_block(d) for d in denoms]
        pooled = []
        for rows in zip(*tables, strict=True):
            common = set.intersection(*(set(r) for r in rows)) if rows else set()
            pooled.append(
                {w: math.exp(sum(math.log(r[w]) for r in rows) / len(rows)) for w in common}
            )
        logs = stats.block_log_ratios(self.per_block(numer), pooled, workloads)
        return stats.ratio_from_logs(logs, method, seed, level)

    def samples_table(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.samples]

    def median_of(self, variant: str, workload: str, attribute: str) -> float:
        """The median of a per-process figure (``figure``, ``encode_s``...) of one variant and workload."""
        values = sorted(
            v
            for s in self.samples
            if s.variant == variant
            and s.workload == workload
            and s.ok
            and not math.isnan(v := getattr(s, attribute))
        )
        return values[len(values) // 2] if values else math.nan

    def cpu_shares(self) -> dict[str, float]:
        """Per variant, the median share of CPU its timed processes got (1.0 on a reserved CPU)."""
        out = {}
        for variant in self.variants:
            values = sorted(
                s.cpu_share
                for s in self.samples
                if s.variant == variant and s.ok and not math.isnan(s.cpu_share)
            )
            if values:
                out[variant] = round(values[len(values) // 2], 3)
        return out

    def contended(self) -> bool:
        """True when some variant's timed processes were preempted: its times include other jobs' work."""
        return any(share < CONTENDED_SHARE for share in self.cpu_shares().values())


ProgressFn = Callable[[int, str], None]


class StopRule(Protocol_):
    """Decides, at a look, whether the measurement has answered its question."""

    def decide(self, m: Measurement, active: list[str], level: float) -> str | None:
        """A reason to stop now, or None to go on."""


CheckFn = Callable[["Measurement"], None]


class WidthStop:
    """Stop once every interval that matters is within +-``target`` (relative half-width)."""

    def __init__(self, target: float, method: str = "t", seed: int = 0) -> None:
        self.target, self.method, self.seed = target, method, seed

    def widths(self, m: Measurement, active: list[str], level: float) -> dict[str, float]:
        names = [w.name for w in m.workloads]
        pairs = []
        if CANDIDATE in active:
            pairs += [(BASE, CANDIDATE), (EXPERT, CANDIDATE)]
        if EXPERT in active:
            pairs.append((BASE, EXPERT))
        if CONTROL in active:
            pairs.append((BASE, CONTROL))
        return {
            f"{a}/{b}": m.ratio(a, b, names, self.method, self.seed, level).half_width
            for a, b in pairs
        }

    def decide(self, m: Measurement, active: list[str], level: float) -> str | None:
        widths = self.widths(m, active, level)
        worst = max(widths.values()) if widths else math.inf
        if worst <= self.target:
            return f"CI half-width {worst:.2%} <= {self.target:.2%}"
        return None


class Protocol:
    """Drives a backend through calibration and blocks for one instance."""

    def __init__(
        self,
        backend: Backend,
        workloads: list[TimedWorkload],
        config: MeasureConfig,
        limits: Limits,
        progress: ProgressFn | None = None,
        stop: StopRule | None = None,
        check: CheckFn | None = None,
    ) -> None:
        self.backend = backend
        self.workloads = workloads
        self.config = config
        self.limits = limits
        self.progress = progress or (lambda block, note: None)
        self.rng = random.Random(config.seed)
        self.stop = stop or WidthStop(config.target_half_width, config.ci_method, config.seed)
        self.check = check
        self.process_timeout_s = 0.0  # of timed processes; set from the calibration

    @property
    def hidden_names(self) -> list[str]:
        hidden = [w.name for w in self.workloads if not w.visible]
        return hidden or [w.name for w in self.workloads]

    @property
    def visible_names(self) -> list[str]:
        return [w.name for w in self.workloads if w.visible]

    # ---- one process ----------------------------------------------------

    def _request(self, workload: TimedWorkload, variant: str, **extra: Any) -> dict[str, Any]:
        return {
            "workload": workload.path,
            "seed": workload.seed,
            "pythonpath": self.backend.pythonpath(BASE if variant == CONTROL else variant),
            "warmup": self.config.warmup,
            "nonce": secrets.token_hex(8),
            **extra,
        }

    def run_one(
        self, variant: str, workload: TimedWorkload, request: dict[str, Any]
    ) -> tuple[ProcResult, dict[str, Any]]:
        target = BASE if variant == CONTROL else variant
        limits = self.limits
        if request.get("mode") == "time" and self.process_timeout_s:
            limits = dataclasses.replace(limits, timeout_s=self.process_timeout_s)
        proc = self.backend.run_harness(target, "runner.py", request, limits)
        answer = parse_answer(proc, request["nonce"])
        return proc, answer

    # ---- protocol -------------------------------------------------------

    def calibrate(self, measurement: Measurement) -> bool:
        """Fix each workload's loops and repeats (``timing_plan``) from calibration processes of
        base and expert, the same for every variant; False if a reference fails."""
        cfg = self.config
        for w in self.workloads:
            per_call, walls, overhead = {}, {}, {}
            for variant in (BASE, EXPERT):
                request = self._request(
                    w, variant, mode="calibrate", target_s=cfg.calibrate_target_s
                )
                proc, answer = self.run_one(variant, w, request)
                walls[variant] = proc.wall_s
                if not answer.get("ok"):
                    measurement.failures[variant] = (
                        f"workload {w.name}: {answer.get('error') or proc.failure_reason()}"
                    )
                    return False
                per_call[variant] = max(float(answer["per_call_s"]), 1e-9)
                overhead[variant] = float(answer.get("overhead_s", 0.0))
            loops, repeats = timing_plan(
                per_call[BASE], min(per_call.values()), overhead[BASE], cfg
            )
            measurement.loops[w.name] = loops
            measurement.repeats[w.name] = repeats
            # A timed process of base takes about its calibration process's time plus its repeats
            # and their inputs' set-up: a candidate ten times slower than that has failed, and
            # waiting for it any longer only wastes the run.
            expected = walls[BASE] + repeats * loops * (per_call[BASE] + overhead[BASE])
            self.process_timeout_s = max(
                self.process_timeout_s, MIN_PROCESS_TIMEOUT_S, 10 * expected
            )
        self.process_timeout_s = min(self.process_timeout_s, self.limits.timeout_s)
        return True

    def measure(self, variants: list[str]) -> Measurement:
        cfg = self.config
        schedule = cfg.schedule
        looks = schedule.looks()
        variants = list(variants) + ([CONTROL] if cfg.control else [])
        m = Measurement(workloads=self.workloads, variants=variants)
        t0 = time.monotonic()
        m.load_average.append(os.getloadavg()[0])
        self.progress(0, "calibrating")
        if not self.calibrate(m):
            m.stop_reason = "base failed"
            return m
        active = list(variants)
        block = 0
        while True:
            pairs = [(v, w) for v in active for w in self.workloads]
            self.rng.shuffle(pairs)
            m.orders.append([f"{v}:{w.name}" for v, w in pairs])
            block_samples: list[Sample] = []
            for pos, (variant, w) in enumerate(pairs):
                if variant in m.failures:
                    continue
                request = self._request(
                    w,
                    variant,
                    mode="time",
                    loops=m.loops[w.name],
                    repeats=m.repeats[w.name],
                    return_result=block == 0,
                )
                proc, answer = self.run_one(variant, w, request)
                sample = self._sample(block, pos, variant, w, proc, answer, m)
                block_samples.append(sample)
                if not sample.ok:
                    m.failures[variant] = f"workload {w.name}: {sample.error}"
            violations = self.backend.integrity_violations()
            if violations:
                m.voided_blocks.append({"block": block, "violations": violations})
                log.warning("block %d voided: %s", block, "; ".join(violations))
                if any(v.startswith(CANDIDATE) for v in violations):
                    m.failures[CANDIDATE] = (
                        "candidate changed files during measurement (" + violations[0] + ")"
                    )
                if len(m.voided_blocks) >= 3:
                    m.stop_reason = "integrity violations"
                    break
                continue
            m.samples.extend(block_samples)
            block += 1
            m.blocks = block
            if BASE in m.failures or EXPERT in m.failures:
                m.stop_reason = "reference variant failed"
                break
            if block == 1 and self.check is not None:
                self.check(m)  # correctness first: results are known after the first block
            if CANDIDATE in m.failures:
                m.stop_reason = "candidate failed"
                break
            active = [v for v in active if v not in m.failures]
            elapsed = time.monotonic() - t0
            self.progress(block, self._note(m, active, schedule.level))
            if block in looks:
                reason = self.stop.decide(m, active, schedule.level)
                if reason:
                    m.stop_reason = reason
                    break
            if block >= cfg.max_blocks:
                m.stop_reason = f"block cap ({cfg.max_blocks})"
                break
            if elapsed >= cfg.time_budget_s and block >= min(cfg.min_blocks, 2):
                m.stop_reason = f"time budget ({cfg.time_budget_s:.0f}s)"
                break
        m.seconds = time.monotonic() - t0
        m.load_average.append(os.getloadavg()[0])
        return m

    def _note(self, m: Measurement, active: list[str], level: float) -> str:
        if m.blocks < 2:
            return ""
        widths = WidthStop(0.0, self.config.ci_method, self.config.seed).widths(m, active, level)
        worst = max(widths.values()) if widths else math.inf
        return f"CI ±{worst:.1%}" if math.isfinite(worst) else ""

    def _sample(
        self,
        block: int,
        pos: int,
        variant: str,
        w: TimedWorkload,
        proc: ProcResult,
        answer: dict[str, Any],
        m: Measurement,
    ) -> Sample:
        s = Sample(
            block,
            pos,
            variant,
            w.name,
            bool(answer.get("ok")),
            wall_s=proc.wall_s,
            start=proc.start,
            end=proc.end,
        )
        if not s.ok:
            s.error = answer.get("error") or proc.failure_reason() or "no answer from the harness"
            return s
        s.times = [float(t) for t in answer["times"]]
        s.min_s, s.mean_s = float(answer["min"]), float(answer["mean"])
        s.median_s = float(answer.get("median", s.min_s))
        s.loops = int(answer["loops"])
        s.calls = int(answer.get("calls", s.loops * len(s.times)))
        s.encode_s = float(answer.get("encode_s", math.nan))
        s.setup_s = float(answer.get("setup_s", 0.0))
        s.import_s = float(answer.get("import_s", 0.0))
        s.first_call_s = float(answer.get("first_call_s", math.nan))
        s.digest = str(answer.get("result_digest", ""))
        timed_total = sum(s.times) * s.loops
        if answer.get("wait_s") is not None and timed_total > 0:
            s.cpu_share = max(0.0, 1.0 - float(answer["wait_s"]) / timed_total)
        elif answer.get("cpu_s") is not None and timed_total > 0.05:
            # process_time may advance in whole ticks (4 ms under RLIMIT_CPU here): only
            # trusted over a long enough total.
            s.cpu_share = float(answer["cpu_s"]) / timed_total
        if timed_total > proc.wall_s * 1.05 + 0.01:
            s.ok = False
            s.error = f"implausible timing: {timed_total:.3f}s reported inside a {proc.wall_s:.3f}s process"
            return s
        m.digests.setdefault(variant, {}).setdefault(w.name, set()).add(s.digest)
        if answer.get("results"):
            m.results.setdefault(variant, {})[w.name] = list(answer["results"])
        if len(m.digests[variant][w.name]) > 1:
            s.ok = False
            s.error = "result changed between processes (nondeterministic or carried state)"
        return s


def parse_answer(proc: ProcResult, nonce: str) -> dict[str, Any]:
    """The harness's one JSON line, checked against the request's nonce."""
    reason = proc.failure_reason()
    if proc.timed_out:
        return {"ok": False, "error": "timeout"}
    lines = [ln for ln in proc.stdout.decode(errors="replace").splitlines() if ln.strip()]
    if not lines:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return {"ok": False, "error": f"{reason or 'no output'}; {tail[0][:300]}".strip("; ")}
    try:
        answer = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"ok": False, "error": f"harness output is not JSON ({reason or 'exit 0'})"}
    if not isinstance(answer, dict) or answer.get("nonce") != nonce:
        return {
            "ok": False,
            "error": "harness answer does not carry the request's nonce (forged output?)",
        }
    if reason and answer.get("ok"):
        return {"ok": False, "error": reason}
    return answer
