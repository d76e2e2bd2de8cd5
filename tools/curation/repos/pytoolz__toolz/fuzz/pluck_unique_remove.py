"""Differential fuzz for the part-D toolz instances: pluck (single index/key, lists of indices/keys,
with and without default, tuples and dicts, missing keys), unique (with and without key) and remove
(builtin and Python predicates) on random inputs; prints a digest of every result or exception type."""
import hashlib
import random
import sys
from operator import itemgetter, not_

import toolz

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
out = []


def rec(f):
    try:
        out.append(repr(f()))
    except Exception as e:
        out.append(type(e).__name__)


for trial in range(3000):
    n = rng.choice([0, 1, 3, 20, 200])
    tuples = [tuple(rng.randrange(5) for _ in range(rng.choice([3, 4]))) for _ in range(n)]
    dicts = [{k: rng.randrange(9) for k in rng.sample("abcd", rng.randrange(1, 5))} for _ in range(n)]
    ind = rng.choice([0, 1, 2, 3, -1, [0], [0, 2], [2, 1, 0], []])
    key = rng.choice(["a", "b", ["a"], ["a", "c"], ["d", "b", "a"]])
    if rng.random() < 0.5:
        rec(lambda: list(toolz.pluck(ind, tuples)))
        rec(lambda: list(toolz.pluck(key, dicts)))
    else:
        d = rng.choice([None, 0, "x"])
        rec(lambda: list(toolz.pluck(ind, tuples, default=d)))
        rec(lambda: list(toolz.pluck(key, dicts, default=d)))
    seq = [rng.choice([rng.randrange(10), str(rng.randrange(10)), (rng.randrange(3),), 1.0, True, None]) for _ in range(n)]
    rec(lambda: list(toolz.unique(seq)))
    if hasattr(toolz, "identity"):
        rec(lambda: list(toolz.unique(seq, key=repr)))
        rec(lambda: list(toolz.unique(seq, key=toolz.identity)))
    rec(lambda: toolz.isdistinct(seq))
    rec(lambda: toolz.isdistinct(iter(seq)))
    pred = rng.choice([not_, bool, lambda x: x is None, str.isdigit])
    rec(lambda: list(toolz.remove(pred, seq)))
import os
if os.environ.get("DUMP"):
    open(os.environ["DUMP"], "w").write("\n".join(out))
print(len(out), hashlib.sha256("\n".join(out).encode()).hexdigest()[:16])
