"""Differential fuzz for pytoolz__toolz-63599cd: toolz.merge_with over random dicts (varargs and single-iterable
forms, generators, empty dicts), with sum / list / len / max; prints a digest of the results compared as sorted
items (key order is not part of the contract: base builds the result from a set). Usage: PYTHONPATH=TREE python
toolz_merge_with.py SEED"""
import hashlib
import random
import sys

import toolz

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
out = []
for _ in range(4000):
    nd = rng.choice([0, 1, 2, 5, 20])
    dicts = [{rng.choice([rng.randrange(30), "k%d" % rng.randrange(30), (rng.randrange(3), 1)]): rng.randrange(100)
              for _ in range(rng.choice([0, 1, 5, 25]))} for _ in range(nd)]
    fn = rng.choice([sum, list, len, max, tuple])
    for form in range(3):
        try:
            if form == 0:
                r = toolz.merge_with(fn, *dicts)
            elif form == 1:
                r = toolz.merge_with(fn, dicts)
            else:
                r = toolz.merge_with(fn, (d for d in dicts))
            out.append(repr(sorted(r.items(), key=repr)))
        except Exception as e:
            out.append(type(e).__name__)
print(len(out), hashlib.sha256("\n".join(out).encode()).hexdigest()[:16])
