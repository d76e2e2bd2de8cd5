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
    if size < 1:
        raise ValueError("size must be at least 1")
    return [items[i : i + size] for i in range(0, len(items), size)]
