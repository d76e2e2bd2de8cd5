"""Validate instances: the expert patch must reproduce its speedup, with results that agree.

For each instance: build base and expert, run the measurement protocol on the
two, compare their results, run the guard tests at both, and decide per
workload whether it holds (expert speedup CI lower bound at least
``min_speedup`` and identical results). The outcome is a ``validation`` record
kept in the instance (speedups with CIs, blocks, machine, date).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, repos
from .config import EvalConfig, Events
from .correctness import CorrectnessResult
from .datasets import INSTANCE_FILE, Dataset
from .errors import PerfbenchError
from .machine import machine_info
from .measure.protocol import CONTROL, MeasureConfig, Measurement
from .measure.stats import RatioEstimate
from .patches import touched_paths
from .records import Instance
from .reports import atomic_write_json
from .sandbox.base import BASE, CANDIDATE, EXPERT
from .seeds import seed_digest
from .session import InstanceSession

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 1.2
HISTORY_KEEP = 10  # earlier validation runs summarised in a record


def blocks_hint(est: RatioEstimate, threshold: float) -> str:
    """How far a failed lower bound is from holding, in blocks: tells noise from a gain that is too small."""
    needed = est.blocks_to_clear(threshold)
    if needed is None:
        return " (the estimate itself is not above it)"
    return f" (at this noise about {needed} blocks would clear it)"


def stale_seed_warning(dataset: Dataset, inst: Instance) -> str | None:
    """A warning when ``inst`` was validated with other hidden inputs than the dataset's seed now gives."""
    record = inst.validation or {}
    kept = record.get("seed_digest")
    if kept and kept != seed_digest(dataset.eval_seed, inst):
        return (
            f"{inst.instance_id}: validated with another evaluation seed than the dataset's; "
            "its hidden workloads were not measured with the inputs evaluation will use"
        )
    return None


@dataclass
class ValidationResult:
    instance_id: str
    valid: bool
    reasons: list[str] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def validate_instance(
    dataset: Dataset,
    inst: Instance,
    config: EvalConfig,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    events: Events | None = None,
    log_dir: Path | None = None,
) -> ValidationResult:
    """Measure base against expert for one instance and judge whether it holds."""
    events = events or Events()
    log_dir = log_dir or (config.runs_dir / config.run_id / "validate" / inst.instance_id)
    log_dir.mkdir(parents=True, exist_ok=True)
    session = InstanceSession(
        dataset, inst, config, log_dir=log_dir, events=events, purpose="validate"
    )
    try:
        session.__enter__()
    except PerfbenchError as exc:
        return ValidationResult(inst.instance_id, False, [str(exc)])
    try:
        return _validate(dataset, inst, config, session, threshold, log_dir)
    finally:
        session.__exit__(None, None, None)


def _validate(
    dataset: Dataset,
    inst: Instance,
    config: EvalConfig,
    session: InstanceSession,
    threshold: float,
    log_dir: Path,
) -> ValidationResult:
    builds = session.build_references()
    failed = [f"{k} build failed: {b.error}" for k, b in builds.items() if not b.ok]
    if failed:
        return ValidationResult(inst.instance_id, False, failed)
    session.install_workloads()
    reasons: list[str] = []
    # Guard tests first: a broken test id or an old pytest setup should not cost a measurement.
    guard: dict[str, Any] = {}
    warnings: list[str] = []
    if inst.guard_tests:
        assert session.mirror is not None
        expert_patch = inst.expert_patch or repos.diff(
            session.mirror, inst.base_commit, inst.opt_commit
        )
        touched = set(touched_paths(expert_patch))
        rewritten = [t for t in inst.guard_tests if t.split("::")[0] in touched]
        for test_id in rewritten:
            warnings.append(
                f"guard test {test_id} is in a file the expert commit changes; "
                "it is checked with base's version of the file on the expert's code"
            )
        variants = [BASE, EXPERT]
        if rewritten:
            # Evaluation runs base's copy of the test files on every candidate: build the expert
            # patch as a candidate, so that a test the expert rewrote cannot fail the gold patch.
            gold = session.build_candidate(expert_patch)
            if not gold.ok:
                reasons.append(f"the expert patch does not build as a candidate: {gold.error}")
            else:
                variants.append(CANDIDATE)
        for variant in variants:
            started = time.monotonic()
            g = session.guard_tests(variant, f"tests-{variant}.log")
            # Their duration too: a guard that takes minutes makes every evaluation slow.
            guard[variant] = {
                "passed": g.passed,
                "detail": g.detail,
                "seconds": round(time.monotonic() - started, 1),
            }
            if not g.passed:
                where = (
                    "on the expert's code with base's test files"
                    if variant == CANDIDATE
                    else f"at {variant}"
                )
                reasons.append(f"guard tests fail {where}: {g.detail}")
        if reasons:
            return ValidationResult(
                inst.instance_id,
                False,
                reasons,
                {"guard": guard, "reasons": reasons, "valid": False},
            )
    agreement: dict[str, CorrectnessResult] = {}

    def check(m: Measurement) -> None:
        if BASE not in m.failures and EXPERT not in m.failures:
            agreement[EXPERT] = session.compare(m, EXPERT)

    mcfg = config.measure
    stop = (
        ExpertHolds(threshold, mcfg.ci_method, mcfg.seed) if mcfg.stop_rule == "verdict" else None
    )
    m = session.measure([BASE, EXPERT], stop=stop, check=check)
    if m.failures:
        reasons += [f"{k} failed: {v}" for k, v in m.failures.items()]
        return ValidationResult(inst.instance_id, False, reasons)
    agree = agreement.get(EXPERT) or session.compare(m, EXPERT)
    method, seed, level = mcfg.ci_method, mcfg.seed, mcfg.level
    per_workload = {}
    for w in m.workloads:
        est = m.ratio(BASE, EXPERT, [w.name], method, seed, level)
        ok = est.low >= threshold
        same = agree.per_workload.get(w.name) in ("identical", "equal")
        per_workload[w.name] = {
            **est.to_dict(),
            "visible": w.visible,
            "holds": ok and same,
            "results_agree": same,
        }
        if not same:
            reasons.append(
                f"{w.name}: base and expert results differ ({agree.per_workload.get(w.name)})"
            )
        elif not ok and not w.visible:
            reasons.append(
                f"{w.name}: expert speedup {est.fmt()} has lower bound under {threshold}x"
                f"{blocks_hint(est, threshold)}"
            )
    hidden = [w.name for w in m.workloads if not w.visible] or [w.name for w in m.workloads]
    overall = m.ratio(BASE, EXPERT, hidden, method, seed, level)
    record = {
        "speedup": overall.to_dict(),
        "per_workload": per_workload,
        "threshold": threshold,
        "blocks": m.blocks,
        "stop_reason": m.stop_reason,
        "guard": guard,
        "results_agree": bool(agree.correct),
        "machine": machine_info(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "perfbench": __version__,
        "sandbox": session.backend.describe(),
        "measure": asdict(mcfg),
        "seed_digest": seed_digest(dataset.eval_seed, inst),
        "run_id": config.run_id,
    }
    record["cpu_share"] = m.cpu_shares()
    if m.contended():
        warnings.append(
            f"the measuring CPU was shared (CPU share {record['cpu_share']}): preemption "
            "inflates slow calls more than fast ones, so the speedup may be overstated; "
            "validate again on a reserved CPU (scripts/reserve-cpu.sh)"
        )
    if CONTROL in m.variants:
        record["control"] = m.ratio(BASE, CONTROL, hidden, method, seed, level).to_dict()
    valid = not reasons and overall.low >= threshold
    if overall.low < threshold and not any("lower bound" in r for r in reasons):
        reasons.append(
            f"instance expert speedup {overall.fmt()} has lower bound under {threshold}x"
            f"{blocks_hint(overall, threshold)}"
        )
    record["valid"] = valid
    record["reasons"] = reasons
    record["warnings"] = warnings
    return ValidationResult(inst.instance_id, valid, reasons, record)


class ExpertHolds:
    """Stop rule of validation: every workload's expert speedup is decided against the threshold.

    Validation asks, per hidden workload and for the instance, whether the expert's speedup's
    lower bound clears ``threshold``; once every such interval lies wholly above or below it,
    more blocks cannot change the answer.
    """

    def __init__(self, threshold: float, ci_method: str = "t", seed: int = 0) -> None:
        self.threshold, self.ci_method, self.seed = threshold, ci_method, seed

    def decide(self, m: Measurement, active: list[str], level: float) -> str | None:
        if EXPERT not in active:
            return "expert failed"
        hidden = [w.name for w in m.workloads if not w.visible] or [w.name for w in m.workloads]
        groups = [[name] for name in hidden] + [hidden]
        for names in groups:
            est = m.ratio(BASE, EXPERT, names, self.ci_method, self.seed, level)
            if est.low <= self.threshold <= est.high:
                return None
        return f"every expert speedup decided against {self.threshold}x"


def run_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The part of a validation record kept in the history of later ones."""
    keys = ("date", "run_id", "valid", "speedup", "blocks", "seed_digest", "reasons")
    out = {k: record[k] for k in keys if k in record}
    if "per_workload" in record:
        out["per_workload"] = {
            name: {k: w.get(k) for k in ("estimate", "low", "high", "holds")}
            for name, w in record["per_workload"].items()
        }
    return out


def write_validation(inst: Instance, record: dict[str, Any]) -> Path | None:
    """Store ``record`` as the instance's ``validation`` in its folder dataset (atomic); None for file datasets.

    The runs before it are kept, summarised, under ``history`` (newest first), so that a record
    shows whether the speedup held every time it was measured, not only the last.
    """
    if inst.base_dir is None or not (inst.base_dir / INSTANCE_FILE).exists():
        return None
    path = inst.base_dir / INSTANCE_FILE
    import json

    data = json.loads(path.read_text())
    previous = data.get("validation") or {}
    history = [run_summary(previous)] if previous.get("date") else []
    history += previous.get("history", [])
    data["validation"] = {**record, "history": history[:HISTORY_KEEP]}
    atomic_write_json(path, data)
    inst.validation = data["validation"]
    return path


def held_every_time(record: dict[str, Any], runs: int) -> bool:
    """True when the last ``runs`` validation runs in ``record`` (itself and its history) all held."""
    seen = [record, *record.get("history", [])]
    return len(seen) >= runs and all(r.get("valid") for r in seen[:runs])


def default_measure() -> MeasureConfig:
    return MeasureConfig()
