"""Helpers of capture workloads; their text is copied into every one (standard library only).

A capture workload replays the changed function's calls like any replay workload, but takes
them live from one of the repository's tests instead of from pickles: its ``setup`` runs the
test under a profiler and copies the arguments of the first calls of the function's code.
Arguments that cannot be pickled (a validator class made at run time, a class defined in a
test module, a callback) are the commonest reason a recorded call is unusable; copied in the
process that made them, they need no pickling. The test runs untimed, once per timed call,
so every call gets inputs of its own.
"""

import copy
import importlib
import inspect
import sys

CAPTURE = ("", "", 6, False)  # module, qualified name, calls kept, drop the first argument

_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08


def _capture_target():
    module, qualname = CAPTURE[0], CAPTURE[1]
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = inspect.getattr_static(obj, part) if inspect.isclass(obj) else getattr(obj, part)
    obj = getattr(obj, "__func__", obj)  # classmethod and staticmethod objects
    return inspect.unwrap(obj).__code__


def _arguments(frame, code):
    """The call's arguments as (args, kwargs), from its frame before the body runs."""
    local = frame.f_locals
    names = code.co_varnames
    n, k = code.co_argcount, code.co_kwonlyargcount
    args = [local[name] for name in names[:n]]
    kwargs = {name: local[name] for name in names[n : n + k]}
    i = n + k
    if code.co_flags & _CO_VARARGS:
        args.extend(local[names[i]])
        i += 1
    if code.co_flags & _CO_VARKEYWORDS:
        kwargs.update(local[names[i]])
    if CAPTURE[3]:
        args = args[1:]  # a classmethod's class: the target is called bound
    return tuple(args), kwargs


def _snapshot(value):
    """A copy of the arguments as the call received them (the test may change them later)."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _captured(seed):
    """The first calls of the target while the test runs once (its own setup, untimed)."""
    code = _capture_target()
    seen, frames = [], []

    def profile(frame, event, arg):
        # A generator's frame is "called" again at every resumption: its first call only.
        if (
            event == "call"
            and frame.f_code is code
            and len(seen) < CAPTURE[2]
            and not any(f is frame for f in frames)
        ):
            frames.append(frame)
            seen.append(_snapshot(_arguments(frame, code)))

    data = _test_setup(seed)  # noqa: F821 - the test workload's setup, defined below
    sys.setprofile(profile)
    try:
        _test_run(data)  # noqa: F821
    finally:
        sys.setprofile(None)
    if not seen:
        raise RuntimeError(f"the test did not call {CAPTURE[1]}")
    return seen
