"""Quick screen: time workloads at base and opt in fresh processes, several seeds, and compare results.

Usage: python tools/curation/partA/quick.py INSTANCE_DIR [--seeds 0,1,7] [--python PY] [--rounds 3]

Trees are exported from the mirror to /tmp/A/trees/<commit>; PYTHONPATH from the
instance's env.pythonpath. For instances that need an install, pass --python of a venv per
variant with --base-python/--opt-python (then pythonpath is ignored if empty).
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

MIRROR = "/work/.mirror/{owner}+{name}/repo"
TREES = Path("/tmp/A/trees")
CHILD = r'''
import sys, time, json, importlib.util, hashlib
spec = importlib.util.spec_from_file_location("w", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
d = m.setup(int(sys.argv[2])); r = m.run(d)
best = 1e9; n = 0; t_end = time.perf_counter() + float(sys.argv[3])
while n < 3 or time.perf_counter() < t_end:
    t = time.perf_counter(); m.run(d); best = min(best, time.perf_counter() - t); n += 1
print(json.dumps({"t": best, "n": n, "digest": hashlib.sha256(repr(r).encode()).hexdigest()[:12], "r": repr(r)[:80]}))
'''


def tree(repo, commit):
    owner, name = repo.split("/")
    path = TREES / commit[:12]
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        subprocess.run(f"git --git-dir={MIRROR.format(owner=owner, name=name)} archive {commit} | tar -x -C {tmp}",
                       shell=True, check=True)
        tmp.rename(path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("instance")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--secs", type=float, default=0.5)
    ap.add_argument("--workloads", default="")
    ap.add_argument("--base-python", default=sys.executable)
    ap.add_argument("--opt-python", default=sys.executable)
    ap.add_argument("--base-tree")
    ap.add_argument("--opt-tree")
    a = ap.parse_args()
    inst = json.loads((Path(a.instance) / "instance.json").read_text())
    trees = {"base": Path(a.base_tree) if a.base_tree else tree(inst["repo"], inst["base_commit"]),
             "opt": Path(a.opt_tree) if a.opt_tree else tree(inst["repo"], inst["opt_commit"])}
    py = {"base": a.base_python, "opt": a.opt_python}
    names = a.workloads.split(",") if a.workloads else [w["name"] for w in inst["workloads"]]
    for wname in names:
        wpath = str(Path(a.instance).resolve() / "workloads" / f"{wname}.py")
        for seed in a.seeds.split(","):
            best = {}
            dig = {}
            for _ in range(a.rounds):
                for v in ("base", "opt"):
                    env = {**os.environ, "PYTHONHASHSEED": "0",
                           "PYTHONPATH": os.pathsep.join(str(trees[v] / p) for p in inst["env"].get("pythonpath", []))}
                    out = subprocess.run([py[v], "-c", CHILD, wpath, seed, str(a.secs)], env=env, cwd="/tmp",
                                         capture_output=True, text=True)
                    if out.returncode:
                        print(wname, seed, v, "ERROR", out.stderr[-800:])
                        return
                    res = json.loads(out.stdout.strip().splitlines()[-1])
                    best[v] = min(best.get(v, 1e9), res["t"])
                    dig[v] = res["digest"]
            same = "same" if dig["base"] == dig["opt"] else "DIFFER"
            print(f"{wname:32s} seed={seed:>4s} base={best['base']*1e3:8.2f}ms opt={best['opt']*1e3:8.2f}ms "
                  f"x{best['base']/best['opt']:6.2f} {same}", flush=True)


if __name__ == "__main__":
    main()
