"""path_length(closed=True) of 2,000 closed polygons of 60 vertices each, and their lowest vertices."""

import math
import random

from pbdemo.geometry import path_length


def setup(seed=0):
    rng = random.Random(seed)
    polygons = []
    for _ in range(2000):
        cx, cy = rng.randrange(-5000, 5000), rng.randrange(-5000, 5000)
        radius = rng.randrange(20, 400)
        poly = []
        for k in range(60):
            angle = 2 * math.pi * k / 60
            r = radius * rng.uniform(0.7, 1.0)
            poly.append((cx + int(r * math.cos(angle)), cy + int(r * math.sin(angle))))
        polygons.append(poly)
    return polygons


def run(polygons):
    lengths = []
    starts = []
    for poly in polygons:
        lengths.append(path_length(poly, closed=True))
        starts.append(min(poly))
    return {"total": sum(lengths), "first": lengths[:20], "starts": starts[:20]}
