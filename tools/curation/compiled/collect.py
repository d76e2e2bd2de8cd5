"""Collect Docker build wall times and gold / empty verdicts from evaluation reports (working aid).

    python collect.py GOLD_RUN_DIR... -- EMPTY_RUN_DIR...

writes instances/compiled/build-times.json and verdicts.json (merged with what is there).
The base and expert variants are built in one instance image, so they share one figure; a
cached image (built earlier by `perfbench build`) keeps the figure of its first build.
"""

import json
import sys
from pathlib import Path

DS = Path(__file__).resolve().parents[3] / "instances" / "compiled"


def load(name: str) -> dict:
    p = DS / name
    return json.loads(p.read_text()) if p.exists() else {}


def main(argv: list[str]) -> None:
    split = argv.index("--") if "--" in argv else len(argv)
    gold_dirs, empty_dirs = argv[:split], argv[split + 1 :]
    builds, verdicts = load("build-times.json"), load("verdicts.json")
    for kind, dirs in (("gold", gold_dirs), ("empty", empty_dirs)):
        for d in dirs:
            for f in sorted(Path(d).glob("*/report.json")):
                r = json.loads(f.read_text())
                iid = r["instance_id"]
                if not (DS / iid / "instance.json").exists():
                    continue  # kept out of the dataset since
                verdicts.setdefault(iid, {})[kind] = r.get("opt") or r.get("verdict")
                b = r.get("builds") or {}
                entry = builds.setdefault(iid, {})
                if kind == "gold":
                    if "candidate" in b and not b["candidate"].get("cached"):
                        entry["gold"] = b["candidate"]["seconds"]
                    if "base" in b and not b["base"].get("cached"):
                        entry["base"] = entry["expert"] = b["base"]["seconds"]
    (DS / "build-times.json").write_text(json.dumps(builds, indent=2, sort_keys=True) + "\n")
    (DS / "verdicts.json").write_text(json.dumps(verdicts, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
