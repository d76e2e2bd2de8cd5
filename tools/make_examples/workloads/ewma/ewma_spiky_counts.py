"""ewma() of 120,000 per-second event counts with bursts, alpha=0.3."""

import random

from pbdemo.stats import ewma


def setup(seed=0):
    rng = random.Random(seed)
    counts = []
    for _ in range(120_000):
        n = int(rng.expovariate(1 / 5.0))
        if rng.random() < 0.01:
            n += rng.randrange(100, 1000)
        counts.append(n)
    return counts


def run(counts):
    smoothed = ewma(counts, alpha=0.3)
    return {
        "count": len(smoothed),
        "head": smoothed[:20],
        "last": smoothed[-1],
        "every_4000th": smoothed[::4000],
    }
