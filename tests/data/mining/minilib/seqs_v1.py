"""Helpers for sequences."""


def dedupe(items):
    """Items in first-seen order, without repeats."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def chunks(items, size):
    """Consecutive slices of ``items`` of length ``size`` (the last may be shorter)."""
    result = []
    i = 0
    while i < len(items):
        result.append(items[i : i + size])
        i = i + size
    return result
