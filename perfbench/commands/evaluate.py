"""``perfbench evaluate``: grade an agent's predictions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..datasets import load_dataset
from ..evaluate import EvalConfig, Evaluator, ensure_expert_patches, repo_cache_for
from ..measure.protocol import MeasureConfig
from ..predictions import GOLD, load_predictions
from ..repos import default_cache_dir
from ..sandbox import BACKENDS
from ..sandbox.base import Limits
from ..sandbox.limits import available_cpus
from .common import parse_cpus, parse_ids


@click.command("evaluate")
@click.option("--dataset", "dataset_path", required=True, type=click.Path(path_type=Path),
              help="Dataset folder (instances/examples), JSON/JSONL/parquet file, or saved HF dataset.")
@click.option("--predictions", required=True,
              help="Predictions file (JSON/JSONL with instance_id, model_name_or_path, model_patch), "
                   "or 'gold' (expert patch) or 'empty' (no change) as sanity controls.")
@click.option("--run-id", default=None, help="Name of this run; reports go to RUNS_DIR/RUN_ID/MODEL/. "
              "Re-running the same id resumes. [default: a timestamp]")
@click.option("--runs-dir", default=Path("runs"), type=click.Path(path_type=Path), show_default=True)
@click.option("--instance-ids", default=None, help="Comma-separated instance ids to evaluate (default: all).")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
              envvar="PERFBENCH_BACKEND", help="Where variants run: docker if an engine answers (auto), or local.")
@click.option("--max-blocks", default=30, show_default=True, help="Cap on measurement blocks per instance.")
@click.option("--min-blocks", default=5, show_default=True, help="Blocks measured before stopping may be considered.")
@click.option("--time-budget", default=600.0, show_default=True,
              help="Cap on measuring seconds per instance (at least the minimum blocks run).")
@click.option("--target-ci", default=0.02, show_default=True,
              help="Stop when every 95%% CI half-width is below this (relative; 0.02 = ±2%%).")
@click.option("--repeats", default=20, show_default=True, help="Timed repeats inside each process (the minimum is kept).")
@click.option("--control/--no-control", default=False, show_default=True,
              help="A/A control: measure base twice and flag the instance noisy if that CI excludes 1.")
@click.option("--seed", default=0, show_default=True, help="Seed of the block order and the bootstrap.")
@click.option("--ci-method", type=click.Choice(["t", "bootstrap"]), default="t", show_default=True)
@click.option("--cpus", default=None, help="CPUs to pin measured processes to, e.g. '1' or '2-3'. "
              "[default: the last CPU when there are several]")
@click.option("--timeout", "process_timeout", default=120.0, show_default=True,
              help="Seconds one workload process may take before it is killed.")
@click.option("--memory-mb", default=4096, show_default=True, help="Memory limit of each process.")
@click.option("--no-guard-tests", is_flag=True, help="Skip the instances' guard tests.")
@click.option("--rerun", is_flag=True, help="Evaluate again even where a report exists.")
@click.option("--repo-url-template", default=None, envvar="PERFBENCH_REPO_URL",
              help="Where repositories come from, e.g. 'file:///mirrors/{owner}/{name}' "
                   "(placeholders {repo}, {owner}, {name}). [default: the dataset's own, else GitHub]")
@click.option("--cache-dir", default=None, type=click.Path(path_type=Path), envvar="PERFBENCH_CACHE",
              help="Repository mirrors and cached builds. [default: ~/.cache/perfbench]")
def command(dataset_path: Path, predictions: str, run_id: str | None, runs_dir: Path, instance_ids: str | None,
            backend: str, max_blocks: int, min_blocks: int, time_budget: float, target_ci: float, repeats: int,
            control: bool, seed: int, ci_method: str, cpus: str | None, process_timeout: float, memory_mb: int,
            no_guard_tests: bool, rerun: bool, repo_url_template: str | None, cache_dir: Path | None) -> None:
    """Evaluate predictions: build, measure base / expert / candidate, check, grade.

    Each instance is measured in randomized interleaved blocks of fresh processes until the 95%
    confidence intervals are narrow enough or a cap is reached; the verdict is PASS / FAIL /
    INCONCLUSIVE with the CI. Reports: RUNS_DIR/RUN_ID/MODEL/INSTANCE/report.json and summary.json.
    """
    from ..cli import console
    from ..tables import RichEvents, aggregates_line, stdout_console, summary_table

    dataset = load_dataset(dataset_path)
    ids = parse_ids(instance_ids)
    selected = dataset.select(ids)
    run_id = run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if min_blocks < 2 or max_blocks < min_blocks:
        raise click.BadParameter("need 2 <= --min-blocks <= --max-blocks")
    pin = parse_cpus(cpus) if cpus else (tuple(available_cpus()[-1:]) if len(available_cpus()) > 1 else None)
    config = EvalConfig(
        run_id=run_id,
        runs_dir=runs_dir,
        backend=backend,
        cache_dir=cache_dir or default_cache_dir(),
        url_template=repo_url_template,
        measure=MeasureConfig(min_blocks=min_blocks, max_blocks=max_blocks, time_budget_s=time_budget,
                              target_half_width=target_ci, repeats=repeats, seed=seed, ci_method=ci_method,
                              control=control, process_timeout_s=process_timeout),
        limits=Limits(timeout_s=process_timeout, memory_mb=memory_mb, cpus=pin),
        guard_tests=not no_guard_tests,
        rerun=rerun,
    )
    if predictions == GOLD:
        ensure_expert_patches(dataset, repo_cache_for(dataset, config), selected)
    preds = load_predictions(predictions, dataset, ids)
    if not preds:
        raise click.UsageError("no predictions for the selected instances")
    evaluator = Evaluator(dataset, config)
    todo = evaluator.pending(preds)
    console.print(f"run [bold]{run_id}[/]: {len(preds)} predictions on {dataset.name} "
                  f"({len(preds) - len(todo)} already reported), backend {backend}, pinned to CPUs {pin or 'any'}")
    with RichEvents(console, total=len(todo), max_blocks=max_blocks) as events:
        evaluator.events = events
        summaries = evaluator.run(preds)
    out = stdout_console()
    for model, summary in summaries.items():
        out.print(summary_table(summary))
        out.print(aggregates_line(summary))
        out.print(f"reports: {evaluator.layout.model_dir(model)}")

