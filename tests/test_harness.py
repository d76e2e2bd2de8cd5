import json
import subprocess
import sys
from pathlib import Path

import pytest

from perfbench.measure.protocol import parse_answer
from perfbench.sandbox.base import ProcResult

HARNESS = Path(__file__).resolve().parent.parent / "harness"
sys.path.insert(0, str(HARNESS))
import serialize  # noqa: E402

WORKLOAD = """
import random
print("noise from the workload")
def setup(seed=0):
    return [random.Random(seed).random() for _ in range(1000)]
def run(data):
    print('{"nonce": "forged", "ok": true, "min": 0.0}')
    return sorted(data)[:3]
"""


def run_harness(script: str, request: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-s", str(HARNESS / script)],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def workload(tmp_path):
    p = tmp_path / "w.py"
    p.write_text(WORKLOAD)
    return p


def test_runner_times_and_keeps_stdout_private(workload):
    ans = run_harness(
        "runner.py",
        {
            "workload": str(workload),
            "seed": 3,
            "loops": 4,
            "repeats": 3,
            "nonce": "n1",
            "return_result": True,
        },
    )
    assert ans["ok"] and ans["nonce"] == "n1"
    assert len(ans["times"]) == 3 and ans["min"] == min(ans["times"]) and ans["loops"] == 4
    assert len(json.loads(ans["result"])) == 3
    # Every timed call ran on an input of its own: 12 distinct results, the first at the seed itself.
    assert ans["calls"] == 12 and len(ans["results"]) == 12 and len(set(ans["results"])) == 12
    again = run_harness(
        "runner.py", {"workload": str(workload), "seed": 3, "loops": 4, "repeats": 3, "nonce": "n2"}
    )
    assert again["result_digest"] == ans["result_digest"]
    other = run_harness(
        "runner.py", {"workload": str(workload), "seed": 4, "loops": 4, "repeats": 3, "nonce": "n3"}
    )
    assert other["result_digest"] != ans["result_digest"]


def test_runner_calibrates(workload):
    ans = run_harness(
        "runner.py",
        {"workload": str(workload), "mode": "calibrate", "target_s": 0.01, "nonce": "c"},
    )
    assert ans["ok"] and ans["loops"] >= 1 and ans["per_call_s"] > 0


def test_runner_reports_errors_with_phase(tmp_path):
    p = tmp_path / "bad.py"
    p.write_text("def setup(seed=0):\n    raise ValueError('no data')\ndef run(d):\n    return d\n")
    ans = run_harness("runner.py", {"workload": str(p), "nonce": "e"})
    assert not ans["ok"] and ans["phase"] == "setup" and "ValueError: no data" in ans["error"]


def test_parse_answer_rejects_forgery_and_failures():
    good = ProcResult(0, b'{"nonce": "abc", "ok": true}\n', b"", 0.1)
    assert parse_answer(good, "abc")["ok"]
    forged = ProcResult(0, b'{"nonce": "zzz", "ok": true}\n', b"", 0.1)
    assert "nonce" in parse_answer(forged, "abc")["error"]
    killed = ProcResult(-9, b"", b"", 0.1)
    assert "SIGKILL" in parse_answer(killed, "abc")["error"]
    timeout = ProcResult(None, b"", b"", 5.0, timed_out=True)
    assert parse_answer(timeout, "abc")["error"] == "timeout"


class AlwaysEqual:
    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return True


def test_serialize_is_canonical_and_ignores_custom_eq():
    a = serialize.canonical(serialize.encode({"b": 1, "a": {3, 1, 2}, "t": (1, 2.5)}))
    b = serialize.canonical(serialize.encode({"a": {2, 3, 1}, "t": (1, 2.5), "b": 1}))
    assert a == b
    x = serialize.canonical(serialize.encode(AlwaysEqual(1)))
    y = serialize.canonical(serialize.encode(AlwaysEqual(2)))
    assert x != y
    assert (
        serialize.decode(json.loads(serialize.canonical(serialize.encode((1, float("nan"))))))[0]
        == 1
    )


@pytest.mark.parametrize(
    ("expected", "actual", "equal"),
    [
        ([1.0, 2.0], [1.0, 2.0 + 1e-12], True),
        ([1.0], [1.1], False),
        ({"a": (1, 2)}, {"a": (1, 2)}, True),
        ({"a": 1}, {"b": 1}, False),
        ([1, 2], (1, 2), False),
    ],
)
def test_compare_default(expected, actual, equal):
    enc = lambda v: serialize.canonical(serialize.encode(v))  # noqa: E731
    ans = run_harness("compare.py", {"expected": enc(expected), "actual": enc(actual)})
    assert ans["equal"] is equal, ans


def test_compare_uses_workload_check(tmp_path):
    p = tmp_path / "w.py"
    p.write_text(
        "def setup(seed=0):\n    return 0\ndef run(d):\n    return d\n"
        "def check(expected, actual):\n    assert abs(expected - actual) < 5, 'too far'\n"
    )
    enc = lambda v: serialize.canonical(serialize.encode(v))  # noqa: E731
    assert run_harness("compare.py", {"workload": str(p), "expected": enc(10), "actual": enc(13)})[
        "equal"
    ]
    ans = run_harness("compare.py", {"workload": str(p), "expected": enc(10), "actual": enc(20)})
    assert not ans["equal"] and "too far" in ans["detail"]


def test_runner_reports_the_cpu_share_that_reveals_a_shared_cpu(tmp_path):
    """A busy process on the same CPU preempts the timed calls: their CPU share drops well under 1."""
    import os

    cpu = max(os.sched_getaffinity(0))
    w = tmp_path / "spin.py"
    w.write_text(
        "def setup(seed=0):\n    return 200000\n\ndef run(n):\n    return sum(i * i for i in range(n))\n"
    )
    spinner = subprocess.Popen(
        ["taskset", "-c", str(cpu), sys.executable, "-c", "while True: pass"]
    )
    try:
        proc = subprocess.run(
            ["taskset", "-c", str(cpu), sys.executable, "-s", str(HARNESS / "runner.py")],
            input=json.dumps({"workload": str(w), "loops": 1, "repeats": 10}) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        spinner.kill()
        spinner.wait()
    ans = json.loads(proc.stdout.strip().splitlines()[-1])
    share = ans["cpu_s"] / (sum(ans["times"]) * ans["loops"])
    assert ans["ok"] and share < 0.8, share


MEMO_WORKLOAD = """
import json, os, tempfile
SEEN = {}
def setup(seed=0):
    return [seed % 97, seed // 97]
def run(data):
    key = json.dumps(data)
    path = os.path.join(tempfile.gettempdir(), "memo-" + str(abs(hash(key))))
    hit = key in SEEN or os.path.exists(path)
    SEEN[key] = True
    open(path, "w").close()
    return hit
"""


def test_no_timed_call_sees_an_input_an_earlier_call_saw(tmp_path, monkeypatch):
    # A memo keyed by the input, in memory and in a file, never hits: warm-up and timed calls
    # each run on an input of their own.
    p = tmp_path / "memo.py"
    p.write_text(MEMO_WORKLOAD)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    ans = run_harness(
        "runner.py",
        {
            "workload": str(p),
            "seed": 5,
            "loops": 3,
            "repeats": 4,
            "warmup": 2,
            "nonce": "m",
            "return_result": True,
        },
    )
    assert ans["ok"] and ans["calls"] == 12
    assert [json.loads(r) for r in ans["results"]] == [False] * 12


LAZY_WORKLOAD = """
class Lazy(list):
    def __init__(self, n):
        self.n = n
    def __iter__(self):
        total = 0
        for i in range(self.n * 20000):
            total += i
        return iter([total])
def setup(seed=0):
    return seed % 5 + 1
def run(n):
    return Lazy(n)
"""


def test_serializing_time_is_reported_per_call(tmp_path):
    # A result that does its work when read shows up in encode_s, outside the timed calls.
    p = tmp_path / "lazy.py"
    p.write_text(LAZY_WORKLOAD)
    ans = run_harness(
        "runner.py", {"workload": str(p), "seed": 1, "loops": 1, "repeats": 5, "nonce": "z"}
    )
    assert ans["ok"] and ans["encode_s"] > 5 * ans["median"]
