"""Helpers of replay workloads; their text is copied into every replay workload file.

Standard library only, Python 3.8+: the workload runs on the instance's interpreter.
Growing an input ``k`` times either repeats it (``repeat``; texts of lines or words are
joined by a line break or a space) or appends ``k - 1``
shifted copies (``distinct``: numbers move past the input's range, strings get a
suffix), so that a sorted input stays sorted and a set of distinct values stays
distinct, which is what exposes the cost of a quadratic loop. ``sequences`` is
``distinct`` that also grows tuple arguments; ``counts`` is ``distinct`` that also scales
whole-number arguments (a count, a bound, a number to factor is the size of the work).
``stretch`` repeats each part in place instead of the whole (every line or word of a text,
every item of a list, ``k`` times where it stands): the input keeps one statement, block or
run and makes it long, where ``repeat`` makes many short ones (many comments inside one SQL
statement rather than many statements with one comment each). ``unclosed`` repeats a text
with its closing brackets taken out (``>``, ``)``, ``]``, ``}``): an opening that never
closes is what makes a backtracking pattern or a scan for the closing token quadratic.
``pump`` appends ``PUMP`` (a string made from the commit's changed pattern, see
``pumps.py``) ``k`` times to each text.
"""

import base64
import copy
import itertools
import pickle
import zlib

PUMP = ""  # each workload defines its own (the helpers below are copied from here on)

_MATERIALIZE_LIMIT = 1000000


def _load(blob):
    return pickle.loads(zlib.decompress(base64.b64decode(blob)))


def _numbers(value, out, depth=0):
    if depth > 4 or len(out) > 10000:
        return
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        out.append(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _numbers(v, out, depth + 1)
    elif isinstance(value, dict):
        for k, v in value.items():
            _numbers(k, out, depth + 1)
            _numbers(v, out, depth + 1)


def _span(value):
    found = []
    _numbers(value, found)
    if not found:
        return 1
    span = max(found) - min(found) + 1
    return int(span) if all(isinstance(v, int) for v in found) else float(span)


def _shift(value, offset, tag):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value + offset
    if isinstance(value, str):
        return value + tag if value else value
    if isinstance(value, bytes):
        return value + tag.encode() if value else value
    if type(value) is tuple:
        return tuple(_shift(v, offset, tag) for v in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_shift(v, offset, tag) for v in value))
    if type(value) is list:
        return [_shift(v, offset, tag) for v in value]
    if type(value) in (set, frozenset):
        return type(value)(_shift(v, offset, tag) for v in value)
    if type(value) is dict:
        return {_shift(k, offset, tag): _shift(v, offset, tag) for k, v in value.items()}
    return value


def _repeat_text(value, text, factor):
    """``value`` repeated ``factor`` times, copies joined where the text has its own breaks.

    A text of lines gets more lines and a text of words more words, rather than a last
    line glued to the next copy's first ("FROM t" + "SELECT" = "FROM tSELECT"): the
    grown text keeps the shape the changed code walks through, line by line or token
    by token.
    """
    sep = "\n" if "\n" in text.strip() else (" " if " " in text.strip() else "")
    if not sep or text.endswith(sep):
        return value * factor
    if isinstance(value, bytes):
        return sep.encode().join([value] * factor)
    return sep.join([value] * factor)


def _stretch(value, factor):
    """Each inner line (else word) of a text, or item of a list, ``factor`` times in place."""
    if isinstance(value, (str, bytes)):
        text = value if isinstance(value, str) else value.decode("latin-1")
        sep = "\n" if "\n" in text.strip() else (" " if " " in text.strip() else "")
        if not sep:
            return value * factor
        joiner = sep if isinstance(value, str) else sep.encode()
        parts = value.split(joiner)
        # The first and last part stay once (a statement's head and its end), when there is
        # an inside to stretch.
        full = [i for i, part in enumerate(parts) if part.strip()]
        inside = set(full[1:-1]) if len(full) >= 3 else set(full)
        return joiner.join(
            part for i, part in enumerate(parts) for _ in range(factor if i in inside else 1)
        )
    if type(value) is list:
        return [item for item in value for _ in range(factor)]
    return value


_CLOSING = ">)]}"


def _unclosed(value):
    """``value`` without its closing brackets."""
    if isinstance(value, bytes):
        return value.translate(None, _CLOSING.encode())
    return value.translate({ord(c): None for c in _CLOSING})


def _grow(value, factor, mode):
    """``value`` made ``factor`` times larger; values that have no size stay as they are.

    Short strings without spaces look like keys or options, not data, and keep their value;
    tuples grow only in ``sequences`` mode (elsewhere they may be records such as points).
    """
    if factor <= 1:
        return value
    if type(value) is bytearray:  # chardet's detector feeds bytearrays
        return bytearray(_grow(bytes(value), factor, mode))
    if isinstance(value, (str, bytes)):
        text = value if isinstance(value, str) else value.decode("latin-1")
        if len(text) >= 16 or any(c.isspace() for c in text):
            if mode == "pump":
                if isinstance(value, bytes):
                    return value + PUMP.encode("utf-8") * factor
                return value + PUMP * factor
            if mode == "stretch":
                return _stretch(value, factor)
            if mode == "unclosed":
                value = _unclosed(value)
                text = value if isinstance(value, str) else value.decode("latin-1")
            return _repeat_text(value, text, factor)
        return value
    if mode == "counts" and type(value) is int and abs(value) >= 2:
        return value * factor
    if type(value) is range:
        return range(value.start, value.start + (value.stop - value.start) * factor, value.step)
    if type(value) is tuple and mode == "sequences":
        return tuple(_grow(list(value), factor, "distinct"))
    if _has_fields(value):
        return _grow_fields(value, factor, mode)
    if mode == "stretch":
        return _stretch(value, factor)
    if mode == "repeat":
        if type(value) is list:
            return value * factor
        return value
    span = _span(value)
    if type(value) is list:
        out = list(value)
        for k in range(1, factor):
            out.extend(_shift(v, k * span, f"~{k}") for v in value)
        return out
    if type(value) in (set, frozenset):
        items = set(value)
        for k in range(1, factor):
            items.update(_shift(v, k * span, f"~{k}") for v in value)
        return type(value)(items)
    if type(value) is dict:
        out = dict(value)
        for k in range(1, factor):
            for key, item in value.items():
                out[_shift(key, k * span, f"~{k}")] = item
        return out
    return value


def _size(value, depth=0):
    """How large an input is (lengths and whole numbers, summed): what growth changes."""
    if depth > 4 or isinstance(value, bool):
        return 0
    if type(value) is int:
        return abs(value)
    if isinstance(value, (str, bytes, bytearray, range)):
        return len(value)
    if isinstance(value, dict):
        items = itertools.islice(value.items(), 10000)
        return len(value) + sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in items)
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) + sum(_size(v, depth + 1) for v in itertools.islice(value, 10000))
    if _has_fields(value):
        return sum(_size(getattr(value, name), depth + 1) for name in _field_names(value))
    return 0


def _has_fields(value):
    """An instance of a plain user class (its data in ``__dict__`` or ``__slots__``)."""
    cls = type(value)
    if cls.__module__ == "builtins" or isinstance(value, type) or callable(value):
        return False
    return hasattr(value, "__dict__") or any("__slots__" in vars(c) for c in cls.__mro__)


def _field_names(value):
    """The attributes an instance holds: its ``__dict__`` keys, then its classes' slots."""
    names = list(getattr(value, "__dict__", {}))
    for cls in type(value).__mro__:
        slots = vars(cls).get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return [
        name
        for name in dict.fromkeys(names)
        if name not in ("__dict__", "__weakref__") and hasattr(value, name)
    ]


def _grow_fields(value, factor, mode):
    """A shallow copy whose attributes are grown: a record holding lists is as large as they are
    (attrs' ``asdict(instance)`` walks what the instance holds); one that cannot be copied
    stays as it is."""
    try:
        new = copy.copy(value)
    except Exception:
        return value
    for name in _field_names(value):
        try:
            object.__setattr__(new, name, _grow(getattr(value, name), factor, mode))
        except Exception:
            return value
    return new


def seeded_scale(rng, base, seed):
    """The growth factor of one seed: ``base`` at seed 0, else 0.75x to 1.5x of it, plus one.

    Seed 0 (the visible workload, and the calibration's trials) gets exactly the scale
    that was calibrated, so inputs that cannot grow still run there. The extra one keeps
    small factors varying: at ``base`` 1 (recorded inputs already slow enough) 0.75x-1.5x
    would round to 1 at every seed, and the hidden workloads would hold the visible one's
    inputs.
    """
    if seed == 0:
        return base
    return max(1, round(rng.uniform(0.75 * base, 1.5 * base + 1)))


def _materialize(value, depth=0):
    """Lazy results (iterators, generators) are consumed: their work belongs to the timed call.

    Iterators an iterator yields, or a returned tuple holds, are consumed too, each as soon as
    it comes (a group of ``groupby`` is gone once the next is drawn): chunked or partitioned
    results (more-itertools' ``ichunked``, ``partition``) do their work only there.
    """
    if depth > 3:
        return value
    if type(value) is tuple:
        return tuple(_materialize(v, depth + 1) for v in value)
    if hasattr(value, "__next__") and hasattr(value, "__iter__"):
        return [_materialize(v, depth + 1) for v in itertools.islice(value, _MATERIALIZE_LIMIT)]
    return value
