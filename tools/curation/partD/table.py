"""Print the table of part-D instances in instances/v1 (id, repo, API, expert speedup [CI], kind, patch size),
and the per-workload figures with --workloads."""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
root = HERE.parents[2] / "instances" / "v1"
mine = set()
for spec in (HERE / "specs").glob("*.json"):
    s = json.loads(spec.read_text())
    mine.add(s["repo"].replace("/", "__") + "-")
rows = []
for p in sorted(root.glob("*/instance.json")):
    d = json.loads(p.read_text())
    spec_ids = {json.loads(s.read_text())["opt"][:7] for s in (HERE / "specs").glob("*.json")}
    if d["opt_commit"][:7] not in spec_ids:
        continue
    rows.append(d)
print("| instance | repo | API | expert speedup [95% CI] | kind | patch |")
print("|---|---|---|---|---|---|")
for d in rows:
    v = d.get("validation", {}).get("speedup", {})
    m = d["metadata"]
    pl = m["patch_lines"]
    print(f"| `{d['instance_id']}` | {d['repo']} | `{m['api']}` | {v.get('estimate', 0):.2f}x [{v.get('low', 0):.2f}, {v.get('high', 0):.2f}] "
          f"| {m['kind']} | +{pl['added']}/-{pl['deleted']} in {m['patch_files']} files |")
if "--workloads" in sys.argv:
    print("\n```")
    for d in rows:
        v = d["validation"]
        s = v["speedup"]
        print(f"{d['instance_id']}: {s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}] blocks={v['blocks']} python={v['sandbox']['python_version']}")
        for name, w in v["per_workload"].items():
            print(f"   {name:30s} {w['estimate']:6.2f}x [{w['low']:.2f}, {w['high']:.2f}] {'visible' if w['visible'] else 'hidden'}")
    print("```")
