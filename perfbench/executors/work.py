"""The units of work an executor ships: one evaluation, one validation.

Each carries what a worker on another machine needs and nothing it cannot reach: a
one-instance dataset with the workload sources inline and the repository location
made absolute, the configuration, and the prediction. The worker writes its logs to
a staging folder of its own and returns them as data with the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import EvalConfig, Events
from ..datasets import Dataset
from ..errors import InputError
from ..evaluate import Evaluator, Outcome
from ..records import Instance, Prediction
from ..reports import atomic_write_text
from ..validate import ValidationResult, validate_instance
from .base import Executor
from .slots import Slot

log = logging.getLogger(__name__)


def portable_dataset(dataset: Dataset, inst: Instance) -> Dataset:
    """A dataset of ``inst`` alone that does not need the dataset folder on the worker."""
    try:
        workloads = [
            dataclasses.replace(w, source=inst.workload_source(w), path=None)
            for w in inst.workloads
        ]
    except InputError:  # left to the task, whose report then says what is missing
        return Dataset(
            name=dataset.name,
            instances=[inst],
            version=dataset.version,
            eval_seed=dataset.eval_seed,
            repos=dict(dataset.repos),
            root=dataset.root,
        )
    alone = dataclasses.replace(inst, workloads=workloads, base_dir=None)
    location = dataset.repo_location(inst.repo)
    return Dataset(
        name=dataset.name,
        instances=[alone],
        version=dataset.version,
        description=dataset.description,
        eval_seed=dataset.eval_seed,
        repos={inst.repo: location} if location else {},
        root=dataset.root,
    )


def with_cpus(config: EvalConfig, cpus: tuple[int, ...] | None) -> EvalConfig:
    """``config`` with measured processes pinned to the slot's cores (if the slot has any)."""
    if not cpus:
        return config
    return dataclasses.replace(config, limits=dataclasses.replace(config.limits, cpus=tuple(cpus)))


def executor_record(slot: Slot, config: EvalConfig, start: float, end: float) -> dict[str, Any]:
    """The ``executor`` field of a report: where and when the task ran, on which cores."""

    def iso(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds")

    cpus = config.limits.cpus
    return {
        **slot.describe(),
        "cpus": list(cpus) if cpus else None,
        "pid": os.getpid(),
        "start": round(start, 3),
        "end": round(end, 3),
        "started_at": iso(start),
        "ended_at": iso(end),
    }


def read_files(folder: Path) -> dict[str, str]:
    return {
        str(f.relative_to(folder)): f.read_text(errors="replace")
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


@dataclass
class EvaluationWork:
    dataset: Dataset
    config: EvalConfig
    prediction: Prediction

    @property
    def key(self) -> str:
        return f"{self.prediction.model_name_or_path}/{self.prediction.instance_id}"

    @classmethod
    def of(cls, evaluator: Evaluator, pred: Prediction) -> EvaluationWork:
        inst = evaluator.dataset.get(pred.instance_id)
        return cls(portable_dataset(evaluator.dataset, inst), evaluator.config, pred)

    def run(self, slot: Slot, events: Events | None = None) -> Outcome:
        config = with_cpus(self.config, slot.cpus)
        evaluator = Evaluator(self.dataset, config, events)
        start = time.time()
        with tempfile.TemporaryDirectory(prefix="perfbench-stage-") as staging:
            outcome = evaluator.compute(self.prediction, Path(staging))
        outcome.report["executor"] = executor_record(slot, config, start, time.time())
        return outcome


@dataclass
class ValidationOutcome:
    result: ValidationResult
    files: dict[str, str]


@dataclass
class ValidationWork:
    dataset: Dataset
    config: EvalConfig
    instance_id: str
    threshold: float

    @property
    def key(self) -> str:
        return f"validate/{self.instance_id}"

    def run(self, slot: Slot, events: Events | None = None) -> ValidationOutcome:
        config = with_cpus(self.config, slot.cpus)
        inst = self.dataset.get(self.instance_id)
        start = time.time()
        with tempfile.TemporaryDirectory(prefix="perfbench-stage-") as staging:
            result = validate_instance(
                self.dataset,
                inst,
                config,
                threshold=self.threshold,
                events=events,
                log_dir=Path(staging),
            )
            files = read_files(Path(staging))
        if result.record:
            result.record["executor"] = executor_record(slot, config, start, time.time())
        return ValidationOutcome(result, files)


def validate_all(
    executor: Executor,
    dataset: Dataset,
    instances: Sequence[Instance],
    config: EvalConfig,
    threshold: float,
    events: Events,
) -> Iterator[tuple[Instance, ValidationResult]]:
    """Validate ``instances`` through ``executor``, yielding each as it finishes."""
    if executor.in_process:
        for inst in instances:
            events.instance_started("expert", inst.instance_id)
            yield inst, validate_instance(dataset, inst, config, threshold=threshold, events=events)
        return
    works = [
        ValidationWork(portable_dataset(dataset, inst), config, inst.instance_id, threshold)
        for inst in instances
    ]
    for done in executor.results(works, events):
        inst = dataset.get(done.work.instance_id)
        if done.error is not None:
            log.error("%s: lost: %s", done.work.key, done.error)
            yield inst, ValidationResult(inst.instance_id, False, [f"not validated: {done.error}"])
            continue
        out: ValidationOutcome = done.value
        log_dir = config.runs_dir / config.run_id / "validate" / inst.instance_id
        for name, text in out.files.items():
            atomic_write_text(log_dir / name, text)
        yield inst, out.result
