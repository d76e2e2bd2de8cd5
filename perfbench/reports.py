"""Reports on disk: per instance and per run, written atomically, read back to resume.

Layout: ``runs/<run_id>/<model>/<instance_id>/report.json`` with ``timings.jsonl``
and logs beside it; ``runs/<run_id>/<model>/summary.json`` aggregates. A report
is written last, by rename, so its presence means the instance is finished.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .measure import stats
from .report import SCHEMA_VERSION

REPORT_FILE = "report.json"
SUMMARY_FILE = "summary.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(_finite(data), indent=2, sort_keys=False) + "\n")


def _finite(value: Any) -> Any:
    """JSON has no infinities: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def safe_name(model: str) -> str:
    """A model name as a folder name (``org/model`` -> ``org__model``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "__", model).strip("_") or "model"


class RunLayout:
    def __init__(self, runs_dir: Path, run_id: str) -> None:
        if not re.match(r"^[A-Za-z0-9_.-]+$", run_id):
            raise ValueError(f"run id {run_id!r} may hold only letters, digits, '_', '.', '-'")
        self.root = runs_dir / run_id
        self.run_id = run_id

    def model_dir(self, model: str) -> Path:
        return self.root / safe_name(model)

    def instance_dir(self, model: str, instance_id: str) -> Path:
        return self.model_dir(model) / instance_id

    def report_path(self, model: str, instance_id: str) -> Path:
        return self.instance_dir(model, instance_id) / REPORT_FILE

    def load_report(self, model: str, instance_id: str) -> dict[str, Any] | None:
        path = self.report_path(model, instance_id)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return (
            data
            if data.get("schema") == SCHEMA_VERSION and data.get("status") in ("done", "error")
            else None
        )


def write_timings(path: Path, samples: Iterable[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(_finite(s)) + "\n" for s in samples))


def aggregate(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Run-level rates and means over instance reports (DESIGN.md section 7).

    Reports whose evaluation failed (status ``error``: the harness's failure, not the patch's)
    are left out of every rate and counted apart in ``n_errors``, with their one-line causes.
    ``correct`` is read as the report states it: results equal base's and guard tests passed.
    """
    errors = [r for r in reports if r.get("status") != "done"]
    reports = [r for r in reports if r.get("status") == "done"]
    n = len(reports)
    done = reports

    def count(pred: Any) -> int:
        return sum(1 for r in reports if pred(r))

    opt_pass = count(lambda r: r.get("opt") == "PASS")
    opt_fail = count(lambda r: r.get("opt") == "FAIL")
    lo, hi = stats.wilson_interval(opt_pass, n)
    speedups = [r["speedup"]["estimate"] for r in done if r.get("correct") and r.get("speedup")]
    shares = [
        r["share_of_expert"]["estimate"]
        for r in done
        if r.get("correct") and r.get("share_of_expert")
    ]

    def perf_gain(r: dict[str, Any]) -> float:
        # SWE-Perf: relative runtime reduction of a correct patch, 0 for incorrect ones and slow-downs.
        if not r.get("correct") or not r.get("speedup"):
            return 0.0
        s = r["speedup"]["estimate"] or 0.0
        return max(0.0, 1 - 1 / s) if s > 0 else 0.0

    def speedup_ratio(r: dict[str, Any]) -> float:
        # SWE-fficiency: candidate speedup over expert speedup; failed patches count as base (speedup 1).
        exp = (r.get("expert_speedup") or {}).get("estimate")
        if not exp:
            return 0.0
        cand = r["speedup"]["estimate"] if r.get("correct") and r.get("speedup") else 1.0
        return cand / exp

    return {
        "n_instances": n,  # with a verdict: the denominator of every rate
        "n_completed": n,
        "n_errors": len(errors),
        "errors": {
            str(r.get("instance_id")): r.get("error") or r.get("reason") or "" for r in errors
        },
        "opt_pass": opt_pass,
        "opt_fail": opt_fail,
        "opt_inconclusive": count(lambda r: r.get("opt") == "INCONCLUSIVE"),
        "opt_rate": opt_pass / n if n else 0.0,
        "opt_rate_ci": [lo, hi],
        "gso_opt_rate": count(lambda r: r.get("opt_gso")) / n if n else 0.0,
        "apply_rate": count(lambda r: r.get("applied")) / n if n else 0.0,
        "build_rate": count(lambda r: r.get("built")) / n if n else 0.0,
        "correct_rate": count(lambda r: r.get("correct")) / n if n else 0.0,
        "improved_rate": count(lambda r: r.get("improved")) / n if n else 0.0,
        "perf_gain": statistics.fmean(perf_gain(r) for r in reports) if n else 0.0,
        "speedup_ratio": _geomean([speedup_ratio(r) for r in reports if speedup_ratio(r) > 0]),
        "geomean_speedup": _geomean(speedups),
        "mean_share_of_expert": statistics.fmean(shares) if shares else None,
        "flags": _flag_counts(reports),
    }


def _geomean(values: list[float]) -> float | None:
    vals = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(statistics.fmean(math.log(v) for v in vals)) if vals else None


def _flag_counts(reports: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in reports:
        for f in r.get("flags") or []:
            out[f] = out.get(f, 0) + 1
    return out


def instance_line(report: dict[str, Any]) -> dict[str, Any]:
    """The short per-instance entry kept in a run summary (what the leaderboard reads)."""
    keys = (
        "applied",
        "built",
        "correct",
        "improved",
        "opt",
        "opt_gso",
        "reason",
        "flags",
        "status",
        "error",
    )
    out = {k: report.get(k) for k in keys}
    for k in ("speedup", "expert_speedup", "share_of_expert", "visible_speedup"):
        est = report.get(k)
        out[k] = est["estimate"] if est else None
        out[f"{k}_ci"] = [est["low"], est["high"]] if est else None
    out["blocks"] = (report.get("measurement") or {}).get("blocks")
    return out
