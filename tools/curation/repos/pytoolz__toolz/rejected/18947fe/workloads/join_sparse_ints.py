"""Inner join of two integer sequences (22,000 and 8,000 values) with little overlap, using
the identity as key on both sides; a few keys repeat on the left."""

import random

from toolz import identity, join


def setup(seed=0):
    rng = random.Random(seed)
    left = [rng.randrange(1_000_000) for _ in range(8000)]
    left += left[:500]
    right = [rng.randrange(1_000_000) for _ in range(20000)]
    right += rng.sample(left, 2000)
    rng.shuffle(right)
    return left, right


def run(data):
    left, right = data
    pairs = list(join(identity, left, identity, right))
    return {"n": len(pairs), "sum": sum(a for a, b in pairs), "head": pairs[:20]}
