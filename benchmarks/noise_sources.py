"""Where the noise of a measurement comes from: per-block spread under neighbour load.

For each instance of a dataset, measures base against expert for a fixed number of blocks
(the real protocol, in the real sandbox) under each neighbour condition, and prints:

* the SD of the per-block log-ratio base/expert (what the intervals are made of), computed
  from each process's median per-call time (the protocol's figure) and, for comparison, from
  its minimum;
* the per-process CV of each variant (process-to-process spread of one program);
* the within-process spread (median over processes of (max-min)/median of the repeats);
* the CPU share the timed processes got, and whether the run was contended.

Neighbours run on the *other* CPUs, never on the measured one: ``none``; ``cpu`` (a pure
Python busy loop per other CPU); ``memory`` (copies of a 64 MB buffer per other CPU, which
compete for the shared cache and memory bandwidth).

    python benchmarks/noise_sources.py [--dataset instances/examples] [--blocks 10]
        [--neighbours none,cpu,memory] [--cpu 1] [--backend local]

Run it on a machine with nothing else running; with scripts/reserve-cpu.sh the measured CPU is
kept free of everything but the timed processes.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.measure.protocol import MeasureConfig, Measurement
from perfbench.measure.stats import block_log_ratios
from perfbench.sandbox.base import BASE, EXPERT, Limits
from perfbench.session import InstanceSession

NEIGHBOURS = {
    "none": None,
    "cpu": "while True: pass",
    "memory": "a = bytearray(64 << 20)\nb = bytearray(64 << 20)\nwhile True: b[:] = a",
}


def start_neighbours(kind: str, measured: int) -> list[subprocess.Popen]:
    code = NEIGHBOURS[kind]
    if code is None:
        return []
    others = sorted(os.sched_getaffinity(0) - {measured}) or sorted(
        set(range(os.cpu_count() or 1)) - {measured}
    )
    procs = []
    for cpu in others:
        p = subprocess.Popen([sys.executable, "-c", code])
        # Under scripts/reserve-cpu.sh this script runs in the measuring cpuset: move the
        # neighbour out to the others' first, or it would share the measured CPU.
        for cgroup in ("/sys/fs/cgroup/cpuset/pb-others", "/sys/fs/cgroup/pb-others"):
            try:
                Path(cgroup, "cgroup.procs").write_text(str(p.pid))
                break
            except OSError:
                continue
        try:
            os.sched_setaffinity(p.pid, {cpu})
        except OSError:
            pass
        if measured in os.sched_getaffinity(p.pid):
            p.kill()
            raise SystemExit(f"cannot keep the {kind} neighbour off CPU {measured}")
        procs.append(p)
    time.sleep(0.5)
    return procs


def per_block(m: Measurement, variant: str, figure: str) -> list[dict[str, float]]:
    table: dict[int, dict[str, float]] = {}
    for s in m.samples:
        if s.variant == variant and s.ok:
            table.setdefault(s.block, {})[s.workload] = s.min_s if figure == "min" else s.figure
    return [table.get(b, {}) for b in range(m.blocks)]


def spread(m: Measurement) -> dict[str, float]:
    names = [w.name for w in m.workloads]
    out = {}
    for figure in ("median", "min"):
        logs = block_log_ratios(per_block(m, BASE, figure), per_block(m, EXPERT, figure), names)
        out[f"sd_{figure}"] = statistics.stdev(logs) if len(logs) > 1 else math.nan
    for variant in (BASE, EXPERT):
        cvs, within = [], []
        for w in names:
            values = [
                s.figure for s in m.samples if s.variant == variant and s.workload == w and s.ok
            ]
            if len(values) > 1:
                cvs.append(statistics.stdev(values) / statistics.fmean(values))
            within += [
                (max(s.times) - min(s.times)) / s.figure
                for s in m.samples
                if s.variant == variant and s.workload == w and s.ok and s.times
            ]
        out[f"cv_{variant}"] = statistics.fmean(cvs) if cvs else math.nan
        out[f"within_{variant}"] = statistics.median(within) if within else math.nan
    shares = m.cpu_shares()
    out["cpu_share"] = min(shares.values()) if shares else math.nan
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dataset", default="instances/examples")
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--neighbours", default="none,cpu,memory")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    ap.add_argument("--backend", default="local")
    ap.add_argument("--instances", default="", help="comma-separated instance ids (default: all)")
    args = ap.parse_args()

    ds = load_dataset(args.dataset)
    work = Path(tempfile.mkdtemp(prefix="pb-noise-"))
    measure = MeasureConfig(
        min_blocks=args.blocks, max_blocks=args.blocks, stop_rule="width", target_half_width=0.0
    )
    config = EvalConfig(
        run_id="noise",
        runs_dir=work / "runs",
        backend=args.backend,
        cache_dir=work / "cache",
        measure=measure,
        limits=Limits(cpus=(args.cpu,)),
    )
    wanted = {i for i in args.instances.split(",") if i}
    print(
        f"{'instance':<28} {'neighbour':<9} {'sd(med)':>8} {'sd(min)':>8} {'cv base':>8} {'cv exp':>8} "
        f"{'in-proc':>8} {'cpu':>6}"
    )
    for inst in ds:
        if wanted and inst.instance_id not in wanted:
            continue
        for kind in args.neighbours.split(","):
            log_dir = work / "logs" / inst.instance_id / kind
            log_dir.mkdir(parents=True)
            neighbours = start_neighbours(kind, args.cpu)
            try:
                with InstanceSession(ds, inst, config, log_dir=log_dir, purpose="noise") as session:
                    session.build_references()
                    m = session.measure([BASE, EXPERT])
            finally:
                for p in neighbours:
                    p.kill()
                    p.wait()
            f = spread(m)
            print(
                f"{inst.instance_id:<28} {kind:<9} {f['sd_median']:8.2%} {f['sd_min']:8.2%} {f['cv_base']:8.2%} "
                f"{f['cv_expert']:8.2%} {f['within_base']:8.2%} {f['cpu_share']:6.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
