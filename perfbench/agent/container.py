"""The container an agent works in, and the small exec interface the runner and agents use.

One fresh container per instance, from the agent-facing image: ``network_mode=none``, a CPU
quota, a memory limit (swap included), a pids limit, every capability dropped but the few
that file tools need as root, ``no-new-privileges``, an init process that reaps orphans, and
no host mounts. It sleeps until the runner ``exec``s into it; every exec has a deadline
after which the whole container is killed (the instance's wall-clock budget is enforced
from the host, not by the agent). Containers carry the labels ``perfbench=1`` and
``perfbench.layer=agent-run`` (and the owning process), so ``perfbench clean`` removes
leftovers; the registry of ``docker.containers`` removes them at exit whatever happened.
"""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import asdict, dataclass
from typing import Any

from ..docker.containers import REGISTRY, StreamDemux, kill_container, remove_container
from ..docker.engine import LABEL, LABELS, owner_labels
from ..errors import HarnessError

LAYER = "agent-run"
# Enough for git, pip and editors working as root on files they own; nothing that reaches
# the host or the network (no SYS_ADMIN, NET_*, SYS_PTRACE, MKNOD).
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"]
OUTPUT_LIMIT = 4 * 1024 * 1024


@dataclass
class AgentLimits:
    """Per-instance limits of the agent's container."""

    cpus: float = 1.0
    memory_mb: int = 4096
    pids: int = 512
    budget_s: float = 1800.0  # wall clock for the whole instance, from the container's start
    command_timeout_s: float = 120.0  # built-in agent: one shell command

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExecResult:
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool

    def text(self, limit: int = 10_000) -> str:
        """stdout then stderr, as text, the middle cut out past ``limit`` characters."""
        out = self.stdout.decode(errors="replace")
        err = self.stderr.decode(errors="replace")
        text = out + (("\n" if out and not out.endswith("\n") else "") + err if err else "")
        return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-limit // 2 :]
    return f"{head}\n[... {len(text) - len(head) - len(tail)} characters cut ...]\n{tail}"


class AgentContainer:
    """``with AgentContainer(client, image, ...) as box: box.exec([...], deadline=...)``."""

    def __init__(
        self,
        client: Any,
        image: str,
        limits: AgentLimits,
        *,
        environment: dict[str, str],
        instance_id: str,
        working_dir: str = "/testbed",
    ) -> None:
        self.client = client
        self.image = image
        self.limits = limits
        self.environment = environment
        self.instance_id = instance_id
        self.working_dir = working_dir
        self.cid = ""
        self.killed = False
        self.started = 0.0

    # ---- life ---------------------------------------------------------------

    def __enter__(self) -> AgentContainer:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def create(self) -> AgentContainer:
        """Create the container (not started yet: files can be put in first)."""
        api = self.client.api
        lim = self.limits
        host_config = api.create_host_config(
            network_mode="none",
            nano_cpus=int(lim.cpus * 1e9),
            mem_limit=f"{lim.memory_mb}m",
            memswap_limit=f"{lim.memory_mb}m",
            pids_limit=lim.pids,
            cap_drop=["ALL"],
            cap_add=CAPABILITIES,
            security_opt=["no-new-privileges"],
            init=True,
        )
        self.cid = api.create_container(
            self.image,
            command=["sleep", "infinity"],
            environment=self.environment,
            working_dir=self.working_dir,
            network_disabled=True,
            host_config=host_config,
            labels={
                **LABELS,
                **owner_labels(),
                f"{LABEL}.layer": LAYER,
                f"{LABEL}.instance": self.instance_id,
            },
        )["Id"]
        REGISTRY.add(self.client, self.cid)
        return self

    def start(self) -> None:
        self.client.api.start(self.cid)
        self.started = time.monotonic()

    def remove(self) -> None:
        if self.cid:
            remove_container(self.client, self.cid)
            REGISTRY.discard(self.cid)
            self.cid = ""

    def kill(self) -> None:
        """Stop everything in the container at once (the budget is spent)."""
        self.killed = True
        kill_container(self.client, self.cid)

    # ---- files and processes --------------------------------------------------

    def put_files(self, files: dict[str, tuple[bytes, int]]) -> None:
        """Copy ``{container path: (content, mode)}`` in, as root-owned files."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            dirs: set[str] = set()
            for path in sorted(files):
                parts = path.strip("/").split("/")
                for i in range(1, len(parts)):
                    d = "/".join(parts[:i])
                    if d not in dirs:
                        dirs.add(d)
                        info = tarfile.TarInfo(d)
                        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                        tar.addfile(info)
                data, mode = files[path]
                info = tarfile.TarInfo("/".join(parts))
                info.size, info.mode, info.mtime = len(data), mode, int(time.time())
                tar.addfile(info, io.BytesIO(data))
        if not self.client.api.put_archive(self.cid, "/", buf.getvalue()):
            raise HarnessError(f"could not copy the task files into container {self.cid[:12]}")

    def exec(
        self,
        argv: list[str],
        *,
        deadline: float,
        stdin: bytes = b"",
        environment: dict[str, str] | None = None,
        workdir: str | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the container until it ends or ``deadline`` (monotonic) passes.

        Past the deadline the container is killed (every process in it ends) and the result
        says ``timed_out``; the runner then records the instance as timed out.
        """
        api = self.client.api
        t0 = time.monotonic()
        if t0 >= deadline:
            self.kill()
            return ExecResult(None, b"", b"", 0.0, True)
        eid = api.exec_create(
            self.cid,
            argv,
            stdin=True,
            stdout=True,
            stderr=True,
            environment=environment,
            workdir=workdir or self.working_dir,
        )["Id"]
        sock = api.exec_start(eid, socket=True)
        raw = getattr(sock, "_sock", sock)
        try:
            stream = StreamDemux(raw, time.perf_counter() + (deadline - t0))
            stream.stdout_limit = OUTPUT_LIMIT
            stream.send(stdin)
            stream.read_all()
        finally:
            try:
                sock.close()
            except OSError:
                pass
        if stream.timed_out:
            self.kill()
            return ExecResult(
                None,
                bytes(stream.stdout),
                bytes(stream.stderr),
                time.monotonic() - t0,
                True,
            )
        code = None
        for _ in range(50):  # the exec's status lags the end of its stream by a moment
            state = api.exec_inspect(eid)
            if not state.get("Running"):
                code = state.get("ExitCode")
                break
            time.sleep(0.05)
        return ExecResult(
            code, bytes(stream.stdout), bytes(stream.stderr), time.monotonic() - t0, False
        )

    def sh(self, script: str, *, timeout_s: float, stdin: bytes = b"") -> ExecResult:
        """``bash -c script`` with a deadline of its own (capped by nothing else)."""
        return self.exec(["bash", "-c", script], deadline=time.monotonic() + timeout_s, stdin=stdin)

    def diff(self, base_commit: str, timeout_s: float = 120.0) -> str:
        """The working tree against ``base_commit``, new files included, ``.gitignore`` and
        ``.git/info/exclude`` respected (build outputs stay out), binary changes as git
        binary patches."""
        result = self.sh(
            "set -e; cd /testbed; git add -A >/dev/null; "
            f"git -c core.quotepath=off diff --cached --binary --no-color {base_commit}",
            timeout_s=timeout_s,
        )
        if result.timed_out or result.exit_code != 0:
            why = "timed out" if result.timed_out else f"exit status {result.exit_code}"
            raise DiffError(f"git diff {why}: {result.stderr.decode(errors='replace')[-300:]}")
        return result.stdout.decode(errors="replace")


class DiffError(Exception):
    """The agent's tree could not be read as a diff (it broke the repository, say)."""
