"""Summary statistics and smoothing for sequences of numbers."""

import math


def mean(values):
    """Arithmetic mean of a non-empty sequence."""
    if not values:
        raise ValueError("mean of an empty sequence")
    return math.fsum(values) / len(values)


def variance(values, ddof=1):
    """Variance of *values*; ``ddof=1`` (the default) gives the sample variance."""
    n = len(values)
    if n - ddof <= 0:
        raise ValueError("not enough values for the variance")
    m = mean(values)
    return math.fsum((x - m) * (x - m) for x in values) / (n - ddof)


def ewma(values, alpha, adjust=True):
    """Exponentially weighted moving average: one output per input value.

    *alpha* in (0, 1] is the weight of the newest value. With *adjust* (the
    default) the output at each position is the weighted mean of all values so
    far, the value ``k`` steps back weighing ``(1 - alpha) ** k``. Without it
    the average follows ``avg = alpha * x + (1 - alpha) * avg``, started at
    the first value.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError("alpha must lie in (0, 1]")
    result = []
    num = 0.0
    den = 0.0
    avg = None
    for x in values:
        if adjust:
            num = x + (1.0 - alpha) * num
            den = 1.0 + (1.0 - alpha) * den
            avg = num / den
        elif avg is None:
            avg = float(x)
        else:
            avg = alpha * x + (1.0 - alpha) * avg
        result.append(avg)
    return result
