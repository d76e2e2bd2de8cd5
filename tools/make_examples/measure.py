#!/usr/bin/env python3
"""Quick timing of the example instances: base against opt (and sample patches).

A sanity tool for whoever edits ``tools/make_examples/``, independent of the
perfbench package. For every instance it exports the base and opt trees from
the dataset's git bundle (plus base + patch for each prediction given with
``--predictions``), then times each workload's ``run(data)`` in fresh
subprocesses with ``PYTHONPATH=<tree>/src``. Variants are interleaved in a
shuffled order in each round; a process reports the minimum per-call time of
its repeats, and a variant's figure is the minimum over rounds (the median of
the per-round ratios is printed beside it). Results are compared with base's.

Usage::

    python tools/make_examples/measure.py                       # all instances
    python tools/make_examples/measure.py --instance bins --rounds 8
    python tools/make_examples/measure.py --predictions instances/examples/predictions/samples.jsonl

Hidden workloads run at the dataset's ``eval_seed`` unless ``--seed`` is given;
visible ones at seed 0. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATASET = HERE.parent.parent / "instances" / "examples"

RUNNER = r"""
import json, sys, time
path, seed, loops, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
timer = time.process_time if sys.argv[5] == "process" else time.perf_counter
ns = {"__name__": "workload", "__file__": path}
with open(path) as f:
    exec(compile(f.read(), path, "exec"), ns)
data = ns["setup"](seed)
run = ns["run"]
result = run(data)
times = []
for _ in range(repeats):
    t0 = timer()
    for _ in range(loops):
        run(data)
    times.append((timer() - t0) / loops)
print(json.dumps({"times": times, "result": result}))
"""


def limit_memory() -> None:
    cap = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run_workload(
    tree: Path, workload: Path, seed: int, loops: int, repeats: int, timeout: float, clock: str
) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    scratch = Path(tempfile.mkdtemp(prefix="pbmeasure-"))
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                RUNNER,
                str(workload),
                str(seed),
                str(loops),
                str(repeats),
                clock,
            ],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f}s"}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode != 0:
        if proc.returncode < 0:
            return {"error": f"killed by signal {-proc.returncode}"}
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {last[:120]}"}
    return json.loads(proc.stdout)


def same(a, b, rel=1e-9) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    return a == b


def git(
    *args: str, cwd: Path | None = None, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=cwd, input=input, capture_output=True, text=True, check=check
    )


def export(repo: Path, commit: str, dest: Path) -> Path:
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit], cwd=repo, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    p.add_argument(
        "--instance", action="append", default=[], help="id, its 7 hex, or a substring; repeatable"
    )
    p.add_argument("--workload", action="append", default=[], help="only these workload names")
    p.add_argument(
        "--predictions",
        type=Path,
        action="append",
        default=[],
        help="JSONL of predictions to time too",
    )
    p.add_argument("--no-opt", action="store_true", help="do not time the expert variant")
    p.add_argument(
        "--seed", type=int, help="seed for hidden workloads (default: the dataset's eval_seed)"
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per process")
    p.add_argument(
        "--target", type=float, default=0.02, help="seconds per repeat at base, sets the loop count"
    )
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument(
        "--clock",
        choices=["wall", "process"],
        default="wall",
        help="time.perf_counter (default) or time.process_time, which ignores time spent descheduled",
    )
    args = p.parse_args(argv)

    dataset = json.loads((args.dataset / "dataset.json").read_text())
    hidden_seed = args.seed if args.seed is not None else dataset.get("eval_seed", 1)
    instances = []
    for path in sorted(args.dataset.glob("*/instance.json")):
        rec = json.loads(path.read_text())
        rec["_dir"] = path.parent
        if args.instance and not any(
            s in rec["instance_id"] or s in rec.get("metadata", {}).get("api", "")
            for s in args.instance
        ):
            continue
        instances.append(rec)
    preds: dict[str, list[dict]] = {}
    for file in args.predictions:
        for line in file.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                preds.setdefault(r["instance_id"], []).append(r)

    work = Path(tempfile.mkdtemp(prefix="pbmeasure-"))
    try:
        repo = work / "repo"
        bundles = {name: args.dataset / rel for name, rel in dataset["repos"].items()}
        git("clone", "-q", "--no-checkout", str(next(iter(bundles.values()))), str(repo))
        order = random.Random(12345)
        for rec in instances:
            iid = rec["instance_id"]
            print(f"\n== {iid}  ({rec.get('metadata', {}).get('api', '')})", flush=True)
            variants: dict[str, Path] = {
                "base": export(repo, rec["base_commit"], work / iid / "base")
            }
            if not args.no_opt:
                variants["opt"] = export(repo, rec["opt_commit"], work / iid / "opt")
            for i, pr in enumerate(preds.get(iid, [])):
                name = f"{pr['model_name_or_path']}"
                if name in variants:
                    name = f"{name}#{i}"
                tree = export(repo, rec["base_commit"], work / iid / f"cand{i}")
                proc = git("apply", "-", cwd=tree, input=pr["model_patch"], check=False)
                if proc.returncode != 0:
                    print(
                        f"   {name}: patch does not apply ({proc.stderr.strip().splitlines()[0]})"
                    )
                    continue
                variants[name] = tree
            for w in rec["workloads"]:
                if args.workload and w["name"] not in args.workload:
                    continue
                wpath = rec["_dir"] / w["path"]
                seed = 0 if w.get("visible") else hidden_seed
                probe = run_workload(variants["base"], wpath, seed, 1, 3, args.timeout, args.clock)
                if "error" in probe:
                    print(f"   {w['name']}: base failed: {probe['error']}")
                    continue
                loops = max(1, math.ceil(args.target / min(probe["times"])))
                reference = probe["result"]
                mins: dict[str, list[float]] = {v: [] for v in variants}
                problems: dict[str, str] = {}
                for _ in range(args.rounds):
                    names = [v for v in variants if v not in problems]
                    order.shuffle(names)
                    for v in names:
                        out = run_workload(
                            variants[v], wpath, seed, loops, args.repeats, args.timeout, args.clock
                        )
                        if "error" in out:
                            problems[v] = out["error"]
                        elif not same(reference, out["result"]):
                            problems[v] = "WRONG RESULT"
                            mins[v].append(min(out["times"]))
                        else:
                            mins[v].append(min(out["times"]))
                base_t = min(mins["base"])
                tag = "visible" if w.get("visible") else "hidden"
                cells = [f"base {base_t * 1e3:7.2f} ms"]
                for v in variants:
                    if v == "base":
                        continue
                    if mins[v]:
                        ratios = [b / c for b, c in zip(mins["base"], mins[v], strict=False)]
                        lo, hi = min(ratios), max(ratios)
                        cell = f"{v} x{base_t / min(mins[v]):.3f} (rounds: median x{statistics.median(ratios):.3f}, {lo:.3f}-{hi:.3f})"
                    else:
                        cell = f"{v} -"
                    if v in problems:
                        cell += f" [{problems[v]}]"
                    cells.append(cell)
                print(
                    f"   {w['name']:22s} {tag:7s} seed {seed:<7d} loops {loops:<3d} "
                    + "  ".join(cells),
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
