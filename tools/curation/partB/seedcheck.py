"""Check that run(setup(seed)) of every part-B workload is the same for the same seed and differs across seeds (working aid; uses the pre-screen trees and venvs under /tmp/pbB)."""
import json, sys, importlib.util, subprocess, os
from pathlib import Path
ROOT = Path("/work/main/instances/v1")
MINE = ("pygments__", "Textualize__", "lark-parser__", "eliben__", "dateutil__", "simplejson__")
CHILD = r'''
import sys, importlib.util, hashlib
sys.path.insert(0, "/work/main/harness")
import serialize
def enc(x):
    if isinstance(x, dict):
        return "|".join(str(k) + "=" + enc(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0])))
    try:
        s = serialize.canonical(serialize.encode(x))
        return "" if ("$object" in s) else s
    except Exception as e:
        return ""
spec = importlib.util.spec_from_file_location("w", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
a, b, c = enc(m.run(m.setup(1))), enc(m.run(m.setup(1))), enc(m.run(m.setup(2)))
import re
strip = lambda s: re.sub(r"0x[0-9a-f]{6,}", "", s)
print("same-seed-equal", strip(a) == strip(b), "diff-seed-differ", strip(a) != strip(c))
'''
for d in sorted(ROOT.iterdir()):
    if not d.name.startswith(MINE):
        continue
    inst = json.loads((d / "instance.json").read_text())
    tree = Path("/tmp/pbB/trees") / inst["repo"].replace("/", "+") / inst["opt_commit"][:12]
    pp = os.pathsep.join(str(tree / p) for p in inst["env"].get("pythonpath", []))
    py = "/tmp/pbB/venvsj/bin/python" if "simplejson" in d.name else "/tmp/pbB/venv/bin/python"
    for w in inst["workloads"]:
        r = subprocess.run([py, "-c", CHILD, str(d / w["path"])], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": pp}, cwd="/tmp")
        out = (r.stdout.strip() or r.stderr.strip().splitlines()[-1] if (r.stdout.strip() or r.stderr.strip()) else "?")
        print(d.name, w["name"], out)
