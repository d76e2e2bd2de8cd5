"""Scan recall and look-alike rejection of the miner on hand-labelled commits (no timing).

Usage: python benchmarks/mining_recall.py [benchmarks/mining_labels/labels.json] [--mirrors DIR]

Each labelled repository is scanned once with the default rules (``explain=True``, as
``perfbench mine --dry-run --explain``). Recall is the share of labelled speed-ups that
come out as candidates; rejection the share of look-alikes that do not. Per commit it
prints the verdict (candidate with its score and rank, or the rejection reason), then
recall and rejection per repository and in total. ``--json`` writes the figures too.
A repository whose mirror is missing is reported and skipped, not counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from perfbench.mining.commits import find_candidates

HERE = Path(__file__).resolve().parent


def git_dir(mirrors: Path, repo: str) -> Path:
    folder = mirrors / repo
    return folder / "repo" if (folder / "repo").exists() else folder


LABELS = ("speedup", "lookalike")


def _recall(found: dict[str, list[int]]) -> str:
    kept, labelled = found["speedup"]
    return f"{kept}/{labelled}" if labelled else "-"


def _rejected(found: dict[str, list[int]]) -> str:
    leaked, labelled = found["lookalike"]
    return f"{labelled - leaked}/{labelled}" if labelled else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", nargs="?", default=str(HERE / "mining_labels" / "labels.json"))
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    labels = json.loads(Path(args.labels).read_text())["labels"]
    by_repo: dict[str, list[dict]] = defaultdict(list)
    for entry in labels:
        by_repo[entry["repo"]].append(entry)
    per_repo: dict[str, dict[str, list[int]]] = {}
    missing: list[str] = []
    for repo, entries in sorted(by_repo.items()):
        where = git_dir(Path(args.mirrors), repo)
        if not where.exists():
            missing.append(repo)
            print(f"{repo}: no mirror at {where}, skipped")
            continue
        result = find_candidates(where, explain=True)
        rank = {c.sha: (i + 1, c) for i, c in enumerate(result.candidates)}
        why = {r.sha: r.reason for r in result.rejections}
        print(f"{repo}: {result.scanned} commits, {len(result.candidates)} candidates")
        found = per_repo[repo] = {"speedup": [0, 0], "lookalike": [0, 0]}  # [candidates, labelled]
        for e in entries:
            hit = rank.get(e["sha"])
            found[e["label"]][1] += 1
            if hit:
                found[e["label"]][0] += 1
                verdict = f"candidate #{hit[0]} score {hit[1].score}"
            else:
                verdict = why.get(e["sha"], "not scanned")
            print(f"  {e['label']:9} {e['sha'][:8]} {verdict[:110]}")
    total = {k: [sum(r[k][i] for r in per_repo.values()) for i in (0, 1)] for k in LABELS}
    print(f"{'repository':36} {'recall':>12} {'rejected':>12}")
    for repo, found in [*sorted(per_repo.items()), ("total", total)]:
        print(f"{repo:36} {_recall(found):>12} {_rejected(found):>12}")
    kept, speedups = total["speedup"]
    leaked, lookalikes = total["lookalike"]
    print(f"scan recall: {kept}/{speedups} = {kept / max(speedups, 1):.0%}")
    rejected = lookalikes - leaked
    print(f"look-alikes rejected: {rejected}/{lookalikes} = {rejected / max(lookalikes, 1):.0%}")
    if args.json:
        figures = {"repositories": per_repo, "total": total, "missing": missing}
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
