"""Judge whether a variant's result equals the reference, in a process of its own (stdlib only).

Reads a JSON request on stdin: ``workload`` (path, for its optional
``check(expected, actual)``), ``expected`` and ``actual`` (canonical encoded
results as text), or ``expected_calls`` and ``actual_calls`` (lists of them, one
per timed call, compared pairwise), ``pythonpath``. Prints one JSON line: ``{"equal": bool,
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


def _judge(check, expected_text, actual_text):
    expected = serialize.decode(json.loads(expected_text))
    actual = serialize.decode(json.loads(actual_text))
    if callable(check):
        verdict = check(expected, actual)
        if verdict is None or verdict is True:
            return {"equal": True, "detail": "check() accepted"}
        detail = verdict if isinstance(verdict, str) else "check() rejected the result"
        return {"equal": False, "detail": detail}
    diff = serialize.first_difference(expected, actual)
    return {"equal": diff is None, "detail": diff or "equal"}


def main():
    request = json.loads(sys.stdin.read())
    out = {"equal": False, "detail": ""}
    try:
        for entry in reversed(request.get("pythonpath") or []):
            sys.path.insert(1, entry)
        check = None
        path = request.get("workload")
        if path:
            spec = importlib.util.spec_from_file_location("perfbench_workload", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            check = getattr(module, "check", None)
        if "expected_calls" in request:
            pairs = list(zip(request["expected_calls"], request["actual_calls"]))
            out = {"equal": bool(pairs), "detail": "equal" if pairs else "no results to compare"}
            for index, (expected, actual) in enumerate(pairs):
                if expected == actual:
                    continue
                out = _judge(check, expected, actual)
                if not out["equal"]:
                    out["detail"] = "timed call %d: %s" % (index, out["detail"])
                    break
        else:
            out = _judge(check, request["expected"], request["actual"])
    except AssertionError as exc:
        out = {"equal": False, "detail": "check() failed: %s" % (exc or "assertion")}
    except Exception as exc:
        out = {
            "equal": False,
            "detail": "comparison error: %s: %s" % (type(exc).__name__, exc),
            "traceback": traceback.format_exc()[-4000:],
        }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
