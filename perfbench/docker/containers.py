"""Run processes in sandbox containers: one fresh container per process, or one long-lived
container per variant whose supervisor starts a fresh process per request.

``run_container`` is ``docker run -i --rm`` done with the SDK's low-level API: create,
attach (before start, so no output is lost), start, send stdin and half-close it, read
the multiplexed output until it ends or the deadline passes (then kill), wait, remove.

``SupervisedContainer`` starts a container of the same kind (same limits, mounts and
privileges) whose only process is ``harness/supervisor.py``, keeps its stdin and stdout
attached, and sends it one request (one JSON line) per process to run; the supervisor
answers with one JSON line once the process has ended, every process it left behind is
killed and everything it wrote is wiped. This saves a container's creation, start and
removal (most of a short timed process's wall time) per process.

Every container is recorded in a registry until removed; the registry is emptied at
interpreter exit and on SIGTERM, so Ctrl-C or a crash leaves nothing running.
"""

from __future__ import annotations

import atexit
import base64
import json
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
    hidden: list[str] = field(
        default_factory=list
    )  # container paths covered by an empty read-only tmpfs
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
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        ):
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


def host_config(client: Any, spec: RunSpec, extra_pids: int = 0) -> dict[str, Any]:
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
        pids_limit=lim.max_procs + extra_pids,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        ulimits=[docker.types.Ulimit(name="core", soft=0, hard=0)],
        log_config=docker.types.LogConfig(type="none"),
    )


def run_container(client: Any, spec: RunSpec) -> ProcResult:
    """Run ``spec`` to its end or its timeout; the container is removed in every case."""
    api = client.api
    cid = api.create_container(
        spec.image,
        command=spec.command,
        stdin_open=True,
        environment=spec.environment,
        use_config_proxy=False,
        working_dir=spec.working_dir,
        host_config=host_config(client, spec),
        labels={**LABELS, **owner_labels(), **spec.labels},
    )["Id"]
    REGISTRY.add(client, cid)
    sock = None
    try:
        sock = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw = getattr(sock, "_sock", sock)
        start = time.time()
        t0 = time.perf_counter()
        api.start(cid)
        stream = StreamDemux(raw, t0 + spec.limits.timeout_s)
        stream.send(spec.stdin)
        stream.read_all()
        wall = time.perf_counter() - t0
        end = time.time()
        if stream.timed_out:
            kill_container(client, cid)
        code = _exit_code(client, cid, stream.timed_out)
        err = stream.stderr
        if code == 137 and not stream.timed_out and _oom_killed(client, cid):
            err += b"\nperfbench: the container was killed for exceeding its memory limit\n"
        return ProcResult(
            code, bytes(stream.stdout), bytes(err[-MAX_STDERR:]), wall, stream.timed_out, start, end
        )
    finally:
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        remove_container(client, cid)
        REGISTRY.discard(cid)


SUPERVISOR_START_S = 120.0  # the container's start and the supervisor's snapshot of its mounts
SUPERVISOR_GRACE_S = 30.0  # past a request's timeout: the supervisor's kill, reap and wipe


class SupervisorDied(Exception):
    """The supervisor container cannot take requests any more (it is removed)."""


class SupervisedContainer:
    """A long-lived container of ``spec`` (command: the supervisor) taking one request at a time.

    ``run`` sends a process to run (argv, environment, folder, stdin, timeout) and returns
    its ProcResult once the supervisor has answered, which it does only after the process
    and everything it started are dead and everything they wrote is wiped. When the
    supervisor says the container cannot be made as new again (``retire``), dies, or misses
    its deadline, the container is removed and ``alive`` turns False: the caller starts a
    fresh one for its next request.
    """

    def __init__(self, client: Any, spec: RunSpec) -> None:
        self.client = client
        self.spec = spec
        self.cid = ""
        self.ready: dict[str, Any] = {}
        self.requests = 0
        self.retired = ""
        self._sock: Any = None
        self._stream: StreamDemux | None = None
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return bool(self.cid) and not self.retired

    def start(self) -> SupervisedContainer:
        api = self.client.api
        spec = self.spec
        self.cid = api.create_container(
            spec.image,
            command=spec.command,
            stdin_open=True,
            environment=spec.environment,
            use_config_proxy=False,
            working_dir=spec.working_dir,
            host_config=host_config(self.client, spec, extra_pids=1),
            labels={**LABELS, **owner_labels(), **spec.labels},
        )["Id"]
        REGISTRY.add(self.client, self.cid)
        try:
            self._sock = api.attach_socket(
                self.cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            raw = getattr(self._sock, "_sock", self._sock)
            api.start(self.cid)
            self._stream = StreamDemux(raw, time.perf_counter() + SUPERVISOR_START_S)
            self._stream.stdout_limit = 4 * MAX_STDOUT  # base64 of a process's stdout, and more
            line = self._stream.read_line()
            ready = _json_line(line)
            if not ready.get("ready"):
                why = (
                    ready.get("error")
                    or self._stream.stderr.decode(errors="replace").strip()[-500:]
                    or (
                        f"no answer in {SUPERVISOR_START_S:.0f}s"
                        if self._stream.timed_out
                        else "no answer"
                    )
                )
                raise SupervisorDied(f"the sandbox supervisor did not start: {why}")
            self.ready = ready
        except BaseException:
            self.close()
            raise
        return self

    def run(
        self, argv: list[str], *, env: dict[str, str], cwd: str, stdin: bytes, timeout_s: float
    ) -> ProcResult:
        with self._lock:
            if not self.alive or self._stream is None:
                raise SupervisorDied(self.retired or "not started")
            self.requests += 1
            request = {
                "id": self.requests,
                "argv": argv,
                "env": env,
                "cwd": cwd,
                "stdin": base64.b64encode(stdin).decode(),
                "timeout_s": timeout_s,
                "max_stdout": MAX_STDOUT,
                "max_stderr": MAX_STDERR,
            }
            start = time.time()
            t0 = time.perf_counter()
            stream = self._stream
            stream.deadline = t0 + timeout_s + SUPERVISOR_GRACE_S
            stream.timed_out = False
            stream.stderr.clear()
            try:
                stream.sock.sendall((json.dumps(request, separators=(",", ":")) + "\n").encode())
            except OSError:
                pass  # the supervisor is gone: reading says so
            line = stream.read_line()
            if line is None:
                return self._lost(stream.timed_out, start, time.perf_counter() - t0)
            answer = _json_line(line)
            if answer.get("id") != request["id"]:
                self._retire(
                    f"the supervisor answered {str(answer)[:200]!r} to request {request['id']}"
                )
                return ProcResult(
                    None,
                    b"",
                    f"perfbench: {self.retired}".encode(),
                    time.perf_counter() - t0,
                    False,
                    start,
                    time.time(),
                )
            if answer.get("retire"):
                log.debug(
                    "supervisor container %s retired: %s",
                    self.cid[:12],
                    answer.get("retire_reason"),
                )
                self._retire(
                    f"retired: {answer.get('retire_reason') or answer.get('error') or 'asked to'}"
                )
            return _proc_result(answer, start)

    def _lost(self, timed_out: bool, start: float, wall: float) -> ProcResult:
        """The supervisor did not answer: it died (killed for memory, say) or missed its deadline."""
        note = ""
        code: int | None = None
        if timed_out:
            note = "perfbench: the sandbox supervisor did not answer within the timeout; container killed"
        else:
            state = _state(self.client, self.cid)
            code = -9 if state.get("OOMKilled") else None
            note = (
                "perfbench: the container was killed for exceeding its memory limit"
                if state.get("OOMKilled")
                else f"perfbench: the sandbox supervisor ended (exit status {state.get('ExitCode')})"
            )
        err = bytes(self._stream.stderr[-MAX_STDERR:]) if self._stream else b""
        self._retire(note)
        return ProcResult(
            code, b"", err + b"\n" + note.encode() + b"\n", wall, timed_out, start, time.time()
        )

    def _retire(self, why: str) -> None:
        self.retired = why or "retired"
        self.close()

    def close(self) -> None:
        """Remove the container (closing its stdin first lets the supervisor end on its own)."""
        if self._sock is not None:
            try:
                raw = getattr(self._sock, "_sock", self._sock)
                raw.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        self._stream = None
        if self.cid:
            remove_container(self.client, self.cid)
            REGISTRY.discard(self.cid)
        if not self.retired:
            self.retired = "closed"


def _json_line(line: bytes | None) -> dict[str, Any]:
    if not line:
        return {}
    try:
        value = json.loads(line)
    except ValueError:
        return {"error": f"not JSON: {line[:200]!r}"}
    return value if isinstance(value, dict) else {"error": f"not an object: {line[:200]!r}"}


def _proc_result(answer: dict[str, Any], start: float) -> ProcResult:
    stdout = base64.b64decode(answer.get("stdout") or "")
    stderr = base64.b64decode(answer.get("stderr") or "")
    code = answer.get("returncode")
    if answer.get("error") and not stderr:
        stderr = f"perfbench: {answer['error']}".encode()
    if answer.get("oom") and not answer.get("timed_out") and code in (-9, 137):
        stderr += b"\nperfbench: the process was killed for exceeding its memory limit\n"
    return ProcResult(
        code if code is None else int(code),
        stdout,
        stderr[-MAX_STDERR:],
        float(answer.get("wall_s") or 0.0),
        bool(answer.get("timed_out")),
        float(answer.get("start") or start),
        float(answer.get("end") or time.time()),
    )


def _state(client: Any, cid: str) -> dict[str, Any]:
    try:
        client.api.wait(cid, timeout=10)
    except Exception:
        pass
    try:
        return dict(client.api.inspect_container(cid)["State"])
    except Exception:
        return {}


class StreamDemux:
    """Reads Docker's multiplexed attach stream (8-byte frame headers) with a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.timed_out = False
        self.closed = False
        self.stdout_limit = MAX_STDOUT
        self._buf = bytearray()

    def send(self, data: bytes) -> None:
        try:
            if data:
                self.sock.sendall(data)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the process ended before reading its stdin; its output says why

    def read_line(self) -> bytes | None:
        """The next line of stdout (without its end); None at the end of the stream or the deadline."""
        while True:
            end = self.stdout.find(b"\n")
            if end >= 0:
                line = bytes(self.stdout[:end])
                del self.stdout[: end + 1]
                return line
            if self.closed or not self._read_some():
                return None

    def _read_some(self) -> bool:
        """Wait for and take one chunk; False at the end of the stream or the deadline."""
        while True:
            remaining = self.deadline - time.perf_counter()
            if remaining <= 0:
                self.timed_out = True
                return False
            ready, _, _ = select.select([self.sock], [], [], min(remaining, 1.0))
            if not ready:
                continue
            try:
                chunk = self.sock.recv(1 << 16)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
                return False
            self._buf += chunk
            self._frames()
            return True

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
            payload = bytes(self._buf[_HEADER.size : _HEADER.size + size])
            del self._buf[: _HEADER.size + size]
            if kind == 2:
                self.stderr += payload
                if len(self.stderr) > 4 * MAX_STDERR:
                    del self.stderr[:-MAX_STDERR]
            elif len(self.stdout) < self.stdout_limit:
                self.stdout += payload


def kill_container(client: Any, cid: str) -> None:
    """Kill every process of a container; one already gone is no error."""
    try:
        client.api.kill(cid)
    except Exception as exc:  # already gone
        log.debug("kill %s: %s", cid[:12], exc)


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
