"""``perfbench mine``: turn a repository's history into validated instances."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..llm import LLMSettings
from ..mining.commits import Candidate, ScanConfig, ScanResult
from ..mining.pipeline import CandidateOutcome, MineEvents, MineOptions, MineReport, mine
from ..mining.probe_env import AUTO_PYTHON
from ..mining.workloads import DEFAULT_GENERATORS, GENERATORS, GenConfig
from ..tables import LOG_WIDTH, Col, fitted_table, make_progress
from ..validate import DEFAULT_THRESHOLD
from .common import build_config, check_run_id, measurement_options


class RichMineEvents(MineEvents):
    """A bar over the candidates, one over the current validation's blocks, a line per outcome."""

    def __init__(self, console: Console, max_blocks: int) -> None:
        self.console = console
        self.max_blocks = max_blocks
        self.progress = make_progress(console)
        self.cand_task = self.progress.add_task("candidates", total=None, note="")
        self.block_task = self.progress.add_task("blocks", total=max_blocks, note="", visible=False)

    def __enter__(self) -> RichMineEvents:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def scanned(self, result: ScanResult) -> None:
        self.progress.update(
            self.cand_task, total=len(result.candidates), note=f"{result.scanned} commits scanned"
        )

    def candidate_started(self, index: int, total: int, candidate: Candidate) -> None:
        self.progress.update(
            self.cand_task, note=f"{candidate.sha[:7]} {candidate.commit.subject[:50]}"
        )
        self.progress.reset(self.block_task, total=self.max_blocks, visible=True, note="")

    def stage(self, text: str) -> None:
        self.progress.update(self.block_task, description=text)

    def block(self, block: int, note: str) -> None:
        self.progress.update(self.block_task, completed=block, note=note)

    def candidate_finished(self, outcome: CandidateOutcome) -> None:
        self.progress.update(self.block_task, visible=False)
        self.progress.advance(self.cand_task)
        style = {"instance": "green", "rejected": "yellow", "error": "red"}.get(
            outcome.status, "dim"
        )
        what = outcome.instance_id if outcome.status == "instance" else outcome.status
        detail = (
            _speedup(outcome.speedup)
            if outcome.status == "instance"
            else (f"at {outcome.stage}: {outcome.reasons[0] if outcome.reasons else ''}")
        )
        self.console.print(
            f"  {outcome.sha[:7]} [{style}]{escape(str(what))}[/] {escape(detail[:160])}",
            highlight=False,
        )


def _speedup(sp: dict[str, Any] | None) -> str:
    if not sp or sp.get("estimate") is None:
        return "-"
    return f"{sp['estimate']:.2f}x [{sp['low']:.2f}, {sp['high']:.2f}]"


def candidates_table(report: MineReport, width: int = LOG_WIDTH) -> Table:
    scan = report.scan
    cs = scan.candidates
    title = (
        f"{len(cs)} candidates among {scan.scanned} commits of "
        f"{report.repo_name} ({scan.seconds:.2f}s)"
    )
    number = Col("#", [str(i) for i in range(1, len(cs) + 1)], justify="right")
    commit = Col("commit", [c.sha[:7] for c in cs])
    date = Col("date", [c.commit.author_date[:10] for c in cs])
    score = Col("score", [f"{c.score:.2f}" for c in cs], justify="right")
    subject = [escape(c.commit.subject[:70]) for c in cs]
    why = [escape("; ".join(c.reasons_for)) for c in cs]
    layouts = [
        [number, commit, date, score, Col("subject", subject), Col("why", why, elastic=True)],
        [number, commit, score, Col("subject", subject, elastic=True)],
    ]
    return fitted_table(title, layouts, width)


def rejections_table(report: MineReport, width: int = LOG_WIDTH) -> Table:
    counts = ", ".join(f"{k} {v}" for k, v in report.scan.rejection_counts().items())
    rs = report.scan.rejections
    commit = Col("commit", [r.sha[:7] for r in rs])
    subject = [escape(r.subject[:70]) for r in rs]
    reason = [escape(r.reason) for r in rs]
    layouts = [
        [commit, Col("subject", subject), Col("reason", reason, elastic=True)],
        [commit, Col("reason", reason), Col("subject", subject, elastic=True)],
        [commit, Col("reason", reason, elastic=True)],
    ]
    return fitted_table(f"commits left out: {counts or 'none'}", layouts, width)


def outcomes_table(report: MineReport, width: int = LOG_WIDTH) -> Table:
    title = (
        f"{len(report.instances)} instances from {len(report.outcomes)} candidates, "
        f"written to {report.out_dir}"
    )
    os_ = report.outcomes
    results, workloads, reasons = [], [], []
    for o in os_:
        results.append(
            {
                "instance": f"[green]{o.instance_id}[/]",
                "rejected": f"[yellow]rejected at {o.stage}[/]",
                "error": "[red]error[/]",
                "skipped": f"[dim]done before[/] {o.instance_id or ''}".rstrip(),
            }[o.status]
        )
        kept = [n for n, w in o.workloads.items() if w.get("kept")]
        workloads.append(f"{len(kept)} kept of {len(o.workloads)}" if o.workloads else "-")
        reasons.append(escape(("" if o.status == "instance" else "; ".join(o.reasons))[:300]))
    commit = Col("commit", [o.sha[:7] for o in os_])
    subject = [escape(o.subject[:60]) for o in os_]
    result = Col("result", results)
    speedup = Col("expert speedup [95% CI]", [_speedup(o.speedup) for o in os_])
    layouts = [
        [
            commit,
            Col("subject", subject),
            result,
            speedup,
            Col("workloads", workloads),
            Col("reason", reasons, elastic=True),
        ],
        [commit, result, speedup, Col("reason", reasons, elastic=True)],
        [commit, result, Col("reason", reasons, elastic=True)],
    ]
    return fitted_table(title, layouts, width, narrow_title=f"{len(report.instances)} instances")


def drops_table(report: MineReport, width: int = LOG_WIDTH) -> Table:
    rows = [(o.sha[:7], escape(d)) for o in report.outcomes for d in o.drops]
    layouts = [
        [
            Col("commit", [r[0] for r in rows]),
            Col("generator: workload: reason", [r[1] for r in rows], elastic=True),
        ]
    ]
    return fitted_table("why workloads were dropped", layouts, width)


def _interpreter(name: str) -> str:
    if name == AUTO_PYTHON:
        return name
    found = shutil.which(name)
    if not found:
        raise click.BadParameter(f"{name!r} is not an interpreter on PATH", param_hint="--python")
    return found


def _generators(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in GENERATORS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown generator(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(sorted(GENERATORS))}",
            param_hint="--generators",
        )
    return names


@click.command("mine")
@click.argument("repo")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Dataset folder to write (created; re-running resumes).",
)
@click.option(
    "--since", default=None, help="Only commits from this date on (YYYY-MM-DD or ISO time)."
)
@click.option("--until", default=None, help="Only commits up to this date (inclusive).")
@click.option(
    "--max-candidates",
    type=click.IntRange(min=1),
    default=None,
    help="Take at most this many candidates, best scored first.",
)
@click.option(
    "--generators",
    default=",".join(DEFAULT_GENERATORS),
    show_default=True,
    help=f"Comma-separated workload generators ({', '.join(sorted(GENERATORS))}).",
)
@click.option(
    "--commit",
    "commits",
    multiple=True,
    help="Only this candidate commit (a sha or its prefix); repeat for several.",
)
@click.option("--dry-run", is_flag=True, help="Only list the candidate commits.")
@click.option(
    "--explain",
    is_flag=True,
    help="Say why each commit was left out and why each workload was dropped.",
)
@click.option(
    "--repo-name",
    default=None,
    help="owner/name of the repository. [default: from the origin URL, else local/<folder>]",
)
@click.option(
    "--threshold",
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Lowest acceptable lower bound of a workload's expert speedup (95% CI).",
)
@click.option(
    "--scan-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON with commit-selection rules (see perfbench/data/mining_defaults.json).",
)
@click.option(
    "--target-seconds",
    default=0.02,
    show_default=True,
    help="How long one base run() of a replayed workload should take.",
)
@click.option(
    "--max-workloads",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Workloads per generator and candidate.",
)
@click.option(
    "--llm-url",
    default=None,
    help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 [env PERFBENCH_LLM_URL]",
)
@click.option(
    "--llm-model", default=None, help="Model name for --llm-url [env PERFBENCH_LLM_MODEL]"
)
@click.option("--llm-key", default=None, help="API key for --llm-url [env PERFBENCH_LLM_KEY]")
@click.option(
    "--python",
    "python",
    default=None,
    help="Interpreter for the repository's tests and trial runs; instances record its version. "
    "'auto': per commit, the Python of its time among those installed (PATH, pyenv, uv), with "
    "the test requirements as released by the commit's date (needs uv). [default: this one]",
)
@click.option(
    "--install",
    "install",
    multiple=True,
    metavar="COMMAND",
    help="Shell command run in each exported tree (with network) before its tests, and in every "
    "variant's build of the instances (env.install); repeat for several. Replaces perfbench's "
    "recipe for the repository (perfbench/data/mining_recipes.json); --install '' runs none.",
)
@click.option(
    "--keep-work", is_flag=True, help="Keep exported trees and generated files under OUT/.mine."
)
@click.option(
    "--run-id",
    default=None,
    callback=check_run_id,
    help="Name of the validation runs. [default: a timestamp]",
)
@measurement_options
def command(
    repo: str,
    out_dir: Path,
    since: str | None,
    until: str | None,
    max_candidates: int | None,
    generators: str,
    commits: tuple[str, ...],
    dry_run: bool,
    explain: bool,
    repo_name: str | None,
    threshold: float,
    scan_config: Path | None,
    target_seconds: float,
    max_workloads: int,
    llm_url: str | None,
    llm_model: str | None,
    llm_key: str | None,
    python: str | None,
    install: tuple[str, ...],
    keep_work: bool,
    run_id: str | None,
    **opts: Any,
) -> None:
    """Mine REPO (a folder or a git URL) for commits that made code faster, into instances.

    Each candidate commit gets workloads (replayed calls from its tests, its tests, its asv
    benchmarks, or an LLM's), is measured base against expert with the evaluation's protocol,
    keeps the workloads whose expert speedup holds, and is written with its validation record.
    Re-running the same command skips the candidates already finished.
    """
    from ..cli import console
    from ..tables import stdout_console

    names = _generators(generators)
    if opts.pop("executor", "local") != "local":
        raise click.BadParameter("mining validates on this machine only", param_hint="--executor")
    opts.pop("ray_address", None)
    opts.pop("max_workers", None)
    run_id = run_id or "mine-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    config = build_config(run_id, opts)
    llm = (
        LLMSettings.resolve(llm_url, llm_model, llm_key) if "llm" in names and not dry_run else None
    )
    options = MineOptions(
        since=since,
        until=until,
        max_candidates=max_candidates,
        generators=names,
        dry_run=dry_run,
        explain=explain,
        repo_name=repo_name,
        threshold=threshold,
        scan=ScanConfig.from_file(scan_config) if scan_config else None,
        gen=GenConfig(
            target_seconds=target_seconds,
            max_workloads=max_workloads,
            llm=llm,
            install=[c for c in install if c.strip()] if install else None,
            **({"python": _interpreter(python)} if python else {}),
        ),
        eval_config=config,
        keep_work=keep_work,
        commits=list(commits),
    )
    out = stdout_console()
    if dry_run:
        report = mine(repo, out_dir, options)
        out.print(candidates_table(report, out.width))
        if explain:
            out.print(rejections_table(report, out.width))
        return
    with RichMineEvents(console, config.measure.max_blocks) as events:
        report = mine(repo, out_dir, options, events)
    if explain:
        out.print(rejections_table(report, out.width))
    out.print(outcomes_table(report, out.width))
    if explain and any(o.drops for o in report.outcomes):
        out.print(drops_table(report, out.width))
    console.print(f"dataset: {out_dir} · re-check with: perfbench validate --dataset {out_dir}")
