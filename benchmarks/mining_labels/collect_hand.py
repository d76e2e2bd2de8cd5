"""Fold the hand benchmarks' validation records into labels.json (``checked: measured``).

Usage: python benchmarks/mining_labels/collect_hand.py [--check]

Each labelled speed-up with a hand benchmark (``hand/<owner+name>/<id>/``, measured with
``perfbench validate``, base = parent, expert = the commit) gets ``checked: "measured"`` and
``measured: {estimate, low, high, results_agree, blocks, contended, grade}`` where grade is
``benchmark`` when the lower bound clears the record's threshold (1.2x), ``micro`` when the
expert is faster but not by that much, and ``none`` when it is not faster at all. A hand
benchmark whose results differ, or whose record is missing or contended, is listed and
not folded in. ``--check`` only reports what would change (exit 1 if anything would).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def grade(low: float, threshold: float) -> str:
    if low >= threshold:
        return "benchmark"
    return "micro" if low > 1.0 else "none"


def hand_records(root: Path) -> dict[str, dict]:
    """opt_commit -> measured figures, from every hand dataset's instance.json."""
    found: dict[str, dict] = {}
    for path in sorted(root.glob("*/*/instance.json")):
        inst = json.loads(path.read_text())
        record = inst.get("validation")
        where = str(path.relative_to(root.parent))
        if not record or "speedup" not in record:
            print(f"{where}: no validation record, left out")
            continue
        share = record.get("cpu_share") or {}
        contended = any(v < 0.9 for v in share.values() if isinstance(v, (int, float)))
        if not record.get("results_agree", False) or contended:
            why = "results differ" if not record.get("results_agree") else "contended"
            print(f"{where}: {why}, left out")
            continue
        s = record["speedup"]
        threshold = float(record.get("threshold", 1.2))
        found[inst["opt_commit"]] = {
            "estimate": round(s["estimate"], 3),
            "low": round(s["low"], 3),
            "high": round(s["high"], 3),
            "results_agree": True,
            "blocks": record.get("blocks"),
            "contended": False,
            "grade": grade(s["low"], threshold),
            "workload": f"{path.parent.relative_to(root).as_posix()}/workloads",
            "python": inst.get("env", {}).get("python"),
        }
    return found


def dump(data: dict) -> str:
    """labels.json as it is kept: one label per line, so a diff shows which labels changed."""
    parts = []
    for key, value in data.items():
        if isinstance(value, list):
            indent = "      " if key.startswith("_") else "    "
            items = ",\n".join(indent + json.dumps(v) for v in value)
            parts.append(f'  "{key}": [\n{items}\n  ]')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default=str(HERE / "labels.json"))
    parser.add_argument("--hand", default=str(HERE / "hand"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    path = Path(args.labels)
    data = json.loads(path.read_text())
    measured = hand_records(Path(args.hand))
    changed = 0
    for entry in data["labels"]:
        figures = measured.pop(entry["sha"], None)
        if figures is None or entry["label"] != "speedup":
            continue
        if entry.get("measured") != figures or entry.get("checked") != "measured":
            changed += 1
            entry["checked"], entry["measured"] = "measured", figures
    for sha in measured:
        print(f"{sha[:8]}: a hand benchmark but no label")
    grades: dict[str, int] = {}
    for entry in data["labels"]:
        if entry.get("checked") == "measured" and entry["label"] == "speedup":
            g = entry["measured"].get("grade", "benchmark")
            grades[g] = grades.get(g, 0) + 1
    print(f"{changed} labels updated; measured speed-ups by grade: {grades}")
    if args.check:
        return 1 if changed else 0
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dump(data))
    os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
