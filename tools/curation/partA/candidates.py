"""List mined candidate speed-up commits of our part-A repositories (working aid)."""
import sys
from perfbench.mining import find_candidates, ScanConfig

REPOS = ["pytoolz+toolz", "grantjenks+python-sortedcontainers", "lepture+mistune",
         "pallets+markupsafe", "python-humanize+humanize", "pallets+jinja"]

for r in (sys.argv[1:] or REPOS):
    res = find_candidates(f"/work/.mirror/{r}/repo", ScanConfig(since=sys.argv[2] if len(sys.argv) > 2 else "2014-01-01", max_candidates=200))
    print(f"## {r}: {len(res.candidates)} candidates of {res.scanned}")
    for c in res.candidates:
        fl = sum(f.lines for f in c.commit.files)
        print(f"{c.sha[:10]} {c.commit.author_date[:10]} s={c.score:.1f} lines={fl} files={len(c.commit.files)} {c.commit.subject[:90]}")
