"""One instance's measurement session, shared by evaluate, validate and mine.

A session owns what every measuring command does the same way: fetch the
repository, open a sandbox backend in a private work folder with the dataset and
the reports hidden, build the reference variants (one build at a time per
repository, since parallel slots share the cached builds), install the workloads
at their seeds, run guard tests and result checks under the same limits, and run
the measurement protocol, writing its timings. The commands differ only in which
variants they measure and what they conclude.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType

from . import repos
from .config import EvalConfig, Events
from .correctness import CorrectnessResult, GuardResult, compare_results, run_guard_tests
from .datasets import Dataset
from .locks import file_lock
from .measure.protocol import CheckFn, Measurement, Protocol, StopRule, TimedWorkload
from .records import Instance
from .reports import write_timings
from .sandbox import make_backend
from .sandbox.base import CANDIDATE, Backend, Limits, VariantBuild
from .seeds import workload_seed

log = logging.getLogger(__name__)

GUARD_TIMEOUT_S = 600.0
JUDGE_TIMEOUT_S = 120.0


def repo_cache_for(dataset: Dataset, config: EvalConfig) -> repos.RepoCache:
    """The repository cache, with the dataset's own repository locations taking precedence."""
    return repos.RepoCache(config.cache_dir, config.url_template, dataset.repo_locations())


def ensure_expert_patches(
    dataset: Dataset, cache: repos.RepoCache, instances: list[Instance]
) -> None:
    """Derive missing expert patches from the repositories (datasets may store only commits)."""
    for inst in instances:
        if inst.expert_patch:
            continue
        mirror = cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
        inst.expert_patch = repos.diff(mirror, inst.base_commit, inst.opt_commit)


class InstanceSession:
    """A sandbox for one instance, from the repository to measured timings.

    Use as a context manager; ``purpose`` names the work folder (``eval``, ``validate``).
    """

    def __init__(
        self,
        dataset: Dataset,
        inst: Instance,
        config: EvalConfig,
        *,
        log_dir: Path,
        events: Events | None = None,
        purpose: str = "eval",
    ) -> None:
        self.dataset = dataset
        self.inst = inst
        self.config = config
        self.log_dir = log_dir
        self.events = events or Events()
        self.purpose = purpose
        self.cache = repo_cache_for(dataset, config)
        self.mirror: Path | None = None
        self._backend: Backend | None = None
        self.workloads: list[TimedWorkload] = []

    # ---- lifetime -------------------------------------------------------

    def __enter__(self) -> InstanceSession:
        cfg = self.config
        self.events.stage("fetching repository")
        self.mirror = self.cache.mirror(
            self.inst.repo, (self.inst.base_commit, self.inst.opt_commit)
        )
        work_dir = (
            cfg.cache_dir
            / "work"
            / f"{self.purpose}-{cfg.run_id}-{os.getpid()}"
            / self.inst.instance_id
        )
        hide = [p for p in (self.dataset.root, cfg.runs_dir.resolve()) if p is not None]
        self._backend = make_backend(
            cfg.backend,
            self.inst,
            work_dir=work_dir,
            log_dir=self.log_dir,
            cache_dir=cfg.cache_dir,
            hide=hide,
            options=cfg.backend_options,
        )
        self._backend.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._backend is not None:
            self._backend.close()

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError("InstanceSession used outside its 'with' block")
        return self._backend

    # ---- limits ---------------------------------------------------------

    @property
    def guard_limits(self) -> Limits:
        lim = self.config.limits
        return Limits(
            timeout_s=GUARD_TIMEOUT_S,
            memory_mb=lim.memory_mb,
            max_procs=lim.max_procs,
            cpus=lim.cpus,
        )

    @property
    def judge_limits(self) -> Limits:
        lim = self.config.limits
        return Limits(
            timeout_s=JUDGE_TIMEOUT_S,
            memory_mb=lim.memory_mb,
            max_procs=lim.max_procs,
            cpus=lim.cpus,
        )

    # ---- building -------------------------------------------------------

    def build_references(self) -> dict[str, VariantBuild]:
        """Build base and expert (cached); parallel sessions on one machine take turns."""
        self.events.stage("building base and expert")
        lock = (
            self.config.cache_dir / "locks" / f"reference-{self.inst.repo.replace('/', '__')}.lock"
        )
        assert self.mirror is not None
        with file_lock(lock):
            return self.backend.prepare_reference(self.mirror)

    def build_candidate(self, patch: str) -> VariantBuild:
        self.events.stage("building candidate")
        return self.backend.prepare_candidate(patch)

    def install_workloads(self) -> list[TimedWorkload]:
        """Place the workloads in the sandbox, each with the seed it is timed at."""
        inst = self.inst
        paths = self.backend.install_workloads(
            {w.name: inst.workload_source(w) for w in inst.workloads}
        )
        self.workloads = [
            TimedWorkload(
                w.name, paths[w.name], workload_seed(self.dataset.eval_seed, inst, w), w.visible
            )
            for w in inst.workloads
        ]
        return self.workloads

    # ---- checking -------------------------------------------------------

    def guard_tests(self, variant: str = CANDIDATE, log_name: str = "tests.log") -> GuardResult:
        self.events.stage("guard tests")
        return run_guard_tests(
            self.backend, self.inst.guard_tests, self.guard_limits, self.log_dir / log_name, variant
        )

    def compare(self, m: Measurement, variant: str) -> CorrectnessResult:
        """Whether ``variant``'s results equal base's (judged in a process of its own)."""
        return compare_results(self.backend, m, variant, self.judge_limits)

    # ---- measuring ------------------------------------------------------

    def measure(
        self,
        variants: list[str],
        *,
        stop: StopRule | None = None,
        check: CheckFn | None = None,
        timings: str = "timings.jsonl",
    ) -> Measurement:
        """Run the protocol on ``variants`` and write its per-process timings beside the logs."""
        if not self.workloads:
            self.install_workloads()
        if hasattr(self.backend, "snapshot"):
            self.backend.snapshot()
        self.events.stage("measuring")
        protocol = Protocol(
            self.backend,
            self.workloads,
            self.config.measure,
            self.config.limits,
            progress=self.events.block,
            stop=stop,
            check=check,
        )
        m = protocol.measure(variants)
        write_timings(self.log_dir / timings, m.samples_table())
        return m
