"""Harness overhead of a whole evaluation of a dataset.

Prints the wall time of the evaluation, the time spent inside workload
processes (process wall time, and the part of it inside timed loops), their
ratios, and the CI half-width reached per instance.

    python benchmarks/evaluation_overhead.py [--dataset instances/examples] [--predictions gold]
    python benchmarks/evaluation_overhead.py --from-run runs/gold/gold   # figures of a finished run
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.evaluate import Evaluator
from perfbench.measure.protocol import MeasureConfig
from perfbench.predictions import load_predictions
from perfbench.sandbox.base import Limits
from perfbench.sandbox.limits import available_cpus
from perfbench.session import ensure_expert_patches, repo_cache_for


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dataset", default="instances/examples")
    ap.add_argument("--predictions", default="gold")
    ap.add_argument("--backend", default="local")
    ap.add_argument("--max-blocks", type=int, default=30)
    ap.add_argument(
        "--cpus",
        help="CPUs to pin timed processes to, comma-separated [default: the last one available]",
    )
    ap.add_argument(
        "--from-run", type=Path, help="RUNS_DIR/RUN_ID/MODEL of a finished run: report its figures"
    )
    args = ap.parse_args()
    if args.from_run:
        reports = [json.loads(p.read_text()) for p in sorted(args.from_run.glob("*/report.json"))]
        if not reports:
            raise SystemExit(f"{args.from_run}: no */report.json")
        show(reports, sum(r.get("seconds", 0.0) for r in reports))
        return

    work = Path(tempfile.mkdtemp(prefix="pb-overhead-"))
    ds = load_dataset(args.dataset)
    if args.cpus:
        cpus: tuple[int, ...] | None = tuple(int(c) for c in args.cpus.split(","))
    else:
        cpus = tuple(available_cpus()[-1:]) if len(available_cpus()) > 1 else None
    config = EvalConfig(
        run_id="overhead",
        runs_dir=work / "runs",
        backend=args.backend,
        cache_dir=work / "cache",
        measure=MeasureConfig(max_blocks=args.max_blocks),
        limits=Limits(cpus=cpus),
    )
    if args.predictions == "gold":
        ensure_expert_patches(ds, repo_cache_for(ds, config), ds.instances)
    preds = load_predictions(args.predictions, ds)
    t0 = time.perf_counter()
    ev = Evaluator(ds, config)
    ev.run(preds)
    wall = time.perf_counter() - t0

    show(
        [
            ev.layout.load_report(p.model_name_or_path, p.instance_id)
            or {"instance_id": p.instance_id}
            for p in preds
        ],
        wall,
    )


def show(reports: list[dict], wall: float) -> None:
    """Per instance: verdict, blocks, why it stopped, wall and workload seconds; then the totals."""
    in_procs = timed = 0.0
    print(
        f"{'instance':30} {'backend':7} {'verdict':12} {'blocks':>6} {'wall s':>7} {'in procs':>8} "
        f"{'timed':>6} {'speedup':>9}  stop reason"
    )
    for r in reports:
        m = r.get("measurement") or {}
        in_procs += m.get("seconds_in_workloads", 0.0)
        timed += m.get("seconds_timed", 0.0)
        sp = r.get("speedup") or {}
        backend = (r.get("sandbox") or {}).get("backend", "-")
        print(
            f"{r.get('instance_id', '?')[-30:]:30} {backend:7} {r.get('opt', '-'):12} {m.get('blocks', 0):>6} "
            f"{r.get('seconds', 0.0):>7.1f} {m.get('seconds_in_workloads', 0.0):>8.1f} "
            f"{m.get('seconds_timed', 0.0):>6.1f} {sp.get('estimate') or 0:>8.2f}x  {m.get('stop_reason', '-')[:40]}"
        )
    print()
    print(f"wall time of the evaluation      {wall:8.1f} s")
    print(f"inside workload processes        {in_procs:8.1f} s  ({in_procs / wall:.0%} of wall)")
    print(f"inside timed calls               {timed:8.1f} s  ({timed / wall:.0%} of wall)")
    print(f"wall / timed                     {wall / timed if timed else float('nan'):8.2f}x")
    print(f"in processes / timed             {in_procs / timed if timed else float('nan'):8.2f}x")


if __name__ == "__main__":
    main()
