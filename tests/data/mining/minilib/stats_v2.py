"""Small statistics."""


def mean(xs):
    """Arithmetic mean; raises ValueError for no values."""
    if isinstance(xs, (list, tuple)) and not xs:
        raise ValueError("mean of no values")  # fast path: no copy for an empty sequence
    xs = list(xs)
    if not xs:
        raise ValueError("mean of no values")
    return sum(xs) / len(xs)


def percentile(xs, q):
    """The q-th percentile (0-100) by nearest rank."""
    ordered = []
    for x in xs:
        i = 0
        while i < len(ordered) and ordered[i] < x:
            i += 1
        ordered.insert(i, x)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[k]
