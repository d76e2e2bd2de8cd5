"""Process limits for the local backend: rlimits, CPU pinning and a pids cgroup.

Applied in the child between fork and exec (``preexec_fn``), so they hold for
everything the process starts. ``RLIMIT_NPROC`` does not bind user id 0, so a
pids cgroup (v1 or v2) is used where the machine lets us make one.
"""

from __future__ import annotations

import logging
import os
import resource
import uuid
from collections.abc import Callable
from pathlib import Path

from .base import Limits

log = logging.getLogger(__name__)

_CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


class PidsCgroup:
    """A cgroup with ``pids.max`` that children join before exec; removed on close."""

    def __init__(self, max_procs: int) -> None:
        self.path: Path | None = None
        _remove_stale()
        for root in _CGROUP_ROOTS:
            if not (root / "cgroup.procs").exists():
                continue
            if root == Path("/sys/fs/cgroup") and not (root / "cgroup.controllers").exists():
                continue  # v1 layout: only the pids hierarchy carries pids.max
            candidate = root / f"perfbench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                candidate.mkdir()
                (candidate / "pids.max").write_text(str(max_procs))
                self.path = candidate
                break
            except OSError:
                try:
                    candidate.rmdir()
                except OSError:
                    pass
        if self.path is None:
            log.debug("no writable pids cgroup; process count limited by RLIMIT_NPROC only")

    def set_max(self, max_procs: int) -> None:
        if self.path is not None:
            (self.path / "pids.max").write_text(str(max_procs))

    def join(self) -> None:
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def kill_all(self) -> None:
        if self.path is None:
            return
        try:
            for pid in (self.path / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), 9)
                except ProcessLookupError:
                    pass
        except OSError:
            pass

    def close(self) -> None:
        if self.path is None:
            return
        self.kill_all()
        for _ in range(50):
            try:
                self.path.rmdir()
                break
            except OSError:
                import time

                time.sleep(0.02)
        self.path = None


def _remove_stale() -> None:
    """Remove empty cgroups left by perfbench processes that no longer exist (killed runs)."""
    for root in _CGROUP_ROOTS:
        try:
            entries = list(root.glob("perfbench-*"))
        except OSError:
            continue
        for entry in entries:
            try:
                owner = int(entry.name.split("-")[1])
            except (IndexError, ValueError):
                continue
            if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
                try:
                    entry.rmdir()
                except OSError:
                    pass


def preexec(limits: Limits, cgroup: PidsCgroup | None) -> Callable[[], None]:
    """The function the child runs before exec to put itself under ``limits``."""
    mem = limits.memory_mb * 1024 * 1024

    def apply() -> None:
        if cgroup is not None:
            cgroup.join()
        if limits.cpus:
            os.sched_setaffinity(0, limits.cpus)
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_procs, limits.max_procs))
        cpu = int(limits.timeout_s) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    return apply


def available_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))
