"""Run summaries submitted for ranking: read, validate, and file them under ``submissions/``.

A submission is a ``summary.json`` as ``Evaluator.write_summary`` writes it.
Everything the leaderboard relies on is checked here, so a bad file stops the
build with an error naming the file and the field before anything is written.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..datasets import DATASET_FILE, INSTANCE_FILE, load_dataset
from ..errors import InputError
from ..reports import SCHEMA_VERSION, SUMMARY_FILE, atomic_write_text, safe_name
from .files import readable

log = logging.getLogger(__name__)

VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Submission:
    """One model's run on one dataset, reduced to what the leaderboard shows."""

    path: Path
    model: str
    run_id: str
    dataset: str
    dataset_version: str
    created_at: str
    instances: dict[str, dict[str, Any]]
    aggregates: dict[str, Any]
    agent_cost: dict[str, Any] | None = None  # from ``perfbench agent run``'s records

    @property
    def file_name(self) -> str:
        """``<dataset>__<model>__<run_id>.json``: one file per run, stable across resubmission."""
        return f"{safe_name(self.dataset)}__{safe_name(self.model)}__{self.run_id}.json"


@dataclass(frozen=True)
class KnownDataset:
    name: str
    version: str
    instance_ids: frozenset[str] = field(default_factory=frozenset)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Checker:
    """Field checks with errors that name the file and the dotted field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field_name: str, message: str) -> InputError:
        return InputError(message, source=self.path, field=field_name)

    def need(self, data: Mapping[str, Any], key: str, kind: str, prefix: str = "") -> Any:
        name = prefix + key
        if key not in data or data[key] is None:
            raise self.fail(name, "missing required field")
        value = data[key]
        ok = {
            "str": isinstance(value, str) and bool(value.strip()),
            "dict": isinstance(value, dict),
            "rate": _number(value) and 0.0 <= value <= 1.0,
            "int": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            "bool": isinstance(value, bool),
            "verdict": value in VERDICTS,
        }[kind]
        if not ok:
            wanted = {
                "str": "a non-empty string",
                "dict": "an object",
                "rate": "a number in [0, 1]",
                "int": "a non-negative integer",
                "bool": "true or false",
                "verdict": " / ".join(VERDICTS),
            }[kind]
            raise self.fail(name, f"expected {wanted}, got {json.dumps(value)[:60]}")
        return value

    def optional_number(self, data: Mapping[str, Any], key: str, prefix: str) -> float | None:
        value = data.get(key)
        if value is not None and not _number(value):
            raise self.fail(
                prefix + key, f"expected a number or null, got {json.dumps(value)[:60]}"
            )
        return value


def parse_submission(data: Any, path: Path) -> Submission:
    """Validate a run summary; problems raise :class:`InputError` naming the file and field."""
    c = _Checker(path)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object (a run summary.json)", source=path)
    schema = data.get("schema")
    if schema is None:
        raise c.fail("schema", "missing required field")
    if schema != SCHEMA_VERSION:
        raise c.fail("schema", f"summary schema {schema!r} is not the supported {SCHEMA_VERSION}")
    model = c.need(data, "model", "str")
    run_id = c.need(data, "run_id", "str")
    if not _RUN_ID_RE.match(run_id):
        raise c.fail("run_id", f"{run_id!r} may hold only letters, digits, '_', '.', '-'")
    dataset = c.need(data, "dataset", "str")
    created_at = c.need(data, "created_at", "str")
    if not re.match(r"^\d{4}-\d{2}-\d{2}", created_at):
        raise c.fail("created_at", f"{created_at!r} is not an ISO 8601 date")
    version = data.get("dataset_version") or ""
    if not isinstance(version, str):
        raise c.fail("dataset_version", "expected a string")
    instances = c.need(data, "instances", "dict")
    if not instances:
        raise c.fail("instances", "the run holds no instances")
    for iid, line in instances.items():
        prefix = f"instances.{iid}."
        if not isinstance(line, dict):
            raise c.fail(prefix.rstrip("."), "expected an object")
        if line.get("status") == "error":
            raise c.fail(
                prefix + "status",
                "the evaluation of this instance ended in an error, not a "
                "verdict: rerun the same perfbench evaluate command to finish the run first",
            )
        c.need(line, "opt", "verdict", prefix)
        c.need(line, "applied", "bool", prefix)
        c.need(line, "correct", "bool", prefix)
        for key in ("speedup", "expert_speedup", "share_of_expert"):
            c.optional_number(line, key, prefix)
    agg = c.need(data, "aggregates", "dict")
    for key in ("opt_rate", "apply_rate", "correct_rate"):
        c.need(agg, key, "rate", "aggregates.")
    n = c.need(agg, "n_instances", "int", "aggregates.")
    ci = agg.get("opt_rate_ci")
    if ci is None:
        raise c.fail("aggregates.opt_rate_ci", "missing required field")
    if not (
        isinstance(ci, list) and len(ci) == 2 and all(_number(v) for v in ci) and ci[0] <= ci[1]
    ):
        raise c.fail("aggregates.opt_rate_ci", f"expected [low, high], got {json.dumps(ci)[:60]}")
    if n != len(instances):
        raise c.fail(
            "aggregates.n_instances", f"says {n} but the run lists {len(instances)} instances"
        )
    passes = sum(1 for line in instances.values() if line["opt"] == "PASS")
    if abs(agg["opt_rate"] - passes / n) > 1e-9:
        raise c.fail(
            "aggregates.opt_rate",
            f"{agg['opt_rate']} disagrees with the instances ({passes}/{n} PASS)",
        )
    cost = data.get("agent_cost")
    if cost is not None:
        if not isinstance(cost, dict):
            raise c.fail("agent_cost", "expected an object")
        if not 1 <= c.need(cost, "instances", "int", "agent_cost.") <= n:
            raise c.fail("agent_cost.instances", f"expected 1 to {n} (the run's instances)")
        c.need(cost, "total_tokens", "int", "agent_cost.")
        wall = c.optional_number(cost, "wall_s", "agent_cost.")
        if wall is None or wall < 0:
            raise c.fail("agent_cost.wall_s", "expected a non-negative number")
    return Submission(
        path=path,
        model=model,
        run_id=run_id,
        dataset=dataset,
        dataset_version=version,
        created_at=created_at,
        instances=dict(instances),
        aggregates=dict(agg),
        agent_cost=dict(cost) if cost is not None else None,
    )


def read_submission(path: Path) -> tuple[Submission, str]:
    """Parse and validate one file; returns the submission and the text (copied verbatim)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
    return parse_submission(data, path), text


def load_submissions(folder: Path) -> list[Submission]:
    """Every ``*.json`` under ``folder``, validated; two files for the same run are an error."""
    if not folder.is_dir():
        raise InputError(f"submissions folder not found: {folder}")
    subs = [read_submission(p)[0] for p in sorted(folder.glob("*.json"))]
    seen: dict[tuple[str, str, str], Path] = {}
    for s in subs:
        key = (s.dataset, s.model, s.run_id)
        if key in seen:
            raise InputError(
                f"same run (dataset {s.dataset!r}, model {s.model!r}, run {s.run_id!r}) as "
                f"{seen[key].name}",
                source=s.path,
                field="run_id",
            )
        seen[key] = s.path
    return subs


def known_datasets(
    instances_dir: Path | None, extra: Iterable[Path] = ()
) -> dict[str, KnownDataset]:
    """Datasets a submission may name: folders under ``instances_dir`` and those given explicitly.

    Folders under ``instances_dir`` are read shallowly (``dataset.json`` and the
    instance folder names), so one half-written dataset does not stop the build.
    """
    known: dict[str, KnownDataset] = {}
    if instances_dir is not None and instances_dir.is_dir():
        for folder in sorted(p for p in instances_dir.iterdir() if p.is_dir()):
            ds = _shallow_dataset(folder)
            if ds is not None:
                known.setdefault(ds.name, ds)
    for path in extra:
        ds_full = load_dataset(path)
        known[ds_full.name] = KnownDataset(
            ds_full.name, ds_full.version, frozenset(i.instance_id for i in ds_full)
        )
    return known


def _shallow_dataset(folder: Path) -> KnownDataset | None:
    ids = frozenset(p.parent.name for p in folder.glob(f"*/{INSTANCE_FILE}"))
    meta: Any = {}
    if (folder / DATASET_FILE).is_file():
        try:
            meta = json.loads((folder / DATASET_FILE).read_text())
        except (OSError, json.JSONDecodeError):
            log.warning("skipping %s: unreadable %s", folder, DATASET_FILE)
            return None
    if not isinstance(meta, dict) or (not ids and not meta):
        return None
    return KnownDataset(str(meta.get("name") or folder.name), str(meta.get("version") or ""), ids)


def check_known(sub: Submission, known: Mapping[str, KnownDataset]) -> None:
    """The submission's dataset must be known, and its instances must belong to it."""
    ds = known.get(sub.dataset)
    if ds is None:
        names = ", ".join(sorted(known)) or "none found"
        raise InputError(
            f"unknown dataset {sub.dataset!r} (known: {names}; add one with --dataset)",
            source=sub.path,
            field="dataset",
        )
    if ds.instance_ids:
        stray = sorted(set(sub.instances) - ds.instance_ids)
        if stray:
            raise InputError(
                f"instance {stray[0]!r} is not in dataset {sub.dataset!r}",
                source=sub.path,
                field=f"instances.{stray[0]}",
            )
    if ds.version and sub.dataset_version and ds.version != sub.dataset_version:
        log.warning(
            "%s: run on %s version %s, the bundled dataset is version %s",
            sub.path.name,
            sub.dataset,
            sub.dataset_version,
            ds.version,
        )


def summary_path(run_model_dir: Path) -> Path:
    """``RUN_DIR/MODEL`` (or the summary file itself) -> the summary file."""
    path = run_model_dir / SUMMARY_FILE if run_model_dir.is_dir() else run_model_dir
    if not path.is_file():
        raise InputError(
            f"no {SUMMARY_FILE} found (expected runs/RUN_ID/MODEL/{SUMMARY_FILE})", source=path
        )
    return path


def submit(run_model_dir: Path, submissions_dir: Path, known: Mapping[str, KnownDataset]) -> Path:
    """Validate a run's summary and copy it, byte for byte, into ``submissions_dir``."""
    src = summary_path(run_model_dir)
    sub, text = read_submission(src)
    check_known(sub, known)
    dest = submissions_dir / sub.file_name
    if dest.exists():
        log.info("replacing %s", dest)
    atomic_write_text(dest, text)
    readable(dest)
    return dest
