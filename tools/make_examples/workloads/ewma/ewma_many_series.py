"""ewma() of 400 short integer series (300 readings each) with different alphas."""

import random

from pbdemo.stats import ewma


def setup(seed=0):
    rng = random.Random(seed)
    series = []
    for _ in range(400):
        base = rng.randrange(50, 500)
        readings = [base + rng.randrange(-25, 26) for _ in range(300)]
        alpha = rng.choice([0.05, 0.1, 0.2, 0.5])
        series.append((alpha, readings))
    return series


def run(series):
    seconds = []
    lasts = []
    for alpha, readings in series:
        smoothed = ewma(readings, alpha)
        seconds.append(smoothed[1])
        lasts.append(smoothed[-1])
    return {"second": seconds, "last": lasts}
