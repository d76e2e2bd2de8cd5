"""Run a staged instance's guard tests at base and at opt, before any measurement.

    python tools/curation/guards.py STAGE/ID --python VENV/bin/python [--mirror T] [--trees DIR]

A quick loop for choosing guard tests: no build, no timing. ``--python`` must have pytest and the
repository's dependencies (what ``env.pip_packages`` lists); ``perfbench validate`` later runs the
same tests in the instance's own environment, first, and stops if they fail.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import curlib

DEFAULT_COMMAND = "python -m pytest -q -p no:cacheprovider"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("instance", type=Path, help="an instance folder (staged or in a dataset)")
    ap.add_argument("--python", default=sys.executable, help="interpreter with pytest and the deps")
    ap.add_argument("--mirror", help="mirror template [PERFBENCH_REPO_URL]")
    ap.add_argument(
        "--trees", type=Path, default=curlib.DEFAULT_TREES, help="where trees are exported"
    )
    args = ap.parse_args(argv)
    try:
        record = curlib.load_instance(args.instance)
        trees = curlib.instance_trees(record, args.mirror, args.trees)
    except curlib.CurationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cmd = shlex.split(record.get("test_command", DEFAULT_COMMAND))
    cmd[0] = args.python
    failed = 0
    for label, tree in trees.items():
        proc = subprocess.run(
            cmd + record["guard_tests"],
            cwd=tree,
            capture_output=True,
            text=True,
            env=curlib.tree_environ(record, tree),
        )
        last = (proc.stdout.strip().splitlines() or [""])[-1]
        print(f"{label}: rc {proc.returncode} {last[:200]}")
        failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
