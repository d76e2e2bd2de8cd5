"""Throughput of the executors on the tiny test dataset: sequential, parallel local slots, Ray.

Evaluates the same predictions (alternately the expert patch and the empty patch on the
test dataset's one instance) with each executor asked for, and prints the wall time, the
summed task time, their ratio (the parallelism reached), the verdicts, and whether any two
tasks overlapped on a slot or on a core.

    python benchmarks/ray_throughput.py [--tasks 4] [--workers 2] [--ray-address HOST:PORT]
    python benchmarks/ray_throughput.py --loopback-cluster    # starts a head and two worker
                                                              # nodes in a private network namespace
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import minidata

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.evaluate import Evaluator
from perfbench.executors.base import Executor
from perfbench.executors.local import LocalExecutor
from perfbench.measure.protocol import MeasureConfig
from perfbench.records import Prediction
from perfbench.sandbox.base import Limits

MEASURE = {"min_blocks": 3, "max_blocks": 4, "time_budget_s": 60, "target_half_width": 0.05}


def run(
    name: str, executor: Executor, ds_path: Path, preds: list[Prediction], work: Path
) -> dict[str, Any]:
    config = EvalConfig(
        run_id=name,
        runs_dir=work / "runs",
        backend="local",
        cache_dir=work / "cache",
        measure=MeasureConfig(**MEASURE),
        limits=Limits(timeout_s=30, memory_mb=512),
        guard_tests=False,
        backend_options={"isolation": "none"},
    )
    ev = Evaluator(load_dataset(ds_path), config)
    t0 = time.perf_counter()
    with executor:
        ev.run(preds, executor=executor)
    wall = time.perf_counter() - t0
    reports = [ev.layout.load_report(p.model_name_or_path, p.instance_id) or {} for p in preds]
    return summarize(name, wall, reports)


def summarize(name: str, wall: float, reports: list[dict[str, Any]]) -> dict[str, Any]:
    spans = [r["executor"] for r in reports if r.get("executor")]
    busy = sum(s["end"] - s["start"] for s in spans)
    shared_slot = shared_core = 0
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a["start"] < b["end"] and b["start"] < a["end"]:
                shared_slot += (a["node"], a["slot"]) == (b["node"], b["slot"])
                shared_core += a["host"] == b["host"] and bool(
                    set(a["cpus"] or []) & set(b["cpus"] or [])
                )
    verdicts = sorted(f"{r['model']}:{r['opt']}" for r in reports)
    return {
        "executor": name,
        "tasks": len(reports),
        "wall_s": round(wall, 1),
        "task_s": round(busy, 1),
        "parallelism": round(busy / wall, 2) if wall else None,
        "nodes": len({s["node"] for s in spans}),
        "overlaps_on_a_slot": shared_slot,
        "overlaps_on_a_core": shared_core,
        "verdicts": verdicts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="slots of the parallel local executor")
    ap.add_argument("--ray-address", default=None)
    ap.add_argument("--loopback-cluster", action="store_true")
    ap.add_argument("--only", choices=["local", "parallel", "ray"], action="append")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pb-ray-bench-"))
    ds_path, rec = minidata.make_dataset(
        work, size=120, grading={"min_speedup": 1.2, "expert_share": 0.8}
    )
    gold = minidata.patch_between(work / "mini-repo", {"src/mini/core.py": minidata.OPT_CORE})
    preds = [
        Prediction(
            rec["instance_id"],
            f"{'gold' if i % 2 == 0 else 'empty'}-{i}",
            gold if i % 2 == 0 else "",
        )
        for i in range(args.tasks)
    ]
    only = set(args.only or ["local", "parallel", "ray"])
    rows = []
    if "local" in only:
        rows.append(run("local", LocalExecutor(1), ds_path, preds, work))
    if "parallel" in only:
        rows.append(
            run(f"local-x{args.workers}", LocalExecutor(args.workers), ds_path, preds, work)
        )
    if "ray" in only and args.loopback_cluster:
        rows.append(ray_on_loopback(len(preds)))
    elif "ray" in only and args.ray_address:
        from perfbench.executors.cluster import RayExecutor

        rows.append(run("ray", RayExecutor(args.ray_address, poll_s=1.0), ds_path, preds, work))
    for row in rows:
        print(json.dumps(row))


def ray_on_loopback(tasks: int) -> dict[str, Any]:
    """Start the tests' loopback cluster and run this script's Ray part inside its namespace."""
    from test_ray_cluster import LoopbackCluster

    cluster = LoopbackCluster()
    t0 = time.perf_counter()
    try:
        cluster.start(worker_cpus=["0", "1"])
        started = time.perf_counter() - t0
        out = subprocess.run(
            cluster.inside(
                sys.executable,
                __file__,
                "--only",
                "ray",
                "--tasks",
                str(tasks),
                "--ray-address",
                cluster.address,
            ),
            env=cluster.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["cluster_start_s"] = round(started, 1)
        return row
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
