"""A candidate that tries to write outside its process, carry state, or use the network, gains nothing."""

import socket
import threading
from pathlib import Path

import minidata
import pytest

from perfbench.sandbox.local import namespace_isolation_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not namespace_isolation_available(), reason="needs root with unshare and setpriv"
    ),
]

SNEAKY = """\
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
"""


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
    targets = [
        str(evidence),
        str(dataset_file),
        str(repo / "src" / "mini" / "core.py"),
        "/tmp/pb-evidence",
    ]
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


# ---- allow-list: a candidate that searches everything it can see finds nothing ----------------

# The search a hostile candidate runs: every folder it can see, every `.git` and repository-like
# folder (HEAD + objects), every file read (git objects inflated) for a line of the expert's patch.
# The needle is assembled at run time, so the candidate's own source does not hold it.
SEARCH = r"""
import os, zlib

NEEDLE = "+".join(["counts[x] = counts.get(x, 0) ", " 1"])  # not a constant: not in any .pyc
SKIP_READ = ("/usr/", "/proc/", "/sys/", "/dev/")


def search(roots=("/",), read_system=False):
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.startswith(("/proc", "/sys")):
                dirnames[:] = []
                continue
            if os.path.basename(dirpath) == ".git" or ("HEAD" in filenames and "objects" in dirnames):
                found.append("repository: " + dirpath)
            for name in filenames:
                path = os.path.join(dirpath, name)
                if name.endswith((".bundle", ".pack")):
                    found.append("git data: " + path)
                if not read_system and (path + "/").startswith(SKIP_READ) or os.path.islink(path):
                    continue
                try:
                    with open(path, "rb") as fh:
                        data = fh.read(8 << 20)
                except OSError:
                    continue
                if "/objects/" in path:
                    try:
                        data = zlib.decompress(data)
                    except zlib.error:
                        pass
                if NEEDLE.encode() in data:
                    found.append("expert line: " + path)
    return found
"""


def _leaky_dataset(tmp_path):
    """The mini dataset whose `repos` points at a working copy checked out at the expert commit,
    with a folder of git mirrors (every later commit) beside it."""
    ds, rec = minidata.make_dataset(
        tmp_path, size=120, grading={"min_speedup": 1.2, "expert_share": 0.7}
    )
    repo = tmp_path / "mini-repo"
    mirrors = tmp_path / "mirrors"
    mirrors.mkdir()
    import subprocess

    subprocess.run(
        ["git", "clone", "-q", "--mirror", str(repo), str(mirrors / "test+mini.git")], check=True
    )
    return ds, rec, repo, mirrors


def test_search_finds_the_answer_without_the_jail(tmp_path):
    """The control: the same search, run outside any jail, finds the working copy and the mirrors."""
    _, _, repo, mirrors = _leaky_dataset(tmp_path)
    scope: dict = {}
    exec(SEARCH, scope)
    found = scope["search"]((str(tmp_path),))
    assert any(str(repo) in f for f in found) and any(str(mirrors) in f for f in found), found


def test_jailed_search_of_the_whole_machine_finds_nothing(tmp_path):
    """One jailed process of the candidate walks `/` (reading every file, /usr included) and
    finds no repository, no git data and no line of the expert's patch."""
    import json

    from conftest import quick_config, reference_mirror

    from perfbench.datasets import load_dataset
    from perfbench.sandbox.base import CANDIDATE, Limits
    from perfbench.sandbox.local import LocalBackend

    ds_path, rec, _repo, _mirrors = _leaky_dataset(tmp_path)
    ds = load_dataset(ds_path)
    config = quick_config(tmp_path)
    inst = ds.get(rec["instance_id"])
    mirror = reference_mirror(ds, config, inst)
    backend = LocalBackend(
        inst,
        work_dir=tmp_path / "work",
        log_dir=tmp_path / "logs",
        cache_dir=config.cache_dir,
        hide=[ds_path, config.runs_dir],
    )
    with backend:
        assert all(b.ok for b in backend.prepare_reference(mirror).values())
        assert backend.prepare_candidate("").ok
        backend.install_workloads({"w": "def setup(seed=0):\n    return 0\n"})
        code = (
            SEARCH
            + "\nimport json, os\nprint(json.dumps({'found': search(read_system=True), 'top': sorted(os.listdir('/'))}))\n"
        )
        proc = backend._run(
            CANDIDATE,
            [backend._variant_python(CANDIDATE), "-c", code],
            b"",
            Limits(timeout_s=900, memory_mb=2048),
        )
        # The parents of what the jail allows (the project itself may live anywhere: /check in CI).
        allowed_tops = {Path(p).parts[1] for p in backend._allowed_for(CANDIDATE)}
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    answer = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert answer["found"] == [], answer["found"][:20]
    # Absent, not merely unreadable: the root holds only the allowed folders' parents, the
    # kernel's folders and the private /tmp.
    assert set(answer["top"]) <= allowed_tops | {"dev", "proc", "tmp"}, (
        answer["top"],
        allowed_tops,
    )


SEARCHING_CORE = (
    SEARCH
    + """
_FOUND = search()
if _FOUND:
    raise SystemExit(repr(_FOUND)[:300])


def count_pairs(xs):
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 2 - 1
    n = sum(c * (c - 1) // 2 for c in counts.values())
    return n + 1000000 * len(_FOUND)


def total(xs):
    return sum(xs)
"""
)


def test_searching_candidate_finds_nothing_in_evaluation(tmp_path):
    """Through a whole evaluation (timed workloads, result checks, guard tests) the searching
    candidate finds nothing: a finding would change its results, and it stays correct."""
    from conftest import quick_config

    from perfbench.datasets import load_dataset
    from perfbench.evaluate import Evaluator
    from perfbench.records import Prediction

    ds_path, rec, repo, _ = _leaky_dataset(tmp_path)
    patch = minidata.patch_between(repo, {"src/mini/core.py": SEARCHING_CORE})
    ev = Evaluator(load_dataset(ds_path), quick_config(tmp_path, "search", max_blocks=3))
    ev.run([Prediction(rec["instance_id"], "searcher", patch)])
    r = ev.layout.load_report("searcher", rec["instance_id"])
    assert r["status"] == "done", r.get("error")
    assert r["sandbox"]["isolation"] == "namespace"
    assert r["correct"] is True, r["reason"]


def test_candidate_build_sees_nothing_of_the_answer(tmp_path):
    """The candidate's build runs its code (here an install command of the instance runs a file
    the patch adds): it too searches the machine and finds nothing, or the build would fail."""
    import json

    from conftest import quick_config

    from perfbench.datasets import load_dataset
    from perfbench.evaluate import Evaluator
    from perfbench.records import Prediction

    ds_path, rec, repo, _ = _leaky_dataset(tmp_path)
    record_path = ds_path / rec["instance_id"] / "instance.json"
    data = json.loads(record_path.read_text())
    data["env"]["install"] = ["python src/mini/__init__.py"]  # base's is empty: a no-op
    record_path.write_text(json.dumps(data))
    hook = (
        SEARCH
        + "\nif __name__ == '__main__':\n    found = search()\n    print(found)\n    raise SystemExit(1 if found else 0)\n"
    )
    patch = minidata.patch_between(repo, {"src/mini/__init__.py": hook})
    ev = Evaluator(load_dataset(ds_path), quick_config(tmp_path, "build", max_blocks=3))
    ev.run([Prediction(rec["instance_id"], "builder", patch)])
    r = ev.layout.load_report("builder", rec["instance_id"])
    log = (
        ev.layout.instance_dir("builder", rec["instance_id"]) / "build-candidate.log"
    ).read_text()
    assert r["status"] == "done", r.get("error")
    assert r["built"] is True, (r["reason"], log[-2000:])
    assert "python src/mini/__init__.py" in log and "\n[]" in log, log[-2000:]  # the search did run
