"""Run one process in a fresh container: request on stdin, output captured, removed afterwards.

This is ``docker run -i --rm`` done with the SDK's low-level API: create, attach
(before start, so no output is lost), start, send stdin and half-close it, read the
multiplexed output until it ends or the deadline passes (then kill), wait, remove.
Every container is recorded in a registry until removed; the registry is emptied
at interpreter exit and on SIGTERM, so Ctrl-C or a crash leaves nothing running.
"""

from __future__ import annotations

import atexit
import logging
import select
import signal
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..sandbox.base import Limits, ProcResult
from .engine import LABELS, owner_labels

log = logging.getLogger(__name__)

MAX_STDOUT = 64 * 1024 * 1024
MAX_STDERR = 20000
_HEADER = struct.Struct(">BxxxL")


@dataclass
class RunSpec:
    """One process: image, command, environment, mounts and limits."""

    image: str
    command: list[str]
    limits: Limits
    stdin: bytes = b""
    environment: dict[str, str] = field(default_factory=dict)
    working_dir: str = "/"
    binds_ro: dict[str, str] = field(default_factory=dict)  # host path -> container path
    tmpfs: dict[str, str] = field(default_factory=dict)  # container path -> mount options
    hidden: list[str] = field(default_factory=list)  # container paths covered by an empty read-only tmpfs
    network: str = "none"
    read_only: bool = True
    labels: dict[str, str] = field(default_factory=dict)


class Registry:
    """Containers that exist right now; removed by ``cleanup`` whatever happened."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self._client: Any = None
        self._installed = False

    def add(self, client: Any, cid: str) -> None:
        with self._lock:
            self._client = client
            self._ids.add(cid)
            if not self._installed:
                self._install()

    def discard(self, cid: str) -> None:
        with self._lock:
            self._ids.discard(cid)

    def cleanup(self) -> None:
        with self._lock:
            ids, self._ids = list(self._ids), set()
        for cid in ids:
            remove_container(self._client, cid)

    def _install(self) -> None:
        self._installed = True
        atexit.register(self.cleanup)
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM: unwind like Ctrl-C does, so ``finally`` blocks and atexit remove containers."""
    raise SystemExit(128 + signum)


REGISTRY = Registry()


def remove_container(client: Any, cid: str) -> None:
    import docker

    try:
        client.api.remove_container(cid, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except Exception as exc:  # never let cleanup hide the real error
        log.warning("could not remove container %s: %s", cid[:12], exc)


def host_config(client: Any, spec: RunSpec) -> dict[str, Any]:
    import docker

    lim = spec.limits
    tmpfs = dict(spec.tmpfs)
    for path in spec.hidden:
        tmpfs[path] = "ro,size=4k,mode=000"
    return client.api.create_host_config(
        network_mode=spec.network,
        binds={host: {"bind": inside, "mode": "ro"} for host, inside in spec.binds_ro.items()},
        tmpfs=tmpfs,
        read_only=spec.read_only,
        cpuset_cpus=",".join(str(c) for c in lim.cpus) if lim.cpus else None,
        mem_limit=f"{lim.memory_mb}m",
        memswap_limit=f"{lim.memory_mb}m",
        pids_limit=lim.max_procs,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        ulimits=[docker.types.Ulimit(name="core", soft=0, hard=0)],
        log_config=docker.types.LogConfig(type="none"),
    )


def run_container(client: Any, spec: RunSpec) -> ProcResult:
    """Run ``spec`` to its end or its timeout; the container is removed in every case."""
    api = client.api
    cid = api.create_container(
        spec.image, command=spec.command, stdin_open=True, environment=spec.environment, use_config_proxy=False,
        working_dir=spec.working_dir, host_config=host_config(client, spec), labels={**LABELS, **owner_labels(), **spec.labels},
    )["Id"]
    REGISTRY.add(client, cid)
    sock = None
    try:
        sock = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw = getattr(sock, "_sock", sock)
        start = time.time()
        t0 = time.perf_counter()
        api.start(cid)
        stream = _Demux(raw, t0 + spec.limits.timeout_s)
        stream.send(spec.stdin)
        stream.read_all()
        wall = time.perf_counter() - t0
        end = time.time()
        if stream.timed_out:
            _kill(client, cid)
        code = _exit_code(client, cid, stream.timed_out)
        err = stream.stderr
        if code == 137 and not stream.timed_out and _oom_killed(client, cid):
            err += b"\nperfbench: the container was killed for exceeding its memory limit\n"
        return ProcResult(code, bytes(stream.stdout), bytes(err[-MAX_STDERR:]), wall, stream.timed_out, start, end)
    finally:
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        remove_container(client, cid)
        REGISTRY.discard(cid)


class _Demux:
    """Reads Docker's multiplexed attach stream (8-byte frame headers) with a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.timed_out = False
        self._buf = bytearray()

    def send(self, data: bytes) -> None:
        try:
            if data:
                self.sock.sendall(data)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the process ended before reading its stdin; its output says why

    def read_all(self) -> None:
        while True:
            remaining = self.deadline - time.perf_counter()
            if remaining <= 0:
                self.timed_out = True
                return
            ready, _, _ = select.select([self.sock], [], [], min(remaining, 1.0))
            if not ready:
                continue
            try:
                chunk = self.sock.recv(1 << 16)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                return
            self._buf += chunk
            self._frames()

    def _frames(self) -> None:
        while len(self._buf) >= _HEADER.size:
            kind, size = _HEADER.unpack_from(self._buf)
            if len(self._buf) < _HEADER.size + size:
                return
            payload = bytes(self._buf[_HEADER.size:_HEADER.size + size])
            del self._buf[:_HEADER.size + size]
            if kind == 2:
                self.stderr += payload
                if len(self.stderr) > 4 * MAX_STDERR:
                    del self.stderr[:-MAX_STDERR]
            elif len(self.stdout) < MAX_STDOUT:
                self.stdout += payload


def _kill(client: Any, cid: str) -> None:
    try:
        client.api.kill(cid)
    except Exception:
        pass  # already gone


def _exit_code(client: Any, cid: str, timed_out: bool) -> int | None:
    try:
        return int(client.api.wait(cid, timeout=30)["StatusCode"])
    except Exception:
        return None if timed_out else -1


def _oom_killed(client: Any, cid: str) -> bool:
    try:
        return bool(client.api.inspect_container(cid)["State"].get("OOMKilled"))
    except Exception:
        return False
