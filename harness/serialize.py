"""Canonical, type-tagged JSON form of workload results (standard library only, Python 3.8+).

Results are compared in this form, in a separate process, never with the
candidate's own ``==``: a patch cannot make a wrong answer look right by
overriding ``__eq__``. The form is order-insensitive for dicts and sets and
keeps floats exact (``repr`` round-trips); tolerance is applied when comparing.
"""

import json
import math

MAX_DEPTH = 200


def encode(value, _depth=0):
    """Turn a result into plain JSON data with type tags for what JSON lacks."""
    if _depth > MAX_DEPTH:
        raise ValueError("result nests deeper than %d levels" % MAX_DEPTH)
    d = _depth + 1
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"$int": str(value)}
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"$float": repr(value)}
        return value
    if isinstance(value, complex):
        return {"$complex": [encode(value.real, d), encode(value.imag, d)]}
    if isinstance(value, list):
        return [encode(v, d) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, d) for v in value]}
    if isinstance(value, dict):
        items = [[encode(k, d), encode(v, d)] for k, v in value.items()]
        items.sort(key=lambda kv: canonical(kv[0]))
        return {"$dict": items}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((encode(v, d) for v in value), key=canonical)}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": bytes(value).hex()}
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        return {"$array": encode(value.tolist(), d)}
    if hasattr(value, "__dict__") and not callable(value):
        return {"$object": type(value).__qualname__, "state": encode(dict(vars(value)), d)}
    if hasattr(value, "__slots__"):
        state = {s: getattr(value, s) for s in value.__slots__ if hasattr(value, s)}
        return {"$object": type(value).__qualname__, "state": encode(state, d)}
    return {"$repr": repr(value)}


def canonical(data):
    """A stable text for encoded data: the basis of digests and sorting."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def decode(data):
    """Back from the tagged form to Python values (objects stay tagged dicts)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "$tuple" in data:
            return tuple(decode(v) for v in data["$tuple"])
        if "$dict" in data:
            out = {}
            for k, v in data["$dict"]:
                key = decode(k)
                try:
                    hash(key)
                except TypeError:
                    key = canonical(k)
                out[key] = decode(v)
            return out
        if "$set" in data:
            items = [decode(v) for v in data["$set"]]
            try:
                return set(items)
            except TypeError:
                return [canonical(v) for v in data["$set"]]
        if "$float" in data:
            return float(data["$float"])
        if "$int" in data:
            return int(data["$int"])
        if "$complex" in data:
            return complex(decode(data["$complex"][0]), decode(data["$complex"][1]))
        if "$bytes" in data:
            return bytes.fromhex(data["$bytes"])
        if "$array" in data:
            return decode(data["$array"])
        if "$object" in data:
            return {"$object": data["$object"], "state": decode(data["state"])}
        if "$repr" in data:
            return {"$repr": data["$repr"]}
        return {k: decode(v) for k, v in data.items()}
    return data


def first_difference(expected, actual, rel_tol=1e-9, abs_tol=1e-12, path="result"):
    """None when equal (floats within tolerance), else a short text naming where they differ."""
    if isinstance(expected, float) or isinstance(actual, float):
        if (
            isinstance(expected, (int, float))
            and isinstance(actual, (int, float))
            and not isinstance(expected, bool)
            and not isinstance(actual, bool)
        ):
            if math.isnan(expected) and math.isnan(actual):
                return None
            if math.isclose(expected, actual, rel_tol=rel_tol, abs_tol=abs_tol):
                return None
        return "%s: expected %r, got %r" % (path, _short(expected), _short(actual))
    if type(expected) is not type(actual):
        return "%s: expected a %s, got a %s" % (
            path,
            type(expected).__name__,
            type(actual).__name__,
        )
    if isinstance(expected, (list, tuple)):
        if len(expected) != len(actual):
            return "%s: expected length %d, got %d" % (path, len(expected), len(actual))
        for i, (e, a) in enumerate(zip(expected, actual)):
            diff = first_difference(e, a, rel_tol, abs_tol, "%s[%d]" % (path, i))
            if diff:
                return diff
        return None
    if isinstance(expected, dict):
        if set(expected) != set(actual):
            missing = [k for k in expected if k not in actual][:3]
            extra = [k for k in actual if k not in expected][:3]
            return "%s: keys differ (missing %r, extra %r)" % (path, missing, extra)
        for k in expected:
            diff = first_difference(expected[k], actual[k], rel_tol, abs_tol, "%s[%r]" % (path, k))
            if diff:
                return diff
        return None
    if expected != actual:
        return "%s: expected %r, got %r" % (path, _short(expected), _short(actual))
    return None


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
