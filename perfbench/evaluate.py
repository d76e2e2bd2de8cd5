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
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import reports
from .agent import cost as agent_cost
from .config import EvalConfig, Events
from .correctness import CorrectnessResult, GuardResult
from .datasets import Dataset
from .errors import HarnessError, PerfbenchError
from .grading import Grade, Identity, VerdictStop, failed, grade
from .identity import source_identity
from .machine import machine_info
from .measure.protocol import MeasureConfig, Measurement
from .records import Instance, Prediction
from .report import Report
from .sandbox.base import BASE, CANDIDATE, EXPERT, Limits
from .session import InstanceSession

if TYPE_CHECKING:
    from .executors.base import Executor

log = logging.getLogger(__name__)


class Evaluator:
    def __init__(self, dataset: Dataset, config: EvalConfig, events: Events | None = None) -> None:
        self.dataset = dataset
        self.config = config
        self.events = events or Events()
        self.layout = reports.RunLayout(config.runs_dir, config.run_id)
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

    def run(
        self,
        predictions: list[Prediction],
        on_summary: Callable[[str, dict[str, Any]], None] | None = None,
        executor: Executor | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Evaluate what is not reported yet, here or through ``executor`` (perfbench.executors).

        The driver owns the loop: work items go to the executor, ``(report, files)`` outcomes come
        back as they finish, and :meth:`record` here is the one place that writes the run folder.
        """
        models: dict[str, list[Prediction]] = {}
        for p in predictions:
            models.setdefault(p.model_name_or_path, []).append(p)
        todo = self.pending(predictions)
        log.info(
            "%d predictions, %d to evaluate (%d already reported)",
            len(predictions),
            len(todo),
            len(predictions) - len(todo),
        )
        lost: list[str] = []
        if executor is None:
            for pred in todo:
                self.evaluate_one(pred)
        else:
            from .executors.work import EvaluationWork  # the work items import this module

            works = [EvaluationWork.of(self, p) for p in todo]
            for done in executor.results(works, self.events):
                if done.error is not None:
                    log.error("%s: lost: %s", done.work.key, done.error)
                    lost.append(f"{done.work.key}: {done.error}")
                else:
                    self.record(done.work.prediction, done.value)
        summaries = {}
        for model, preds in models.items():
            summaries[model] = self.write_summary(model, preds)
            if on_summary:
                on_summary(model, summaries[model])
        if lost:
            raise PerfbenchError(
                f"{len(lost)} of {len(todo)} evaluations did not finish "
                f"({lost[0]}); finished reports are kept: run the same command "
                "again to resume"
            )
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
            fix = (
                "free disk space (or point --cache-dir / --runs-dir elsewhere), then rerun"
                if exc.errno == errno.ENOSPC
                else "see error.log, then rerun the same command"
            )
            report = {**base_report, **_error_fields(f"{type(exc).__name__}: {exc}", fix=fix)}
        except Exception as exc:
            log.exception("%s: unexpected error", inst.instance_id)
            (staging / "error.log").write_text(traceback.format_exc())
            report = {
                **base_report,
                **_error_fields(f"internal error: {type(exc).__name__}: {exc}"),
            }
        report["seconds"] = round(time.monotonic() - t0, 3)
        files = {
            str(f.relative_to(staging)): f.read_text(errors="replace")
            for f in sorted(staging.rglob("*"))
            if f.is_file()
        }
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
        # Every report passes through the one typed record: a field it does not declare fails here.
        report = Report.from_dict(
            _relocate(outcome.report, outcome.staging, str(out_dir))
        ).to_dict()
        from .pyperf_export import export_on_record  # pyperf/<variant>.json beside the report

        export_on_record(out_dir, report)
        reports.atomic_write_json(out_dir / reports.REPORT_FILE, report)
        self.events.instance_finished(pred.model_name_or_path, pred.instance_id, report)
        return report

    def _evaluate(self, inst: Instance, pred: Prediction, log_dir: Path) -> dict[str, Any]:
        cfg = self.config
        with InstanceSession(
            self.dataset, inst, cfg, log_dir=log_dir, events=self.events
        ) as session:
            builds = session.build_references()
            for name, b in builds.items():
                if not b.ok:
                    raise PerfbenchError(f"{name} build failed: {b.error}")
            session.install_workloads()
            cand = session.build_candidate(pred.model_patch)
            info = {
                "sandbox": session.backend.describe(),
                "builds": {k: _build_dict(v) for k, v in {**builds, CANDIDATE: cand}.items()},
            }
            if not cand.ok:
                applied = cand.details.get("stage") != "apply"
                g = failed(cand.error, applied=applied, built=False, apply_method=cand.apply_method)
                return {**info, **g.to_dict()}
            assert session.mirror is not None
            identity = source_identity(
                session.mirror, inst.base_commit, inst.opt_commit, pred.model_patch, inst.test_paths
            )
            ident = Identity(to_expert=identity == "expert", to_base=identity == "base")
            # Correctness first: results are compared, and the guard tests run, right after the
            # first block (which a hanging or crashing candidate does not survive); a candidate
            # that fails either is not measured further.
            guard = GuardResult(False, None, "guard tests disabled")
            checked: dict[str, CorrectnessResult] = {}

            def check(m: Measurement) -> None:
                nonlocal guard
                for variant in (CANDIDATE, EXPERT):
                    if variant not in m.failures and BASE not in m.failures:
                        checked[variant] = session.compare(m, variant)
                if checked.get(CANDIDATE) is not None and checked[CANDIDATE].correct is False:
                    m.failures.setdefault(CANDIDATE, f"incorrect: {checked[CANDIDATE].detail}")
                if CANDIDATE in m.failures or not (cfg.guard_tests and inst.guard_tests):
                    return
                guard = session.guard_tests()
                if guard.passed is False:
                    m.failures[CANDIDATE] = guard.detail
                self.events.stage("measuring")

            mcfg = cfg.measure
            stop = (
                VerdictStop(inst.grading, ident, mcfg.ci_method, mcfg.seed, mcfg.improved_level)
                if mcfg.stop_rule == "verdict"
                else None
            )
            m = session.measure([BASE, EXPERT, CANDIDATE], stop=stop, check=check)
            for which in (BASE, EXPERT):
                # The references are the dataset's own code, validated on this protocol: when one
                # fails, the evaluation is at fault (environment, sandbox), not the candidate.
                if which in m.failures:
                    raise HarnessError(
                        f"the {which} variant failed while measured: {m.failures[which]}",
                        fix="check the instance's environment with `perfbench validate`, "
                        "then rerun the same command",
                    )
            not_compared = CorrectnessResult(None, "not compared")
            correctness = checked.get(CANDIDATE, not_compared)
            if guard.passed is False:
                correctness = CorrectnessResult(False, guard.detail)
            g: Grade = grade(
                build=cand,
                measurement=m,
                correctness=correctness,
                expert_correctness=checked.get(EXPERT, not_compared),
                guard=guard,
                thresholds=inst.grading,
                ci_method=mcfg.ci_method,
                seed=mcfg.seed,
                level=mcfg.level,
                improved_level=mcfg.improved_level,
                identical_to_expert=ident.to_expert,
                identical_to_base=ident.to_base,
            )
            return {**info, **g.to_dict(), "measurement": _measurement_dict(m, mcfg, cfg.limits)}

    # ---- run summary ----------------------------------------------------

    def write_summary(self, model: str, preds: list[Prediction]) -> dict[str, Any]:
        """The model's run summary over every report of the run, not only this invocation's:
        re-running a few instances (``--instance-ids --rerun``) must not shrink the summary."""
        ids = [p.instance_id for p in preds]
        model_dir = self.layout.model_dir(model)
        known = {inst.instance_id for inst in self.dataset}
        if model_dir.is_dir():
            ids += sorted(
                d.name
                for d in model_dir.iterdir()
                if d.name in known and d.name not in ids and (d / reports.REPORT_FILE).exists()
            )
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
            "config": {
                "measure": asdict(self.config.measure),
                "limits": asdict(self.config.limits),
                "backend": self.config.backend,
            },
            "instances": {r["instance_id"]: reports.instance_line(r) for r in reps},
            "aggregates": reports.aggregate(reps),
        }
        cost = agent_cost.summarize(model_dir, [r["instance_id"] for r in reps])
        if cost is not None:
            summary["agent_cost"] = cost
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
        return new + value[len(old) :]
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    return value


def _error_fields(message: str, fix: str = "") -> dict[str, Any]:
    """An evaluation that did not finish: status ``error``, no verdict (``opt`` is ``ERROR``, not
    FAIL), left out of the rates and redone by the next run of the same command."""
    return {
        "status": "error",
        "error": message,
        "fix": fix or "see the message, then rerun the same command",
        "applied": None,
        "built": None,
        "correct": None,
        "improved": None,
        "opt": "ERROR",
        "opt_gso": None,
        "reason": f"evaluation error: {message}",
        "flags": ["error"],
    }


def _build_dict(b: Any) -> dict[str, Any]:
    return {
        "ok": b.ok,
        "seconds": round(b.seconds, 3),
        "cached": b.cached,
        "build_s": None if b.build_s is None else round(b.build_s, 3),
        "ccache": b.ccache,
        "error": b.error,
        "apply_method": b.apply_method,
        "log": str(b.log_path) if b.log_path else None,
    }


def _measurement_dict(m: Measurement, cfg: MeasureConfig, limits: Limits) -> dict[str, Any]:
    from .measure import stats

    cv = {}
    for variant in m.variants:
        for w in m.workloads:
            values = [
                s.figure
                for s in m.samples
                if s.variant == variant and s.workload == w.name and s.ok
            ]
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
        "ci_level": cfg.level,
        "stop_rule": cfg.stop_rule,
        "max_blocks": cfg.max_blocks,
        "looks": cfg.schedule.looks(),
        "seed": cfg.seed,
    }
