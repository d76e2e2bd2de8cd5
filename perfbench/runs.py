"""A run folder as a pandas table: ``perfbench.load_run(path)``.

One row per (model, instance) report found under ``path``: a run folder
(``runs/<run_id>``), one model's folder of it (``runs/<run_id>/<model>``), a
single instance folder, or a folder of several runs (``runs``). Rows are sorted
by run, model and instance. Columns, in this order:

==================  =======  =============================================================
column              type     meaning
==================  =======  =============================================================
run_id              str      the run's name
model               str      ``model_name_or_path`` of the prediction
instance_id         str      the instance
repo                str      ``owner/name``
status              str      ``done`` (evaluated) or ``error`` (stopped before a verdict)
applied             bool     the patch applied
built               bool     the candidate built
correct             bool     every workload's result equals base's and the guard tests pass
improved            bool     correct, and the speedup's CI lies above 1
opt                 str      PASS / FAIL / INCONCLUSIVE (CI bounds against the thresholds)
opt_gso             bool     GSO's point-estimate verdict
speedup             float    T_base / T_candidate, geometric mean over hidden workloads
speedup_low         float    its CI, lower bound (level: ``ci_level``)
speedup_high        float    its CI, upper bound
expert_speedup      float    T_base / T_expert (+ ``_low``, ``_high``)
share_of_expert     float    T_expert / T_candidate (+ ``_low``, ``_high``)
visible_speedup     float    the speedup on the visible workload (+ ``_low``, ``_high``)
flags               list     e.g. ``overfit``, ``noisy``, ``contended``, ``timeout``
reason              str      why the verdict (or the error)
error               str      the error of a ``status == "error"`` report, else None
blocks              int      measurement blocks (<NA> when nothing was measured)
stop_reason         str      why the measurement stopped
measure_seconds     float    seconds spent measuring
ci_level            float    the level of the CIs (NaN where the report does not say: 0.95)
seconds             float    seconds the whole evaluation of this instance took
apply_method        str      how the patch applied (``git apply``, ...)
min_speedup         float    the instance's threshold on ``speedup``
min_share           float    the instance's threshold on ``share_of_expert`` (``expert_share``)
backend             str      sandbox backend (``local``, ``docker``)
perfbench_version   str      perfbench version that wrote the report
created_at          str      when the evaluation started (ISO 8601, UTC)
path                str      the instance folder (report, timings, logs, pyperf files)
==================  =======  =============================================================

Figures that a report does not have (an error, a failed candidate) are NaN.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .reports import REPORT_FILE

log = logging.getLogger(__name__)

RATIOS = ("speedup", "expert_speedup", "share_of_expert", "visible_speedup")

COLUMNS = [
    "run_id",
    "model",
    "instance_id",
    "repo",
    "status",
    "applied",
    "built",
    "correct",
    "improved",
    "opt",
    "opt_gso",
    *[f"{name}{suffix}" for name in RATIOS for suffix in ("", "_low", "_high")],
    "flags",
    "reason",
    "error",
    "blocks",
    "stop_reason",
    "measure_seconds",
    "ci_level",
    "seconds",
    "apply_method",
    "min_speedup",
    "min_share",
    "backend",
    "perfbench_version",
    "created_at",
    "path",
]


def report_row(report: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """The row of one report (``report.json`` as a dict)."""
    meas = report.get("measurement") or {}
    thresholds = report.get("thresholds") or {}
    row: dict[str, Any] = {
        "run_id": report.get("run_id"),
        "model": report.get("model"),
        "instance_id": report.get("instance_id"),
        "repo": report.get("repo"),
        "status": report.get("status"),
        "applied": bool(report.get("applied")),
        "built": bool(report.get("built")),
        "correct": bool(report.get("correct")),
        "improved": bool(report.get("improved")),
        "opt": report.get("opt"),
        "opt_gso": bool(report.get("opt_gso")),
        "flags": list(report.get("flags") or []),
        "reason": report.get("reason"),
        "error": report.get("error"),
        "blocks": meas.get("blocks"),
        "stop_reason": meas.get("stop_reason"),
        "measure_seconds": _num(meas.get("seconds")),
        "ci_level": _num(meas.get("ci_level")),
        "seconds": _num(report.get("seconds")),
        "apply_method": report.get("apply_method"),
        "min_speedup": _num(thresholds.get("min_speedup")),
        "min_share": _num(thresholds.get("expert_share")),
        "backend": (report.get("sandbox") or {}).get("backend"),
        "perfbench_version": (report.get("machine") or {}).get("perfbench"),
        "created_at": report.get("created_at"),
        "path": str(path) if path is not None else None,
    }
    for name in RATIOS:
        est = report.get(name) or {}
        row[name] = _num(est.get("estimate"))
        row[f"{name}_low"] = _num(est.get("low"))
        row[f"{name}_high"] = _num(est.get("high"))
    return row


def _num(value: Any) -> float:
    return (
        float(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else float("nan")
    )


def load_run(path: str | Path) -> Any:
    """One row per (model, instance) report under ``path``, as a ``pandas.DataFrame``.

    ``path`` is a run folder (``runs/<run_id>``), a model folder of one, an instance folder,
    or a folder of runs. The columns are those of :data:`COLUMNS`, documented in this
    module's docstring and in README ("Reading the results"). Unreadable reports are skipped
    with a warning; a folder without reports gives an empty table with the same columns.
    """
    import pandas as pd

    from .errors import InputError

    root = Path(path)
    if not root.is_dir():
        raise InputError(f"run folder not found: {root}")
    files = (
        [root / REPORT_FILE] if (root / REPORT_FILE).is_file() else sorted(root.rglob(REPORT_FILE))
    )
    rows = []
    for file in files:
        try:
            report = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("%s: unreadable report, skipped: %s", file, exc)
            continue
        if not isinstance(report, dict) or "instance_id" not in report:
            continue
        rows.append(report_row(report, file.parent))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["blocks"] = frame["blocks"].astype("Int64")
    for col in ("applied", "built", "correct", "improved", "opt_gso"):
        frame[col] = frame[col].astype(bool)
    return frame.sort_values(["run_id", "model", "instance_id"], kind="stable").reset_index(
        drop=True
    )
