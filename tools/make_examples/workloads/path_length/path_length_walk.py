"""path_length() of one random walk of 100,000 grid points (steps of up to 20 pixels), and its extremes."""

import random

from pbdemo.geometry import path_length


def setup(seed=0):
    rng = random.Random(seed)
    x = y = 0
    points = []
    for _ in range(100_000):
        x += rng.randint(-20, 20)
        y += rng.randint(-20, 20)
        points.append((x, y))
    return points


def run(points):
    return {"length": path_length(points), "min": min(points), "max": max(points)}
