"""The ``ray`` executor on a real Ray cluster: a head and two worker nodes on loopback.

Ray turns a loopback ``--node-ip-address`` into the machine's outward address, so the
cluster and its drivers live in a network namespace of their own that has nothing but
``lo``: every node is 127.0.0.1 there and no traffic leaves the machine. Each worker
node advertises one ``perfbench_slot`` on its own core (``PERFBENCH_SLOT_CPUS``).

Checked: verdicts through Ray equal the local executor's; no two measurements overlap
on one slot, and measurements that overlap in time use disjoint cores; a worker node
killed mid-run, and a driver killed and restarted, lose no finished report and the run
completes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import minidata
import pytest

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.evaluate import Evaluator
from perfbench.executors.local import LocalExecutor
from perfbench.measure.protocol import MeasureConfig
from perfbench.records import Prediction
from perfbench.sandbox.base import Limits

pytestmark = [pytest.mark.ray, pytest.mark.integration]

REQUIRE = os.environ.get("PERFBENCH_REQUIRE_RAY") == "1"
PORT = 6379  # inside the cluster's own network namespace, so it never collides
# Verdicts that noise on a busy box does not flip: the expert patch's share of the expert is
# exactly 1 and its speedup tens of times; the empty patch's share is a few percent.
GRADING = {"min_speedup": 1.2, "expert_share": 0.8}

try:
    import ray  # noqa: F401

    RAY_MISSING = None
except ImportError as exc:
    RAY_MISSING = f"ray is not installed ({exc})"


def _skip(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"PERFBENCH_REQUIRE_RAY=1 but {reason}")
    pytest.skip(reason)


class LoopbackCluster:
    """A Ray head and worker nodes, each ``ray start --block``, in a private network namespace."""

    def __init__(self) -> None:
        self.netns = f"pbray{os.getpid()}"
        self.root = Path(
            tempfile.mkdtemp(prefix="pbray")
        )  # short: Ray's socket paths must stay short
        self.ray_bin = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
        self.head: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
        self.env.pop("RAY_ADDRESS", None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{PORT}"

    def inside(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv]

    def start(self, worker_cpus: list[str], timeout_s: float = 240) -> None:
        subprocess.run(["ip", "netns", "add", self.netns], check=True, capture_output=True)
        subprocess.run(
            self.inside("ip", "link", "set", "lo", "up"), check=True, capture_output=True
        )
        self.head = self._ray_start(
            "head",
            [
                "--head",
                "--port",
                str(PORT),
                "--num-cpus",
                "0",
                "--include-dashboard=false",
                "--temp-dir",
                str(self.root / "t"),
            ],
        )
        self._wait_started("head", timeout_s)
        for i, cpus in enumerate(worker_cpus):
            # One after another: two nodes starting at once time out on a busy two-core machine.
            self.workers.append(
                self._ray_start(
                    f"worker{i}",
                    [
                        "--address",
                        self.address,
                        "--num-cpus",
                        "1",
                        "--resources",
                        json.dumps({"perfbench_slot": 1}),
                    ],
                    {"PERFBENCH_SLOT_CPUS": cpus},
                )
            )
            self._wait_started(f"worker{i}", timeout_s)

    def _ray_start(
        self, name: str, args: list[str], extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the process
        return subprocess.Popen(
            self.inside(self.ray_bin, "start", "--block", "--disable-usage-stats", *args),
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_started(self, name: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        log = self.root / f"{name}.log"
        proc = self.head if name == "head" else self.workers[-1]
        while time.monotonic() < deadline:
            if "Ray runtime started" in log.read_text(errors="replace"):
                return
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(
            f"ray node {name} did not start:\n{log.read_text(errors='replace')[-3000:]}"
        )

    def nodes_running_tasks(self) -> list[int]:
        """Indexes of the live worker nodes one of whose processes is executing a perfbench task."""
        busy = []
        for i, w in enumerate(self.workers):
            if w.poll() is not None:
                continue
            for pid in _descendants(w.pid):
                try:
                    title = (
                        Path(f"/proc/{pid}/cmdline")
                        .read_bytes()
                        .split(b"\0")[0]
                        .decode(errors="replace")
                    )
                except OSError:
                    continue
                if title.startswith("ray::run_in_slot"):
                    busy.append(i)
                    break
        return busy

    def kill_node(self, i: int) -> None:
        """SIGKILL a worker node's raylet and every process of its group (its workers with it)."""
        proc = self.workers[i]
        for pid in _descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        procs = [*self.workers, *([self.head] if self.head else [])]
        for p in procs:
            pids = _descendants(p.pid) if p.poll() is None else []
            for pid in [p.pid, *pids]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc, so nothing to install)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@pytest.fixture(scope="module")
def cluster():
    if RAY_MISSING:
        _skip(RAY_MISSING)
    if os.geteuid() != 0 or not shutil.which("ip"):
        _skip("a loopback Ray cluster needs root and iproute2 to make its network namespace")
    c = LoopbackCluster()
    try:
        c.start(worker_cpus=["0", "1"])
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        c.stop()
        _skip(f"could not start a loopback Ray cluster: {exc}")
    yield c
    c.stop()


# The driver runs inside the namespace too: perfbench's library path, with settings that keep the
# test quick (no guard tests, no namespace jail per process: the executor is under test here).
DRIVER = textwrap.dedent("""
    import json, logging, sys
    from pathlib import Path
    from perfbench.datasets import load_dataset
    from perfbench.config import EvalConfig
    from perfbench.evaluate import Evaluator
    from perfbench.executors.cluster import RayExecutor
    from perfbench.measure.protocol import MeasureConfig
    from perfbench.records import Prediction
    from perfbench.sandbox.base import Limits

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = json.loads(sys.argv[1])
    ds = load_dataset(args["dataset"])
    config = EvalConfig(run_id=args["run_id"], runs_dir=Path(args["runs"]), backend="local",
                        cache_dir=Path(args["cache"]), measure=MeasureConfig(**args["measure"]),
                        limits=Limits(timeout_s=30, memory_mb=512), guard_tests=False,
                        backend_options={"isolation": "none"})
    preds = [Prediction(p["instance_id"], p["model_name_or_path"], p["model_patch"])
             for p in args["preds"]]
    with RayExecutor(args["address"], poll_s=1.0) as executor:
        Evaluator(ds, config).run(preds, executor=executor)
    print("DRIVER DONE")
""")

MEASURE = {"min_blocks": 3, "max_blocks": 4, "time_budget_s": 60, "target_half_width": 0.05}


@pytest.fixture(scope="module")
def mini_ray(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini_ray")
    ds_path, rec = minidata.make_dataset(root, size=120, grading=GRADING)
    repo = root / "mini-repo"
    wrong = minidata.BASE_CORE.replace("    n = 0\n    for i", "    return 0\n    n = 0\n    for i")
    patches = {
        "gold": minidata.patch_between(repo, {"src/mini/core.py": minidata.OPT_CORE}),
        "empty": "",
        "wrong": minidata.patch_between(repo, {"src/mini/core.py": wrong}),
    }
    return root, ds_path, rec["instance_id"], patches


def _preds(iid: str, patches: dict[str, str], models: list[str]) -> list[dict[str, str]]:
    return [
        {"instance_id": iid, "model_name_or_path": m, "model_patch": patches[m.split("-")[0]]}
        for m in models
    ]


def _driver(
    cluster: LoopbackCluster, root: Path, ds_path: Path, run_id: str, preds: list[dict[str, str]]
) -> subprocess.Popen[str]:
    args = {
        "dataset": str(ds_path),
        "run_id": run_id,
        "runs": str(root / "runs"),
        "cache": str(root / "cache"),
        "measure": MEASURE,
        "preds": preds,
        "address": cluster.address,
    }
    log = open(root / f"driver-{run_id}.log", "a")  # noqa: SIM115 - kept open for the process
    return subprocess.Popen(
        cluster.inside(sys.executable, "-c", DRIVER, json.dumps(args)),
        env=cluster.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen[str], root: Path, run_id: str, timeout_s: float = 900) -> None:
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log = (root / f"driver-{run_id}.log").read_text(errors="replace")
    assert proc.returncode == 0 and "DRIVER DONE" in log, log[-4000:]


def _reports(root: Path, run_id: str) -> dict[str, dict]:
    out = {}
    for path in sorted((root / "runs" / run_id).glob("*/*/report.json")):
        out[path.parent.parent.name] = json.loads(path.read_text())
    return out


def _report_files(root: Path, run_id: str) -> dict[str, bytes]:
    return {
        p.parent.parent.name: p.read_bytes()
        for p in (root / "runs" / run_id).glob("*/*/report.json")
    }


def _wait_for(predicate, timeout_s: float, what: str, poll_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out waiting for {what}")


def assert_slots_never_shared(reports: list[dict]) -> None:
    """No two tasks overlap in time on one (node, slot); overlapping tasks use disjoint cores."""
    spans = [r["executor"] for r in reports]
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            overlap = a["start"] < b["end"] and b["start"] < a["end"]
            if not overlap:
                continue
            assert (a["node"], a["slot"]) != (b["node"], b["slot"]), (a, b)
            if a["host"] == b["host"]:
                assert not set(a["cpus"]) & set(b["cpus"]), (a, b)


def test_ray_verdicts_match_local_and_slots_are_never_shared(cluster, mini_ray):
    root, ds_path, iid, patches = mini_ray
    models = ["gold", "empty", "wrong"]
    proc = _driver(cluster, root, ds_path, "viaray", _preds(iid, patches, models))
    # and the expert's validation through the CLI, competing for the same slots
    validate = subprocess.Popen(
        cluster.inside(
            sys.executable,
            "-c",
            "from perfbench.cli import main; main()",
            "validate",
            "--dataset",
            str(ds_path),
            "--executor",
            "ray",
            "--ray-address",
            cluster.address,
            "--backend",
            "local",
            "--min-blocks",
            "3",
            "--max-blocks",
            "4",
            "--no-write",
            "--run-id",
            "vray",
            "--runs-dir",
            str(root / "runs"),
            "--cache-dir",
            str(root / "cache"),
        ),
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    # The same predictions on the local executor, in this process, while the cluster works.
    config = EvalConfig(
        run_id="vialocal",
        runs_dir=root / "runs",
        backend="local",
        cache_dir=root / "cache-local",
        measure=MeasureConfig(**MEASURE),
        limits=Limits(timeout_s=30, memory_mb=512, cpus=None),
        guard_tests=False,
        backend_options={"isolation": "none"},
    )
    local_preds = [
        Prediction(p["instance_id"], p["model_name_or_path"], p["model_patch"])
        for p in _preds(iid, patches, models)
    ]
    Evaluator(load_dataset(ds_path), config).run(local_preds, executor=LocalExecutor())
    _finish(proc, root, "viaray")
    out, _ = validate.communicate(timeout=900)
    assert validate.returncode == 0, out[-4000:]
    record = json.loads((root / "runs" / "vray" / "validation.json").read_text())["instances"][iid]
    assert record["valid"] is True and record["executor"]["executor"] == "ray", record
    assert (root / "runs" / "vray" / "validate" / iid / "build-base.log").exists()

    via_ray, via_local = _reports(root, "viaray"), _reports(root, "vialocal")
    assert set(via_ray) == set(via_local) == set(models)
    verdicts = {m: (r["opt"], r["correct"]) for m, r in via_ray.items()}
    assert verdicts == {m: (r["opt"], r["correct"]) for m, r in via_local.items()}, (
        verdicts,
        via_local,
    )
    assert verdicts["gold"] == ("PASS", True) and verdicts["wrong"][1] is False

    for r in via_ray.values():
        ex = r["executor"]
        assert ex["executor"] == "ray" and ex["node"] and ex["end"] > ex["start"]
        assert ex["cpus"] in ([0], [1]) and r["measurement"]["cpu_affinity"] == ex["cpus"]
    assert_slots_never_shared(list(via_ray.values()))
    # base, expert and candidate of one evaluation were measured in one task (its own timings)
    timings = (root / "runs" / "viaray" / "gold" / iid / "timings.jsonl").read_text().splitlines()
    assert {json.loads(line)["variant"] for line in timings} >= {"base", "expert", "candidate"}


def test_killed_driver_resumes_keeping_finished_reports(cluster, mini_ray):
    root, ds_path, iid, patches = mini_ray
    models = ["gold-1", "empty-1", "gold-2", "empty-2"]
    preds = _preds(iid, patches, models)
    proc = _driver(cluster, root, ds_path, "driverkill", preds)
    _wait_for(lambda: _report_files(root, "driverkill"), 600, "a first report")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _report_files(root, "driverkill")
    assert 0 < len(before) < len(models)
    restarted_at = time.time()
    _finish(_driver(cluster, root, ds_path, "driverkill", preds), root, "driverkill")

    after = _report_files(root, "driverkill")
    assert set(after) == set(models)
    for model, data in before.items():
        assert after[model] == data, f"finished report of {model} was redone"
    redone = [r for m, r in _reports(root, "driverkill").items() if m not in before]
    assert redone and all(r["executor"]["start"] > restarted_at for r in redone)
    summary = json.loads((root / "runs" / "driverkill" / "gold-1" / "summary.json").read_text())
    assert summary["aggregates"]["n_instances"] == 1


def test_killed_worker_node_loses_no_finished_report(cluster, mini_ray):
    root, ds_path, iid, patches = mini_ray
    models = ["gold-1", "empty-1", "gold-2", "empty-2"]
    proc = _driver(cluster, root, ds_path, "nodekill", _preds(iid, patches, models))
    first = _wait_for(lambda: _report_files(root, "nodekill"), 600, "a first report")
    victim = _wait_for(cluster.nodes_running_tasks, 300, "a node running a task", poll_s=0.2)[0]
    before = _report_files(root, "nodekill")
    killed_at = time.time()
    cluster.kill_node(victim)
    _finish(proc, root, "nodekill")

    after = _report_files(root, "nodekill")
    assert set(after) == set(models)
    for model, data in before.items():
        assert after[model] == data, f"finished report of {model} changed"
    reports = _reports(root, "nodekill")
    assert all(r["status"] == "done" for r in reports.values())
    late = [r for m, r in reports.items() if m not in before]
    assert late and all(r["executor"]["end"] > killed_at for r in late)
    survivors = {r["executor"]["node"] for r in late}
    assert len(survivors) == 1, (
        survivors
    )  # what was left, or lost with the node, ran on the other node
    assert first and set(first) <= set(before)
    assert_slots_never_shared(list(reports.values()))
