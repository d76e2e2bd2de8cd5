"""The interface every sandbox backend implements, and the records it exchanges.

A backend knows how to build the variants of an instance (``base``, ``expert``,
``candidate``) and how to run one command in one variant under limits. It knows
nothing of blocks, statistics or grades: the measurement code drives it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import Instance

BASE = "base"
EXPERT = "expert"
CANDIDATE = "candidate"
VARIANTS = (BASE, EXPERT, CANDIDATE)


@dataclass(frozen=True)
class Limits:
    """Limits for one process run inside a sandbox."""

    timeout_s: float = 300.0
    memory_mb: int = 4096
    max_procs: int = 256
    cpus: tuple[int, ...] | None = None
    tmpfs_mb: int = 512


@dataclass
class ProcResult:
    """What came of one sandboxed process."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    wall_s: float
    timed_out: bool = False
    start: float = 0.0
    end: float = 0.0

    @property
    def signal(self) -> int | None:
        return -self.returncode if self.returncode is not None and self.returncode < 0 else None

    def failure_reason(self) -> str | None:
        """A short reason when the process did not end normally, else None."""
        if self.timed_out:
            return "timeout"
        if self.returncode == 0:
            return None
        if self.returncode in (-9, 137):
            return "killed (SIGKILL: out of memory or killed by itself)"
        if self.signal:
            return f"killed by signal {self.signal}"
        return f"exit status {self.returncode}"


@dataclass
class VariantBuild:
    """Outcome of preparing one variant."""

    name: str
    ok: bool
    log_path: Path | None = None
    error: str = ""
    seconds: float = 0.0
    cached: bool = False
    apply_method: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class Backend(abc.ABC):
    """One sandbox session for one instance: build its variants, run processes in them."""

    name = "abstract"

    def __init__(self, instance: Instance, *, work_dir: Path, log_dir: Path) -> None:
        self.instance = instance
        self.work_dir = work_dir
        self.log_dir = log_dir

    @abc.abstractmethod
    def prepare_reference(self, repo_git_dir: Path) -> dict[str, VariantBuild]:
        """Build ``base`` and ``expert`` (cached across runs)."""

    @abc.abstractmethod
    def prepare_candidate(self, patch: str) -> VariantBuild:
        """Apply ``patch`` to base and build the ``candidate`` variant; never raises for a bad patch."""

    @abc.abstractmethod
    def install_workloads(self, files: dict[str, str]) -> dict[str, str]:
        """Place workload sources (name -> text) where variants can read but not write them.

        Returns name -> path as seen from inside the sandbox.
        """

    @abc.abstractmethod
    def run_harness(
        self, variant: str, script: str, request: dict[str, Any], limits: Limits
    ) -> ProcResult:
        """Run ``harness/<script>`` in ``variant`` with ``request`` as JSON on stdin, in a fresh process."""

    @abc.abstractmethod
    def run_tests(self, variant: str, test_ids: list[str], limits: Limits) -> ProcResult:
        """Run the instance's test command for ``test_ids`` in ``variant``."""

    def pythonpath(self, variant: str) -> list[str]:
        """Entries the harness puts on sys.path for ``variant`` (paths inside the sandbox)."""
        return []

    def integrity_violations(self) -> list[str]:
        """Changes found in trees a timed process must not alter (empty when isolation holds)."""
        return []

    def describe(self) -> dict[str, Any]:
        """What a report records about the sandbox (isolation used, limits, machine)."""
        return {"backend": self.name}

    def close(self) -> None:
        """Release what the session holds (containers, temporary trees)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
