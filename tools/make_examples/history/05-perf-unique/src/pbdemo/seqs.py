"""Helpers for sequences and iterables."""


def unique(iterable, key=None):
    """Return the distinct items of *iterable* in the order they first appear.

    Two items are the same when their keys compare equal; an item's key is
    ``key(item)``, or the item itself when *key* is None. The first item seen
    with a given key is kept. Items and keys need not be hashable.
    """
    seen = set()
    seen_unhashable = []
    result = []
    for item in iterable:
        k = item if key is None else key(item)
        try:
            if k in seen:
                continue
            seen.add(k)
        except TypeError:
            # Unhashable keys cannot go in the set: fall back to a list scan.
            if k in seen_unhashable:
                continue
            seen_unhashable.append(k)
        result.append(item)
    return result


def chunked(iterable, size):
    """Yield lists of *size* consecutive items; the last one may be shorter."""
    if size < 1:
        raise ValueError("size must be at least 1")
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def flatten(nested):
    """Flatten one level of nesting: ``[[1, 2], [3]]`` gives ``[1, 2, 3]``."""
    return [item for inner in nested for item in inner]
