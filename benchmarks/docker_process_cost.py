"""What one sandboxed process costs on the docker backend, outside the process itself.

Runs a trivial command N times in the base variant of an instance, once with one
container per process (PERFBENCH_DOCKER_SUPERVISOR=0) and once through the variant's
long-lived supervised container, and prints the median wall time per run as the
caller sees it beside the process's own wall time.

    python benchmarks/docker_process_cost.py [--dataset instances/examples] [-n 30] [--cpus 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from perfbench.datasets import load_dataset
from perfbench.docker.backend import SUPERVISOR_ENV, DockerBackend
from perfbench.docker.prebuild import repo_cache
from perfbench.repos import default_cache_dir
from perfbench.sandbox.base import BASE, Limits


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dataset", default="instances/examples")
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--cpus", default="", help="CPUs to pin the containers to, comma-separated")
    args = ap.parse_args()
    ds = load_dataset(args.dataset)
    inst = sorted(ds, key=lambda i: i.instance_id)[0]
    cache = default_cache_dir()
    mirror = repo_cache(ds, cache, None).mirror(inst.repo, (inst.base_commit, inst.opt_commit))
    cpus = tuple(int(c) for c in args.cpus.split(",")) if args.cpus else None
    limits = Limits(timeout_s=60, memory_mb=1024, cpus=cpus)
    print(f"{inst.instance_id}, load average {os.getloadavg()[0]:.2f}")
    for mode, label in (("0", "one container per process"), ("1", "supervised container")):
        os.environ[SUPERVISOR_ENV] = mode
        work = Path(tempfile.mkdtemp(prefix="pb-cost-"))
        with DockerBackend(
            inst, work_dir=work / "work", log_dir=work / "logs", cache_dir=cache
        ) as backend:
            backend.prepare_reference(mirror)
            for argv in ([backend._python(BASE), "-c", "pass"], ["/bin/true"]):
                backend._run(
                    BASE, argv, b"", limits
                )  # the supervised container starts here, not in the figures
                walls, inside = [], []
                for _ in range(args.n):
                    t0 = time.perf_counter()
                    proc = backend._run(BASE, argv, b"", limits)
                    walls.append(time.perf_counter() - t0)
                    inside.append(proc.wall_s)
                    assert proc.returncode == 0, proc.stderr
                print(
                    f"{label:26} {' '.join(argv[-2:]):18} {statistics.median(walls) * 1000:7.1f} ms per run "
                    f"(process: {statistics.median(inside) * 1000:6.1f} ms; median of {args.n})"
                )


if __name__ == "__main__":
    main()
