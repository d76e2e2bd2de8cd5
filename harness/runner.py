"""Run one perf workload in this fresh process and print one JSON line (standard library only).

Runs on the instance's own interpreter (Python 3.8+), inside the sandbox. The
request arrives on stdin as JSON; the answer goes to a private duplicate of
stdout, while the process's own stdout is pointed at stderr so that prints
from the code under test cannot forge it. The timer, the JSON encoder and the
result serializer are bound here, before any repository code is imported.

Request fields: ``workload`` (path), ``seed``, ``mode`` (``time`` or
``calibrate``), ``loops``, ``repeats``, ``warmup``, ``target_s`` (calibrate),
``pythonpath`` (entries to put on sys.path), ``nonce`` (echoed back),
``return_result`` (include the encoded result, not only its digest).
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
_T_START = _perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serialize  # noqa: E402  (ours, bound before repository code)

_encode = serialize.encode
_canonical = serialize.canonical
MAX_RESULT_BYTES = 16 * 1024 * 1024


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


def _time_loops(run, data, loops):
    t0 = _perf_counter()
    for _ in range(loops):
        run(data)
    return _perf_counter() - t0


def main():
    request = json.loads(sys.stdin.readline())
    sys.stdin.close()
    out_fd = os.dup(1)
    os.dup2(2, 1)  # prints of the code under test go to stderr
    answer = {"nonce": request.get("nonce"), "ok": False, "phase": "import"}
    try:
        for entry in reversed(request.get("pythonpath") or []):
            sys.path.insert(1, entry)
        t0 = _perf_counter()
        module = _load_workload(request["workload"])
        answer["import_s"] = _perf_counter() - t0
        answer["phase"] = "setup"
        t0 = _perf_counter()
        data = module.setup(int(request.get("seed", 0)))
        answer["setup_s"] = _perf_counter() - t0
        answer["phase"] = "run"
        t0 = _perf_counter()
        result = module.run(data)
        answer["first_call_s"] = _perf_counter() - t0
        answer["phase"] = "serialize"
        encoded = _canonical(_encode(result))
        answer["result_digest"] = _sha256(encoded.encode()).hexdigest()
        answer["result_bytes"] = len(encoded)
        if request.get("return_result"):
            answer["result"] = encoded if len(encoded) <= MAX_RESULT_BYTES else None
        del result
        answer["phase"] = "warmup"
        run = module.run
        for _ in range(max(0, int(request.get("warmup", 1)) - 1)):
            run(data)
        answer["phase"] = "time"
        if request.get("mode") == "calibrate":
            target = float(request.get("target_s", 0.05))
            loops = 1
            while True:
                elapsed = _time_loops(run, data, loops)
                if elapsed >= target or loops >= 1 << 20:
                    break
                loops = loops * 2 if elapsed <= 0 else max(loops * 2, int(loops * target / elapsed * 1.2))
            answer["loops"] = loops
            answer["per_call_s"] = elapsed / loops
        else:
            loops = max(1, int(request.get("loops", 1)))
            repeats = max(1, int(request.get("repeats", 5)))
            gc.collect()
            times = []
            cpu0 = _process_time()
            for _ in range(repeats):
                times.append(_time_loops(run, data, loops) / loops)
            answer["cpu_s"] = _process_time() - cpu0
            answer["times"] = times
            answer["loops"] = loops
            answer["min"] = min(times)
            answer["mean"] = sum(times) / len(times)
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
