"""Export a commit and its parent from the mirror and print both tree paths (for fuzz scripts).

    python tools/curation/trees.py OWNER/NAME SHA [--mirror TEMPLATE] [--trees DIR]

Prints ``base <path>`` and ``opt <path>``; a fuzz script under ``repos/*/fuzz/`` is then run once
with each tree on its PYTHONPATH and the two outputs compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import curlib


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("repo", help="owner/name")
    ap.add_argument("sha", help="the expert commit (its parent is base)")
    ap.add_argument("--mirror", help="mirror template [PERFBENCH_REPO_URL]")
    ap.add_argument(
        "--trees", type=Path, default=curlib.DEFAULT_TREES, help="where trees are exported"
    )
    args = ap.parse_args(argv)
    try:
        gd = curlib.git_dir(args.repo, curlib.mirror_template(args.mirror))
        base, opt = curlib.parent_and_commit(gd, args.sha)
        for label, commit in (("base", base), ("opt", opt)):
            print(label, curlib.export_tree(args.repo, gd, commit, args.trees))
    except curlib.CurationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
