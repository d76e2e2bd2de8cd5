"""path_length() of a 80,000-point survey track in large coordinates (up to 10**7 units), and its extremes."""

import random

from pbdemo.geometry import path_length


def setup(seed=0):
    rng = random.Random(seed)
    x, y = rng.randrange(10**7), rng.randrange(10**7)
    points = []
    for _ in range(80_000):
        x = min(max(x + rng.randint(-5000, 5000), 0), 10**7)
        y = min(max(y + rng.randint(-5000, 5000), 0), 10**7)
        points.append((x, y))
    return points


def run(points):
    return {"length": path_length(points), "min": min(points), "max": max(points)}
