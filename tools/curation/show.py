"""Print an instance's validation record compactly: show.py INSTANCE_DIR [...]"""
import json
import sys

for p in sys.argv[1:]:
    d = json.load(open(p.rstrip("/") + "/instance.json"))
    v = d.get("validation") or {}
    if not v:
        print(d["instance_id"], "no validation")
        continue
    s = v["speedup"]
    print(f"{d['instance_id']}: {s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}] blocks={v['blocks']} "
          f"valid={v['valid']} agree={v['results_agree']} reasons={v['reasons']}")
    for k, w in v["per_workload"].items():
        print(f"   {k:32s} {w['estimate']:.2f}x [{w['low']:.2f}, {w['high']:.2f}] vis={w['visible']} agree={w['results_agree']}")
    print("   guard:", {k: g["detail"] for k, g in v.get("guard", {}).items()})
