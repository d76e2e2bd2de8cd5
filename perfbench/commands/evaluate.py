"""``perfbench evaluate``: grade an agent's predictions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from ..datasets import load_dataset
from ..evaluate import Evaluator
from ..executors import make_executor
from ..predictions import GOLD, load_predictions
from ..session import ensure_expert_patches, repo_cache_for
from .common import build_config, check_run_id, executor_options, measurement_options, parse_ids


@click.command("evaluate")
@click.option(
    "--dataset",
    "dataset_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Dataset folder (instances/examples), JSON/JSONL/parquet file, or saved HF dataset.",
)
@click.option(
    "--predictions",
    required=True,
    help="Predictions file (JSON/JSONL with instance_id, model_name_or_path, model_patch), "
    "or 'gold' (expert patch) or 'empty' (no change) as sanity controls.",
)
@click.option(
    "--run-id",
    default=None,
    callback=check_run_id,
    help="Name of this run (letters, digits, '.', '_', '-'); reports go to "
    "RUNS_DIR/RUN_ID/MODEL/. Re-running the same id resumes. [default: a timestamp]",
)
@click.option(
    "--instance-ids", default=None, help="Comma-separated instance ids to evaluate (default: all)."
)
@measurement_options
@click.option("--no-guard-tests", is_flag=True, help="Skip the instances' guard tests.")
@click.option("--rerun", is_flag=True, help="Evaluate again even where a report exists.")
@click.option(
    "--eval-seed",
    type=int,
    default=None,
    envvar="PERFBENCH_EVAL_SEED",
    help="Secret seed of the hidden workloads, overriding the dataset's (published datasets carry none).",
)
@click.option(
    "--strict-patches/--lenient-patches",
    default=False,
    show_default=True,
    help="A prediction whose model_patch is not a diff (or touches protected paths): "
    "lenient grades it as not applied (FAIL) with a warning naming the instance; "
    "strict refuses the whole run.",
)
def command(
    dataset_path: Path,
    predictions: str,
    run_id: str | None,
    instance_ids: str | None,
    no_guard_tests: bool,
    rerun: bool,
    strict_patches: bool,
    eval_seed: int | None,
    **opts: Any,
) -> None:
    """Evaluate predictions: build, measure base / expert / candidate, check, grade.

    Each instance is measured in randomized interleaved blocks of fresh processes until the 95%
    confidence intervals are narrow enough or a cap is reached; the verdict is PASS / FAIL /
    INCONCLUSIVE with the CI. Reports: RUNS_DIR/RUN_ID/MODEL/INSTANCE/report.json and summary.json.
    """
    from rich.markup import escape

    from ..cli import console
    from ..tables import RichEvents, print_summary, stdout_console

    dataset = load_dataset(dataset_path)
    if eval_seed is not None:
        dataset.eval_seed, dataset.has_eval_seed = eval_seed, True
    ids = parse_ids(instance_ids)
    selected = dataset.select(ids)
    if dataset.seedless(selected):
        console.print(
            f"[bold yellow]warning:[/] dataset {escape(dataset.name)} has no private evaluation "
            "seed (a published dataset withholds it): its hidden workloads run at perfbench's "
            "default seed, which anyone can read. Results compare with each other, not with "
            "official runs; pass --eval-seed (or PERFBENCH_EVAL_SEED) if you hold the seed.",
            highlight=False,
        )
    run_id = run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    where = executor_options(opts)
    config = build_config(run_id, opts)
    config.guard_tests = not no_guard_tests
    config.rerun = rerun
    if predictions == GOLD:
        ensure_expert_patches(dataset, repo_cache_for(dataset, config), selected)
    preds = load_predictions(predictions, dataset, ids, strict_patches=strict_patches)
    if not preds:
        raise click.UsageError("no predictions for the selected instances")
    evaluator = Evaluator(dataset, config)
    _carry_agent_costs(predictions, {p.instance_id for p in preds}, evaluator)
    todo = evaluator.pending(preds)
    with make_executor(**where) as executor:
        pins = (
            f"pinned to CPUs {config.limits.cpus or 'any'}"
            if executor.in_process
            else executor.describe()
        )
        console.print(
            f"run [bold]{run_id}[/]: {len(preds)} predictions on {dataset.name} "
            f"({len(preds) - len(todo)} already reported), backend {config.backend}, "
            f"{pins}"
        )
        with RichEvents(console, total=len(todo), max_blocks=config.measure.max_blocks) as events:
            evaluator.events = events
            summaries = evaluator.run(preds, executor=executor)
    out = stdout_console()
    for model, summary in summaries.items():
        print_summary(out, summary)
        out.print(f"reports: {evaluator.layout.model_dir(model)}")


def _carry_agent_costs(predictions: str, ids: set[str], evaluator: Evaluator) -> None:
    """Predictions written by ``perfbench agent run`` have a sidecar with each instance's
    tokens and time: copy them into the run folder, so the summary (and the leaderboard)
    shows what the agent spent."""
    from ..agent.cost import read_costs, store_costs

    for model, lines in read_costs(Path(predictions)).items():
        wanted = {iid: line for iid, line in lines.items() if iid in ids}
        if wanted:
            store_costs(evaluator.layout.model_dir(model), wanted)
