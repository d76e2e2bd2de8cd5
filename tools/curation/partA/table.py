"""Markdown table of part A's instances in a dataset folder: table.py [DATASET]"""
import json
import sys
from pathlib import Path

REPOS = {"pytoolz/toolz", "grantjenks/python-sortedcontainers", "lepture/mistune", "pallets/markupsafe",
         "python-humanize/humanize", "pallets/jinja"}
root = Path(sys.argv[1] if len(sys.argv) > 1 else "instances/v1")
rows = []
for p in sorted(root.glob("*/instance.json")):
    d = json.loads(p.read_text())
    if d["repo"] not in REPOS:
        continue
    v = d.get("validation") or {}
    s = v.get("speedup", {})
    m = d.get("metadata", {})
    pl = m.get("patch_lines", {})
    sp = f"{s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}]" if s else "-"
    rows.append((d["repo"], d["instance_id"], m.get("api", ""), sp, v.get("blocks", "-"), m.get("kind", ""),
                 f"+{pl.get('added', 0)}/-{pl.get('deleted', 0)} in {m.get('patch_files', 0)}"))
print("| instance | repo | API | expert speedup [95% CI] | blocks | kind | patch |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| `{r[1]}` | {r[0]} | `{r[2]}` | {r[3]} | {r[4]} | {r[5]} | {r[6]} |")
print(f"\n{len(rows)} instances")
