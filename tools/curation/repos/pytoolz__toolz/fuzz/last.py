"""Differential fuzz for pytoolz__toolz-f072dc2: toolz.last over non-empty lists, tuples, iterators, generators,
dicts, sets, map/accumulate objects and strings (empty inputs differ on purpose: base returns None for an empty
non-indexable input, opt raises IndexError). Usage: PYTHONPATH=TREE python toolz_last.py SEED"""
import random, sys, hashlib
from itertools import accumulate
import toolz
rng = random.Random(int(sys.argv[1]))
out = []
for _ in range(5000):
    n = rng.choice([1, 2, 10, 100])
    xs = [rng.randrange(-5, 5) for _ in range(n)]
    for make in (lambda: xs, lambda: tuple(xs), lambda: iter(xs), lambda: (x for x in xs), lambda: dict.fromkeys(xs),
                 lambda: set(xs), lambda: map(abs, xs), lambda: accumulate(xs), lambda: "".join(map(str, xs))):
        try:
            out.append(repr(toolz.last(make())))
        except Exception as e:
            out.append(type(e).__name__)
print(len(out), hashlib.sha256("\n".join(out).encode()).hexdigest()[:16], sum(1 for o in out if o == "IndexError"), sum(1 for o in out if o == "None"))
