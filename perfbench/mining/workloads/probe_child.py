"""Child side of the probe: run tests (or asv benchmarks) at base under a tracer, write JSON.

Runs as a script on the repository's interpreter with the base tree on sys.path,
so it uses only the standard library (and pytest, in ``tests`` mode). One global
trace function sees every call; only frames in changed files get a local tracer,
which keeps the cost to a dictionary lookup per call elsewhere. It records:

* per test (or benchmark): outcome, duration, which changed functions it called
  and how many changed lines it ran (the coverage of the change);
* per changed function: real calls as pickled ``(args, kwargs)``, outermost
  calls only, those that raised left out, size-limited, deduplicated, and
  whether the call changed its arguments (then a replay must copy them).

Usage: ``python probe_child.py CONFIG.json``; the config names the output file.
"""

import ast
import base64
import hashlib
import importlib
import importlib.util
import inspect
import io
import itertools
import json
import os
import pickle
import sys
import threading
import time
import traceback
import types

CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08
CO_GENERATOR_LIKE = (
    0x20 | 0x80 | 0x100 | 0x200
)  # generator, coroutine, iterable coroutine, async gen


class Recorder:
    def __init__(self, cfg):
        self.targets = {}
        self.drop_first = set()
        for t in cfg["targets"]:
            for line in t["lines"]:
                self.targets[(t["file"], line)] = t["id"]
            if t.get("drop_first"):
                self.drop_first.add(t["id"])
        self.changed = {f: frozenset(lines) for f, lines in cfg["changed_lines"].items()}
        self.files = frozenset(self.changed) | frozenset(t["file"] for t in cfg["targets"])
        self.max_keep = int(cfg.get("max_keep", 48))
        # Calls kept per function and test: a few from each of many tests beat many from the
        # first tests to run (suites often start with the simplest cases).
        self.max_per_unit = int(cfg.get("max_per_unit", 3))
        self.kept_per_unit = {}
        self.max_bytes = int(cfg.get("max_arg_bytes", 200000))
        self.current = None
        self.units = {}
        self.calls = {t["id"]: [] for t in cfg["targets"]}
        self.stats = {
            t["id"]: {
                "seen": 0,
                "unpicklable": 0,
                "too_large": 0,
                "raised": 0,
                "test_code": 0,
                "duplicate": 0,
                "kept": 0,
            }
            for t in cfg["targets"]
        }
        self.digests = set()
        self.active = {}
        self.pending = {}
        self.generator_frames = set()
        self.collect_errors = []
        self.tree = os.path.realpath(cfg["tree"])
        self.roots = [os.path.realpath(p) for p in cfg.get("sys_path", [])]
        self.importable = {}
        self.source = {}  # file -> whether it is library code (not tests)
        self.entry = None  # the outermost library call now running, if any
        self.entries = {}  # (file, first line) -> calls of it that reached a changed function
        self.open_records = []  # records of kept calls still running (they collect changed lines)

    # --- units (tests or benchmarks) ---------------------------------------------------------

    def start(self, unit, info=None):
        self.current = unit
        rec = self.units.setdefault(
            unit, {"outcome": "unknown", "duration": 0.0, "targets": [], "lines": 0}
        )
        if info:
            rec.update(info)
        rec["_targets"] = set()
        rec["_lines"] = set()
        rec["_t0"] = time.perf_counter()

    def stop(self):
        unit = self.current
        if unit is None:
            return
        rec = self.units[unit]
        rec["duration"] = time.perf_counter() - rec.pop("_t0")
        rec["targets"] = sorted(rec.pop("_targets"))
        rec["lines"] = len(rec.pop("_lines"))
        self.current = None

    def _hit_target(self, tid):
        if self.current is not None:
            self.units[self.current]["_targets"].add(tid)

    # --- tracing -----------------------------------------------------------------------------

    def global_trace(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename not in self.files:
            return None
        tid = self.targets.get((code.co_filename, code.co_firstlineno))
        if tid is not None:
            self._on_call(frame, code, tid)
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if event == "line":
            lines = self.changed.get(frame.f_code.co_filename)
            if lines and frame.f_lineno in lines and self.current is not None:
                hit = (frame.f_code.co_filename, frame.f_lineno)
                self.units[self.current]["_lines"].add(hit)
                for record in self.open_records:  # the recorded calls now running reach it
                    record["reach"].add(hit)
            pend = self.pending.get(id(frame))
            if pend is not None:
                pend["raised"] = False
        elif event == "exception":
            pend = self.pending.get(id(frame))
            if pend is not None:
                pend["raised"] = True
        elif event == "return":
            pend = self.pending.pop(id(frame), None)
            if pend is not None:
                self._on_return(pend)
        return self.local_trace

    def _on_call(self, frame, code, tid):
        if code.co_flags & CO_GENERATOR_LIKE:
            # A generator's frame is "called" again at every resumption: count the first only.
            key = id(frame)
            if key in self.generator_frames:
                return
            self.generator_frames.add(key)
        self._hit_target(tid)
        if self.entry is not None:
            self.entry["hits"].add(tid)
        stats = self.stats[tid]
        stats["seen"] += 1
        depth = self.active.get(tid, 0)
        self.active[tid] = depth + 1
        pend = {
            "tid": tid,
            "raised": False,
            "record": None,
            "objects": None,
            "generator": bool(code.co_flags & CO_GENERATOR_LIKE),
        }
        self.pending[id(frame)] = pend
        if depth or len(self.calls[tid]) >= self.max_keep or not self._room(tid):
            return  # recursion, or enough kept
        args, kwargs = call_arguments(frame, code)
        if tid in self.drop_first:
            args = args[1:]  # a classmethod's cls: the replay calls it bound
        pend["record"], pend["objects"] = self._snapshot(tid, args, kwargs, stats)

    def _room(self, key):
        """Whether another call of ``key`` may be kept from the running test."""
        return self.kept_per_unit.get((key, self.current), 0) < self.max_per_unit

    def _snapshot(self, key, args, kwargs, stats):
        """The pickled arguments of a call worth keeping, and the objects (to see mutation)."""
        try:
            blob, modules = dumps_noting_modules((args, kwargs))
        except Exception:
            stats["unpicklable"] += 1
            return None, None
        if not all(self._importable(m) for m in modules):
            stats["test_code"] += 1  # e.g. a class defined in a test module
            return None, None
        if len(blob) > self.max_bytes:
            stats["too_large"] += 1
            return None, None
        digest = hashlib.sha1(key.encode() + blob).hexdigest()
        if digest in self.digests:
            stats["duplicate"] += 1
            return None, None
        record = {"blob": blob, "digest": digest, "unit": self.current, "reach": set()}
        self.open_records.append(record)
        return record, (args, kwargs)

    def _finish(self, key, record, objects):
        """The JSON form of a kept call, noting whether the call changed its arguments."""
        if record in self.open_records:
            self.open_records.remove(record)
        slot = (key, record["unit"])
        self.kept_per_unit[slot] = self.kept_per_unit.get(slot, 0) + 1
        try:
            after = pickle.dumps(objects, protocol=4)
        except Exception:
            after = b""
        self.digests.add(record["digest"])
        return {
            "blob": base64.b64encode(record["blob"]).decode("ascii"),
            "bytes": len(record["blob"]),
            "mutates": after != record["blob"],
            "unit": record["unit"],
            "literal": literal_text(pickle.loads(record["blob"])),
            "reach": len(record["reach"]),  # changed lines this call ran
        }

    # --- entry points: the outermost library calls the tests make ------------------------------

    def _is_source(self, filename):
        known = self.source.get(filename)
        if known is None:
            real = os.path.realpath(filename)
            rel = next(
                (os.path.relpath(real, r) for r in self.roots if real.startswith(r + os.sep)), None
            )
            parts = rel.split(os.sep) if rel else []
            known = (
                bool(rel)
                and real.endswith(".py")
                and not any(
                    p in ("tests", "test", "testing") or p.startswith("test_") or p == "conftest.py"
                    for p in parts
                )
            )
            self.source[filename] = known
        return known

    def profile(self, frame, event, arg):
        if event == "call":
            if self.entry is None and self.current is not None:
                code = frame.f_code
                if self._is_source(code.co_filename):
                    self._start_entry(frame, code)
        elif event == "return" and self.entry is not None and self.entry["frame"] is frame:
            self._end_entry()

    def _start_entry(self, frame, code):
        key = (code.co_filename, code.co_firstlineno)
        if key in self.targets:  # the test calls a changed function itself: no entry point
            self.entry = {"frame": frame, "key": None, "hits": set()}
            return
        info = self.entries.get(key)
        if info is None:
            info = self.entries[key] = {
                "name": code.co_name,
                "calls": [],
                "targets": set(),
                "stats": {
                    "seen": 0,
                    "unpicklable": 0,
                    "too_large": 0,
                    "test_code": 0,
                    "duplicate": 0,
                },
            }
        entry = {
            "frame": frame,
            "key": key,
            "hits": set(),
            "record": None,
            "objects": None,
            "stats": {},
        }
        if len(info["calls"]) < self.max_keep and self._room(f"{key[0]}:{key[1]}"):
            args, kwargs = call_arguments(frame, code)
            entry["stats"] = {"unpicklable": 0, "too_large": 0, "test_code": 0, "duplicate": 0}
            entry["record"], entry["objects"] = self._snapshot(
                f"{key[0]}:{key[1]}", args, kwargs, entry["stats"]
            )
        self.entry = entry

    def _end_entry(self):
        entry, self.entry = self.entry, None
        if entry.get("record") is not None and entry["record"] in self.open_records:
            self.open_records.remove(entry["record"])
        if not entry["hits"] or entry["key"] is None:
            return
        info = self.entries[entry["key"]]
        info["stats"]["seen"] += 1
        info["targets"].update(entry["hits"])
        for name, n in entry["stats"].items():  # why this call was not kept, if it was not
            info["stats"][name] += n
        if entry["record"] is None:
            return
        key = f"{entry['key'][0]}:{entry['key'][1]}"
        info["calls"].append(self._finish(key, entry["record"], entry["objects"]))

    def _importable(self, module):
        """Whether a workload can import ``module``: from outside the tree, or from a root."""
        known = self.importable.get(module)
        if known is not None:
            return known
        file = getattr(sys.modules.get(module), "__file__", None)
        ok = True
        if file:
            real = os.path.realpath(file)
            if real.startswith(self.tree + os.sep):
                rel = module.replace(".", os.sep)
                ok = any(
                    real in (os.path.join(r, rel + ".py"), os.path.join(r, rel, "__init__.py"))
                    for r in self.roots
                )
        self.importable[module] = ok
        return ok

    def _on_return(self, pend):
        tid = pend["tid"]
        self.active[tid] = max(0, self.active.get(tid, 1) - 1)
        rec = pend["record"]
        if rec is None:
            return
        if rec in self.open_records:
            self.open_records.remove(rec)
        if pend["raised"] and not pend["generator"]:
            self.stats[tid]["raised"] += 1
            return
        self.calls[tid].append(self._finish(tid, rec, pend["objects"]))
        self.stats[tid]["kept"] += 1

    def install(self):
        threading.settrace(self.global_trace)
        sys.settrace(self.global_trace)
        sys.setprofile(self.profile)

    def uninstall(self):
        self.open_records = []
        sys.setprofile(None)
        sys.settrace(None)
        threading.settrace(None)
        self.entry = None

    def result(self):
        for rec in self.units.values():
            for key in [k for k in rec if k.startswith("_")]:
                rec.pop(key)
        return {
            "units": self.units,
            "calls": self.calls,
            "stats": self.stats,
            "collect_errors": self.collect_errors,
            "entries": [
                {
                    "file": f,
                    "line": line,
                    "name": e["name"],
                    "calls": e["calls"],
                    "targets": sorted(e["targets"]),
                    "stats": e["stats"],
                }
                for (f, line), e in self.entries.items()
                if e["targets"]
            ],
        }


class _NotingPickler(pickle.Pickler):
    """A pickler that notes the module of every class, function and instance it meets."""

    def __init__(self, file):
        super().__init__(file, protocol=4)
        self.modules = set()

    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            module = getattr(obj, "__module__", None)
        else:
            module = type(obj).__module__
        if module:
            self.modules.add(module)
        return NotImplemented


def dumps_noting_modules(value):
    buffer = io.BytesIO()
    pickler = _NotingPickler(buffer)
    pickler.dump(value)
    return buffer.getvalue(), pickler.modules


def literal_text(value, limit=20000):
    """``repr(value)`` when it reads back as an equal literal (a workload can show it), else None."""
    try:
        text = repr(value)
        if len(text) <= limit and ast.literal_eval(text) == value:
            return text
    except Exception:
        pass
    return None


def call_arguments(frame, code):
    """The arguments of the call that made ``frame``, as (positional tuple, keyword dict)."""
    local = frame.f_locals
    names = code.co_varnames
    n_pos, n_kw = code.co_argcount, code.co_kwonlyargcount
    args = [local[n] for n in names[:n_pos] if n in local]
    kwargs = {n: local[n] for n in names[n_pos : n_pos + n_kw] if n in local}
    index = n_pos + n_kw
    if code.co_flags & CO_VARARGS:
        args.extend(local.get(names[index], ()))
        index += 1
    if code.co_flags & CO_VARKEYWORDS:
        kwargs.update(local.get(names[index], {}))
    return tuple(args), kwargs


# --- tests mode ------------------------------------------------------------------------------


def _test_info(item, rootdir, not_provided=()):
    """How a test could be called without pytest: its function, class and parameters."""
    import unittest

    info = {"callable": False, "why": ""}
    func = getattr(item, "obj", None)
    path = getattr(item, "path", None) or getattr(item, "fspath", None)
    info["file"] = os.path.relpath(str(path), rootdir) if path else ""
    info["function"] = getattr(item, "originalname", None) or item.name
    cls = getattr(item, "cls", None)
    # The class as the test module names it (the node id), which also finds classes that a
    # factory made and stored under a module-level name (their __qualname__ has "<locals>").
    info["cls"] = ".".join(item.nodeid.split("::")[1:-1]) or None if cls is not None else None
    info["unittest"] = bool(cls is not None and issubclass(cls, unittest.TestCase))
    callspec = getattr(item, "callspec", None)
    params = dict(callspec.params) if callspec is not None else {}
    try:
        own = [p for p in inspect.signature(func).parameters if p not in params and p != "self"]
    except (TypeError, ValueError):
        own = []
    autouse = [
        f
        for f in getattr(item, "fixturenames", [])
        if f not in params and f not in own and f != "request" and not f.startswith("_unittest_")
    ]
    fixtures = own + autouse
    missing = [f for f in fixtures if f in not_provided]
    if func is None or not callable(func):
        info["why"] = "not a function"
    elif missing:
        info["why"] = "uses fixtures that only a running pytest test provides: " + ", ".join(
            missing[:4]
        )
    elif getattr(func, "__code__", None) is not None and func.__code__.co_flags & 0x80:
        info["why"] = "a coroutine"
    elif fixtures:
        # pytest itself sets the fixtures up (in the workload's setup), then the test is timed.
        info["callable"] = True
        info["pytest"] = True
        info["fixtures"] = fixtures
    else:
        try:
            info["params"] = base64.b64encode(pickle.dumps(params, protocol=4)).decode("ascii")
            info["callable"] = True
        except Exception as exc:
            info["why"] = f"unpicklable parameters ({type(exc).__name__})"
    return info


def run_tests(cfg, rec):
    import pytest

    rootdir = cfg["tree"]
    not_provided = frozenset(cfg.get("fixtures_not_provided", ()))
    deadline = time.monotonic() + float(cfg.get("budget_s", 600))

    class Plugin:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item, nextitem):
            rec.start(item.nodeid, _test_info(item, rootdir, not_provided))
            rec.install()  # only while a test runs: pytest's own start-up stays untraced
            try:
                yield
            finally:
                rec.uninstall()
                rec.stop()
            if time.monotonic() > deadline:
                item.session.shouldstop = "probe time budget exhausted"

        def pytest_collectreport(self, report):
            if report.failed:
                text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
                lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
                rec.collect_errors.append(
                    f"{report.nodeid}: {lines[-1][:200] if lines else 'error'}"
                )

        def pytest_runtest_logreport(self, report):
            unit = rec.units.get(report.nodeid)
            if unit is None:
                return
            relevant = report.when == "call" or report.outcome != "passed"
            if relevant and unit.get("outcome") in ("unknown", "passed"):
                unit["outcome"] = report.outcome

    args = [
        *cfg["pytest_args"],
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        "-o",
        "addopts=",
        "--rootdir",
        rootdir,
        "--continue-on-collection-errors",
        "-W",
        "ignore::DeprecationWarning",
    ]
    return int(pytest.main(args, plugins=[Plugin()]))


# --- asv mode --------------------------------------------------------------------------------


def _param_sets(params):
    if not params:
        return [()]
    if (
        isinstance(params, (list, tuple))
        and params
        and all(isinstance(p, (list, tuple)) for p in params)
    ):
        return list(itertools.product(*params))
    return [(p,) for p in params]


def _load_bench_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_benchmarks(cfg, rec):
    deadline = time.monotonic() + float(cfg.get("budget_s", 600))
    bench_root = cfg["bench_root"]
    sys.path.insert(0, os.path.dirname(bench_root))
    errors = []
    for path in cfg["bench_files"]:
        rel = os.path.relpath(path, os.path.dirname(bench_root))
        name = rel[:-3].replace(os.sep, ".")
        try:
            module = _load_bench_module(path, name)
        except Exception as exc:
            errors.append(f"{rel}: import failed: {type(exc).__name__}: {exc}")
            continue
        for owner_name, owner in _bench_owners(module):
            for method in sorted(m for m in dir(owner) if m.startswith("time_")):
                if time.monotonic() > deadline:
                    return errors
                _run_benchmark(rec, owner_name, owner, method, rel, errors)
    return errors


def _bench_owners(module):
    yield None, module
    for attr in sorted(vars(module)):
        value = getattr(module, attr)
        if isinstance(value, type) and value.__module__ == module.__name__:
            yield attr, value


def _run_benchmark(rec, owner_name, owner, method, rel, errors):
    is_module = isinstance(owner, types.ModuleType)
    params = getattr(owner, "params", None) if not is_module else None
    for index, combo in enumerate(_param_sets(params)[:6]):
        prefix = owner_name + "." if owner_name else ""
        unit = f"{rel}::{prefix}{method}[{index}]"
        try:
            obj = owner if is_module else owner()
            cache = ()
            if not is_module and hasattr(obj, "setup_cache"):
                cache = (obj.setup_cache(),)
            if hasattr(obj, "setup") and not is_module:
                obj.setup(*cache, *combo)
        except NotImplementedError:
            continue
        except Exception as exc:
            errors.append(f"{unit}: setup failed: {type(exc).__name__}: {exc}")
            continue
        rec.start(
            unit,
            {
                "file": rel,
                "cls": owner_name,
                "function": method,
                "params_index": index,
                "cache": bool(cache),
            },
        )
        try:
            rec.install()
            try:
                getattr(obj, method)(*cache, *combo)
            finally:
                rec.uninstall()
            rec.units[unit]["outcome"] = "passed"
        except NotImplementedError:
            rec.units[unit]["outcome"] = "skipped"
        except Exception as exc:
            rec.units[unit]["outcome"] = "failed"
            errors.append(f"{unit}: {type(exc).__name__}: {exc}")
        finally:
            rec.stop()
        try:
            if hasattr(obj, "teardown") and not is_module:
                obj.teardown(*cache, *combo)
        except Exception:
            pass


def main():
    with open(sys.argv[1]) as fh:
        cfg = json.load(fh)
    for entry in reversed(cfg.get("sys_path", [])):
        sys.path.insert(0, entry)
    os.chdir(cfg["tree"])
    rec = Recorder(cfg)
    out = {"ok": False, "errors": []}
    try:
        if cfg["mode"] == "asv":
            out["errors"] = run_benchmarks(cfg, rec)
            out["exit_code"] = 0
        else:
            out["exit_code"] = run_tests(cfg, rec)
        out["ok"] = True
    except BaseException as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-3000:]}")
    out.update(rec.result())
    with open(cfg["out"] + ".tmp", "w") as fh:
        json.dump(out, fh)
    os.replace(cfg["out"] + ".tmp", cfg["out"])
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
