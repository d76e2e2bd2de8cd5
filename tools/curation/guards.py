"""Run a staged instance's guard tests in the pre-screen trees (base and opt) with a given venv (working aid).

    python guards.py STAGED_INSTANCE_DIR VENV_PYTHON
"""
import json
import os
import subprocess
import sys
from pathlib import Path

inst = json.loads((Path(sys.argv[1]) / "instance.json").read_text())
py = sys.argv[2]
repo = inst["repo"].replace("/", "+")
for label in ("base_commit", "opt_commit"):
    tree = Path(os.environ.get("TREES", "/tmp/pb/trees")) / repo / inst[label][:12]
    pp = os.pathsep.join(str(tree / p) for p in inst["env"].get("pythonpath", []))
    cmd = inst.get("test_command", "python -m pytest -q -p no:cacheprovider").split()
    cmd[0] = py
    p = subprocess.run(cmd + inst["guard_tests"], cwd=tree, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": pp})
    print(label, "rc", p.returncode, (p.stdout.strip().splitlines() or [""])[-1][:200])
