"""Collect pytest ids in an exported tree that match a regex: testids.py TREE REGEX [PYTHONPATH] [TESTPATH]"""
import json
import os
import re
import subprocess
import sys

tree, pattern = sys.argv[1], sys.argv[2]
pp = sys.argv[3] if len(sys.argv) > 3 else "."
tp = sys.argv[4] if len(sys.argv) > 4 else "tests"
out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", tp],
                     cwd=tree, env={**os.environ, "PYTHONPATH": pp}, capture_output=True, text=True).stdout
ids = [l for l in out.splitlines() if "::" in l and re.search(pattern, l)]
print(json.dumps(ids, indent=2))
