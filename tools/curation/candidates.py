"""List mined candidate speed-up commits of every fetched mirror, or of those named (working aid)."""
import sys
from pathlib import Path
from perfbench.mining import find_candidates, ScanConfig

REPOS = sorted(p.name for p in Path("/work/.mirror").glob("*+*"))  # every fetched mirror

since = "2014-01-01"
args = [a for a in sys.argv[1:]]
if args and args[-1][:2] in ("19", "20"):
    since = args.pop()
for r in (args or REPOS):
    res = find_candidates(f"/work/.mirror/{r}/repo", ScanConfig(since=since, max_candidates=200))
    print(f"## {r}: {len(res.candidates)} candidates of {res.scanned}")
    for c in res.candidates:
        fl = sum(f.lines for f in c.commit.files)
        print(f"{c.sha[:10]} {c.commit.author_date[:10]} s={c.score:.1f} lines={fl} files={len(c.commit.files)} {c.commit.subject[:90]}")
