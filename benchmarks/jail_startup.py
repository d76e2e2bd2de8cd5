"""Start-up time of one sandboxed process: no jail, the former hide-list jail, the allow-list jail.

Every timed workload, result check and guard test is a fresh process in a jail, so what the
jail adds to a process's start-up is paid once per process (it is not inside the timed loops,
which start after the harness has bound its timer). Prints, per jail and command, the median,
minimum and maximum wall time of starting the process and running it to its end, over
interleaved rounds (one process of each kind per round, in a shuffled order).

    python benchmarks/jail_startup.py [--rounds 30] [--cpu 1]

Commands: ``python -s -c pass``, and a harness no-op (``harness/compare.py`` judging two equal
results, the smallest job the harness does). Needs root, unshare and setpriv.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfbench.sandbox.local import (
    ETC_ALLOW,
    HARNESS_DIR,
    SYSTEM_ALLOW,
    SYSTEM_PATH,
    interpreter_dirs,
    jail_argv,
    namespace_isolation_available,
)


def configs(work: Path, scratch: Path) -> dict[str, dict | None]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:{SYSTEM_PATH}",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    allow = [
        *SYSTEM_ALLOW,
        *(f"/etc/{n}" for n in ETC_ALLOW),
        *interpreter_dirs(sys.executable),
        str(HARNESS_DIR),
    ]
    hidden = work / "hidden"
    hidden.mkdir(exist_ok=True)
    return {
        "no jail": None,
        "hide-list jail": {
            "mode": "hide",
            "hide": [str(hidden)],
            "scratch": [str(scratch)],
            "cwd": str(scratch),
            "env": env,
            "tmpfs_size": "512m",
        },
        "allow-list jail": {
            "root": str(work / "root"),
            "allow": [p for p in allow if os.path.lexists(p)],
            "hide": [],
            "scratch": [str(scratch)],
            "cwd": str(scratch),
            "env": env,
            "tmpfs_size": "512m",
        },
    }


COMMANDS = {
    "python -c pass": ([sys.executable, "-s", "-c", "pass"], b""),
    "harness no-op (compare.py)": (
        [sys.executable, "-s", str(HARNESS_DIR / "compare.py")],
        json.dumps({"expected": "1", "actual": "1"}).encode() + b"\n",
    ),
}


def run_once(config: dict | None, argv: list[str], stdin: bytes, cpu: int | None) -> float:
    full = argv if config is None else jail_argv(config, argv)
    preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    t0 = time.perf_counter()
    proc = subprocess.run(full, input=stdin, capture_output=True, preexec_fn=preexec)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(full[:3])}...: exit {proc.returncode}: {proc.stderr.decode()[-500:]}"
        )
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--cpu", type=int, default=None, help="pin every process to this CPU")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not namespace_isolation_available():
        raise SystemExit("needs root with unshare and setpriv (namespace jail unavailable)")
    work = Path(tempfile.mkdtemp(prefix="perfbench-jailbench-"))
    try:
        (work / "root").mkdir()
        scratch = work / "scratch"
        scratch.mkdir()
        cfgs = configs(work, scratch)
        pairs = [(j, c) for j in cfgs for c in COMMANDS]
        times: dict[tuple[str, str], list[float]] = {p: [] for p in pairs}
        rng = random.Random(args.seed)
        for pair in pairs:  # one warm-up each (page cache)
            run_once(cfgs[pair[0]], *COMMANDS[pair[1]], args.cpu)
        for _ in range(args.rounds):
            rng.shuffle(pairs)
            for pair in pairs:
                times[pair].append(run_once(cfgs[pair[0]], *COMMANDS[pair[1]], args.cpu))
        print(
            f"{args.rounds} rounds, cpu {args.cpu if args.cpu is not None else 'any'}, python {sys.version.split()[0]}"
        )
        print(
            f"{'command':<30} {'jail':<16} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'+median ms':>11}"
        )
        for command in COMMANDS:
            ref = statistics.median(times[("no jail", command)])
            for jail in cfgs:
                t = times[(jail, command)]
                med = statistics.median(t)
                print(
                    f"{command:<30} {jail:<16} {med * 1e3:>10.1f} {min(t) * 1e3:>8.1f} {max(t) * 1e3:>8.1f} "
                    f"{(med - ref) * 1e3:>+11.1f}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
