"""Validate instances: the expert patch must reproduce its speedup, with results that agree.

For each instance: build base and expert, run the measurement protocol on the
two, compare their results, run the guard tests at both, and decide per
workload whether it holds (expert speedup CI lower bound at least
``min_speedup`` and identical results). The outcome is a ``validation`` record
kept in the instance (speedups with CIs, blocks, machine, date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, repos
from .correctness import compare_results, run_guard_tests
from .datasets import INSTANCE_FILE, Dataset
from .errors import PerfbenchError
from .evaluate import EvalConfig, Events, hidden_seed, machine_info, release_seed, repo_cache_for
from .measure.protocol import CONTROL, MeasureConfig, Protocol, TimedWorkload
from .measure.stats import RatioEstimate
from .patches import touched_paths
from .records import Instance
from .reports import atomic_write_json, write_timings
from .sandbox import make_backend
from .sandbox.base import BASE, CANDIDATE, EXPERT, Limits

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 1.2
HISTORY_KEEP = 10  # earlier validation runs summarised in a record


def blocks_hint(est: RatioEstimate, threshold: float) -> str:
    """How far a failed lower bound is from holding, in blocks: tells noise from a gain that is too small."""
    needed = est.blocks_to_clear(threshold)
    if needed is None:
        return " (the estimate itself is not above it)"
    return f" (at this noise about {needed} blocks would clear it)"


def seed_digest(eval_seed: int, inst: Instance) -> str:
    """A fingerprint of the seed the hidden workloads were validated with (the seed itself stays secret)."""
    return hashlib.sha256(f"perfbench-seed:{release_seed(eval_seed, inst)}".encode()).hexdigest()[:12]


def stale_seed_warning(dataset: Dataset, inst: Instance) -> str | None:
    """A warning when ``inst`` was validated with other hidden inputs than the dataset's seed now gives."""
    record = inst.validation or {}
    kept = record.get("seed_digest")
    if kept and kept != seed_digest(dataset.eval_seed, inst):
        return (f"{inst.instance_id}: validated with another evaluation seed than the dataset's; "
                "its hidden workloads were not measured with the inputs evaluation will use")
    return None


@dataclass
class ValidationResult:
    instance_id: str
    valid: bool
    reasons: list[str] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def validate_instance(dataset: Dataset, inst: Instance, config: EvalConfig, *, threshold: float = DEFAULT_THRESHOLD,
                      events: Events | None = None, log_dir: Path | None = None) -> ValidationResult:
    """Measure base against expert for one instance and judge whether it holds."""
    events = events or Events()
    cache = repo_cache_for(dataset, config)
    log_dir = log_dir or (config.runs_dir / config.run_id / "validate" / inst.instance_id)
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        mirror = cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
        work_dir = config.cache_dir / "work" / f"validate-{os.getpid()}" / inst.instance_id
        hide = [p for p in (dataset.root, config.runs_dir.resolve()) if p is not None]
        backend = make_backend(config.backend, inst, work_dir=work_dir, log_dir=log_dir, cache_dir=config.cache_dir,
                               hide=hide, options=config.backend_options)
    except PerfbenchError as exc:
        return ValidationResult(inst.instance_id, False, [str(exc)])
    with backend:
        events.stage("building base and expert")
        builds = backend.prepare_reference(mirror)
        failed = [f"{k} build failed: {b.error}" for k, b in builds.items() if not b.ok]
        if failed:
            return ValidationResult(inst.instance_id, False, failed)
        paths = backend.install_workloads({w.name: inst.workload_source(w) for w in inst.workloads})
        workloads = [TimedWorkload(w.name, paths[w.name], 0 if w.visible else hidden_seed(dataset.eval_seed, inst, w.name),
                                   w.visible) for w in inst.workloads]
        reasons: list[str] = []
        # Guard tests first: a broken test id or an old pytest setup should not cost a measurement.
        guard: dict[str, Any] = {}
        warnings: list[str] = []
        if inst.guard_tests:
            events.stage("guard tests")
            expert_patch = inst.expert_patch or repos.diff(mirror, inst.base_commit, inst.opt_commit)
            touched = set(touched_paths(expert_patch))
            rewritten = [t for t in inst.guard_tests if t.split("::")[0] in touched]
            for test_id in rewritten:
                warnings.append(f"guard test {test_id} is in a file the expert commit changes; "
                                "it is checked with base's version of the file on the expert's code")
            tlimits = Limits(timeout_s=600, memory_mb=config.limits.memory_mb, cpus=config.limits.cpus)
            variants = [BASE, EXPERT]
            if rewritten:
                # Evaluation runs base's copy of the test files on every candidate: build the expert
                # patch as a candidate, so that a test the expert rewrote cannot fail the gold patch.
                events.stage("building the expert patch as a candidate")
                gold = backend.prepare_candidate(expert_patch)
                if not gold.ok:
                    reasons.append(f"the expert patch does not build as a candidate: {gold.error}")
                else:
                    variants.append(CANDIDATE)
            for variant in variants:
                started = time.monotonic()
                g = run_guard_tests(backend, inst.guard_tests, tlimits, log_dir / f"tests-{variant}.log", variant)
                # Their duration too: a guard that takes minutes makes every evaluation slow.
                guard[variant] = {"passed": g.passed, "detail": g.detail,
                                  "seconds": round(time.monotonic() - started, 1)}
                if not g.passed:
                    where = "on the expert's code with base's test files" if variant == CANDIDATE else f"at {variant}"
                    reasons.append(f"guard tests fail {where}: {g.detail}")
            if reasons:
                return ValidationResult(inst.instance_id, False, reasons, {"guard": guard, "reasons": reasons,
                                                                           "valid": False})
        if hasattr(backend, "snapshot"):
            backend.snapshot()
        events.stage("measuring")
        protocol = Protocol(backend, workloads, config.measure, config.limits, progress=events.block)
        m = protocol.measure([BASE, EXPERT])
        write_timings(log_dir / "timings.jsonl", m.samples_table())
        if m.failures:
            reasons += [f"{k} failed: {v}" for k, v in m.failures.items()]
            return ValidationResult(inst.instance_id, False, reasons)
        judge = Limits(timeout_s=120, memory_mb=config.limits.memory_mb, cpus=config.limits.cpus)
        agree = compare_results(backend, m, EXPERT, judge)
        method, seed = config.measure.ci_method, config.measure.seed
        per_workload = {}
        for w in m.workloads:
            est = m.ratio(BASE, EXPERT, [w.name], method, seed)
            ok = est.low >= threshold
            same = agree.per_workload.get(w.name) in ("identical", "equal")
            per_workload[w.name] = {**est.to_dict(), "visible": w.visible, "holds": ok and same,
                                    "results_agree": same}
            if not same:
                reasons.append(f"{w.name}: base and expert results differ ({agree.per_workload.get(w.name)})")
            elif not ok and not w.visible:
                reasons.append(f"{w.name}: expert speedup {est.fmt()} has lower bound under {threshold}x"
                               f"{blocks_hint(est, threshold)}")
        hidden = [w.name for w in m.workloads if not w.visible] or [w.name for w in m.workloads]
        overall = m.ratio(BASE, EXPERT, hidden, method, seed)
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
            "sandbox": backend.describe(),
            "measure": asdict(config.measure),
            "seed_digest": seed_digest(dataset.eval_seed, inst),
            "run_id": config.run_id,
        }
        record["cpu_share"] = m.cpu_shares()
        if m.contended():
            warnings.append(f"the measuring CPU was shared (CPU share {record['cpu_share']}): preemption "
                            "inflates slow calls more than fast ones, so the speedup may be overstated; "
                            "validate again on a reserved CPU (scripts/reserve-cpu.sh)")
        if CONTROL in m.variants:
            record["control"] = m.ratio(BASE, CONTROL, hidden, method, seed).to_dict()
        valid = not reasons and overall.low >= threshold
        if overall.low < threshold and not any("lower bound" in r for r in reasons):
            reasons.append(f"instance expert speedup {overall.fmt()} has lower bound under {threshold}x"
                           f"{blocks_hint(overall, threshold)}")
        record["valid"] = valid
        record["reasons"] = reasons
        record["warnings"] = warnings
        return ValidationResult(inst.instance_id, valid, reasons, record)


def run_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The part of a validation record kept in the history of later ones."""
    keys = ("date", "run_id", "valid", "speedup", "blocks", "seed_digest", "reasons")
    out = {k: record[k] for k in keys if k in record}
    if "per_workload" in record:
        out["per_workload"] = {name: {k: w.get(k) for k in ("estimate", "low", "high", "holds")}
                               for name, w in record["per_workload"].items()}
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
