"""What every workload generator shares: its input (a context), its output, and the registry.

A generator turns one candidate commit into workloads of our format (DESIGN.md
section 4). It sees the commit only through a :class:`GenerationContext`: the base
and opt trees exported with ``git archive``, the changed functions, a lazily run
probe of the test suite at base, and a runner that tries a workload in a fresh
process. What it cannot use it reports as a :class:`Drop` with a reason, so that
``perfbench mine --explain`` can say why a candidate came out with no workloads.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import InputError

if TYPE_CHECKING:
    from ...llm import LLMSettings
    from ..commits import Candidate
    from .changes import ChangeSet
    from .probe import ProbeResult
    from .runner import WorkloadRunner

log = logging.getLogger(__name__)


def generation_defaults() -> dict[str, Any]:
    """The ``generation`` section of ``perfbench/data/mining_defaults.json``."""
    from ..patterns import load_defaults

    return dict(load_defaults().get("generation", {}))


def _gen_default(name: str) -> Callable[[], Any]:
    return lambda: generation_defaults()[name]


# A hidden workload's timed calls in one process must mostly get inputs of their own: equal
# inputs are what a candidate memoising by value is served from its cache.
MIN_DISTINCT_INPUTS = 50  # of 100 calls


@dataclass
class GenConfig:
    """Knobs of the generators; the defaults suit pure-Python libraries.

    The fields read with ``_gen_default`` are data (``generation`` in
    ``mining_defaults.json``): trial-run rules, pytest fixtures we stand in for or
    cannot provide, test dependencies that are tools rather than needs.
    """

    target_seconds: float = 0.02  # what one base run() of a scaled workload aims for
    max_scale: int = 4096  # cap on how many times a replayed input is grown
    max_workloads: int = 3  # per generator and candidate
    max_calls: int = 6  # recorded calls replayed per function
    max_arg_bytes: int = 200_000  # pickled size of one recorded call's arguments
    max_inline_bytes: int = 400_000  # encoded calls inlined in one workload file
    probe_timeout_s: float = 600.0  # whole test-suite (or benchmark) run at base
    run_timeout_s: float = 120.0  # one trial run of a workload
    max_guard_tests: int = 40
    python: str = field(default_factory=lambda: sys.executable)  # or "auto": the commit's era
    llm: LLMSettings | None = None
    llm_workloads: int = 2
    trial_rounds: int = field(default_factory=_gen_default("trial_rounds"))
    min_trial_speedup: float = field(default_factory=_gen_default("min_trial_speedup"))
    imports_min_trial_speedup: float = field(
        default_factory=_gen_default("imports_min_trial_speedup")
    )
    scale_grid: int = field(default_factory=_gen_default("scale_grid"))
    replay_good_trial_speedup: float = field(
        default_factory=_gen_default("replay_good_trial_speedup")
    )
    replay_search_seconds: float = field(default_factory=_gen_default("replay_search_seconds"))
    fixture_stand_ins: list[str] = field(default_factory=_gen_default("fixture_stand_ins"))
    fixtures_not_provided: list[str] = field(default_factory=_gen_default("fixtures_not_provided"))
    test_dependency_skip: list[str] = field(default_factory=_gen_default("test_dependency_skip"))
    # Shell commands run in each exported tree before its tests, and written into the
    # instance's env.install; None: the repository's recipe (perfbench.mining.recipes), if any.
    install: list[str] | None = None
    # A replay may be hidden only when this many of 100 timed calls get inputs of their own.
    min_distinct_inputs: int = MIN_DISTINCT_INPUTS

    def cache_key(self) -> dict[str, Any]:
        """What decides the generated workloads (the LLM endpoint's key left out)."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("llm", "python")}
        if self.llm is not None:
            data["llm"] = {"url": self.llm.url, "model": self.llm.model}
        return data


@dataclass
class GeneratedWorkload:
    """A workload file's text with where it came from (kept as provenance in the instance)."""

    name: str
    source: str
    generator: str
    description: str  # one line: the situation it times, for the problem statement
    apis: list[str]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Drop:
    """Something a generator could not turn into a workload, and why (with figures)."""

    generator: str
    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.generator}: {self.subject}: {self.reason}"


@dataclass
class GeneratorResult:
    workloads: list[GeneratedWorkload] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)


@dataclass
class GenerationContext:
    """One candidate as the generators see it."""

    repo_name: str
    git_dir: Path
    candidate: Candidate
    base_sha: str
    opt_sha: str
    base_tree: Path
    opt_tree: Path
    changes: ChangeSet
    pythonpath: list[str]  # sys.path roots relative to a tree
    test_paths: list[str]  # test folders or files relative to a tree
    diff_text: str
    config: GenConfig
    runner: WorkloadRunner
    probe_fn: Callable[[], ProbeResult] | None = None
    environment_note: str = ""  # what the tests and trials ran with (shown with --explain)
    environment_pins: list[str] = field(default_factory=list)  # name==version installed there
    runtime_requirements: list[str] = field(default_factory=list)  # declared by the repository
    test_requirements: list[str] = field(default_factory=list)  # declared for its tests
    _probe: ProbeResult | None = field(default=None, repr=False)

    @property
    def message(self) -> str:
        return self.candidate.commit.message

    def probe(self) -> ProbeResult:
        """The test suite's run at base under the tracer, run once and shared by the generators."""
        if self._probe is None:
            if self.probe_fn is None:
                raise RuntimeError("no probe configured")
            self._probe = self.probe_fn()
        return self._probe

    @property
    def probed(self) -> ProbeResult | None:
        return self._probe


class Generator(Protocol):
    """Turns a candidate into workloads; ``name`` is what ``--generators`` lists."""

    name: str

    def generate(self, ctx: GenerationContext) -> GeneratorResult: ...


GENERATORS: dict[str, Callable[[], Generator]] = {}


def register(factory: Callable[[], Generator]) -> Callable[[], Generator]:
    """Class decorator: make a generator selectable by its ``name``."""
    GENERATORS[factory.name] = factory  # type: ignore[attr-defined]
    return factory


def make_generators(names: list[str]) -> list[Generator]:
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        raise InputError(
            f"unknown workload generator(s) {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(GENERATORS))}",
            field="generators",
        )
    if not names:
        raise InputError("no workload generators chosen", field="generators")
    return [GENERATORS[n]() for n in names]


# Workloads that read files of the tree (test modules, benchmarks, their helpers and data) find
# the tree's top through a module of the repository, wherever the sandbox put the tree.
TREE_ROOT_SNIPPET = """
ANCHOR = ({module!r}, {levels!r})  # a module of the repository, and how far up the tree's top is


def _tree_root():
    module = importlib.import_module(ANCHOR[0])
    root = os.path.dirname(os.path.abspath(module.__file__))
    for _ in range(ANCHOR[1]):
        root = os.path.dirname(root)
    return root
"""


def tree_anchor(ctx: GenerationContext) -> tuple[str, int]:
    """A top-level module of the repository and how many folders above its file the tree starts."""
    for cf in ctx.changes.functions:
        if not cf.module:
            continue
        top = cf.module.split(".")[0]
        root = ctx.base_tree / cf.root
        package = root / top / "__init__.py"
        path = package if package.is_file() else root / f"{top}.py"
        if path.is_file():
            return top, len(path.parent.relative_to(ctx.base_tree).parts)
    return "", 0


def package_of(tree: Path, path: Path) -> tuple[str, str]:
    """The dotted package a file of ``tree`` sits in, and its sys.path entry relative to the tree."""
    parts: list[str] = []
    folder = path.parent
    while folder != tree and (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), str(folder.relative_to(tree)) or "."


def tree_root_code(ctx: GenerationContext) -> str:
    module, levels = tree_anchor(ctx)
    return TREE_ROOT_SNIPPET.format(module=module, levels=levels)


def safe_name(text: str, limit: int = 60) -> str:
    """A workload name (letters, digits, '_', '.', '-') from free text."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.-")
    return (name[:limit].rstrip("_.-") or "workload").lower()


def unique_names(workloads: list[GeneratedWorkload]) -> None:
    """Make workload names unique in place: a repeated name gets ``_2``, ``_3``, ..."""
    taken: set[str] = set()
    for w in workloads:
        name, k = w.name, 1
        while name in taken:
            k += 1
            name = f"{w.name}_{k}"
        w.name = name
        taken.add(name)
