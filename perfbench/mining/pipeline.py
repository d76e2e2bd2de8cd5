"""``perfbench mine``: from a repository's history to validated instances (DESIGN.md section 8).

Per candidate commit of the ``commits`` stage: export base and opt with ``git
archive`` (never a checkout of the user's working tree), find the changed
functions, run the generators, write a provisional instance, validate it with
the evaluation's own protocol (:func:`perfbench.validate.validate_instance`),
keep the workloads that hold, validate the final instance again (its record must
describe exactly what is stored) and write it with its provenance.

Resumable: ``<out>/.mine/state.jsonl`` gets one line per stage of each candidate,
appended atomically (a single ``write`` on an ``O_APPEND`` file, then ``fsync``).
A re-run skips candidates whose last line says ``done`` and resumes one whose
workloads were generated at validation. Errors other than the user's leave a
candidate unfinished, so the next run tries it again.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import EvalConfig, Events
from ..datasets import Dataset
from ..errors import InputError, PerfbenchError, RepositoryError
from ..llm import LLMError
from ..machine import machine_info
from ..measure.stats import RatioEstimate
from ..pythons import python_version_of
from ..records import EnvSpec, Grading, Instance, Workload
from ..sandbox.base import HARNESS_DIR
from ..validate import DEFAULT_THRESHOLD, ValidationResult, blocks_hint, validate_instance
from .commits import Candidate, Rejection, ScanConfig, ScanResult, check_repository, find_candidates
from .instance_writer import (
    ApiInfo,
    ensure_dataset,
    instance_id,
    normalize_repo_name,
    problem_statement,
    write_instance_folder,
)
from .probe_env import AUTO_PYTHON
from .recipes import recipe_for
from .workloads import (
    DEFAULT_GENERATORS,
    Drop,
    GenConfig,
    GeneratedWorkload,
    GenerationContext,
    make_generators,
)
from .workloads.base import MIN_DISTINCT_INPUTS, unique_names
from .workloads.context import CandidateRejected, build_context
from .workloads.runner import run_process

log = logging.getLogger(__name__)

STATE_DIR = ".mine"
STATE_FILE = "state.jsonl"
TEST_COMMAND = "python -m pytest -q -p no:cacheprovider -o addopts="
# Which workload is shown to the agent: the most readable kinds first.
VISIBLE_PREFERENCE = ("replay", "asv", "llm", "tests")
_FAILED_WORKLOAD = re.compile(r"failed: workload ([A-Za-z0-9_.-]+):")


# --- options and outcomes -------------------------------------------------------------------


@dataclass
class MineOptions:
    """Everything ``mine`` needs besides the repository and the output folder."""

    since: str | None = None
    until: str | None = None
    max_candidates: int | None = None
    generators: list[str] = field(default_factory=lambda: list(DEFAULT_GENERATORS))
    dry_run: bool = False
    explain: bool = False
    repo_name: str | None = None
    threshold: float = DEFAULT_THRESHOLD
    scan: ScanConfig | None = None
    gen: GenConfig = field(default_factory=GenConfig)
    eval_config: EvalConfig = field(default_factory=lambda: EvalConfig(run_id="mine"))
    grading: Grading = field(default_factory=Grading)
    dataset_name: str | None = None
    keep_work: bool = False
    commits: list[str] = field(default_factory=list)  # only these candidates (sha prefixes)


@dataclass
class CandidateOutcome:
    """What became of one candidate commit."""

    sha: str
    subject: str
    status: str  # instance, rejected, error, skipped (finished in an earlier run)
    stage: str  # the stage it reached: export, changes, generate, validate, revalidate, write
    reasons: list[str] = field(default_factory=list)
    instance_id: str | None = None
    speedup: dict[str, Any] | None = None
    workloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    drops: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MineReport:
    repo: str
    repo_name: str
    out_dir: Path
    scan: ScanResult
    outcomes: list[CandidateOutcome] = field(default_factory=list)

    @property
    def instances(self) -> list[CandidateOutcome]:
        return [o for o in self.outcomes if o.status == "instance"]

    @property
    def rejections(self) -> list[Rejection]:
        return self.scan.rejections


class MineEvents(Events):
    """Progress hooks of a mining run (and of the validation inside it); the CLI draws them."""

    def scanned(self, result: ScanResult) -> None: ...
    def candidate_started(self, index: int, total: int, candidate: Candidate) -> None: ...
    def candidate_finished(self, outcome: CandidateOutcome) -> None: ...


# --- state ------------------------------------------------------------------------------------


class MineState:
    """The JSONL journal of a mining run; the last line per commit tells where it stands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("%s: skipping a torn line", path)
                    continue
                if isinstance(entry, dict) and "sha" in entry:
                    self.entries[entry["sha"]] = entry

    def append(self, sha: str, stage: str, **data: Any) -> None:
        entry = {
            "sha": sha,
            "stage": stage,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **data,
        }
        line = (json.dumps(entry, default=str) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.entries[sha] = entry

    def finished(self, sha: str) -> dict[str, Any] | None:
        entry = self.entries.get(sha)
        return entry if entry and entry["stage"] == "done" else None

    def stage(self, sha: str) -> str | None:
        entry = self.entries.get(sha)
        return entry["stage"] if entry else None


# --- the repository ---------------------------------------------------------------------------


def _looks_like_url(spec: str) -> bool:
    return "://" in spec or (spec.startswith("git@") and ":" in spec)


def _git(args: list[str], what: str) -> str:
    proc = subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["git failed"]
        raise RepositoryError(f"cannot {what}: {tail[0]}")
    return proc.stdout.strip()


@dataclass
class RepoSource:
    """Where the history comes from: a local folder, or a mirror of a URL in the cache."""

    path: Path  # what the commits stage scans
    git_dir: Path  # what ``git archive`` and ``git diff`` read
    remote: str | None  # the origin URL, if any
    cloned: bool  # True when ``path`` is our mirror of a URL

    @property
    def location(self) -> str:
        """What ``dataset.json`` records, so that evaluation finds the commits offline."""
        return str(self.git_dir if self.cloned else self.path.resolve())


def open_repository(spec: str, cache_dir: Path) -> RepoSource:
    """A local repository, or a URL mirrored into ``cache_dir/mine`` (fetched again if there)."""
    if _looks_like_url(spec):
        name = spec.rstrip("/").removesuffix(".git").rsplit("/", 2)
        dest = cache_dir / "mine" / ("__".join(name[-2:]).replace(":", "_") + ".git")
        if dest.exists():
            _git(
                ["--git-dir", str(dest), "fetch", "--quiet", "--prune", spec, "+refs/*:refs/*"],
                f"fetch {spec}",
            )
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            _git(["clone", "--mirror", "--quiet", spec, str(dest)], f"clone {spec}")
        return RepoSource(dest, dest, spec, True)
    path = check_repository(spec)
    git_dir = Path(_git(["-C", str(path), "rev-parse", "--absolute-git-dir"], f"read {path}"))
    remote = (
        subprocess.run(
            ["git", "-C", str(path), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        or None
    )
    return RepoSource(path, git_dir, remote, False)


def derive_repo_name(path: Path, remote: str | None) -> str:
    """``owner/name`` from the remote URL, else ``local/<folder>``."""
    if remote:
        tail = remote.rstrip("/").removesuffix(".git").replace(":", "/").split("/")
        if len(tail) >= 2 and tail[-1] and tail[-2]:
            return normalize_repo_name(f"{tail[-2]}/{tail[-1]}")
    folder = path.resolve().name.removesuffix(".git") or "repo"
    return normalize_repo_name(f"local/{folder}")


# --- mining -----------------------------------------------------------------------------------


def mine(
    repo: str | Path,
    out_dir: str | Path,
    options: MineOptions | None = None,
    events: MineEvents | None = None,
) -> MineReport:
    """Mine ``repo`` into the dataset folder ``out_dir`` (only list candidates with ``dry_run``)."""
    opts = options or MineOptions()
    events = events or MineEvents()
    out = Path(out_dir)
    if opts.threshold < 1.0:
        raise InputError("must be at least 1.0", field="threshold")
    if opts.threshold < opts.grading.min_speedup:
        # An expert kept at a lower bar must be able to pass its own instance.
        opts.grading = replace(opts.grading, min_speedup=opts.threshold)
    generators = make_generators(opts.generators) if not opts.dry_run else []
    if "llm" in opts.generators and not opts.dry_run and opts.gen.llm is None:
        raise InputError(
            "the llm generator needs an endpoint: pass --llm-url and --llm-model "
            "(or set PERFBENCH_LLM_URL and PERFBENCH_LLM_MODEL)",
            field="generators",
        )
    source = open_repository(str(repo), opts.eval_config.cache_dir)
    repo_name = (
        normalize_repo_name(opts.repo_name)
        if opts.repo_name
        else derive_repo_name(source.path, source.remote)
    )
    scan_cfg = opts.scan or ScanConfig()
    scan_cfg.since = opts.since or scan_cfg.since
    scan_cfg.until = opts.until or scan_cfg.until
    if opts.max_candidates is not None:
        scan_cfg.max_candidates = opts.max_candidates
    result = find_candidates(source.path, scan_cfg, explain=opts.explain)
    if opts.commits:
        wanted = [c.lower() for c in opts.commits]
        result.candidates = [c for c in result.candidates if c.sha.startswith(tuple(wanted))]
        if not result.candidates:
            raise InputError(
                f"no candidate commit matches {', '.join(opts.commits)} "
                "(see --dry-run --explain for why a commit is left out)",
                field="commit",
            )
    events.scanned(result)
    report = MineReport(str(repo), repo_name, out, result)
    if opts.dry_run:
        return report
    out.mkdir(parents=True, exist_ok=True)
    state = MineState(out / STATE_DIR / STATE_FILE)
    ensure_dataset(
        out,
        name=opts.dataset_name or out.resolve().name,
        repo_name=repo_name,
        location=source.location,
    )
    if opts.gen.install is None:  # the repository's recipe, if it has one
        recipe = recipe_for(repo_name)
        opts = replace(opts, gen=replace(opts.gen, install=list(recipe.install)))
        if recipe.install:
            log.info("%s: install steps from perfbench's recipe (%s)", repo_name, recipe.why)
    miner = _CandidateMiner(opts, generators, out, source.git_dir, repo_name, state, events)
    for index, cand in enumerate(result.candidates):
        done = state.finished(cand.sha)
        if done:
            outcome = CandidateOutcome(
                cand.sha,
                cand.commit.subject,
                "skipped",
                done.get("reached", ""),
                [f"finished in an earlier run: {done.get('status')}", *done.get("reasons", [])],
                instance_id=done.get("instance_id"),
                speedup=done.get("speedup"),
                drops=list(done.get("drops") or []),
            )
            report.outcomes.append(outcome)
            events.candidate_finished(outcome)
            continue
        events.candidate_started(index, len(result.candidates), cand)
        outcome = miner.run(cand)
        report.outcomes.append(outcome)
        events.candidate_finished(outcome)
    return report


@dataclass
class _Prepared:
    """A candidate's inputs to validation: what generation produced (kept across runs)."""

    base_sha: str
    pythonpath: list[str]
    test_paths: list[str]
    apis: list[dict[str, Any]]
    workloads: list[GeneratedWorkload]
    drops: list[str]
    guard_tests: list[str]
    test_dependencies: list[str] = field(default_factory=list)  # what the repository declares
    python_version: str = ""  # of the interpreter the tests and trials ran on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Prepared:
        data = dict(data)
        data["workloads"] = [GeneratedWorkload(**w) for w in data["workloads"]]
        return cls(**data)


class _CandidateMiner:
    """Takes one candidate through export, generation, validation and writing."""

    def __init__(
        self,
        opts: MineOptions,
        generators: list[Any],
        out: Path,
        git_dir: Path,
        repo_name: str,
        state: MineState,
        events: MineEvents,
    ) -> None:
        self.opts = opts
        self.generators = generators
        self.out = out
        self.git_dir = git_dir
        self.repo_name = repo_name
        self.state = state
        self.events = events
        self.work_root = out / STATE_DIR / "work"
        # With --python auto each candidate gets the Python of its time (see _Prepared).
        self.python_version = (
            "auto" if opts.gen.python == AUTO_PYTHON else python_version_of(opts.gen.python)
        )

    def run(self, cand: Candidate) -> CandidateOutcome:
        start = dt.datetime.now(dt.timezone.utc)
        sha = cand.sha
        outcome = CandidateOutcome(
            sha,
            cand.commit.subject,
            "error",
            "export",
            instance_id=instance_id(self.repo_name, sha),
        )
        work = self.work_root / sha[:12]
        try:
            prepared = self._prepared(cand, work, outcome)
            self._validate_and_write(cand, prepared, outcome)
            outcome.status = "instance"
        except CandidateRejected as rej:
            outcome.status, outcome.stage, outcome.reasons = "rejected", rej.stage, rej.reasons
        except PerfbenchError as exc:
            if isinstance(exc, (LLMError, InputError)):
                raise  # the user's setup is wrong: stop, keep what is finished
            outcome.reasons = [str(exc)]
        except Exception as exc:
            log.debug("candidate %s failed", sha[:7], exc_info=True)
            outcome.reasons = [f"internal error: {type(exc).__name__}: {exc}"]
            (self.out / STATE_DIR).mkdir(parents=True, exist_ok=True)
            (self.out / STATE_DIR / f"error-{sha[:12]}.log").write_text(traceback.format_exc())
        finally:
            outcome.seconds = round((dt.datetime.now(dt.timezone.utc) - start).total_seconds(), 1)
        if outcome.status != "error":
            self.state.append(
                sha,
                "done",
                status=outcome.status,
                reached=outcome.stage,
                reasons=outcome.reasons,
                instance_id=outcome.instance_id if outcome.status == "instance" else None,
                speedup=outcome.speedup,
                drops=outcome.drops,
            )
            if not self.opts.keep_work:
                shutil.rmtree(work, ignore_errors=True)
        else:
            self.state.append(sha, "error", reasons=outcome.reasons, reached=outcome.stage)
        return outcome

    # --- generation ---------------------------------------------------------------------------

    def _prepared(self, cand: Candidate, work: Path, outcome: CandidateOutcome) -> _Prepared:
        saved = work / "generated.json"
        if self.state.stage(cand.sha) in ("generated", "validated") and saved.exists():
            log.info("%s: reusing the workloads generated by an earlier run", cand.sha[:7])
            prepared = _Prepared.from_dict(json.loads(saved.read_text()))
            outcome.drops = prepared.drops
            return prepared
        cached = self._generation_cache(cand)
        if cached.exists():
            # The same repository, commit and options give the same workloads, whatever the
            # timing noise of this run's trials would have chosen.
            log.info("%s: reusing the workloads generated for the same options", cand.sha[:7])
            prepared = _Prepared.from_dict(json.loads(cached.read_text()))
            outcome.drops = list(prepared.drops)
            work.mkdir(parents=True, exist_ok=True)
            saved.write_text(cached.read_text())
            self.state.append(
                cand.sha,
                "generated",
                workloads=[w.name for w in prepared.workloads],
                drops=outcome.drops,
                cached=str(cached),
            )
            return prepared
        ctx = build_context(
            self.git_dir,
            self.repo_name,
            cand,
            work,
            self.opts.gen,
            self.events,
            reached=lambda stage: setattr(outcome, "stage", stage),
            env_cache=self.opts.eval_config.cache_dir,
        )
        workloads: list[GeneratedWorkload] = []
        drops: list[Drop] = []
        for generator in self.generators:
            self.events.stage(f"generating workloads ({generator.name})")
            try:
                res = generator.generate(ctx)
            except PerfbenchError:
                raise
            except Exception as exc:
                log.debug("generator %s failed", generator.name, exc_info=True)
                drops.append(
                    Drop(
                        generator.name, "generator", f"internal error: {type(exc).__name__}: {exc}"
                    )
                )
                continue
            workloads += res.workloads
            drops += res.drops
        outcome.drops = [str(d) for d in drops]
        if ctx.environment_note:
            outcome.drops.append(f"environment: {ctx.environment_note}")
        if self.opts.gen.install:
            outcome.drops.append(
                f"environment: {len(self.opts.gen.install)} install step(s) ran in base and opt"
                " and go into the instance's env.install"
            )
        if not workloads:
            raise CandidateRejected("generate", ["no workload could be generated", *outcome.drops])
        unique_names(workloads)
        for w in workloads:
            # Whether the seed changes its inputs: only such a workload can be a hidden one.
            w.details["varies_with_seed"] = ctx.runner.varies_with_seed(w.source)
        guard = self._guard_tests(ctx) if ctx.probed is not None or ctx.test_paths else []
        deps = list(
            dict.fromkeys([*ctx.runtime_requirements, *(ctx.test_requirements if guard else [])])
        )
        if ctx.environment_pins:  # exactly what the tests and trials ran with
            deps = list(ctx.environment_pins)
        if deps:
            outcome.drops.append(
                "environment: the instance installs what the repository declares for its code"
                + (" and tests" if guard else "")
                + ": "
                + ", ".join(deps)
            )
        prepared = _Prepared(
            base_sha=ctx.base_sha,
            pythonpath=ctx.pythonpath,
            test_paths=ctx.test_paths or ["tests"],
            apis=[
                {"api": cf.api, "signature": cf.func.signature, "public": cf.func.public}
                for cf in ctx.changes.functions
            ]
            + [  # library functions whose calls reach the change (replay's entry points)
                {"api": w.apis[0], "signature": w.details["signature"], "public": True}
                for w in workloads
                if w.details.get("entry_point_of")
            ],
            workloads=workloads,
            drops=outcome.drops,
            guard_tests=guard,
            test_dependencies=deps,
            python_version=python_version_of(ctx.runner.python),
        )
        saved.write_text(json.dumps(prepared.to_dict()))
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(prepared.to_dict()))
        os.replace(tmp, cached)
        self.state.append(
            cand.sha, "generated", workloads=[w.name for w in workloads], drops=outcome.drops
        )
        return prepared

    def _generation_cache(self, cand: Candidate) -> Path:
        """Where the generated workloads of this commit under these options are kept."""
        key = {
            "repo": self.repo_name,
            "commit": cand.sha,
            "generators": self.opts.generators,
            "gen": self.opts.gen.cache_key(),
            "python": self.python_version,
            "perfbench": __version__,
            "code": generator_code_digest(),
        }
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
        return self.opts.eval_config.cache_dir / "mine" / "generated" / f"{digest[:24]}.json"

    def _guard_tests(self, ctx: GenerationContext) -> list[str]:
        """Tests that cover the change and pass at base (the probe) and at opt (run here)."""
        probe = ctx.probe()
        covering = [u.id for u in probe.covering()][: self.opts.gen.max_guard_tests]
        if not covering:
            return []
        self.events.stage("running the covering tests at opt")
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME")}
        env.update(
            PYTHONPATH=os.pathsep.join(str(ctx.opt_tree.resolve() / p) for p in ctx.pythonpath),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONHASHSEED="0",
        )
        argv = [
            ctx.runner.python,
            "-m",
            "pytest",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(ctx.opt_tree.resolve()),
            *covering,
        ]
        proc = run_process(argv, cwd=ctx.opt_tree, env=env, timeout_s=ctx.config.probe_timeout_s)
        text = proc.stdout.decode(errors="replace")
        if proc.returncode == 0 and not proc.timed_out:
            return covering
        passed = {
            ln.split(" ", 1)[1].strip() for ln in text.splitlines() if ln.startswith("PASSED ")
        }
        return [t for t in covering if t in passed]

    # --- validation ---------------------------------------------------------------------------

    def _instance(
        self,
        cand: Candidate,
        prepared: _Prepared,
        chosen: list[tuple[GeneratedWorkload, bool]],
        guard: list[str],
    ) -> Instance:
        visible = next((w for w, v in chosen if v), chosen[0][0])
        apis = [ApiInfo(a["api"], a["signature"], a["public"]) for a in prepared.apis]
        used = {api for w, _ in chosen for api in w.apis}
        named = [a for a in apis if a.api in used] or apis
        if not named:
            # A change at module level only (the imports generator's case): name what the
            # workloads time, such as `import pkg`, rather than a function.
            named = [ApiInfo(api, "", True) for api in dict.fromkeys(visible.apis)] or [
                ApiInfo(m, "", True) for m in self._modules(prepared)
            ]
        named.sort(key=lambda a: a.api not in visible.apis)  # what the shown workload calls first
        named = list({a.api: a for a in named}.values())
        return Instance(
            instance_id=instance_id(self.repo_name, cand.sha),
            repo=self.repo_name,
            base_commit=prepared.base_sha,
            opt_commit=cand.sha,
            created_at=cand.commit.author_date,
            problem_statement=problem_statement(
                named, visible.description, visible.source, prepared.test_paths
            ),
            workloads=[
                Workload(w.name, source=w.source, visible=v, description=w.description)
                for w, v in chosen
            ],
            env=EnvSpec(
                python=prepared.python_version or self.python_version,
                pythonpath=prepared.pythonpath,
                pip_packages=list(prepared.test_dependencies),
                install=list(self.opts.gen.install or []),
            ),
            guard_tests=guard,
            test_command=TEST_COMMAND,
            test_paths=prepared.test_paths,
            grading=self.opts.grading,
        )

    @staticmethod
    def _modules(prepared: _Prepared) -> list[str]:
        """The changed modules' names, from the workloads' recorded details."""
        found = [
            str(w.details.get("module")) for w in prepared.workloads if w.details.get("module")
        ]
        return list(dict.fromkeys(found)) or ["the changed module"]

    def _dataset(self, inst: Instance) -> Dataset:
        root = self.out / STATE_DIR / "staging"
        root.mkdir(parents=True, exist_ok=True)
        meta = json.loads((self.out / "dataset.json").read_text())
        return Dataset(
            name=meta.get("name", "mined"),
            instances=[inst],
            eval_seed=meta["eval_seed"],
            repos={self.repo_name: str(meta["repos"][self.repo_name])},
            root=root,
        )

    def _validate(self, inst: Instance, what: str) -> ValidationResult:
        self.events.stage(what)
        cfg = self.opts.eval_config
        return validate_instance(
            self._dataset(inst),
            inst,
            cfg,
            threshold=self.opts.threshold,
            events=self.events,
            log_dir=cfg.runs_dir / cfg.run_id / "mine" / inst.instance_id,
        )

    def _validate_and_write(
        self, cand: Candidate, prepared: _Prepared, outcome: CandidateOutcome
    ) -> None:
        outcome.stage = "validate"
        prepared = self._worth_measuring(prepared, outcome)
        by_name = {w.name: w for w in prepared.workloads}
        guard = list(prepared.guard_tests)
        first = self._first_validation(cand, prepared, guard, outcome)
        failed_guard = [
            (variant, g)
            for variant, g in first.record.get("guard", {}).items()
            if not g.get("passed", True)
        ]
        if failed_guard and guard:
            # The sandbox's environment can differ from the host's (a test dependency the
            # image lacks): keep the instance without guard tests rather than lose it, say so,
            # and measure the workloads, which the failed guard stopped.
            for variant, g in failed_guard:
                detail = str(g.get("detail") or "").strip() or "no output from pytest"
                outcome.drops.append(
                    f"guard tests: fail at {variant} in the sandbox ({detail}); "
                    "the instance keeps none"
                )
            guard = []
            first = self._first_validation(cand, prepared, guard, outcome)
        per = first.record.get("per_workload", {})
        held = [name for name, r in per.items() if r.get("holds")]
        for name, r in per.items():
            if not r.get("holds"):
                outcome.drops.append(
                    f"{by_name[name].generator}: {name}: {_why_not(r, self.opts.threshold)}"
                )
        outcome.workloads = {name: _figures(r) for name, r in per.items()}
        self.state.append(cand.sha, "validated", held=held, per_workload=outcome.workloads)
        if not held:
            raise CandidateRejected(
                "validate",
                [
                    f"{name} ({by_name[name].generator}): {_why_not(r, self.opts.threshold)}"
                    for name, r in per.items()
                ]
                or first.reasons
                or [f"validation measured no workload (record: {_brief(first.record)})"],
            )
        chosen = _with_visible(
            [by_name[n] for n in held], outcome.drops, self.opts.gen.min_distinct_inputs
        )
        chosen = self._without_leaks(cand, prepared, chosen, guard, outcome)
        outcome.stage = "revalidate"
        final = self._instance(cand, prepared, chosen, guard)
        second = self._validate(final, "validating the instance as it will be stored")
        if not second.valid:
            raise CandidateRejected(
                "revalidate",
                [
                    "the kept workloads did not hold when measured again: "
                    + "; ".join(second.reasons)
                ],
            )
        outcome.stage = "write"
        final.validation = second.record
        final.metadata = self._provenance(cand, prepared, chosen, first, outcome)
        sources = {w.name: w.source for w, _ in chosen}
        final.workloads = [
            Workload(w.name, path=f"workloads/{w.name}.py", visible=v, description=w.description)
            for w, v in chosen
        ]
        write_instance_folder(self.out, final, sources)
        outcome.speedup = second.record.get("speedup")
        outcome.workloads.update(
            {
                name: {**outcome.workloads.get(name, {}), **_figures(r), "kept": True}
                for name, r in second.record.get("per_workload", {}).items()
            }
        )

    def _without_leaks(
        self,
        cand: Candidate,
        prepared: _Prepared,
        chosen: list[tuple[GeneratedWorkload, bool]],
        guard: list[str],
        outcome: CandidateOutcome,
    ) -> list[tuple[GeneratedWorkload, bool]]:
        """Drop hidden workloads whose inputs the problem statement shows; reject if none is left."""
        statement = self._instance(cand, prepared, chosen, guard).problem_statement
        kept = []
        shown = {w.source for w, visible in chosen if visible}
        for w, visible in chosen:
            # A twin of the visible workload shares its code; the seed makes its inputs differ.
            twin = w.source in shown and _can_hide(w, self.opts.gen.min_distinct_inputs)
            leaked = [] if visible or twin else leaked_inputs(w.source, statement)
            if leaked:
                outcome.drops.append(
                    f"{w.generator}: {w.name}: its inputs appear in the problem statement "
                    f"({leaked[0][:60]!r}...); not kept as a hidden workload"
                )
            else:
                kept.append((w, visible))
        if not any(not v for _, v in kept):
            raise CandidateRejected(
                "validate", ["every hidden workload's inputs appear in the problem statement"]
            )
        return kept

    def _worth_measuring(self, prepared: _Prepared, outcome: CandidateOutcome) -> _Prepared:
        """The workloads whose trial runs showed a speedup; measurement blocks are not spent on
        the others (their trials, fastest against fastest over several rounds, were ~1.0x)."""
        floor = self.opts.gen.min_trial_speedup
        kept, slow = [], []
        for w in prepared.workloads:
            trial = w.details.get("trial_speedup")
            (slow if isinstance(trial, (int, float)) and trial < floor else kept).append(w)
        for w in slow:
            outcome.drops.append(
                f"{w.generator}: {w.name}: trial runs {w.details['trial_speedup']:.3f}x "
                f"< {floor:g}x; not measured"
            )
        if not kept:
            raise CandidateRejected(
                "trial",
                [
                    f"no workload was faster at opt in its trial runs (best "
                    f"{max(w.details['trial_speedup'] for w in slow):.3f}x < {floor:g}x)"
                ],
            )
        return replace(prepared, workloads=kept)

    def _first_validation(
        self, cand: Candidate, prepared: _Prepared, guard: list[str], outcome: CandidateOutcome
    ) -> ValidationResult:
        """Measure every workload; one that fails in the sandbox is dropped, the rest measured again."""
        workloads = list(prepared.workloads)
        while True:
            chosen = [(w, False) for w in workloads]
            res = self._validate(
                self._instance(cand, prepared, chosen, guard), "validating all workloads"
            )
            if res.record:
                return res
            failing = {m.group(1) for r in res.reasons for m in _FAILED_WORKLOAD.finditer(r)}
            bad = [w for w in workloads if w.name in failing]
            if not bad:
                raise CandidateRejected("validate", res.reasons or ["validation failed"])
            detail = "; ".join(res.reasons)[:300]
            outcome.drops += [
                f"{w.generator}: {w.name}: fails in the sandbox ({detail})" for w in bad
            ]
            workloads = [w for w in workloads if w not in bad]
            if not workloads:
                raise CandidateRejected(
                    "validate", ["every workload fails in the sandbox", *res.reasons]
                )

    def _provenance(
        self,
        cand: Candidate,
        prepared: _Prepared,
        chosen: list[tuple[GeneratedWorkload, bool]],
        first: ValidationResult,
        outcome: CandidateOutcome,
    ) -> dict[str, Any]:
        return {
            "api": [a["api"] for a in prepared.apis],
            "mined": {
                "by": f"perfbench mine {__version__}",
                "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "machine": machine_info(),
                "python": sys.version.split()[0],
                "commit": {
                    "subject": cand.commit.subject,
                    "author_date": cand.commit.author_date,
                    "score": cand.score,
                    "signals": cand.reasons_for,
                },
                "workloads": {
                    w.name: {"generator": w.generator, "apis": w.apis, "visible": v, **w.details}
                    for w, v in chosen
                },
                "first_validation": {
                    name: _figures(r) for name, r in first.record.get("per_workload", {}).items()
                },
                "dropped": outcome.drops,
                "threshold": self.opts.threshold,
            },
        }


@functools.cache
def generator_code_digest() -> str:
    """A digest of the miner's generators and of the harness they run under.

    Generated workloads are cached per commit and options; a changed generator (a new
    growth mode, a fixed template) must not be served the previous code's workloads, which
    the version number alone would not notice between releases.
    """
    sha = hashlib.sha256()
    roots = [Path(__file__).parent / "workloads", HARNESS_DIR]
    for path in sorted(p for root in roots for p in root.glob("*.py")):
        sha.update(path.name.encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:16]


def _brief(record: dict[str, Any], limit: int = 300) -> str:
    text = json.dumps(record, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _figures(r: dict[str, Any]) -> dict[str, Any]:
    return {
        k: r.get(k)
        for k in ("estimate", "low", "high", "holds", "results_agree", "visible")
        if k in r
    }


def _why_not(r: dict[str, Any], threshold: float) -> str:
    if not r.get("results_agree", True):
        return "base and expert results differ"
    est, low, high = r.get("estimate"), r.get("low"), r.get("high")
    if est is None or low is None:
        return "no speedup measured"
    hint = blocks_hint(
        RatioEstimate(est, low, high, int(r.get("n_blocks") or 0), str(r.get("method") or "t")),
        threshold,
    )
    return f"expert speedup {est:.2f}x [{low:.2f}, {high:.2f}]: lower bound {low:.2f}x under {threshold:g}x{hint}"


def _with_visible(
    held: list[GeneratedWorkload],
    notes: list[str] | None = None,
    min_distinct: int = MIN_DISTINCT_INPUTS,
) -> list[tuple[GeneratedWorkload, bool]]:
    """The held workloads plus which one the agent sees; a lone one gets a visible twin.

    The visible workload runs at seed 0, the hidden ones at secret seeds. A workload
    whose inputs do not depend on the seed (a test's fixed inputs) hides nothing: it
    can only be the visible one. With a single seed-dependent workload the agent sees
    its code (as a twin) but not the inputs it is graded on.
    """
    notes = notes if notes is not None else []

    def rank(w: GeneratedWorkload) -> tuple[int, int]:
        kind = VISIBLE_PREFERENCE.index(w.generator) if w.generator in VISIBLE_PREFERENCE else 9
        return (kind, len(w.source))

    varying = [w for w in held if _can_hide(w, min_distinct)]
    fixed = [w for w in held if not _can_hide(w, min_distinct)]
    if not varying:
        raise CandidateRejected(
            "validate",
            [
                "no workload that held varies with the seed, with inputs of their own at "
                "most calls ("
                + ", ".join(_hiding_figures(w) for w in held)
                + "): hidden workloads would show the agent's inputs, or repeat them"
            ],
        )
    pick = min(fixed or varying, key=rank)
    for w in fixed:
        if w is not pick:
            notes.append(
                f"{w.generator}: {w.name}: same inputs at every seed; cannot be a hidden "
                "workload and another one is shown"
            )
    hidden = [w for w in varying if w is not pick]
    if hidden:
        return [(w, w is pick) for w in held if w is pick or w in hidden]
    twin = GeneratedWorkload(
        f"{pick.name}_visible",
        pick.source,
        pick.generator,
        pick.description,
        pick.apis,
        {**pick.details, "twin_of": pick.name},
    )
    return [(pick, False), (twin, True)]


def _can_hide(w: GeneratedWorkload, min_distinct: int = MIN_DISTINCT_INPUTS) -> bool:
    """Seed-dependent inputs, or none at all (a cold import times the same work at every seed),
    and not the same few inputs over and over within a process."""
    if w.details.get("no_inputs"):
        return True
    if w.details.get("distinct_inputs", min_distinct) < min_distinct:
        return False
    return w.details.get("varies_with_seed", True) is True


def _hiding_figures(w: GeneratedWorkload) -> str:
    distinct = w.details.get("distinct_inputs")
    return w.name + (f": {distinct} distinct inputs in 100 calls" if distinct is not None else "")


_INPUT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def leaked_inputs(source: str, statement: str, min_chars: int = 24) -> list[str]:
    """String inputs of a workload (its UPPERCASE module constants) that ``statement`` quotes.

    Workload files keep their inputs in module-level constants (``CALLS``,
    ``TEST_SOURCE``, ``CASE``); a string of theirs at least ``min_chars`` long that
    the problem statement contains gives a hidden input away.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if not any(isinstance(t, ast.Name) and _INPUT_NAME.match(t.id) for t in targets):
            continue
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, (str, bytes)):
                text = sub.value if isinstance(sub.value, str) else sub.value.decode("latin-1")
                for line in text.splitlines() or [text]:
                    line = line.strip()
                    if len(line) >= min_chars and line in statement:
                        found.append(line)
    return found
