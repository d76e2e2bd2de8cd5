"""Quick pre-screen of a candidate commit (working aid, not a measurement of record).

    python screen.py OWNER+NAME SHA WORKLOAD.py [WORKLOAD.py ...] [--pp src] [--seed N] [--venv-base DIR --venv-opt DIR]

Exports parent and commit with `git archive` under $TREES (default /tmp/pb/trees), runs each workload in a fresh
process per variant (setup untimed, run timed: min of a few repeats), prints per-call times, the
ratio, and whether the results' digests agree.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import io
from pathlib import Path

ROOT = Path(os.environ.get("TREES", "/tmp/pb/trees"))
HARNESS = Path(__file__).resolve().parents[3] / "harness"

CHILD = r'''
import sys, json, time, importlib.util, hashlib
sys.path.insert(0, %(harness)r)
import serialize
for p in reversed(%(pp)r): sys.path.insert(1, p)
spec = importlib.util.spec_from_file_location("w", %(wl)r); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
data = m.setup(%(seed)d)
t0 = time.perf_counter(); r = m.run(data); first = time.perf_counter() - t0
dig = hashlib.sha256(serialize.canonical(serialize.encode(r)).encode()).hexdigest()[:12]
loops = max(1, int(0.15 / max(first, 1e-6)))
best = 1e9
for _ in range(%(reps)d):
    t0 = time.perf_counter()
    for _ in range(loops): m.run(data)
    best = min(best, (time.perf_counter() - t0) / loops)
print(json.dumps({"first": first, "best": best, "digest": dig, "loops": loops}))
'''


def export(repo: str, commit: str) -> Path:
    git_dir = f"/work/.mirror/{repo}/repo"
    full = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", commit], text=True).strip()
    dest = ROOT / repo / full[:12]
    if not (dest / ".done").exists():
        dest.mkdir(parents=True, exist_ok=True)
        tar = subprocess.check_output(["git", "--git-dir", git_dir, "archive", full])
        tarfile.open(fileobj=io.BytesIO(tar)).extractall(dest)
        (dest / ".done").write_text(full)
    return dest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("sha")
    ap.add_argument("workloads", nargs="+")
    ap.add_argument("--pp", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--python-base", default=None)
    ap.add_argument("--python-opt", default=None)
    a = ap.parse_args()
    git_dir = f"/work/.mirror/{a.repo}/repo"
    parent = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", a.sha + "^"], text=True).strip()
    trees = {"base": export(a.repo, parent), "opt": export(a.repo, a.sha)}
    pythons = {"base": a.python_base or a.python, "opt": a.python_opt or a.python}
    for wl in a.workloads:
        res = {}
        for v, tree in trees.items():
            pp = [str(tree / p) for p in a.pp.split(",") if p] if a.pp else []
            if a.pp == ".":
                pp = [str(tree)]
            code = CHILD % {"harness": str(HARNESS), "pp": pp, "wl": os.path.abspath(wl), "seed": a.seed, "reps": a.reps}
            p = subprocess.run([pythons[v], "-c", code], capture_output=True, text=True, cwd="/tmp")
            if p.returncode:
                print(f"{wl} {v} FAILED\n{p.stderr[-3000:]}")
                res[v] = None
                continue
            res[v] = json.loads(p.stdout.strip().splitlines()[-1])
        if res.get("base") and res.get("opt"):
            b, o = res["base"], res["opt"]
            print(f"{Path(wl).name:40s} base {b['best']*1e3:8.2f} ms  opt {o['best']*1e3:8.2f} ms  x{b['best']/o['best']:6.2f}  "
                  f"agree={b['digest']==o['digest']} ({b['digest']} {o['digest']}) first {b['first']*1e3:.1f}/{o['first']*1e3:.1f}")


if __name__ == "__main__":
    main()
