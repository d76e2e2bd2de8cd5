"""Print instances' validation records compactly, per workload.

python tools/curation/show.py STAGE/ID [...]     (instance folders or instance.json files)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import curlib


def describe(record: dict) -> list[str]:
    v = record.get("validation") or {}
    iid = record["instance_id"]
    if not v.get("speedup"):
        return [
            f"{iid}: no validation record"
            + (f" (reasons: {v['reasons']})" if v.get("reasons") else "")
        ]
    s = v["speedup"]
    guard = {k: g.get("detail") for k, g in (v.get("guard") or {}).items()}
    lines = [
        f"{iid}: {s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}] blocks={v.get('blocks')} "
        f"valid={v.get('valid')} agree={v.get('results_agree')} "
        f"python={(v.get('sandbox') or {}).get('python_version')} date={v.get('date')} run={v.get('run_id')}",
        f"   guard: {guard}",
    ]
    if v.get("reasons"):
        lines.append(f"   reasons: {v['reasons']}")
    for name, w in (v.get("per_workload") or {}).items():
        vis = "visible" if w.get("visible") else "hidden"
        lines.append(f"   {name:32s} {w['estimate']:7.2f}x [{w['low']:.2f}, {w['high']:.2f}] {vis}")
    for old in v.get("history", []):
        hs = old.get("speedup") or {}
        if hs:
            lines.append(
                f"   earlier {old.get('date')}: {hs.get('estimate', 0):.2f}x [{hs.get('low', 0):.2f}, "
                f"{hs.get('high', 0):.2f}] blocks={old.get('blocks')} valid={old.get('valid')}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("instances", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for folder in args.instances:
        try:
            print("\n".join(describe(curlib.load_instance(folder))))
        except curlib.CurationError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
