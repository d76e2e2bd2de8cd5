"""Check that each workload's run(setup(seed)) is deterministic per seed and differs between seeds 1 and 2 (working aid).

    python seedcheck.py STAGED_INSTANCE_DIR VENV_PYTHON
Runs in the pre-screen tree of opt_commit (under /tmp/pbC/trees).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[3] / "harness"
CHILD = r'''
import sys, hashlib, importlib.util
sys.path.insert(0, %(harness)r)
import serialize
for p in %(pp)r: sys.path.insert(1, p)
spec = importlib.util.spec_from_file_location("w", %(wl)r); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
out = []
for s in (1, 1, 2):
    out.append(hashlib.sha256(serialize.canonical(serialize.encode(m.run(m.setup(s)))).encode()).hexdigest()[:12])
print(out[0] == out[1], out[0] != out[2], out)
'''
inst_dir = Path(sys.argv[1])
inst = json.loads((inst_dir / "instance.json").read_text())
tree = Path("/tmp/pbC/trees") / inst["repo"].replace("/", "+") / inst["opt_commit"][:12]
pp = [str(tree / p) for p in inst["env"].get("pythonpath", [])]
for w in inst["workloads"]:
    code = CHILD % {"harness": str(HARNESS), "pp": pp, "wl": str((inst_dir / w["path"]).resolve())}
    p = subprocess.run([sys.argv[2], "-c", code], capture_output=True, text=True, cwd="/tmp")
    print(w["name"], p.stdout.strip() or p.stderr[-500:])
