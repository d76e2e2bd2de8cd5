"""List the pytest ids of a tree that match a regular expression, as JSON (for a spec's guard_tests).

    python tools/curation/testids.py TREE REGEX [--pythonpath .] [--test-path tests] [--python PY]

TREE is an exported tree (``trees.py`` prints them); ``--python`` needs pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("tree", type=Path)
    ap.add_argument("pattern", help="regular expression searched in each test id")
    ap.add_argument("--pythonpath", default=".", help="relative to TREE, comma-separated")
    ap.add_argument("--test-path", default="tests", help="relative to TREE")
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args(argv)
    pp = os.pathsep.join(str(args.tree / p) for p in args.pythonpath.split(",") if p)
    proc = subprocess.run(
        [
            args.python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "-q",
            args.test_path,
        ],
        cwd=args.tree,
        env={**os.environ, "PYTHONPATH": pp},
        capture_output=True,
        text=True,
    )
    rx = re.compile(args.pattern)
    ids = [line for line in proc.stdout.splitlines() if "::" in line and rx.search(line)]
    if not ids and proc.returncode:
        print(proc.stdout[-2000:] + proc.stderr[-2000:], file=sys.stderr)
        return 1
    print(json.dumps(ids, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
