"""Full-pipeline yield of the miner on the labelled speed-ups: validated instances / speed-ups tried.

Usage:
  python benchmarks/mining_yield.py run --out DIR [--repos a,b] [--per-repo N] [--wrap CMD] ...
  python benchmarks/mining_yield.py table --out DIR [--out LATER_DIR ...] [--json FILE]

``run`` mines each labelled speed-up with ``perfbench mine REPO --commit SHA ...`` (one
command per repository, into ``DIR/<owner+name>``), so a second ``run`` resumes where the
first stopped. Measurement needs a quiet CPU: pass ``--wrap`` to run each command through a
CPU reservation (on the project machine ``--wrap /work/lane.sh --cpus 1``). ``table`` reads
the mining journals back and prints, per commit, how far it got (scan, generate, trial,
validate, write) with the speed-up or the first reason, then the yield per repository.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "mining_labels" / "labels.json"
STATE = Path(".mine") / "state.jsonl"


def speedups(
    labels: Path, repos: list[str], per_repo: int, only: list[str] | None = None
) -> dict[str, list[str]]:
    """The labelled speed-ups to try, newest first per repository (label file order)."""
    chosen: dict[str, list[str]] = defaultdict(list)
    for entry in json.loads(labels.read_text())["labels"]:
        if entry["label"] != "speedup" or (repos and entry["repo"] not in repos):
            continue
        if only and not any(entry["sha"].startswith(prefix) for prefix in only):
            continue
        if len(chosen[entry["repo"]]) < per_repo:
            chosen[entry["repo"]].append(entry["sha"])
    return dict(chosen)


def journal(folder: Path) -> dict[str, dict]:
    """The last entry per commit, and the one before 'done' (its figures) under 'stages'."""
    last: dict[str, dict] = {}
    path = folder / STATE
    if not path.exists():
        return last
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        stages = last.get(entry.get("sha", ""), {}).get("stages", {})
        entry["stages"] = {**stages, entry.get("stage", "?"): entry}
        last[entry["sha"]] = entry
    return last


def _verdict(entry: dict | None) -> tuple[str, str, str]:
    if entry is None:
        return "not run", "", ""
    if entry.get("stage") != "done":
        return "unfinished", entry.get("stage", ""), ""
    status = entry.get("status", "?")
    reached = entry.get("reached", "")
    if status == "instance":
        speed = entry.get("speedup") or {}
        figure = (
            f"{speed.get('estimate', 0):.2f}x [{speed.get('low', 0):.2f}, {speed.get('high', 0):.2f}]"
            if isinstance(speed, dict) and speed
            else str(speed)
        )
        return "instance", reached, figure
    reasons = entry.get("reasons") or [""]
    return status, reached, " ".join("; ".join(reasons).split())[:150]


def merged_journal(outs: list[Path], repo: str) -> dict[str, dict]:
    """Each commit's last entry over several run folders: a later folder's finished entry wins
    (a commit run again after a fix); each entry notes its folder under 'run'."""
    merged: dict[str, dict] = {}
    for out in outs:
        for sha, entry in journal(out / repo).items():
            if sha not in merged or entry.get("stage") == "done":
                merged[sha] = {**entry, "run": out.name}
    return merged


def table(
    outs: list[Path], labels: Path, repos: list[str], per_repo: int, only: list[str] | None = None
) -> dict:
    tried = speedups(labels, repos, per_repo, only)
    per_repo_figures: dict[str, list[int]] = {}
    rows = []
    for repo, shas in sorted(tried.items()):
        entries = merged_journal(outs, repo)
        got = [0, 0]
        for sha in shas:
            entry = next(
                (e for s, e in entries.items() if sha.startswith(s) or s.startswith(sha)), None
            )
            status, reached, detail = _verdict(entry)
            if len(outs) > 1 and entry is not None:
                detail = f"[{entry['run']}] {detail}"
            rows.append((repo, sha[:8], status, reached, detail))
            if status not in ("not run", "unfinished"):
                got[1] += 1
                got[0] += status == "instance"
        per_repo_figures[repo] = got
    for repo, sha, status, reached, detail in rows:
        print(f"{repo[:28]:28} {sha} {status:9} {reached:9} {detail}")
    print()
    print(f"{'repository':36} {'instances / tried':>18}")
    total = [
        sum(v[0] for v in per_repo_figures.values()),
        sum(v[1] for v in per_repo_figures.values()),
    ]
    for repo, (made, done) in [*sorted(per_repo_figures.items()), ("total", total)]:
        share = f" ({100 * made / done:.0f}%)" if done else ""
        print(f"{repo:36} {f'{made}/{done}':>18}{share}")
    return {"per_repo": per_repo_figures, "total": total, "rows": rows}


def run(args: argparse.Namespace, repos: list[str], only: list[str]) -> int:
    failures = 0
    for repo, shas in sorted(speedups(Path(args.labels), repos, args.per_repo, only).items()):
        git_dir = Path(args.mirrors) / repo / "repo"
        command = [
            *shlex.split(args.perfbench),
            "mine",
            str(git_dir),
            "--out",
            str(Path(args.out) / repo),
            "--repo-name",
            repo.replace("+", "/"),
            *[part for sha in shas for part in ("--commit", sha)],
            *shlex.split(args.mine_args),
        ]
        wrapped = [*shlex.split(args.wrap)] if args.wrap else []
        print(f"== {repo}: {len(shas)} commits", flush=True)
        failures += subprocess.run([*wrapped, *command]).returncode != 0
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "table"))
    parser.add_argument(
        "--out",
        required=True,
        action="append",
        help="folder of the per-repository mining runs; table takes several, later ones "
        "winning for the commits they finished",
    )
    parser.add_argument("--labels", default=str(LABELS))
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--repos", default="", help="comma-separated owner+name (default: all)")
    parser.add_argument("--per-repo", type=int, default=100, help="speed-ups per repository")
    parser.add_argument("--only", default="", help="comma-separated commit prefixes to keep")
    parser.add_argument("--perfbench", default="perfbench", help="how to start perfbench")
    parser.add_argument(
        "--mine-args",
        default="--backend local --max-blocks 12",
        help="further options of perfbench mine",
    )
    parser.add_argument("--wrap", default="", help="command prefix, e.g. a CPU reservation")
    parser.add_argument("--json", help="table: also write the figures to this file")
    args = parser.parse_args(argv)
    repos = [r for r in args.repos.split(",") if r]
    only = [c for c in args.only.split(",") if c]
    if args.action == "run":
        if len(args.out) != 1:
            parser.error("run writes into one --out folder")
        args.out = args.out[0]
        return run(args, repos, only)
    outs = [Path(o) for o in args.out]
    figures = table(outs, Path(args.labels), repos, args.per_repo, only)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
