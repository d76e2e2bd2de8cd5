"""From a candidate commit to the context every generator works in.

Base and opt are exported with ``git archive`` (never a checkout of the user's
working tree), the changed functions found, and the runner and the lazily run
probe of the test suite set up; a candidate that offers nothing to generate from
is rejected here with the reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ... import repos
from ..probe_env import AUTO_PYTHON, ensure_probe_env, era_interpreter
from ..recipes import run_install
from ..test_deps import declared_runtime_dependencies, declared_test_dependencies, project_name
from .base import GenConfig, GenerationContext
from .changes import analyze, full_diff
from .probe import ProbeResult, find_test_paths, run_probe, select_test_files
from .runner import WorkloadRunner

if TYPE_CHECKING:
    from ..commits import Candidate


class StageNotes(Protocol):
    """Where progress is shown (the pipeline's events)."""

    def stage(self, text: str) -> None: ...


class _Quiet:
    def stage(self, text: str) -> None:
        pass


class CandidateRejected(Exception):
    """A candidate leaves the pipeline at ``stage`` for ``reasons``."""

    def __init__(self, stage: str, reasons: list[str]) -> None:
        reasons = [r for r in reasons if r and r.strip()] or [
            f"rejected at {stage} with no reason given (a miner bug: please report it)"
        ]
        super().__init__("; ".join(reasons))
        self.stage = stage
        self.reasons = reasons


def build_context(
    git_dir: Path,
    repo_name: str,
    cand: Candidate,
    work: Path,
    gen: GenConfig,
    events: StageNotes | None = None,
    reached: Callable[[str], None] | None = None,
    env_cache: Path | None = None,
) -> GenerationContext:
    """Export base and opt into ``work``, find the changed functions, set up runner and probe.

    ``reached`` hears the name of each stage as it starts, so a rejection says where it was.
    With ``env_cache``, tests and trials run in a virtual environment holding what the
    repository declares for its code and tests (made once per requirement set, kept there);
    without it, on ``gen.python`` itself.
    """
    events = events or _Quiet()
    reached = reached or (lambda stage: None)
    if not cand.commit.parents:
        raise CandidateRejected("export", ["root commit: no parent to compare with"])
    base_sha = cand.commit.parents[0]
    events.stage("exporting base and opt")
    shutil.rmtree(work, ignore_errors=True)
    base_tree, opt_tree = work / "base", work / "opt"
    repos.export_tree(git_dir, base_sha, base_tree)
    repos.export_tree(git_dir, cand.sha, opt_tree)
    if gen.install:
        events.stage("running the install steps in base and opt")
        for tree in (base_tree, opt_tree):
            failed = run_install(tree, gen.install)
            if failed:
                raise CandidateRejected("export", [failed])
    reached("changes")
    changes = analyze(git_dir, base_sha, cand.sha, base_tree, opt_tree, cand.source_files)
    module_level = any(
        lines for path, lines in changes.changed_lines.items() if path.endswith(".py")
    )
    # A change at module level only (imports, tables built at import) is still worth the
    # ``imports`` generator; the others drop such a candidate themselves.
    if not changes.functions and not module_level:
        what = ", ".join(changes.other_files[:3]) or ", ".join(cand.source_files[:3])
        raise CandidateRejected(
            "changes", [f"no Python function at base is changed ({what})", *changes.notes]
        )
    reached("generate")
    test_paths = find_test_paths(base_tree)
    project = project_name(base_tree)
    runtime_needs = declared_runtime_dependencies(base_tree, project=project)
    test_needs = declared_test_dependencies(
        base_tree, skip=gen.test_dependency_skip, project=project
    )
    python, env_note, pins = gen.python, "", []
    before = ""
    if gen.python == AUTO_PYTHON:
        # The Python of the commit's time, and its requirements as they were then.
        python, before = era_interpreter(cand.commit.committer_date or cand.commit.author_date)
    if env_cache is not None:
        events.stage("installing what the repository's code and tests need")
        env = ensure_probe_env(python, runtime_needs + test_needs, env_cache, before)
        python, env_note, pins = env.python, env.note(), env.pins
    runner = WorkloadRunner(
        python,
        {"base": base_tree, "opt": opt_tree},
        changes.roots,
        gen.run_timeout_s,
        rounds=gen.trial_rounds,
    )

    def run(files: list[str]) -> ProbeResult:
        return run_probe(
            mode="tests",
            tree=base_tree,
            pythonpath=changes.roots,
            changes=changes,
            python=python,
            timeout_s=gen.probe_timeout_s,
            pytest_args=files,
            max_arg_bytes=gen.max_arg_bytes,
            fixtures_not_provided=gen.fixtures_not_provided,
        )

    def probe() -> ProbeResult:
        """The tests that name a changed module or function first; when none of them runs the
        change (a helper called only through other code, like sqlparse's ``imt``), them all."""
        events.stage("running the tests at base under the tracer")
        files = select_test_files(base_tree, test_paths, changes)
        result = run(files)
        everything = [tp for tp in test_paths if (base_tree / tp).exists()]
        if not result.covering() and everything and sorted(files) != sorted(everything):
            events.stage("running all the tests at base under the tracer")
            wider = run(everything)
            if wider.covering():
                return wider
        return result

    return GenerationContext(
        repo_name=repo_name,
        git_dir=git_dir,
        candidate=cand,
        base_sha=base_sha,
        opt_sha=cand.sha,
        base_tree=base_tree,
        opt_tree=opt_tree,
        changes=changes,
        pythonpath=changes.roots,
        test_paths=test_paths,
        diff_text=full_diff(git_dir, base_sha, cand.sha),
        config=gen,
        runner=runner,
        probe_fn=probe,
        environment_note=env_note,
        environment_pins=pins,
        runtime_requirements=runtime_needs,
        test_requirements=test_needs,
    )
