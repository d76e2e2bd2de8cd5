"""Print the NOTES.md table rows and per-workload figures for staged or promoted part-C instances (working aid).

    python table.py DIR [DIR ...]
"""
import json
import sys
from pathlib import Path

for d in sys.argv[1:]:
    inst = json.loads((Path(d) / "instance.json").read_text())
    v, m = inst["validation"], inst["metadata"]
    s = v["speedup"]
    print(f"| `{inst['instance_id']}` | {inst['repo']} | `{m['api']}` | {s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}] | "
          f"{m['kind']} | +{m['patch_lines']['added']}/-{m['patch_lines']['deleted']} in {m['patch_files']} files |")
for d in sys.argv[1:]:
    inst = json.loads((Path(d) / "instance.json").read_text())
    v = inst["validation"]
    print(f"{inst['instance_id']}: blocks={v['blocks']} valid={v.get('valid')} guard={v['guard']['base']['passed']}/{v['guard']['expert']['passed']}")
    for k, w in v["per_workload"].items():
        print(f"   {k:28s} {w['estimate']:7.2f}x [{w['low']:.2f}, {w['high']:.2f}] vis={w['visible']} agree={w['results_agree']}")
