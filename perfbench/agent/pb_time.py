#!/usr/bin/env python3
"""pb-time: time the visible workload on the repository as it is now (inside the agent's container).

Copied into the agent's container as ``/pb/task/bin/pb-time`` (standard library only, Python
3.8+). It reads ``/pb/task/task.json`` for the instance's interpreter and import path, and
times the workloads under ``/pb/task/workloads/``: only the visible one is ever there. Each
timed call gets a fresh input from ``setup(seed)``, built outside the timed region; the median
of the calls is printed with a digest of the results, so a change that alters the results
shows as a different digest.

    pb-time                    # every workload in /pb/task/workloads, 20 calls each
    pb-time -n 50 --seed 3 NAME
"""

import argparse
import json
import os
import subprocess
import sys

TASK = os.environ.get("PERFBENCH_TASK", "/pb/task")

CHILD = r"""
import hashlib, importlib.util, json, statistics, sys, time
path, calls, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spec = importlib.util.spec_from_file_location("pb_workload", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
warm = mod.run(mod.setup(seed))
times, digest = [], hashlib.sha256()
for i in range(calls):
    data = mod.setup(seed)
    t0 = time.perf_counter()
    result = mod.run(data)
    times.append(time.perf_counter() - t0)
    digest.update(repr(result).encode())
print(json.dumps({"median_s": statistics.median(times), "min_s": min(times),
                  "calls": calls, "seed": seed, "result_sha256": digest.hexdigest()[:16]}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pb-time", description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", nargs="*", help="workload names (default: all there are)")
    parser.add_argument("-n", "--calls", type=int, default=20, help="timed calls (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of setup() (default 0)")
    parser.add_argument("--json", action="store_true", help="one JSON line per workload")
    args = parser.parse_args(argv)
    with open(os.path.join(TASK, "task.json")) as fh:
        task = json.load(fh)
    found = {w["name"]: w["path"] for w in task.get("workloads", [])}
    names = args.workload or sorted(found)
    missing = [n for n in names if n not in found]
    if missing:
        print(
            "pb-time: no workload %r (there is: %s)" % (missing[0], ", ".join(sorted(found))),
            file=sys.stderr,
        )
        return 2
    env = dict(os.environ)
    extra = [os.path.join(task["repo_dir"], p) for p in task.get("pythonpath", [])]
    env["PYTHONPATH"] = os.pathsep.join(extra + [p for p in [env.get("PYTHONPATH")] if p])
    status = 0
    for name in names:
        proc = subprocess.run(
            [
                task.get("python") or "python3",
                "-c",
                CHILD,
                found[name],
                str(args.calls),
                str(args.seed),
            ],
            cwd=task["repo_dir"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        if proc.returncode != 0:
            print(
                "pb-time: %s failed (exit status %d):\n%s"
                % (name, proc.returncode, proc.stderr[-4000:]),
                file=sys.stderr,
            )
            status = 1
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["workload"] = name
        if args.json:
            print(json.dumps(result))
        else:
            print(
                "%s: median %.6f s, min %.6f s over %d calls (seed %d), results %s"
                % (
                    name,
                    result["median_s"],
                    result["min_s"],
                    result["calls"],
                    result["seed"],
                    result["result_sha256"],
                )
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
