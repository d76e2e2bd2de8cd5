"""Print the table of part-B instances in instances/v1 (id, repo, API, expert speedup [CI], kind, patch size)."""
import json
from pathlib import Path

MINE = {"chardet/chardet", "pygments/pygments", "lark-parser/lark", "eliben/pycparser", "davidhalter/parso",
        "dateutil/dateutil", "Textualize/rich", "yaml/pyyaml", "simplejson/simplejson"}
root = Path(__file__).resolve().parents[3] / "instances" / "v1"
print("| instance | repo | API | expert speedup [95% CI] | kind | patch |")
print("|---|---|---|---|---|---|")
for p in sorted(root.glob("*/instance.json")):
    d = json.loads(p.read_text())
    if d["repo"] not in MINE:
        continue
    v = d.get("validation", {}).get("speedup", {})
    m = d["metadata"]
    pl = m["patch_lines"]
    print(f"| `{d['instance_id']}` | {d['repo']} | `{m['api']}` | {v.get('estimate', 0):.2f}x [{v.get('low', 0):.2f}, {v.get('high', 0):.2f}] "
          f"| {m['kind']} | +{pl['added']}/-{pl['deleted']} in {m['patch_files']} files |")
