"""Judge whether a variant's result equals the reference, in a process of its own (stdlib only).

Reads a JSON request on stdin: ``workload`` (path, for its optional
``check(expected, actual)``), ``expected`` and ``actual`` (canonical encoded
results as text), ``pythonpath``. Prints one JSON line: ``{"equal": bool,
"detail": str}``. The candidate's code is never imported here: only the
reference variant's environment is on the path, and the results are plain
decoded data.
"""

import importlib.util
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serialize


def main():
    request = json.loads(sys.stdin.read())
    out = {"equal": False, "detail": ""}
    try:
        for entry in reversed(request.get("pythonpath") or []):
            sys.path.insert(1, entry)
        expected = serialize.decode(json.loads(request["expected"]))
        actual = serialize.decode(json.loads(request["actual"]))
        check = None
        path = request.get("workload")
        if path:
            spec = importlib.util.spec_from_file_location("perfbench_workload", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            check = getattr(module, "check", None)
        if callable(check):
            verdict = check(expected, actual)
            if verdict is None or verdict is True:
                out = {"equal": True, "detail": "check() accepted"}
            else:
                detail = verdict if isinstance(verdict, str) else "check() rejected the result"
                out = {"equal": False, "detail": detail}
        else:
            diff = serialize.first_difference(expected, actual)
            out = {"equal": diff is None, "detail": diff or "equal"}
    except AssertionError as exc:
        out = {"equal": False, "detail": "check() failed: %s" % (exc or "assertion")}
    except Exception as exc:
        out = {"equal": False, "detail": "comparison error: %s: %s" % (type(exc).__name__, exc),
               "traceback": traceback.format_exc()[-4000:]}
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
