"""Evaluate predictions: for each (model, instance) build, measure, judge, grade and report.

This module only orchestrates; measuring lives in ``measure/``, sandboxes in
``sandbox/``, verdicts in ``grading``, files in ``reports``. An instance that
fails for any reason gets a report saying why, and the run goes on; finished
reports are kept, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
import os
import platform
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, reports, repos
from .correctness import CorrectnessResult, GuardResult, compare_results, run_guard_tests
from .datasets import Dataset
from .errors import HarnessError, PerfbenchError
from .grading import Grade, failed, grade
from .identity import source_identity
from .measure.protocol import MeasureConfig, Measurement, Protocol, TimedWorkload
from .records import Instance, Prediction
from .sandbox import make_backend
from .sandbox.base import BASE, CANDIDATE, EXPERT, Limits

log = logging.getLogger(__name__)


@dataclass
class EvalConfig:
    run_id: str
    runs_dir: Path = Path("runs")
    backend: str = "auto"
    cache_dir: Path = field(default_factory=repos.default_cache_dir)
    url_template: str | None = None
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    limits: Limits = field(default_factory=Limits)
    guard_tests: bool = True
    rerun: bool = False
    backend_options: dict[str, Any] = field(default_factory=dict)


class Events:
    """Progress hooks; the CLI renders them with rich, tests ignore them."""

    def instance_started(self, model: str, instance_id: str) -> None: ...
    def stage(self, text: str) -> None: ...
    def block(self, block: int, note: str) -> None: ...
    def instance_finished(self, model: str, instance_id: str, report: dict[str, Any]) -> None: ...


def release_seed(eval_seed: int, instance: Instance) -> int:
    """The seed an instance's hidden workloads derive from: its own, else the dataset's."""
    return instance.hidden_seed if instance.hidden_seed is not None else eval_seed


def hidden_seed(eval_seed: int, instance: Instance, workload: str) -> int:
    """The secret seed of a hidden workload: fixed per dataset release, never shown to agents."""
    base = release_seed(eval_seed, instance)
    digest = hashlib.sha256(f"{base}:{instance.instance_id}:{workload}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "perfbench": __version__,
    }


def ensure_expert_patches(dataset: Dataset, cache: repos.RepoCache, instances: list[Instance]) -> None:
    """Derive missing expert patches from the repositories (datasets may store only commits)."""
    for inst in instances:
        if inst.expert_patch:
            continue
        mirror = cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
        inst.expert_patch = repos.diff(mirror, inst.base_commit, inst.opt_commit)


def repo_cache_for(dataset: Dataset, config: EvalConfig) -> repos.RepoCache:
    overrides = {r: loc for r in {i.repo for i in dataset} if (loc := dataset.repo_location(r))}
    return repos.RepoCache(config.cache_dir, config.url_template, overrides)


class Evaluator:
    def __init__(self, dataset: Dataset, config: EvalConfig, events: Events | None = None) -> None:
        self.dataset = dataset
        self.config = config
        self.events = events or Events()
        self.layout = reports.RunLayout(config.runs_dir, config.run_id)
        self.cache = repo_cache_for(dataset, config)
        self.machine = machine_info()

    def pending(self, predictions: list[Prediction]) -> list[Prediction]:
        """Predictions without a finished report. A report whose status is ``error`` (the
        evaluation failed, not the patch) is not finished: the same command redoes it."""
        if self.config.rerun:
            return list(predictions)
        out = []
        for p in predictions:
            report = self.layout.load_report(p.model_name_or_path, p.instance_id)
            if report is None or report.get("status") != "done":
                out.append(p)
        return out

    def run(self, predictions: list[Prediction],
            on_summary: Callable[[str, dict[str, Any]], None] | None = None,
            executor: Any = None) -> dict[str, dict[str, Any]]:
        """Evaluate what is not reported yet, here or through ``executor`` (perfbench.executors)."""
        models: dict[str, list[Prediction]] = {}
        for p in predictions:
            models.setdefault(p.model_name_or_path, []).append(p)
        todo = self.pending(predictions)
        log.info("%d predictions, %d to evaluate (%d already reported)", len(predictions), len(todo),
                 len(predictions) - len(todo))
        lost: list[str] = []
        if executor is None:
            for pred in todo:
                self.evaluate_one(pred)
        else:
            lost = executor.evaluate(self, todo)
        summaries = {}
        for model, preds in models.items():
            summaries[model] = self.write_summary(model, preds)
            if on_summary:
                on_summary(model, summaries[model])
        if lost:
            raise PerfbenchError(f"{len(lost)} of {len(todo)} evaluations did not finish "
                                 f"({lost[0]}); finished reports are kept: run the same command "
                                 "again to resume")
        return summaries

    # ---- one instance ---------------------------------------------------

    def evaluate_one(self, pred: Prediction) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="perfbench-stage-") as staging:
            outcome = self.compute(pred, Path(staging))
        return self.record(pred, outcome)

    def compute(self, pred: Prediction, staging: Path) -> Outcome:
        """Build, measure and grade one prediction; logs go to ``staging``, none to the run folder.

        Split from :meth:`record` so that it can run on another machine (perfbench.executors):
        the report and the files come back as data and the driver alone writes the run folder.
        """
        inst = self.dataset.get(pred.instance_id)
        model = pred.model_name_or_path
        staging.mkdir(parents=True, exist_ok=True)
        self.events.instance_started(model, inst.instance_id)
        t0 = time.monotonic()
        base_report: dict[str, Any] = {
            "schema": reports.SCHEMA_VERSION,
            "run_id": self.config.run_id,
            "model": model,
            "instance_id": inst.instance_id,
            "repo": inst.repo,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": self.machine,
            "thresholds": asdict(inst.grading),
            "patch_sha256": hashlib.sha256(pred.model_patch.encode()).hexdigest(),
        }
        try:
            report = {**base_report, **self._evaluate(inst, pred, staging)}
            report["status"] = "done"
        except HarnessError as exc:
            log.error("%s: evaluation error (not the patch's): %s", inst.instance_id, exc)
            report = {**base_report, **_error_fields(str(exc), fix=exc.fix)}
        except PerfbenchError as exc:
            log.error("%s: %s", inst.instance_id, exc)
            report = {**base_report, **_error_fields(str(exc))}
        except OSError as exc:
            # A full disk, a folder gone under us: the machine's failure, not the patch's.
            log.error("%s: evaluation error: %s", inst.instance_id, exc)
            (staging / "error.log").write_text(traceback.format_exc())
            fix = ("free disk space (or point --cache-dir / --runs-dir elsewhere), then rerun"
                   if exc.errno == errno.ENOSPC else "see error.log, then rerun the same command")
            report = {**base_report, **_error_fields(f"{type(exc).__name__}: {exc}", fix=fix)}
        except Exception as exc:
            log.exception("%s: unexpected error", inst.instance_id)
            (staging / "error.log").write_text(traceback.format_exc())
            report = {**base_report, **_error_fields(f"internal error: {type(exc).__name__}: {exc}")}
        report["seconds"] = round(time.monotonic() - t0, 3)
        files = {str(f.relative_to(staging)): f.read_text(errors="replace")
                 for f in sorted(staging.rglob("*")) if f.is_file()}
        return Outcome(report, files, str(staging))

    def record(self, pred: Prediction, outcome: Outcome) -> dict[str, Any]:
        """Write a computed outcome into the run folder: files first, the report last (atomic)."""
        out_dir = self.layout.instance_dir(pred.model_name_or_path, pred.instance_id)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in outcome.files.items():
            target = (out_dir / name).resolve()
            if out_dir.resolve() not in target.parents:
                raise PerfbenchError(f"refusing to write {name!r} outside {out_dir}")
            reports.atomic_write_text(target, text)
        report = _relocate(outcome.report, outcome.staging, str(out_dir))
        reports.atomic_write_json(out_dir / reports.REPORT_FILE, report)
        self.events.instance_finished(pred.model_name_or_path, pred.instance_id, report)
        return report

    def _evaluate(self, inst: Instance, pred: Prediction, log_dir: Path) -> dict[str, Any]:
        cfg = self.config
        self.events.stage("fetching repository")
        mirror = self.cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
        work_dir = cfg.cache_dir / "work" / f"{cfg.run_id}-{os.getpid()}" / inst.instance_id
        hide = [p for p in (self.dataset.root, cfg.runs_dir.resolve()) if p is not None]
        backend = make_backend(cfg.backend, inst, work_dir=work_dir, log_dir=log_dir, cache_dir=cfg.cache_dir,
                               hide=hide, options=cfg.backend_options)
        with backend:
            self.events.stage("building base and expert")
            # Parallel slots on one machine share the cached reference builds: one at a time.
            lock = cfg.cache_dir / "locks" / f"reference-{inst.repo.replace('/', '__')}.lock"
            with repos._file_lock(lock):
                builds = backend.prepare_reference(mirror)
            for name, b in builds.items():
                if not b.ok:
                    raise PerfbenchError(f"{name} build failed: {b.error}")
            sources = {w.name: inst.workload_source(w) for w in inst.workloads}
            paths = backend.install_workloads(sources)
            workloads = [
                TimedWorkload(w.name, paths[w.name], 0 if w.visible else hidden_seed(self.dataset.eval_seed, inst, w.name),
                              w.visible)
                for w in inst.workloads
            ]
            self.events.stage("building candidate")
            cand = backend.prepare_candidate(pred.model_patch)
            info = {"sandbox": backend.describe(), "builds": {k: _build_dict(v) for k, v in {**builds, CANDIDATE: cand}.items()}}
            if not cand.ok:
                applied = cand.details.get("stage") != "apply"
                g = failed(cand.error, applied=applied, built=False, apply_method=cand.apply_method)
                return {**info, **g.to_dict()}
            if hasattr(backend, "snapshot"):
                backend.snapshot()
            protocol = Protocol(backend, workloads, cfg.measure, cfg.limits, progress=self.events.block)
            self.events.stage("measuring")
            m = protocol.measure([BASE, EXPERT, CANDIDATE])
            reports.write_timings(log_dir / "timings.jsonl", m.samples_table())
            self.events.stage("checking results")
            judge_limits = Limits(timeout_s=120, memory_mb=cfg.limits.memory_mb, cpus=cfg.limits.cpus)
            correctness = (compare_results(backend, m, CANDIDATE, judge_limits) if CANDIDATE not in m.failures
                           and BASE not in m.failures else CorrectnessResult(None, "not compared"))
            expert_ok = (compare_results(backend, m, EXPERT, judge_limits) if EXPERT not in m.failures
                         and BASE not in m.failures else CorrectnessResult(None, "not compared"))
            guard = GuardResult(False, None, "guard tests disabled")
            if cfg.guard_tests and correctness.correct and inst.guard_tests:
                self.events.stage("guard tests")
                guard = run_guard_tests(backend, inst.guard_tests, Limits(timeout_s=600, memory_mb=cfg.limits.memory_mb,
                                        max_procs=cfg.limits.max_procs, cpus=cfg.limits.cpus), log_dir / "tests.log")
            identity = source_identity(mirror, inst.base_commit, inst.opt_commit, pred.model_patch, inst.test_paths)
            g: Grade = grade(build=cand, measurement=m, correctness=correctness, expert_correctness=expert_ok,
                             guard=guard, thresholds=inst.grading, ci_method=cfg.measure.ci_method, seed=cfg.measure.seed,
                             identical_to_expert=identity == "expert", identical_to_base=identity == "base")
            return {**info, **g.to_dict(), "measurement": _measurement_dict(m, cfg.measure, cfg.limits)}

    # ---- run summary ----------------------------------------------------

    def write_summary(self, model: str, preds: list[Prediction]) -> dict[str, Any]:
        """The model's run summary over every report of the run, not only this invocation's:
        re-running a few instances (``--instance-ids --rerun``) must not shrink the summary."""
        ids = [p.instance_id for p in preds]
        model_dir = self.layout.model_dir(model)
        known = {inst.instance_id for inst in self.dataset}
        if model_dir.is_dir():
            ids += sorted(d.name for d in model_dir.iterdir()
                          if d.name in known and d.name not in ids and (d / reports.REPORT_FILE).exists())
        loaded = [self.layout.load_report(model, i) for i in ids]
        reps = [r for r in loaded if r is not None]
        summary = {
            "schema": reports.SCHEMA_VERSION,
            "run_id": self.config.run_id,
            "model": model,
            "dataset": self.dataset.name,
            "dataset_version": self.dataset.version,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": self.machine,
            "config": {"measure": asdict(self.config.measure), "limits": asdict(self.config.limits),
                       "backend": self.config.backend},
            "instances": {r["instance_id"]: reports.instance_line(r) for r in reps},
            "aggregates": reports.aggregate(reps),
        }
        reports.atomic_write_json(self.layout.model_dir(model) / reports.SUMMARY_FILE, summary)
        return summary


@dataclass
class Outcome:
    """What :meth:`Evaluator.compute` returns: the report and the instance folder's files."""

    report: dict[str, Any]
    files: dict[str, str]
    staging: str


def _relocate(value: Any, old: str, new: str) -> Any:
    """Paths under the staging folder, as they will be in the run folder."""
    if isinstance(value, str) and (value == old or value.startswith(old + os.sep)):
        return new + value[len(old):]
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    return value


def _error_fields(message: str, fix: str = "") -> dict[str, Any]:
    """An evaluation that did not finish: status ``error``, no verdict (``opt`` is ``ERROR``, not
    FAIL), left out of the rates and redone by the next run of the same command."""
    return {"status": "error", "error": message, "fix": fix or "see the message, then rerun the same command",
            "applied": None, "built": None, "correct": None, "improved": None, "opt": "ERROR", "opt_gso": None,
            "reason": f"evaluation error: {message}", "flags": ["error"]}


def _build_dict(b: Any) -> dict[str, Any]:
    return {"ok": b.ok, "seconds": round(b.seconds, 3), "cached": b.cached, "error": b.error,
            "apply_method": b.apply_method, "log": str(b.log_path) if b.log_path else None}


def _measurement_dict(m: Measurement, cfg: MeasureConfig, limits: Limits) -> dict[str, Any]:
    from .measure import stats

    cv = {}
    for variant in m.variants:
        for w in m.workloads:
            values = [s.min_s for s in m.samples if s.variant == variant and s.workload == w.name and s.ok]
            cv[f"{variant}:{w.name}"] = round(stats.coefficient_of_variation(values), 5)
    return {
        "blocks": m.blocks,
        "stop_reason": m.stop_reason,
        "seconds": round(m.seconds, 3),
        "seconds_in_workloads": round(sum(s.wall_s for s in m.samples), 3),
        "seconds_timed": round(sum(sum(s.times) * s.loops for s in m.samples), 3),
        "loops": m.loops,
        "repeats": m.repeats,
        "workloads": [asdict(w) | {"path": None} for w in m.workloads],
        "variants": m.variants,
        "orders": m.orders,
        "failures": m.failures,
        "voided_blocks": m.voided_blocks,
        "cv": cv,
        "load_average": m.load_average,
        "cpu_share": m.cpu_shares(),
        "cpu_affinity": list(limits.cpus) if limits.cpus else sorted(os.sched_getaffinity(0)),
        "ci_method": cfg.ci_method,
        "seed": cfg.seed,
    }
