"""digitize() of 60,000 normal values over 16 unevenly spaced edges taken from a sample."""

import hashlib
import random

from pbdemo.bins import digitize


def setup(seed=0):
    rng = random.Random(seed)
    values = [rng.gauss(10.0, 3.0) for _ in range(60_000)]
    sample = sorted(rng.gauss(10.0, 3.0) for _ in range(160))
    edges = sample[5::10]
    return values, edges


def run(data):
    values, edges = data
    indices = digitize(values, edges)
    digest = hashlib.sha256(bytes(indices)).hexdigest()
    return {"count": len(indices), "sum": sum(indices), "head": indices[:40], "sha256": digest}
