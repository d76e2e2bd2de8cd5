"""ewma() of one long random walk: 150,000 floats, alpha=0.02, adjusted (the default)."""

import random

from pbdemo.stats import ewma


def setup(seed=0):
    rng = random.Random(seed)
    level = 100.0
    values = []
    for _ in range(150_000):
        level += rng.gauss(0.0, 1.0)
        values.append(level)
    return values


def run(values):
    smoothed = ewma(values, alpha=0.02)
    return {
        "count": len(smoothed),
        "head": smoothed[:20],
        "last": smoothed[-1],
        "every_5000th": smoothed[::5000],
    }
