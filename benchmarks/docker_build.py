"""First versus cached build of a dataset's Docker images, and what a container costs per process.

The first build makes every layer again without Docker's layer cache, as on a fresh
machine (the root filesystem is re-imported from the kept debootstrap tarball;
``--debootstrap`` deletes the tarball first, to time debootstrap too). The second
build is what every later run does: each layer is found by its content tag. Then
trivial harness processes are timed in the docker and local backends, to show the
fixed cost of one container per timed process.

    python benchmarks/docker_build.py [DATASET] [--debootstrap] [--runs 20]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from perfbench.datasets import load_dataset  # noqa: E402
from perfbench.docker.engine import require_engine  # noqa: E402
from perfbench.docker.images import ImageSettings  # noqa: E402
from perfbench.docker.prebuild import build_pass, repo_cache  # noqa: E402
from perfbench.repos import default_cache_dir  # noqa: E402
from perfbench.sandbox.base import BASE, Limits  # noqa: E402
from perfbench.session import ensure_expert_patches  # noqa: E402

log = logging.getLogger("bench.docker")
TRIVIAL = "def setup(seed=0):\n    return seed\n\n\ndef run(data):\n    return data\n"


def per_process(dataset, runs: int, work: Path) -> dict[str, list[float]]:
    """Wall seconds of ``runs`` trivial harness processes in each backend, for the first instance."""
    from perfbench.docker.backend import DockerBackend
    from perfbench.sandbox.local import LocalBackend

    inst = next(iter(dataset))
    cache = default_cache_dir()
    mirror = repo_cache(dataset, cache, None).mirror(inst.repo, (inst.base_commit, inst.opt_commit))
    out: dict[str, list[float]] = {}
    for name, cls in (("local", LocalBackend), ("docker", DockerBackend)):
        with cls(
            inst, work_dir=work / name / "work", log_dir=work / name / "logs", cache_dir=cache
        ) as backend:
            backend.prepare_reference(mirror)
            path = backend.install_workloads({"trivial": TRIVIAL})["trivial"]
            walls = []
            for i in range(runs + 1):
                request = {
                    "workload": path,
                    "seed": 0,
                    "pythonpath": backend.pythonpath(BASE),
                    "mode": "time",
                    "loops": 1,
                    "repeats": 1,
                    "warmup": 0,
                    "nonce": f"n{i}",
                }
                t0 = time.perf_counter()
                proc = backend.run_harness(BASE, "runner.py", request, Limits(timeout_s=60))
                wall = time.perf_counter() - t0
                if proc.returncode != 0:
                    raise SystemExit(f"{name}: harness failed: {proc.stderr.decode()[-500:]}")
                if i:  # the first process warms caches
                    walls.append(wall)
            out[name] = walls
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", default=str(ROOT / "instances" / "examples"))
    ap.add_argument(
        "--debootstrap", action="store_true", help="delete the root-filesystem tarball first"
    )
    ap.add_argument(
        "--runs", type=int, default=20, help="trivial processes timed per backend (0: skip)"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    client = require_engine()
    dataset = load_dataset(args.dataset)
    instances = list(dataset)
    settings = ImageSettings(cache_dir=default_cache_dir())
    ensure_expert_patches(dataset, repo_cache(dataset, settings.cache_dir, None), instances)
    with tempfile.TemporaryDirectory(prefix="pb-docker-bench-") as tmp:
        logs = Path(tmp) / "logs"
        if args.debootstrap:
            for tarball in (settings.cache_dir / "docker" / "rootfs").glob("*.tar"):
                tarball.unlink()
        print(f"dataset {dataset.name}: {len(instances)} instances")
        first = build_pass(client, replace(settings, rebuild=True), dataset, instances, logs / "1")
        second = build_pass(client, settings, dataset, instances, logs / "2")
        if first.failed or second.failed:
            raise SystemExit(f"build failed: {(first.failed or second.failed)[0].error}")
        layer_s: dict[str, float] = {}
        for b in first.builds:
            for lr in b.layers:
                if not lr.cached:
                    layer_s[lr.layer] = layer_s.get(lr.layer, 0.0) + lr.seconds
        print(
            f"first build:  {first.seconds:8.2f} s  (built: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in layer_s.items())
            + ")"
        )
        print(
            f"cached build: {second.seconds:8.2f} s  ({second.seconds / len(instances) * 1000:.0f} ms per instance, "
            f"{sum(lr.cached for b in second.builds for lr in b.layers)} of "
            f"{sum(len(b.layers) for b in second.builds)} layers from cache)"
        )
        if args.runs:
            walls = per_process(dataset, args.runs, Path(tmp) / "proc")
            med = {k: statistics.median(v) for k, v in walls.items()}
            for name, values in walls.items():
                print(
                    f"{name:6s} process: median {med[name] * 1000:6.0f} ms, min {min(values) * 1000:6.0f} ms "
                    f"over {len(values)} trivial harness runs"
                )
            print(
                f"docker overhead per timed process: {(med['docker'] - med['local']) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
