"""histogram() of 80,000 uniform values in [0, 100) over 25 evenly spaced edges."""

import random

from pbdemo.bins import histogram, linear_edges


def setup(seed=0):
    rng = random.Random(seed)
    values = [rng.uniform(0.0, 100.0) for _ in range(80_000)]
    edges = linear_edges(0.0, 100.0, 25)
    return values, edges


def run(data):
    values, edges = data
    return histogram(values, edges)
