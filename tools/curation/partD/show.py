"""Print a staged instance's validation record per workload (working aid).  python show.py ID [...]"""
import json
import os
import sys
from pathlib import Path

STAGE = Path(os.environ.get("STAGE", "/tmp/pbD/ds"))
for iid in sys.argv[1:]:
    v = json.loads((STAGE / iid / "instance.json").read_text()).get("validation") or {}
    s = v.get("speedup", {})
    print(f"{iid}: {s.get('estimate', 0):.2f}x [{s.get('low', 0):.2f}, {s.get('high', 0):.2f}] blocks={v.get('blocks')} "
          f"valid={v.get('valid')} agree={v.get('results_agree')} python={v.get('sandbox', {}).get('python_version')} "
          f"guard={[g.get('detail') for g in v.get('guard', {}).values()]} reasons={v.get('reasons')}")
    for name, w in v.get("per_workload", {}).items():
        print(f"   {name:32s} {w['estimate']:.2f}x [{w['low']:.2f}, {w['high']:.2f}] vis={w['visible']} agree={w['results_agree']}")
