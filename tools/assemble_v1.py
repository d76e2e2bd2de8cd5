"""Assemble instances/v1: dataset.json and README.md (summary tables) from the instance records.

`instances/v1/REJECTED.md` is edited by hand: it is the one list of commits considered and dropped.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "curation"))
import curlib  # noqa: E402  (the curation tools' library: repo.json, checked)

DS = ROOT / "instances" / "v1"


def main() -> None:
    meta_path = DS / "dataset.json"
    meta = (
        json.loads(meta_path.read_text())
        if meta_path.exists()
        else {
            "name": "v1",
            "version": "0.1",
            "description": "perfbench v1: curated, validated instances from public Python repositories.",
            "eval_seed": 739182641,
            "license": "per instance: the repositories' own licences; our workloads and texts MIT",
            "repos": {},
        }
    )
    # Each repository's settings once, from its curation repo.json; instances keep overrides.
    meta["repositories"] = {
        repo["repo"]: curlib.repository_settings(repo)
        for repo in (curlib.load_repo(p.parent) for p in sorted(curlib.REPOS.glob("*/repo.json")))
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    rows = []
    for f in sorted(DS.glob("*/instance.json")):
        r = json.loads(f.read_text())
        v = r.get("validation") or {}
        sp = v.get("speedup") or {}
        m = r.get("metadata") or {}
        pl = m.get("patch_lines") or {}
        rows.append(
            {
                "id": r["instance_id"],
                "repo": r["repo"],
                "api": m.get("api", "-"),
                "kind": m.get("kind", "-"),
                "est": sp.get("estimate"),
                "low": sp.get("low"),
                "high": sp.get("high"),
                "valid": v.get("valid"),
                "patch": f"+{pl.get('added', '?')}/-{pl.get('deleted', '?')}",
                "files": m.get("patch_files", "?"),
                "workloads": len(r["workloads"]),
            }
        )
    by_repo = defaultdict(list)
    for row in rows:
        by_repo[row["repo"]].append(row)
    lines = [
        "# perfbench v1",
        "",
        meta["description"],
        "",
        "Each instance stores references only (repository, commits) and our own writing (problem",
        "statement, workloads). Repositories are found through the URL template, e.g.",
        "`PERFBENCH_REPO_URL='/mirrors/{owner}+{name}/repo'`; the expert patch is derived on load.",
        "",
        "## Summary",
        "",
        "| repository | instances | median expert speedup |",
        "|---|---|---|",
    ]
    for repo, items in sorted(by_repo.items()):
        med = statistics.median(i["est"] for i in items if i["est"])
        lines.append(f"| {repo} | {len(items)} | {med:.2f}x |")
    lines += [
        "",
        f"{len(rows)} instances from {len(by_repo)} repositories.",
        "",
        "## Instances",
        "",
        "| instance | API | kind | expert speedup [95% CI] | patch (lines, files) | workloads |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        fig = f"{row['est']:.2f}x [{row['low']:.2f}, {row['high']:.2f}]" if row["est"] else "-"
        lines.append(
            f"| `{row['id']}` | `{row['api']}` | {row['kind']} | {fig} | {row['patch']}, {row['files']} | "
            f"{row['workloads']} |"
        )
    lines += [
        "",
        "Speedups are from `perfbench validate` on a shared 2-core machine (see each record's",
        "`validation` for blocks, machine and date). Commits considered and dropped: `REJECTED.md`.",
        "",
    ]
    (DS / "README.md").write_text("\n".join(lines))
    update_readme(by_repo, len(rows))
    print(f"{len(rows)} instances, {len(by_repo)} repositories")


def update_readme(by_repo: dict[str, list[dict]], total: int) -> None:
    """Rewrite the summary table of the top-level README's v1 section."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    start = text.index("| repository | instances | median expert speedup |")
    end = text.index("\n## ", start) + 1  # the table runs to the next section, whichever it is
    table = ["| repository | instances | median expert speedup |", "|---|---|---|"]
    for repo, items in sorted(by_repo.items()):
        med = statistics.median(i["est"] for i in items if i["est"])
        table.append(f"| {repo} | {len(items)} | {med:.2f}x |")
    table += ["", f"{total} instances from {len(by_repo)} repositories.", "", ""]
    readme.write_text(text[:start] + "\n".join(table) + text[end:])


if __name__ == "__main__":
    main()
