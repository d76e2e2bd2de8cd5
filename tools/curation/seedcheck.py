"""Check that run(setup(seed)) of every part-D workload is the same for the same seed and differs across seeds
(working aid; uses the pre-screen trees under /tmp/pbD/trees and the Python 3.9 venv /tmp/pbD/venv39).

    python seedcheck.py STAGED_OR_PROMOTED_INSTANCE_DIR [...]
"""
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r'''
import sys, importlib.util
sys.path.insert(0, "/work/main/harness")
import serialize
enc = lambda x: serialize.canonical(serialize.encode(x))
spec = importlib.util.spec_from_file_location("w", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
a, b, c = enc(m.run(m.setup(1))), enc(m.run(m.setup(1))), enc(m.run(m.setup(2)))
print("same-seed-equal", a == b, "diff-seed-differ", a != c, "object-free", "$object" not in a)
'''
PY = os.environ.get("PY", "/tmp/pbD/venv39/bin/python")
for d in map(Path, sys.argv[1:]):
    inst = json.loads((d / "instance.json").read_text())
    tree = Path("/tmp/pbD/trees") / inst["repo"].replace("/", "+") / inst["opt_commit"][:12]
    pp = os.pathsep.join(str(tree / p) for p in inst["env"].get("pythonpath", []))
    for w in inst["workloads"]:
        r = subprocess.run([PY, "-W", "ignore", "-c", CHILD, str(d / w["path"])], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": pp}, cwd="/tmp")
        out = r.stdout.strip() or (r.stderr.strip().splitlines() or ["?"])[-1]
        print(d.name, w["name"], out)
