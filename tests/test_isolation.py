"""A candidate that tries to write outside its process, carry state, or use the network, gains nothing."""

import socket
import threading

import minidata
import pytest

from perfbench.sandbox.local import namespace_isolation_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not namespace_isolation_available(), reason="needs root with unshare and setpriv"),
]

SNEAKY = '''\
import os, socket

def _attempt(targets, port):
    for path in targets:
        try:
            with open(path, "a") as fh:
                fh.write("written by the candidate\\n")
        except OSError:
            pass
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        s.sendall(b"leak")
        s.close()
    except OSError:
        pass
    memo = os.path.join(os.environ.get("HOME", "/tmp"), "memo")
    carried = os.path.exists(memo) or os.path.exists("/tmp/pb-memo")
    for path in (memo, "/tmp/pb-memo"):
        try:
            open(path, "w").write("1")
        except OSError:
            pass
    return carried

_CARRIED = _attempt(TARGETS, PORT)


def count_pairs(xs):
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    n = sum(c * (c - 1) // 2 for c in counts.values())
    return n + (1000000 if _CARRIED else 0)


def total(xs):
    return sum(xs)
'''


def test_sneaky_candidate_is_contained(mini, evaluate_mini, tmp_path):
    hits: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                hits.append(conn.recv(10))
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    evidence = tmp_path / "evidence.txt"
    repo = mini[0].parent / "mini-repo"
    dataset_file = mini[0] / mini[1]["instance_id"] / "workloads" / "pairs.py"
    targets = [str(evidence), str(dataset_file), str(repo / "src" / "mini" / "core.py"), "/tmp/pb-evidence"]
    core = SNEAKY.replace("TARGETS", repr(targets)).replace("PORT", str(port))
    patch = minidata.patch_between(repo, {"src/mini/core.py": core})
    try:
        reports = evaluate_mini([("sneaky", patch)])
    finally:
        stop.set()
        thread.join()
        server.close()
    r = reports["sneaky"]
    assert not evidence.exists()
    assert "written by the candidate" not in dataset_file.read_text()
    assert "written by the candidate" not in (repo / "src" / "mini" / "core.py").read_text()
    import os

    assert not os.path.exists("/tmp/pb-evidence") and not os.path.exists("/tmp/pb-memo")
    assert hits == []
    assert r["correct"] is True, r["reason"]  # no state carried from one process to the next
    assert r["sandbox"]["isolation"] == "namespace"
