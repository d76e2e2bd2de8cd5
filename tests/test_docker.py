"""The docker backend against a real engine: same verdicts as local, cached layers, a clean agent
image, hostile candidates contained, and a clear line when there is no engine.

Skipped when no engine answers, unless PERFBENCH_REQUIRE_DOCKER=1 (CI), where that fails.
The debootstrap base image is made once (a few minutes) and kept in the engine; every
test here shares it and the mini instance's images through session fixtures.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import socket
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import minidata
import pytest
from click.testing import CliRunner

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.docker import engine_status
from perfbench.evaluate import Evaluator
from perfbench.measure.protocol import MeasureConfig
from perfbench.records import Prediction
from perfbench.repos import default_cache_dir
from perfbench.sandbox.base import Limits
from perfbench.sandbox.limits import available_cpus
from perfbench.session import ensure_expert_patches, repo_cache_for

pytestmark = [pytest.mark.docker, pytest.mark.integration]

REQUIRE_ENV = "PERFBENCH_REQUIRE_DOCKER"
DEAD_SOCKET = "unix:///nonexistent/perfbench-dead.sock"
# The first CPU: `perfbench evaluate` pins to the last one by default, so runs of other
# evaluations on a shared machine do not compete with these measurements.
PIN = tuple(available_cpus()[:1])


def _client_or_skip():
    ok, why = engine_status()
    if not ok:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {why}")
        pytest.skip(why)
    from perfbench.docker.engine import client

    return client()


@pytest.fixture(scope="session")
def engine():
    return _client_or_skip()


@pytest.fixture(scope="session")
def mini_ds(tmp_path_factory):
    """The mini dataset, with lenient grading so that the gold verdict does not hang on machine noise."""
    root = tmp_path_factory.mktemp("docker-mini")
    ds_path, record = minidata.make_dataset(
        root, size=400, grading={"min_speedup": 1.2, "expert_share": 0.5}
    )
    return ds_path, record, root / "mini-repo"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """The user's cache (keeps the debootstrap tarball between sessions) unless PERFBENCH_CACHE says otherwise."""
    return default_cache_dir()


def _config(root: Path, backend: str, run_id: str, cache_dir: Path, **limits: object) -> EvalConfig:
    # One call per timed repeat (max_repeat_s below base's per-call time): the calibrated loop
    # count would otherwise differ between the two runs compared, and with it the exposure of
    # long repeats to other load on the machine.
    return EvalConfig(
        run_id=run_id,
        runs_dir=root / "runs",
        backend=backend,
        cache_dir=cache_dir,
        measure=MeasureConfig(min_blocks=3, max_blocks=5, time_budget_s=120, max_repeat_s=0.001),
        limits=Limits(**{"timeout_s": 60.0, "memory_mb": 1024, "cpus": PIN, **limits}),  # type: ignore[arg-type]
    )


def _evaluate(
    ds_path: Path,
    backend: str,
    run_id: str,
    cache_dir: Path,
    preds: list[tuple[str, str]] | None = None,
    **limits: object,
) -> dict[str, dict]:
    ds = load_dataset(ds_path)
    config = _config(ds_path.parent / backend, backend, run_id, cache_dir, **limits)
    ensure_expert_patches(ds, repo_cache_for(ds, config), list(ds))
    inst = next(iter(ds))
    preds = preds or [("gold", inst.expert_patch or "")]
    ev = Evaluator(ds, config)
    ev.run([Prediction(inst.instance_id, model, patch) for model, patch in preds])
    return {model: ev.layout.load_report(model, inst.instance_id) for model, _ in preds}


@pytest.fixture(scope="session")
def docker_gold(engine, mini_ds, cache_dir):
    return _evaluate(mini_ds[0], "docker", "gold", cache_dir)["gold"]


# ---- (a) same verdict as local, overlapping CIs ----------------------------------------------


def test_docker_matches_local(docker_gold, mini_ds, tmp_path):
    local = _evaluate(mini_ds[0], "local", "gold", tmp_path / "cache")["gold"]
    d = docker_gold
    assert d["status"] == "done", d.get("error")
    assert d["sandbox"]["backend"] == "docker" and local["sandbox"]["backend"] == "local"
    assert d["correct"] is True and d["guard"]["passed"] is True
    assert d["opt"] == local["opt"] == "PASS", (d["reason"], local["reason"])
    ds, ls = d["speedup"], local["speedup"]
    print(
        f"\nspeedup docker {ds['estimate']:.1f}x [{ds['low']:.1f}, {ds['high']:.1f}] "
        f"(python {d['sandbox'].get('python_version')}); local {ls['estimate']:.1f}x "
        f"[{ls['low']:.1f}, {ls['high']:.1f}] (python {local['sandbox'].get('python_version')})"
    )
    # The two backends run different interpreter builds (the image's Debian python3 3.11.2, the
    # host's pyenv 3.11.7, which runs this workload 1.6x slower in absolute terms), so their
    # speedups need not agree within CIs: runs read 96x [84, 110] and 89x [82, 96] in Docker
    # against 68x [56, 83] and 63x [55, 72] locally. What must hold is the verdict and the size
    # of the effect: both far above the bar and within a factor of two of each other.
    assert min(ds["low"], ls["low"]) > 10, (
        "the 80x speedup of the mini instance was lost in one backend"
    )
    assert 0.5 < ds["estimate"] / ls["estimate"] < 2.0, (
        "speedups differ by more than a factor of two"
    )
    # Nothing of the session is left behind: no container, no candidate image.
    engine = __import__("perfbench.docker.engine", fromlist=["client"]).client()
    assert not engine.api.containers(
        all=True, filters={"label": f"perfbench.instance={mini_ds[1]['instance_id']}"}
    )
    assert not [
        i
        for i in engine.api.images(filters={"label": "perfbench.layer=candidate"})
        if any(mini_ds[1]["instance_id"].lower() in t for t in i.get("RepoTags") or [])
    ]


# ---- (b) the second build reuses every layer -------------------------------------------------


def test_second_build_is_cached(engine, docker_gold, mini_ds, cache_dir, tmp_path):
    from perfbench.docker.images import ImageBuilder, ImageSettings, remove_image
    from perfbench.docker.prebuild import repo_cache

    ds = load_dataset(mini_ds[0])
    inst = next(iter(ds))
    mirror = repo_cache(ds, cache_dir, None).mirror(inst.repo, (inst.base_commit, inst.opt_commit))
    builder = ImageBuilder(engine, ImageSettings(cache_dir=cache_dir))
    top = builder.all_layers(inst, mirror, tmp_path / "logs0")[-1]
    assert remove_image(engine, top.tag)  # the instance layer goes; base and env stay

    t0 = time.monotonic()
    first = builder.all_layers(inst, mirror, tmp_path / "logs1")
    first_s = time.monotonic() - t0
    t0 = time.monotonic()
    second = builder.all_layers(inst, mirror, tmp_path / "logs2")
    second_s = time.monotonic() - t0
    print(f"\ninstance layer built in {first_s:.2f}s; all layers from cache in {second_s:.3f}s")
    assert [layer.cached for layer in first] == [True, True, False]
    assert all(layer.cached for layer in second)
    assert [layer.image_id for layer in second] == [layer.image_id for layer in first]
    assert second_s < first_s / 5
    assert "cached image" in (tmp_path / "logs2" / "build-instance.log").read_text()


# ---- (c) the agent image: history cut at base, no workloads, no expert patch -----------------


def test_agent_image_holds_no_future(engine, mini_ds, cache_dir, tmp_path):
    from perfbench.cli import main

    ds_path, record, repo = mini_ds
    minidata.git(
        repo, "tag", "v2-fast", record["opt_commit"]
    )  # a tag on the future must not leak either
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--dataset",
            str(ds_path),
            "--agent",
            "--cache-dir",
            str(cache_dir),
            "--log-dir",
            str(tmp_path / "logs"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cached build" in result.output
    tags = [
        t
        for i in engine.api.images(filters={"label": "perfbench.layer=agent"})
        for t in i.get("RepoTags") or []
        if record["instance_id"].lower() in t
    ]
    assert len(tags) >= 1
    image = sorted(tags)[-1]

    def sh(cmd: str) -> str:
        out = engine.containers.run(image, ["bash", "-c", cmd], remove=True, network_mode="none")
        return out.decode()

    commits = sh("cd /testbed && git log --all --format=%H").split()
    assert commits == [record["base_commit"]]
    assert sh("cd /testbed && git tag; git remote; git reflog --all; git stash list").strip() == ""
    assert sh("cd /testbed && git status --porcelain").strip() == ""
    objects = sh(
        "cd /testbed && git cat-file --batch-all-objects --batch"
    )  # every object, decompressed

    container = engine.containers.create(image, ["true"])
    try:
        fs = b"".join(container.export())
    finally:
        container.remove(force=True)
    with tarfile.open(fileobj=io.BytesIO(fs)) as tar:
        names = tar.getnames()
    needles = {
        "expert code": "counts.get(x, 0) + 1",
        "expert commit message": "Speed up count_pairs",
        "workload": "rng.randrange(50) for _ in range",
        "instance record": "count_pairs is slow on long lists",
    }
    for what, text in needles.items():
        assert text.encode() not in fs, f"{what} found in the agent image's files"
        assert text not in objects, f"{what} found in the agent image's git objects"
    assert record["opt_commit"] not in objects
    assert not [n for n in names if "workloads/" in n and n.endswith(".py")]
    assert not [n for n in names if n.endswith("instance.json") or n.endswith("dataset.json")]


# ---- (d) hostile candidates fail inside their containers -------------------------------------

NET_CORE = minidata.BASE_CORE.replace(
    "    n = 0\n",
    "    import socket\n"
    "    s = socket.create_connection(('HOST', PORT), timeout=5)\n"
    "    s.sendall(b'leak')\n"
    "    s.close()\n"
    "    n = 0\n",
)
FORK_CORE = minidata.BASE_CORE.replace(
    "    n = 0\n",
    "    import os\n"
    "    while True:\n"
    "        try:\n"
    "            os.fork()\n"
    "        except OSError:\n"
    "            pass\n"
    "    n = 0\n",
)
MEMORY_CORE = minidata.BASE_CORE.replace(
    "    n = 0\n",
    "    hog = []\n    while True:\n        hog.append(b'x' * (64 << 20))\n    n = 0\n",
)


class _Listener:
    """A TCP server on every host address that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


def _host_processes() -> int:
    return len([p for p in os.listdir("/proc") if p.isdigit()])


def test_hostile_candidates_are_contained(engine, docker_gold, mini_ds, cache_dir):
    ipam = engine.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = ipam.get("Gateway") or str(next(ipaddress.ip_network(ipam["Subnet"]).hosts()))
    listener = _Listener()
    try:
        # The listener answers from the host's side of the Docker bridge: reachable from any
        # container that has a network at all.
        probe = engine.containers.run(
            docker_gold["sandbox"]["images"]["base"]["tag"],
            [
                "python3",
                "-c",
                f"import socket;socket.create_connection(('{gateway}', "
                f"{listener.port}), timeout=5)",
            ],
            remove=True,
        )
        assert probe == b"" and listener.connections == 1
        repo = mini_ds[2]
        net = NET_CORE.replace("HOST", gateway).replace("PORT", str(listener.port))
        preds = [
            (name, minidata.patch_between(repo, {"src/mini/core.py": core}))
            for name, core in (("network", net), ("forkbomb", FORK_CORE), ("memory", MEMORY_CORE))
        ]
        before = _host_processes()
        t0 = time.monotonic()
        reports = _evaluate(
            mini_ds[0],
            "docker",
            "hostile",
            cache_dir,
            preds,
            timeout_s=20.0,
            memory_mb=256,
            max_procs=64,
        )
        print(f"\nthree hostile candidates evaluated in {time.monotonic() - t0:.0f}s")
    finally:
        listener.close()
    for name, r in reports.items():
        assert r["status"] == "done", (name, r.get("error"))  # the run went on and reported
        assert r["built"] is True and r["correct"] is False and r["opt"] == "FAIL", (
            name,
            r["reason"],
        )
        failures = r["measurement"]["failures"]
        assert set(failures) == {"candidate"}, (
            name,
            failures,
        )  # base and expert were measured unharmed
        assert r["measurement"]["blocks"] >= 1
        print(f"{name}: {failures['candidate']}")
    assert listener.connections == 1, "a candidate reached the host's network"
    assert "unreachable" in reports["network"]["measurement"]["failures"]["candidate"].lower()
    assert reports["forkbomb"]["measurement"]["failures"]["candidate"].endswith("timeout")
    assert "timeout" in reports["forkbomb"]["flags"]
    assert "killed" in reports["memory"]["measurement"]["failures"]["candidate"]
    assert "oom" in reports["memory"]["flags"]
    assert _host_processes() < before + 20
    mine = f"perfbench.instance={mini_ds[1]['instance_id']}"
    assert not engine.api.containers(all=True, filters={"label": mine})


# ---- (e) no engine: one clear line, and auto falls back to local -----------------------------


def _single_line(text: str) -> str:
    return " ".join(text.split())


def test_no_engine_one_line(mini_ds, tmp_path, monkeypatch):
    from perfbench.cli import main

    monkeypatch.setenv("DOCKER_HOST", DEAD_SOCKET)
    ok, why = engine_status()
    assert not ok and why.startswith("Docker engine not reachable at " + DEAD_SOCKET)
    args = [
        "evaluate",
        "--dataset",
        str(mini_ds[0]),
        "--predictions",
        "empty",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--min-blocks",
        "2",
        "--max-blocks",
        "2",
    ]
    result = CliRunner().invoke(main, [*args, "--backend", "docker", "--run-id", "dead"])
    assert result.exit_code != 0
    text = _single_line(result.output)
    assert (
        f"--backend docker: Docker engine not reachable at {DEAD_SOCKET} (is dockerd running?)"
        in text
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs" / "dead" / "empty").exists() or not list(
        (tmp_path / "runs" / "dead").rglob("report.json")
    ), "a failed engine must not leave reports behind"

    build = CliRunner().invoke(main, ["build", "--dataset", str(mini_ds[0])])
    assert build.exit_code != 0 and "Docker engine not reachable" in _single_line(build.output)

    auto = CliRunner().invoke(main, [*args, "--backend", "auto", "--run-id", "auto"])
    assert auto.exit_code == 0, auto.output
    report = json.loads(next((tmp_path / "runs" / "auto").rglob("report.json")).read_text())
    assert report["sandbox"]["backend"] == "local"


def test_docker_not_installed(monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr("os.path.exists", lambda p: False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    ok, why = engine_status()
    assert not ok and why.startswith("Docker is not installed")


def test_install_script_is_idempotent(engine):
    script = Path(__file__).resolve().parent.parent / ".ci" / "install-docker.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "already answers" in proc.stderr


# ---- perfbench clean ---------------------------------------------------------------------------


def test_clean_removes_leftovers_only(engine, docker_gold):
    import uuid

    from perfbench.cli import main

    base_tag = docker_gold["sandbox"]["images"]["base"]["tag"]
    mark = f"perfbench.test={uuid.uuid4().hex[:8]}"
    key, value = mark.split("=")
    dead = {
        "perfbench": "1",
        "perfbench.layer": "candidate",
        "perfbench.host": socket.gethostname(),
        "perfbench.pid": "999999999",
        key: value,
    }
    live = {**dead, "perfbench.pid": str(os.getpid())}
    crashed = engine.api.create_container(base_tag, ["true"], labels=dead)["Id"]
    running = engine.api.create_container(base_tag, ["true"], labels=live)["Id"]
    leftover = f"perfbench/candidate:leftover-{value}"
    engine.api.commit(
        crashed,
        repository=leftover.split(":")[0],
        tag=leftover.split(":")[1],
        changes=[f"LABEL {k}={v}" for k, v in dead.items()],
    )
    foreign = f"someone/else:{value}"
    engine.api.commit(
        crashed,
        repository=foreign.split(":")[0],
        tag=foreign.split(":")[1],
        changes=["LABEL perfbench=", f"LABEL {key}={value}"],
    )
    try:
        dry = CliRunner().invoke(main, ["clean", "--candidates", "--label", mark, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert engine.api.images(name=leftover)
        result = CliRunner().invoke(main, ["clean", "--candidates", "--label", mark])
        assert result.exit_code == 0, result.output
        remaining = {c["Id"] for c in engine.api.containers(all=True, filters={"label": mark})}
        assert (
            crashed not in remaining and running in remaining
        )  # a live evaluation's container stays
        assert not engine.api.images(name=leftover)
        assert engine.api.images(name=foreign) and engine.api.images(name=base_tag)
    finally:
        engine.api.remove_container(running, force=True)
        for ref in (foreign, leftover):
            try:
                engine.api.remove_image(ref)
            except Exception:
                pass


# ---- allow-list property of the containers: nothing of the answer is visible -----------------


def test_candidate_container_sees_nothing_of_the_answer(
    engine, docker_gold, mini_ds, cache_dir, tmp_path
):
    """A candidate's process walks the container's whole file system, reads every file outside
    /usr and inflates git objects: no repository, no git data, no line of the expert's patch.
    The evaluation image itself holds the expert's tree (a variant) but no history and no mirror."""
    from conftest import reference_mirror
    from test_isolation import SEARCH

    from perfbench.docker import DockerBackend
    from perfbench.docker.containers import RunSpec, run_container
    from perfbench.sandbox.base import CANDIDATE

    ds_path = mini_ds[0]
    ds = load_dataset(ds_path)
    config = _config(tmp_path, "docker", "search", cache_dir)
    inst = next(iter(ds))
    mirror = reference_mirror(ds, config, inst)
    backend = DockerBackend(
        inst, work_dir=tmp_path / "work", log_dir=tmp_path / "logs", cache_dir=cache_dir
    )
    code = SEARCH + "\nimport json\nprint(json.dumps(search()))\n"
    with backend:
        backend.prepare_reference(mirror)
        assert backend.prepare_candidate("").ok
        backend.install_workloads({"w": "def setup(seed=0):\n    return 0\n"})
        proc = backend._run(
            CANDIDATE, ["python3", "-c", code], b"", Limits(timeout_s=300, memory_mb=1024)
        )
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        assert json.loads(proc.stdout.decode().splitlines()[-1]) == []
        # The image with nothing hidden: the expert line only in the expert variant's own tree.
        bare = run_container(
            engine,
            RunSpec(
                image=backend.images[CANDIDATE],
                command=["python3", "-c", code],
                limits=Limits(timeout_s=300, memory_mb=1024),
            ),
        )
        found = json.loads(bare.stdout.decode().splitlines()[-1])
        assert found and all(f.startswith("expert line: /pb/expt/") for f in found), found


# ---- one long-lived container per variant: a fresh process per run, nothing carried over -------

PROBE = r"""
import json, os, subprocess, sys, time
PLACES = [os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp"), os.getcwd(), "/tmp", "/dev/shm", "/dev/mqueue",
          "/pb/home", "/var/tmp", "/pb/base/tree", "/pb/workloads", "/pb/harness", "/"]
mode = sys.argv[1]
seen = {}
for d in PLACES:
    try:
        names = [n for n in os.listdir(d) if n.startswith("pbleak")]
    except OSError as exc:
        names = ["unreadable: %s" % exc.strerror]
    if names:
        seen[d] = names
procs = []
for pid in os.listdir("/proc"):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as fh:
            if b"pbleak" in fh.read():
                procs.append(pid)
    except OSError:
        pass
attrs = {d: [oct(os.stat(d).st_mode), os.stat(d).st_mtime_ns, sorted(os.listxattr(d))] for d in ("/tmp", "/pb/home")}
wrote = []
if mode == "write":
    for d in PLACES + ["/dev"]:
        try:
            with open(os.path.join(d, "pbleak-%d" % os.getpid()), "w") as fh:
                fh.write("the answer")
            wrote.append(d)
        except OSError:
            pass
    os.makedirs("/tmp/pbleak-dir/sub")
    os.chmod("/tmp/pbleak-dir", 0)
    os.chmod("/pb/home", 0o500)
    os.utime("/tmp", (12345, 67890))
    try:
        os.setxattr("/tmp", "user.pbleak", b"42")
    except OSError:
        pass
    # a daemon that keeps writing, and a double-forked sleep in a session of its own
    subprocess.Popen(["/bin/sh", "-c", "while :; do echo x >> /tmp/pbleak-writer; sleep 0.01; done", "pbleak-writer"],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["pbleak-sleep", "1000"])
        os._exit(0)
    time.sleep(0.2)
print(json.dumps({"pid": os.getpid(), "seen": seen, "procs": procs, "wrote": wrote, "attrs": attrs}))
"""


def test_supervised_container_carries_nothing_over(
    engine, docker_gold, mini_ds, cache_dir, tmp_path
):
    from perfbench.docker.backend import DockerBackend
    from perfbench.docker.prebuild import repo_cache

    ds = load_dataset(mini_ds[0])
    inst = next(iter(ds))
    mirror = repo_cache(ds, cache_dir, None).mirror(inst.repo, (inst.base_commit, inst.opt_commit))
    limits = Limits(timeout_s=30.0, memory_mb=512, cpus=PIN)
    with DockerBackend(
        inst, work_dir=tmp_path / "work", log_dir=tmp_path / "logs", cache_dir=cache_dir
    ) as backend:
        assert backend.supervised
        backend.prepare_reference(mirror)
        path = backend.install_workloads({"pbprobe": PROBE})["pbprobe"]

        def probe(mode: str, variant: str = "base") -> dict:
            proc = backend._run(variant, [backend._python(variant), path, mode], b"", limits)
            assert proc.returncode == 0, proc.stderr.decode(errors="replace")
            return json.loads(proc.stdout.decode().strip().splitlines()[-1])

        first = probe("look")
        assert first["seen"] == {} and first["procs"] == []
        clean_attrs = first["attrs"]
        # /dev is writable inside a container (root owns it): the supervisor must notice that and retire it.
        polluter = probe("write")
        assert (
            "/tmp" in polluter["wrote"]
            and "/pb/home" in polluter["wrote"]
            and "/dev/shm" in polluter["wrote"]
        )
        assert not {"/pb/base/tree", "/pb/workloads", "/pb/harness", "/"} & set(polluter["wrote"])
        assert backend.supervisor_stats["containers"] == 1
        after = probe("look")
        assert after["seen"] == {}, "a file written by the previous process survived it"
        assert after["procs"] == [], "a process left by the previous one still runs"
        retired = "/dev" in polluter["wrote"]
        assert retired or after["pid"] != polluter["pid"]
        assert backend.supervisor_stats["containers"] == (2 if retired else 1)
        assert backend.supervisor_stats["retired"] == (1 if retired else 0)
        print(f"\nwritten by the polluter: {polluter['wrote']}; {backend.supervisor_stats}")
        if retired:  # a new container: its scratch folders were mounted at its start
            clean_attrs = after["attrs"]
        assert after["attrs"] == clean_attrs, (
            "the scratch folders' mode, times or attributes were carried over"
        )

        # Without writes to /dev, the same container serves every run: writes to the scratch folders and
        # leftover processes are undone in place.
        n = backend.supervisor_stats["containers"]
        tidy = PROBE.replace('PLACES + ["/dev"]', "PLACES")
        tidy_path = backend.install_workloads({"pbtidy": tidy})["pbtidy"]
        for _ in range(3):
            proc = backend._run("base", [backend._python("base"), tidy_path, "write"], b"", limits)
            assert proc.returncode == 0, proc.stderr.decode(errors="replace")
            out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
            assert out["seen"] == {} and out["procs"] == [] and out["attrs"] == clean_attrs
        assert (
            backend.supervisor_stats["containers"] == n and backend.supervisor_stats["retired"] <= 1
        )

        # A timeout kills the process and whatever it started; the next run starts clean.
        slow = backend._run(
            "base",
            ["/bin/sh", "-c", "sleep 1000 & sleep 1000"],
            b"",
            dataclasses_replace(limits, 1.0),
        )
        assert slow.timed_out
        assert probe("look")["procs"] == []
        # Each variant has a container of its own, which sees no other variant's tree.
        expert = backend._run(
            "expert",
            ["/bin/sh", "-c", "ls /pb/base /pb/cand 2>&1 | wc -w; ls /pb/expt"],
            b"",
            limits,
        )
        assert expert.returncode == 0 and b"tree" in expert.stdout
        assert backend.supervisor_stats["containers"] == n + 1
        ids = {
            c["Id"]
            for c in engine.api.containers(
                filters={"label": f"perfbench.instance={inst.instance_id}"}
            )
        }
        assert len(ids) == 2
        # A candidate whose build changed the image outside its tree is not run under a supervisor on that
        # image's interpreter: each of its processes gets a container of its own.
        backend.images["candidate"] = backend.images["base"]
        backend.candidate_system_changes = ["/usr/lib/python3.11/json/__init__.py"]
        before = dict(backend.supervisor_stats)
        lone = backend._run("candidate", ["/bin/sh", "-c", "echo $$"], b"", limits)
        assert lone.returncode == 0 and lone.stdout.strip() == b"1"  # pid 1: a container of its own
        assert backend.supervisor_stats == before
        backend.images.pop("candidate")
    assert not engine.api.containers(
        all=True, filters={"label": f"perfbench.instance={inst.instance_id}"}
    )


def dataclasses_replace(limits: Limits, timeout_s: float) -> Limits:
    import dataclasses

    return dataclasses.replace(limits, timeout_s=timeout_s)
