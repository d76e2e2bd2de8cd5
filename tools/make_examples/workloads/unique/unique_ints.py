"""unique() over a list of ints with many repeats: 6000 items, about 1500 distinct."""

import hashlib
import random

from pbdemo.seqs import unique


def setup(seed=0):
    rng = random.Random(seed)
    pool = [rng.randrange(1_000_000_000) for _ in range(1500)]
    return [rng.choice(pool) for _ in range(6000)]


def run(data):
    result = unique(data)
    digest = hashlib.sha256(repr(result).encode()).hexdigest()
    return {"count": len(result), "head": result[:20], "sha256": digest}
