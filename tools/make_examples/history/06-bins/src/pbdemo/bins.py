"""Sorting numbers into buckets bounded by edges.

*edges* is a sorted sequence ``e[0] <= e[1] <= ... <= e[k-1]`` that cuts the
number line into ``k + 1`` buckets: bucket 0 holds values below ``e[0]``,
bucket ``i`` holds ``e[i-1] <= value < e[i]`` and bucket ``k`` holds values at
or above ``e[k-1]``. NaN goes to the last bucket.
"""


def linear_edges(lo, hi, count):
    """*count* evenly spaced edges from *lo* to *hi* inclusive."""
    if count < 2:
        raise ValueError("count must be at least 2")
    if not lo < hi:
        raise ValueError("lo must be below hi")
    step = (hi - lo) / (count - 1)
    return [lo + i * step for i in range(count - 1)] + [hi]


def _check_edges(edges):
    for i in range(1, len(edges)):
        if edges[i] < edges[i - 1]:
            raise ValueError("edges must be sorted in ascending order")


def bucket_index(value, edges):
    """The bucket of *value*: the number of edges at or below it."""
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


def digitize(values, edges):
    """The bucket of each value, as a list of indices."""
    _check_edges(edges)
    return [bucket_index(value, edges) for value in values]


def histogram(values, edges):
    """How many values fall in each of the ``len(edges) + 1`` buckets."""
    _check_edges(edges)
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bucket_index(value, edges)] += 1
    return counts
