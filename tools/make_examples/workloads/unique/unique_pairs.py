"""unique() over (row, col) tuples: 4000 pairs from a 40 x 40 grid, some rows far more common."""

import hashlib
import random

from pbdemo.seqs import unique


def setup(seed=0):
    rng = random.Random(seed)
    rows = list(range(40))
    weights = [1.0 / (1 + r) for r in rows]
    picked = rng.choices(rows, weights=weights, k=4000)
    return [(row, rng.randrange(40)) for row in picked]


def run(data):
    result = unique(data)
    digest = hashlib.sha256(repr(result).encode()).hexdigest()
    return {"count": len(result), "head": result[:20], "sha256": digest}
