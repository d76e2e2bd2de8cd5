"""Check every workload's seeds: the same seed gives the same result, seeds 1 and 2 different ones.

    python tools/curation/seedcheck.py STAGE/ID [...] --python VENV/bin/python [--mirror T] [--trees DIR]

Hidden workloads run at seeds the agent never sees, so ``setup(seed)`` must draw its inputs from
the seed alone (no order of a set of strings, no clock; each workload runs in two processes
with different hash seeds) and a result must depend on them. Results are
compared through the harness's serializer, as evaluation compares them; a result it can only
encode as an opaque ``$object`` is reported, since evaluation could not check it. Runs in the
expert's tree (``--variant base`` for base's). No timing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import curlib

CHILD = r"""
import hashlib, importlib.util, json, sys
sys.path.insert(0, sys.argv[2])
import serialize
enc = lambda x: serialize.canonical(serialize.encode(x))
spec = importlib.util.spec_from_file_location("workload", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
a, b, c = enc(m.run(m.setup(1))), enc(m.run(m.setup(1))), enc(m.run(m.setup(2)))
print(json.dumps({"same_seed_equal": a == b, "seeds_differ": a != c, "object_free": "$object" not in a,
                  "digest": hashlib.sha256(a.encode()).hexdigest()}))
"""


def check(record: dict, folder: Path, tree: Path, python: str) -> bool:
    ok = True
    for w in record["workloads"]:
        cmd = [
            python,
            "-W",
            "ignore",
            "-c",
            CHILD,
            str((folder / w["path"]).resolve()),
            str(curlib.HARNESS),
        ]
        runs = []
        # Two processes with different string-hash seeds: setup(seed) must not depend on hash().
        for hash_seed in ("1", "2"):
            env = {**curlib.tree_environ(record, tree), "PYTHONHASHSEED": hash_seed}
            runs.append(subprocess.run(cmd, capture_output=True, text=True, cwd=tree, env=env))
        failed = next((r for r in runs if r.returncode), None)
        if failed is not None:
            print(
                f"{record['instance_id']} {w['name']}: ERROR {(failed.stderr.strip().splitlines() or ['?'])[-1]}"
            )
            ok = False
            continue
        first, second = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
        res = {k: v for k, v in first.items() if k != "digest"}
        res["hash_seed_free"] = first["digest"] == second["digest"]
        good = all(res.values())
        ok &= good
        flags = " ".join(f"{k}={v}" for k, v in res.items())
        print(f"{record['instance_id']} {w['name']}: {'ok' if good else 'FAIL'} {flags}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "instances", nargs="+", type=Path, help="instance folders (staged or in a dataset)"
    )
    ap.add_argument(
        "--python", default=sys.executable, help="interpreter with the repository's deps"
    )
    ap.add_argument("--variant", choices=("base", "opt"), default="opt")
    ap.add_argument("--mirror", help="mirror template [PERFBENCH_REPO_URL]")
    ap.add_argument(
        "--trees", type=Path, default=curlib.DEFAULT_TREES, help="where trees are exported"
    )
    args = ap.parse_args(argv)
    ok = True
    for folder in args.instances:
        try:
            record = curlib.load_instance(folder)
            tree = curlib.instance_trees(record, args.mirror, args.trees)[args.variant]
        except curlib.CurationError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        ok &= check(record, folder, tree, args.python)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
