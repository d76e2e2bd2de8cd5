"""A run's timings as pyperf JSON, so pyperf's own tools read a perfbench run.

For each finished instance, one file per variant, ``<instance>/pyperf/<variant>.json``:
a pyperf ``BenchmarkSuite`` with one benchmark per workload and one run per timed
process (a sample of ``timings.jsonl``). A run's values are the per-call seconds
of each timed repeat of that process; its warm-up is the process's first (cold)
call. So::

    python -m pyperf compare_to pyperf/base.json pyperf/candidate.json --table
    python -m pyperf stats pyperf/candidate.json
    python -m pyperf hist pyperf/base.json

work on a perfbench run. pyperf's statistics differ from perfbench's: pyperf
pools every repeat of every process and compares means with a t-test that takes
the repeats as independent, while perfbench reduces each process to one figure
and builds its CI on per-block log-ratios (blocks are the unit). pyperf's figures
are a view of the same samples, not the verdict.

Metadata: on every run ``name``, ``unit``, ``loops``, ``duration`` (wall time
of the process), ``date`` (its start), ``hostname``, ``cpu_model_name``,
``cpu_count``, ``cpu_affinity``, ``platform``, ``load_avg_1min`` (at the start
of the instance's measurement), and ``perfbench_*``: ``version``, ``run_id``,
``model``, ``instance``, ``variant``, ``workload_seed``, ``visible``,
``measure_seed`` (the block order's), ``block``, ``position``, ``cpu_share``,
``load_avg_end``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import reports

log = logging.getLogger(__name__)

PYPERF_DIR = "pyperf"
TIMINGS_FILE = "timings.jsonl"


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The samples of a ``timings.jsonl`` (one JSON object a line)."""
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def suites(
    report: dict[str, Any], samples: list[dict[str, Any]], prefix: str = ""
) -> dict[str, Any]:
    """variant -> ``pyperf.BenchmarkSuite`` of one instance's samples (variants with no timed run
    left out); benchmarks are named ``prefix + workload``."""
    import pyperf

    meas = report.get("measurement") or {}
    machine = report.get("machine") or {}
    workloads = {
        w["name"]: w for w in meas.get("workloads") or [] if isinstance(w, dict) and "name" in w
    }
    order = list(workloads) or sorted({s["workload"] for s in samples})
    loads = [x for x in meas.get("load_average") or [] if isinstance(x, (int, float)) and x >= 0]
    common: dict[str, Any] = {
        "unit": "second",
        "perfbench_version": str(machine.get("perfbench", "")),
        "perfbench_run_id": str(report.get("run_id", "")),
        "perfbench_model": str(report.get("model", "")),
        "perfbench_instance": str(report.get("instance_id", "")),
    }
    for key, value in (
        ("hostname", machine.get("hostname")),
        ("cpu_model_name", machine.get("cpu")),
        ("platform", machine.get("platform")),
    ):
        if value:
            common[key] = str(value)
    if isinstance(machine.get("cores"), int) and machine["cores"] >= 1:
        common["cpu_count"] = machine["cores"]
    if meas.get("cpu_affinity"):
        common["cpu_affinity"] = ",".join(str(c) for c in meas["cpu_affinity"])
    if loads:
        common["load_avg_1min"] = round(float(loads[0]), 2)
        common["perfbench_load_avg_end"] = round(float(loads[-1]), 2)
    if isinstance(meas.get("seed"), int):
        common["perfbench_measure_seed"] = meas["seed"]

    out: dict[str, Any] = {}
    variants = list(
        dict.fromkeys([*(meas.get("variants") or []), *(s["variant"] for s in samples)])
    )
    for variant in variants:
        benchmarks = []
        for name in order:
            runs = [
                _run(pyperf, s, common, variant, workloads.get(name, {}), prefix + name)
                for s in samples
                if s.get("variant") == variant and s.get("workload") == name
            ]
            runs = [r for r in runs if r is not None]
            if runs:
                benchmarks.append(pyperf.Benchmark(runs))
        if benchmarks:
            out[variant] = pyperf.BenchmarkSuite(benchmarks)
    return out


def _run(
    pyperf: Any,
    s: dict[str, Any],
    common: dict[str, Any],
    variant: str,
    workload: dict[str, Any],
    name: str,
) -> Any:
    values = [
        float(t)
        for t in s.get("times") or []
        if isinstance(t, (int, float)) and math.isfinite(t) and t > 0
    ]
    if not s.get("ok") or not values:
        return None
    meta = dict(common)
    meta.update(
        {
            "name": name,
            "perfbench_variant": variant,
            "perfbench_block": int(s.get("block", 0)),
            "perfbench_position": int(s.get("position", 0)),
        }
    )
    if int(s.get("loops") or 0) >= 1:
        meta["loops"] = int(s["loops"])
    if isinstance(workload.get("seed"), int):
        meta["perfbench_workload_seed"] = workload["seed"]
    if "visible" in workload:
        meta["perfbench_visible"] = "yes" if workload["visible"] else "no"
    if _finite_pos(s.get("wall_s")):
        meta["duration"] = float(s["wall_s"])
    if _finite_pos(s.get("start")):
        meta["date"] = dt.datetime.fromtimestamp(float(s["start"])).isoformat(" ")
    if isinstance(s.get("cpu_share"), (int, float)) and math.isfinite(s["cpu_share"]):
        meta["perfbench_cpu_share"] = round(float(s["cpu_share"]), 4)
    warmups = [(1, float(s["first_call_s"]))] if _finite_pos(s.get("first_call_s")) else None
    return pyperf.Run(values, warmups=warmups, metadata=meta, collect_metadata=False)


def _finite_pos(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def write_suite(suite: Any, path: Path) -> None:
    """Dump a pyperf suite to ``path`` atomically (readers never see half a file)."""
    buf = io.StringIO()
    suite.dump(buf, compact=False)
    reports.atomic_write_text(path, buf.getvalue())


def export_instance(instance_dir: Path, report: dict[str, Any] | None = None) -> list[Path]:
    """Write ``instance_dir/pyperf/<variant>.json`` from its ``timings.jsonl``; the files written.

    An instance without timings (it failed before measuring) gets none.
    """
    timings = instance_dir / TIMINGS_FILE
    if not timings.is_file():
        return []
    if report is None:
        report = json.loads((instance_dir / reports.REPORT_FILE).read_text())
    written = []
    for variant, suite in suites(report, read_samples(timings)).items():
        path = instance_dir / PYPERF_DIR / f"{variant}.json"
        write_suite(suite, path)
        written.append(path)
    return written


def export_on_record(instance_dir: Path, report: dict[str, Any]) -> None:
    """Hook of ``Evaluator.record``: never lets an export problem cost a report."""
    try:
        export_instance(instance_dir, report)
    except Exception as exc:  # the pyperf files are a view; the report is what counts
        log.warning(
            "%s: pyperf files not written: %s: %s",
            report.get("instance_id"),
            type(exc).__name__,
            exc,
        )


def instance_dirs(root: Path) -> Iterator[Path]:
    """Instance folders under ``root`` (a run, a run's model folder, or one instance folder)."""
    if (root / reports.REPORT_FILE).is_file():
        yield root
        return
    for report in sorted(root.rglob(reports.REPORT_FILE)):
        yield report.parent


def export_run(root: Path, merge: bool = True) -> list[Path]:
    """Per-instance files for every report under ``root``, and (``merge``) one suite per model and
    variant, ``<model>/pyperf/<variant>.json``, whose benchmarks are ``<instance>:<workload>``."""
    import pyperf

    written: list[Path] = []
    merged: dict[Path, dict[str, list[Any]]] = {}
    for inst_dir in instance_dirs(root):
        try:
            report = json.loads((inst_dir / reports.REPORT_FILE).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("%s: unreadable report, skipped: %s", inst_dir, exc)
            continue
        written += export_instance(inst_dir, report)
        if not merge or not (inst_dir / TIMINGS_FILE).is_file():
            continue
        iid = report.get("instance_id") or inst_dir.name
        samples = read_samples(inst_dir / TIMINGS_FILE)
        for variant, suite in suites(report, samples, prefix=f"{iid}:").items():
            merged.setdefault(inst_dir.parent, {}).setdefault(variant, []).extend(suite)
    if merge and not (root / reports.REPORT_FILE).is_file():
        for model_dir, by_variant in merged.items():
            for variant, benches in by_variant.items():
                path = model_dir / PYPERF_DIR / f"{variant}.json"
                write_suite(pyperf.BenchmarkSuite(benches), path)
                written.append(path)
    return written
