"""histogram() of 40,000 latency-like values (heavy tail) over 48 log-spaced edges."""

import random

from pbdemo.bins import histogram


def setup(seed=0):
    rng = random.Random(seed)
    values = [rng.lognormvariate(3.0, 1.2) for _ in range(40_000)]
    edges = [round(1.2**k, 6) for k in range(48)]
    return values, edges


def run(data):
    values, edges = data
    return histogram(values, edges)
