"""The interface every sandbox backend implements, and the records it exchanges.

A backend knows how to build the variants of an instance (``base``, ``expert``,
``candidate``) and how to run one command in one variant under limits. It knows
nothing of blocks, statistics or grades: the measurement code drives it.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import repos
from ..errors import PatchError
from ..patches import apply_patch
from ..records import Instance

# The code that runs inside every sandbox (standard library only): mounted or bound read-only
# by each backend.
HARNESS_DIR = Path(__file__).resolve().parent.parent.parent / "harness"

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
    # The variant's own build steps (venv, installs, compiling, bytecode), timed when it was
    # built: a cached build keeps the figure of the build that made it (None: not known).
    build_s: float | None = None
    ccache: dict[str, int] | None = None  # compiler-cache hits and misses of that build


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

    def patched_tree(
        self, patch: str, tree: Path, log_path: Path, t0: float
    ) -> VariantBuild | None:
        """Export base to ``tree`` and apply ``patch`` there; a failed build record if it does not apply.

        Both backends build the candidate from such a tree. The test files are put back to base's
        copies afterwards: guard tests run from them, whatever the patch did to them.
        """
        git_dir = getattr(self, "repo_git_dir", None)
        assert git_dir is not None, "prepare_reference first"
        repos.export_tree(git_dir, self.instance.base_commit, tree)
        try:
            applied = apply_patch(patch, tree)
        except PatchError as exc:
            log_path.write_text(str(exc) + "\n")
            return VariantBuild(
                CANDIDATE,
                False,
                log_path,
                error=str(exc),
                details={"stage": "apply"},
                seconds=time.monotonic() - t0,
            )
        (self.log_dir / "patch.log").write_text(
            f"method: {applied.method}\nfiles: {applied.files}\n\n{applied.log}\n"
        )
        if self.instance.test_paths:
            repos.export_paths(git_dir, self.instance.base_commit, tree, self.instance.test_paths)
        return applied

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
