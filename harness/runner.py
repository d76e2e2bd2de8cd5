"""Run one perf workload in this fresh process and print one JSON line (standard library only).

Runs on the instance's own interpreter (Python 3.8+), inside the sandbox. The
request arrives on stdin as JSON; the answer goes to a private duplicate of
stdout, while the process's own stdout is pointed at stderr so that prints
from the code under test cannot forge it. The timer, the JSON encoder and the
result serializer are bound here, before any repository code is imported.

**No timed call sees an input that an earlier call in this process saw.** Every
call, warm-up or timed, gets its own input, built by ``setup`` from a seed of
its own (``call_seed``), and the timed calls use the same seeds in every
variant and every block. A candidate that memoizes on its input (in memory or
in a file) therefore never hits its cache while timed; caches that do not
depend on the input (a compiled regex, a lazily built table) are warmed by the
warm-up calls and keep counting, as they do for an expert.

Request fields: ``workload`` (path), ``seed`` (the workload's seed), ``mode``
(``time`` or ``calibrate``), ``loops`` (calls per timed repeat), ``repeats``,
``warmup`` (calls before timing), ``target_s`` (calibrate), ``pythonpath``
(entries to put on sys.path), ``nonce`` (echoed back), ``return_result``
(include the encoded results, not only their digest).
"""

import gc
import hashlib
import importlib.util
import json
import os
import sys
import time
import traceback

_perf_counter = time.perf_counter
_process_time = time.process_time
_dumps = json.dumps
_sha256 = hashlib.sha256
_write = os.write
_gc_collect = gc.collect
_gc_enable = gc.enable
_gc_isenabled = gc.isenabled
_T_START = _perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serialize  # noqa: E402  (ours, bound before repository code)

_encode = serialize.encode
_canonical = serialize.canonical
MAX_RESULT_BYTES = 16 * 1024 * 1024
MAX_CALIBRATION_CALLS = 2000


def call_seed(seed, index):
    """The seed of timed call ``index`` (0 is the workload's own seed); negative: warm-up calls.

    Derived by a hash, so that knowing one hidden seed's inputs says nothing of the others.
    """
    if index == 0:
        return int(seed)
    digest = _sha256(("perfbench:%d:%d" % (int(seed), index)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2147483647 + 1


def _run_delay_ns():
    """Nanoseconds this process has waited for a CPU (Linux schedstat), or None.

    Unlike ``process_time``, which some kernels advance in whole ticks under an RLIMIT_CPU,
    this counts waiting at nanosecond resolution: it tells a preempted process from a slow one.
    """
    try:
        with open("/proc/self/schedstat") as fh:
            return int(fh.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _emit(fd, payload):
    data = (_dumps(payload, separators=(",", ":")) + "\n").encode()
    view = memoryview(data)
    while view:
        n = _write(fd, view)
        view = view[n:]


def _load_workload(path):
    spec = importlib.util.spec_from_file_location("perfbench_workload", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load workload %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["perfbench_workload"] = module
    spec.loader.exec_module(module)
    for name in ("setup", "run"):
        if not callable(getattr(module, name, None)):
            raise TypeError("workload %s defines no %s()" % (path, name))
    return module


class _Results:
    """Digests of every result, and the encoded results themselves up to a byte budget."""

    def __init__(self, keep):
        self.keep = keep
        self.digests = []
        self.encoded = []
        self.bytes = 0

    def add(self, result):
        text = _canonical(_encode(result))
        self.digests.append(_sha256(text.encode()).hexdigest())
        if self.keep and self.bytes + len(text) <= MAX_RESULT_BYTES:
            self.encoded.append(text)
            self.bytes += len(text)

    def digest(self):
        return _sha256(",".join(self.digests).encode()).hexdigest()


def _timed_calls(module, seeds):
    """Build one input per seed (not timed), then time the calls on them as one repeat."""
    setup, run = module.setup, module.run
    inputs = [setup(s) for s in seeds]
    _gc_collect()
    _gc_enable()
    outputs = []
    append = outputs.append
    wait0, cpu0 = _run_delay_ns(), _process_time()
    t0 = _perf_counter()
    for data in inputs:
        append(run(data))
    elapsed = _perf_counter() - t0
    wait1, cpu1 = _run_delay_ns(), _process_time()
    waited = (wait1 - wait0) / 1e9 if wait0 is not None and wait1 is not None else None
    return elapsed, outputs, waited, cpu1 - cpu0


def _warm_up(module, seed, count, answer):
    """The first (cold) call and the other warm-up calls, each on an input of its own."""
    for j in range(max(1, count)):
        answer["phase"] = "setup"
        t0 = _perf_counter()
        data = module.setup(call_seed(seed, -1 - j))
        if j == 0:
            answer["setup_s"] = _perf_counter() - t0
        answer["phase"] = "run"
        t0 = _perf_counter()
        module.run(data)
        if j == 0:
            answer["first_call_s"] = _perf_counter() - t0


def _calibrate(module, seed, request, answer):
    """Per-call time on distinct inputs: the median of single calls, until ``target_s`` is spent."""
    target = float(request.get("target_s", 0.05))
    times, overheads = [], []
    spent = 0.0
    index = 1
    while (spent < target or len(times) < 3) and len(times) < MAX_CALIBRATION_CALLS:
        t0 = _perf_counter()
        elapsed, _, _, _ = _timed_calls(module, [call_seed(seed, index)])
        overheads.append(_perf_counter() - t0 - elapsed)
        times.append(elapsed)
        spent += elapsed
        index += 1
    times.sort()
    overheads.sort()
    answer["loops"] = 1
    answer["calls"] = len(times)
    answer["per_call_s"] = times[len(times) // 2]
    # What each call costs besides itself: building its input and collecting garbage first.
    answer["overhead_s"] = overheads[len(overheads) // 2]


def _measure(module, seed, request, answer, results):
    """``repeats`` timed repeats of ``loops`` calls, every call on a fresh input."""
    loops = max(1, int(request.get("loops", 1)))
    repeats = max(1, int(request.get("repeats", 5)))
    times, waited, cpu, encode_s = [], 0.0, 0.0, 0.0
    gc_tampered = False
    index = 0
    for _ in range(repeats):
        seeds = [call_seed(seed, index + k) for k in range(loops)]
        index += loops
        elapsed, outputs, wait_s, cpu_s = _timed_calls(module, seeds)
        gc_tampered = gc_tampered or not _gc_isenabled()
        times.append(elapsed / loops)
        cpu += cpu_s
        waited = None if wait_s is None or waited is None else waited + wait_s
        # Serializing is not timed, but how long it takes is kept: a result that does its work
        # only when it is read (a lazy object) shows up here, not in the timed calls.
        t0 = _perf_counter()
        for out in outputs:
            results.add(out)
        encode_s += _perf_counter() - t0
        del outputs
    ordered = sorted(times)
    answer["times"] = times
    answer["loops"] = loops
    answer["calls"] = index
    answer["min"] = ordered[0]
    answer["median"] = (
        ordered[len(ordered) // 2]
        if len(ordered) % 2
        else (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
    )
    answer["mean"] = sum(times) / len(times)
    answer["cpu_s"] = cpu
    answer["wait_s"] = waited
    answer["gc_tampered"] = gc_tampered
    answer["encode_s"] = encode_s / max(1, index)  # per call


def main():
    request = json.loads(sys.stdin.readline())
    sys.stdin.close()
    out_fd = os.dup(1)
    os.dup2(2, 1)  # prints of the code under test go to stderr
    answer = {"nonce": request.get("nonce"), "ok": False, "phase": "import"}
    keep = bool(request.get("return_result"))
    results = _Results(keep)
    try:
        for entry in reversed(request.get("pythonpath") or []):
            sys.path.insert(1, entry)
        t0 = _perf_counter()
        module = _load_workload(request["workload"])
        answer["import_s"] = _perf_counter() - t0
        seed = int(request.get("seed", 0))
        mode = request.get("mode", "time")
        if mode == "calibrate":
            # The workload's own seed gives the reference result (a cold first call); the
            # calls that are timed then run on inputs of their own.
            answer["phase"] = "setup"
            t0 = _perf_counter()
            data = module.setup(seed)
            answer["setup_s"] = _perf_counter() - t0
            answer["phase"] = "run"
            t0 = _perf_counter()
            result = module.run(data)
            answer["first_call_s"] = _perf_counter() - t0
            answer["phase"] = "serialize"
            results.add(result)
            del result, data
            answer["phase"] = "warmup"
            for j in range(max(0, int(request.get("warmup", 1)) - 1)):
                module.run(module.setup(call_seed(seed, -1 - j)))
            answer["phase"] = "time"
            _calibrate(module, seed, request, answer)
        else:
            _warm_up(module, seed, int(request.get("warmup", 1)), answer)
            answer["phase"] = "time"
            _measure(module, seed, request, answer, results)
        answer["result_digest"] = results.digest() if mode != "calibrate" else results.digests[0]
        answer["result_bytes"] = results.bytes
        if keep:
            complete = len(results.encoded) == len(results.digests)
            answer["results"] = results.encoded
            answer["results_complete"] = complete
            answer["result"] = results.encoded[0] if results.encoded else None
        answer["ok"] = True
        answer["phase"] = "done"
    except BaseException as exc:
        answer["error"] = "%s: %s" % (type(exc).__name__, str(exc)[:2000])
        answer["traceback"] = traceback.format_exc()[-8000:]
    answer["process_s"] = _perf_counter() - _T_START
    _emit(out_fd, answer)
    os._exit(0)


if __name__ == "__main__":
    main()
