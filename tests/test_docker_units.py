"""Parts of the docker backend that need no engine: CA bundles, history cuts, tags, stream decoding,
the in-image build script, and the one-line reason when the engine is missing."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import minidata
import pytest

from perfbench.docker import engine_status
from perfbench.docker.ca import bundle_digest, resolve_ca_bundle, write_ca_dir
from perfbench.docker.containers import StreamDemux
from perfbench.docker.history import check_history, cut_history
from perfbench.docker.images import (
    DOCKERFILES,
    VARIANT_ROOTS,
    ImageBuilder,
    ImageSettings,
    layers_above,
)
from perfbench.errors import InputError, RepositoryError
from perfbench.records import Instance

PEM = "-----BEGIN CERTIFICATE-----\nMIIB{n}\n-----END CERTIFICATE-----\n"


def test_variant_roots_have_equal_lengths():
    assert len({len(root) for root in VARIANT_ROOTS.values()}) == 1


def test_dead_engine_is_one_line(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/dead.sock")
    ok, why = engine_status()
    assert not ok
    assert why.startswith(
        "Docker engine not reachable at unix:///nonexistent/dead.sock (is dockerd running?)"
    )
    assert "\n" not in why


# ---- CA bundle ---------------------------------------------------------------------------------


def test_ca_bundle_resolution_order(tmp_path, monkeypatch):
    first, second = tmp_path / "a.pem", tmp_path / "b.pem"
    first.write_text(PEM.format(n=1))
    second.write_text(PEM.format(n=2) + PEM.format(n=3))
    for name in ("PERFBENCH_CA_BUNDLE", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_ca_bundle() is None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(first))
    assert resolve_ca_bundle() == first
    monkeypatch.setenv("PIP_CERT", str(second))
    assert resolve_ca_bundle() == second
    monkeypatch.setenv("PERFBENCH_CA_BUNDLE", "none")
    assert resolve_ca_bundle() is None
    assert resolve_ca_bundle(first) == first
    with pytest.raises(InputError, match="not a file"):
        resolve_ca_bundle(tmp_path / "missing.pem")
    assert write_ca_dir(second, tmp_path / "ca") == 2
    assert sorted(p.name for p in (tmp_path / "ca").iterdir()) == [
        "extra-0000.crt",
        "extra-0001.crt",
    ]
    assert bundle_digest(first) != bundle_digest(second)
    assert write_ca_dir(None, tmp_path / "empty") == 0


# ---- tags --------------------------------------------------------------------------------------


def _instance(**env: object) -> Instance:
    return Instance.from_dict(
        {
            "instance_id": "o__n-abcdef1",
            "repo": "o/n",
            "base_commit": "a" * 40,
            "opt_commit": "b" * 40,
            "problem_statement": "p",
            "workloads": [{"name": "w", "source": "x"}],
            "env": env or None,
        }
    )


def test_tags_are_content_hashes(tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_text(PEM.format(n=1))
    plain = ImageBuilder(None, ImageSettings(cache_dir=tmp_path))
    with_ca = ImageBuilder(None, ImageSettings(cache_dir=tmp_path, ca_bundle=pem))
    inst = _instance(pythonpath=["src"])
    assert plain.env_tag(inst, "sha256:1") == plain.env_tag(
        _instance(pythonpath=["src"]), "sha256:1"
    )
    assert plain.env_tag(inst, "sha256:1") != plain.env_tag(inst, "sha256:2")
    assert plain.env_tag(inst, "sha256:1") != plain.env_tag(
        _instance(pythonpath=["lib"]), "sha256:1"
    )
    assert plain.env_tag(inst, "sha256:1") != with_ca.env_tag(inst, "sha256:1")
    assert plain.env_tag(inst, "x").startswith("perfbench/env:o__n-")
    assert plain.instance_tag(inst, "e1") != plain.instance_tag(inst, "e2")
    assert plain.agent_tag(inst, "e1") != plain.instance_tag(inst, "e1")


def test_cache_levels():
    assert layers_above("instance") == ()
    assert layers_above("env") == ("instance",)
    assert layers_above("base") == ("env", "instance")
    assert layers_above("none") == ("base", "env", "instance")


# ---- history cut -------------------------------------------------------------------------------


def test_cut_history_keeps_only_base(tmp_path):
    repo, base, opt = minidata.make_repo(tmp_path)
    minidata.git(repo, "tag", "v-fast", opt)
    minidata.git(repo, "branch", "future", opt)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo), str(mirror)], check=True)
    dest = tmp_path / "agent"
    cut_history(mirror, base, dest, forbidden=(opt,))
    assert minidata.git(dest, "log", "--all", "--format=%H").split() == [base]
    assert minidata.git(dest, "tag") == "" and minidata.git(dest, "remote") == ""
    assert minidata.git(dest, "reflog", "--all") == ""
    assert minidata.git(dest, "status", "--porcelain") == ""
    assert (dest / "src" / "mini" / "core.py").read_text() == minidata.BASE_CORE


def test_check_history_finds_leftovers(tmp_path):
    repo, base, _ = minidata.make_repo(tmp_path)
    with pytest.raises(RepositoryError, match="after base"):
        check_history(repo, base)
    minidata.git(repo, "reset", "-q", "--hard", base)
    with pytest.raises(RepositoryError, match="not reachable from base"):
        check_history(repo, base)  # opt's objects are still stored (reflog, loose objects)


# ---- attach stream -----------------------------------------------------------------------------


def test_demux_splits_stdout_and_stderr():
    a, b = socket.socketpair()
    frames = b"".join(
        struct.pack(">BxxxL", kind, len(data)) + data
        for kind, data in ((1, b'{"ok":'), (2, b"warn\n"), (1, b"true}\n"))
    )
    a.sendall(frames[:5])
    a.sendall(frames[5:])
    a.close()
    import time

    d = StreamDemux(b, time.perf_counter() + 5)
    d.read_all()
    assert bytes(d.stdout) == b'{"ok":true}\n' and bytes(d.stderr) == b"warn\n" and not d.timed_out


def test_demux_deadline():
    a, b = socket.socketpair()
    import time

    d = StreamDemux(b, time.perf_counter() + 0.3)
    d.read_all()
    assert d.timed_out
    a.close()


def test_demux_reads_lines_one_at_a_time():
    import time

    a, b = socket.socketpair()
    a.sendall(
        b"".join(
            struct.pack(">BxxxL", kind, len(data)) + data
            for kind, data in (
                (1, b'{"ready":'),
                (1, b'true}\n{"id"'),
                (2, b"noise"),
                (1, b":1}\n"),
            )
        )
    )
    d = StreamDemux(b, time.perf_counter() + 5)
    assert d.read_line() == b'{"ready":true}'
    assert d.read_line() == b'{"id":1}'
    d.deadline = time.perf_counter() + 0.2
    assert d.read_line() is None and d.timed_out and not d.closed
    a.close()
    d.deadline = time.perf_counter() + 5
    assert d.read_line() is None and d.closed and bytes(d.stderr) == b"noise"


def test_supervisor_answer_becomes_a_proc_result():
    import base64

    from perfbench.docker.containers import _proc_result

    answer = {
        "id": 3,
        "returncode": -9,
        "stdout": base64.b64encode(b"out").decode(),
        "stderr": base64.b64encode(b"err").decode(),
        "wall_s": 0.5,
        "start": 10.0,
        "end": 10.5,
        "timed_out": False,
        "oom": True,
    }
    proc = _proc_result(answer, 9.0)
    assert (
        proc.stdout == b"out" and proc.stderr.startswith(b"err") and b"memory limit" in proc.stderr
    )
    assert (proc.returncode, proc.wall_s, proc.start, proc.end) == (-9, 0.5, 10.0, 10.5)
    assert "out of memory" in (proc.failure_reason() or "")
    timed = _proc_result({**answer, "timed_out": True, "oom": False}, 9.0)
    assert timed.failure_reason() == "timeout" and b"memory" not in timed.stderr


def test_candidate_builds_that_touch_the_system_are_found():
    from perfbench.docker.candidate import system_changes

    diff = [
        {"Path": "/", "Kind": 0},
        {"Path": "/pb", "Kind": 0},
        {"Path": "/pb/cand/tree/x.py", "Kind": 1},
        {"Path": "/root/.cache/pip", "Kind": 1},
        {"Path": "/usr", "Kind": 0},
        {"Path": "/usr/local", "Kind": 0},
        {"Path": "/usr/local/lib/python3.11/dist-packages/x.pth", "Kind": 1},
        {"Path": "/tmp/build", "Kind": 1},
    ]
    assert system_changes(diff) == []
    bad = [
        {"Path": "/usr/lib/python3.11/json/__init__.py", "Kind": 0},
        {"Path": "/etc/ld.so.preload", "Kind": 1},
        {"Path": "/pb", "Kind": 2},
        {"Path": "/pb/candy", "Kind": 1},
        {"Path": "/usr/bin/python3", "Kind": 0},
    ]
    assert system_changes(diff + bad) == sorted(c["Path"] for c in bad)


# ---- the supervisor, in a pid namespace of its own (no Docker needed) ----------------------------

SUPERVISOR = Path(__file__).resolve().parent.parent / "harness" / "supervisor.py"


def test_supervisor_refuses_to_run_outside_its_own_pid_namespace():
    # As any other pid its kill(-1) would reach every process of the user: it must not start.
    proc = subprocess.run(
        [sys.executable, str(SUPERVISOR), "{}"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and '"ready":false' in proc.stdout and "pid 1" in proc.stdout


def _namespaces_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return (
        subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True
        ).returncode
        == 0
    )


@pytest.mark.skipif(not _namespaces_available(), reason="needs root and unshare (pid namespaces)")
def test_supervisor_kills_leftovers_and_wipes_scratch(tmp_path):
    import base64

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    config = json.dumps({"wipe": [str(scratch)], "watch": []})
    sup = subprocess.Popen(
        [
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            sys.executable,
            "-I",
            "-S",
            str(SUPERVISOR),
            config,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert json.loads(sup.stdout.readline())["ready"] is True

        def run(rid: int, script: str, timeout: float = 20.0, stdin: bytes = b"") -> dict:
            req = {
                "id": rid,
                "argv": ["/bin/sh", "-c", script],
                "env": {"PATH": "/usr/bin:/bin"},
                "cwd": str(scratch),
                "stdin": base64.b64encode(stdin).decode(),
                "timeout_s": timeout,
            }
            sup.stdin.write((json.dumps(req) + "\n").encode())
            sup.stdin.flush()
            answer = json.loads(sup.stdout.readline())
            assert answer["id"] == rid
            answer["stdout"] = base64.b64decode(answer["stdout"]).decode()
            return answer

        first = run(
            1,
            "echo answer > kept; mkdir -p d/e; chmod 000 d; chmod 500 .;"
            "(while :; do date >> late; sleep 0.01; done) & setsid sleep 1000 & echo started",
        )
        assert (
            first["returncode"] == 0 and first["stdout"] == "started\n" and first["leftovers"] >= 2
        )
        second = run(2, "ls -A; ls /proc | grep -c '^[0-9]'; cat; exit 3", stdin=b"in\n")
        # Nothing written survived, and only the supervisor and this shell (and ls/grep) ran.
        lines = second["stdout"].splitlines()
        assert (
            second["returncode"] == 3
            and lines[0] != "kept"
            and int(lines[0]) <= 4
            and lines[1] == "in"
        )
        assert oct(scratch.stat().st_mode & 0o777) == "0o755" and not list(scratch.iterdir())
        slow = run(3, "sleep 1000 & sleep 1000", timeout=0.5)
        assert slow["timed_out"] and slow["returncode"] == -9 and slow["wall_s"] < 5
        assert run(4, "ls /proc | grep -c '^[0-9]'")["stdout"].strip() in ("2", "3", "4")
        big = run(5, "cat", stdin=b"x" * 3_000_000)
        assert len(big["stdout"]) == 3_000_000
    finally:
        sup.stdin.close()
        sup.wait(timeout=30)


# ---- the in-image build script -----------------------------------------------------------------


def _pbbuild_variant(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pbbuild.py variant ROOT`` on this machine, as the images run it."""
    return subprocess.run(
        [sys.executable, str(DOCKERFILES / "pbbuild.py"), "variant", str(root)],
        capture_output=True,
        text=True,
        env=env,
    )


def test_pbbuild_variant_runs_install_in_a_venv(tmp_path):
    spec = {
        "python": "",
        "install": ["echo built > marker.txt"],
        "pip_packages": [],
        "pythonpath": [],
        "system_packages": [],
        "env_vars": {"FLAVOUR": "x"},
    }
    (tmp_path / "env.json").write_text(json.dumps(spec))
    root = tmp_path / "pb" / "base"
    minidata.write(root / "tree", {"pkg/__init__.py": "X = 1\n"})
    env = {**os.environ, "PBBUILD_SPEC": str(tmp_path / "env.json")}
    proc = _pbbuild_variant(root, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (root / "tree" / "marker.txt").read_text() == "built\n"
    assert (root / "venv" / "bin" / "python").exists()
    assert list((root / "tree" / "pkg" / "__pycache__").glob("*.pyc"))

    spec["install"] = ["exit 3"]
    (tmp_path / "env.json").write_text(json.dumps(spec))
    proc = _pbbuild_variant(root, env)
    assert proc.returncode == 1 and "step failed (exit 3)" in proc.stdout


def test_dockerfiles_exist():
    for name in ("base", "env", "instance", "agent"):
        assert (DOCKERFILES / f"{name}.Dockerfile").read_text().lstrip().startswith("#")
    assert Path(DOCKERFILES / "pbbuild.py").exists()


def _pbbuild_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pbbuild", DOCKERFILES / "pbbuild.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pbbuild_leaves_a_build_record(tmp_path):
    """Each built variant says how long its build took (the report's builds.<v>.build_s)."""
    spec = {"install": ["sleep 0.2"], "pip_packages": [], "env_vars": {}}
    (tmp_path / "env.json").write_text(json.dumps(spec))
    root = tmp_path / "pb" / "base"
    minidata.write(root / "tree", {"pkg/__init__.py": "X = 1\n"})
    env = {**os.environ, "PBBUILD_SPEC": str(tmp_path / "env.json")}
    proc = _pbbuild_variant(root, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = json.loads((root / "build.json").read_text())
    assert record["seconds"] >= 0.2  # the install step's sleep is inside the timed build
    assert "ccache" not in record  # nothing was compiled here (no /pb/ccache)
    assert not (root / "tree" / "build.json").exists()  # beside the tree, not in it


def test_ccache_stats_are_this_builds_hits_and_misses(monkeypatch):
    pbbuild = _pbbuild_module()
    printed = "cache_miss\t3\ndirect_cache_hit\t5\npreprocessed_cache_hit\t2\nfiles_in_cache\t9\n"

    def fake_run(cmd, **kwargs):
        assert cmd == ["ccache", "--print-stats"]
        return subprocess.CompletedProcess(cmd, 0, stdout=printed)

    monkeypatch.setattr(pbbuild.subprocess, "run", fake_run)
    assert pbbuild.ccache_stats({}) == {"hits": 7, "misses": 3}
    printed = "usage: ccache ...\n"  # a ccache without --print-stats: no figures, no guess
    assert pbbuild.ccache_stats({}) is None


def test_ccache_env_keys_by_content_and_shares_variant_roots():
    pbbuild = _pbbuild_module()
    env = pbbuild.CCACHE_ENV
    assert env["CCACHE_BASEDIR"] == "/pb"  # /pb/base and /pb/cand rewrite to the same paths
    assert env["CCACHE_NOHASHDIR"] == "1"  # the working directory stays out of the key
    assert env["CCACHE_COMPILERCHECK"] == "content"  # a changed compiler is a miss, not an mtime
    assert "CCACHE_SLOPPINESS" not in env  # no trading content checks for speed
    assert env["CCACHE_DIR"].startswith("/pb/") and not any(
        env["CCACHE_DIR"].startswith(root + "/") or env["CCACHE_DIR"] == root
        for root in VARIANT_ROOTS.values()
    )  # shared by the variants, inside none of them


def test_build_records_read_back():
    from perfbench.docker.buildrecords import BUILD_RECORD, parse_record

    assert BUILD_RECORD == _pbbuild_module().BUILD_RECORD
    assert parse_record(b'{"seconds": 12.5, "ccache": {"hits": 4, "misses": 1}}') == {
        "seconds": 12.5,
        "ccache": {"hits": 4, "misses": 1},
    }
    assert parse_record(b'{"seconds": 3}') == {"seconds": 3.0}
    assert parse_record(b'{"seconds": 3, "ccache": {"hits": "x"}}') == {"seconds": 3.0}
    assert parse_record(b"{not json") is None
    assert parse_record(b'{"ccache": {}}') is None


def test_base_dockerfile_installs_the_root_filesystems_packages():
    """A --base-image from a registry gets the same packages as the debootstrapped one."""
    import re

    from perfbench.docker.rootfs import BASE_PACKAGES

    text = (DOCKERFILES / "base.Dockerfile").read_text()
    listed = re.search(r'^ARG PACKAGES="([^"]*)"', text, re.M)
    assert listed is not None
    assert sorted(listed.group(1).split()) == sorted(BASE_PACKAGES)
