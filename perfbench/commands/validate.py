"""``perfbench validate``: check that every instance's expert speedup reproduces."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from ..datasets import load_dataset
from ..executors import make_executor
from ..executors.work import validate_all
from ..reports import atomic_write_json
from ..validate import DEFAULT_THRESHOLD, ValidationResult, stale_seed_warning, write_validation
from .common import build_config, check_run_id, executor_options, measurement_options, parse_ids

log = logging.getLogger(__name__)


@click.command("validate")
@click.option("--dataset", "dataset_path", required=True, type=click.Path(path_type=Path))
@click.option("--instance-ids", default=None, help="Comma-separated instance ids (default: all).")
@click.option(
    "--threshold",
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Lowest acceptable lower bound of the expert speedup's 95% CI.",
)
@click.option(
    "--run-id",
    default=None,
    callback=check_run_id,
    help="Name of this validation run. [default: a timestamp]",
)
@click.option(
    "--write/--no-write",
    default=True,
    show_default=True,
    help="Store the validation record in each instance.json (folder datasets).",
)
@click.option(
    "--runs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Validate each instance this many times, each with another block order; "
    "it holds only when every run holds.",
)
@click.option("--strict", is_flag=True, help="Exit with status 1 when an instance does not hold.")
@measurement_options
def command(
    dataset_path: Path,
    instance_ids: str | None,
    threshold: float,
    run_id: str | None,
    write: bool,
    runs: int,
    strict: bool,
    **opts: Any,
) -> None:
    """Measure base against expert for each instance; keep the record of what held.

    An instance holds when base and expert give the same results, the guard tests pass at both,
    and the lower bound of the expert speedup's 95% CI is at least THRESHOLD. Each run's record
    is stored in instance.json; earlier runs stay summarised under its ``history``.
    """
    from ..cli import console
    from ..tables import RichEvents, stdout_console

    dataset = load_dataset(dataset_path)
    instances = dataset.select(parse_ids(instance_ids))
    for inst in instances:
        if warning := stale_seed_warning(dataset, inst):
            log.warning(warning)
    run_id = run_id or "validate-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    where = executor_options(opts)
    first = build_config(run_id, opts)
    by_id: dict[str, ValidationResult] = {}
    with make_executor(**where) as executor:
        for n in range(runs):
            # Each run gets its own block order; reports of run n go to RUN_ID[-rN].
            config = (
                first
                if runs == 1
                else replace(
                    first,
                    run_id=f"{run_id}-r{n + 1}",
                    measure=replace(first.measure, seed=first.measure.seed + n),
                )
            )
            events = RichEvents(console, total=len(instances), max_blocks=config.measure.max_blocks)
            with events:
                for inst, res in validate_all(
                    executor, dataset, instances, config, threshold, events
                ):
                    if write and res.record:
                        write_validation(inst, res.record)
                    for warning in res.record.get("warnings", []):
                        log.warning("%s: %s", inst.instance_id, warning)
                    report = {
                        "opt": "PASS" if res.valid else "FAIL",
                        "reason": "; ".join(res.reasons) or "holds",
                        "speedup": res.record.get("speedup"),
                    }
                    events.instance_finished("expert", inst.instance_id, report)
                    by_id[inst.instance_id] = merge_runs(by_id.get(inst.instance_id), res, n + 1)
    results = list(by_id.values())
    out_console = stdout_console()
    out_console.print(validation_table(dataset.name, results, out_console.width))
    out = first.runs_dir / run_id / "validation.json"
    atomic_write_json(
        out,
        {
            "dataset": dataset.name,
            "threshold": threshold,
            "instances": {
                r.instance_id: {"valid": r.valid, "reasons": r.reasons, **r.record} for r in results
            },
        },
    )
    console.print(f"records: {out}")
    if strict and not all(r.valid for r in results):
        raise SystemExit(1)


def validation_table(name: str, results: list[ValidationResult], width: int) -> Table:
    """One line per instance: its expert speedup, blocks, whether it holds and why not."""
    from ..tables import Col, fitted_table, fmt_ci, fmt_ci_short, short_instance_id

    def ci(r: ValidationResult, fmt: Any) -> str:
        sp = r.record.get("speedup") or {}
        return (
            fmt(sp.get("estimate"), [sp.get("low"), sp.get("high")]) if sp.get("estimate") else "-"
        )

    ids = [escape(r.instance_id) for r in results]
    holds = ["[green]yes[/]" if r.valid else "[red]no[/]" for r in results]
    reasons = [escape(" ".join("; ".join(r.reasons).split())[:200]) for r in results]
    full = [
        Col("instance", ids),
        Col("expert speedup [CI]", [ci(r, fmt_ci) for r in results]),
        Col("blocks", [str(r.record.get("blocks", "-")) for r in results], justify="right"),
        Col("holds", holds),
        Col("reasons", reasons, elastic=True),
    ]
    narrow = [
        Col("instance", [escape(short_instance_id(r.instance_id)) for r in results]),
        Col("expert [CI]", [ci(r, fmt_ci_short) for r in results]),
        Col("holds", holds),
        Col("reasons", reasons, elastic=True),
    ]
    title = f"validation of {escape(name)}: {sum(r.valid for r in results)}/{len(results)} hold"
    return fitted_table(title, [full, narrow], width)


def merge_runs(
    before: ValidationResult | None, latest: ValidationResult, run: int
) -> ValidationResult:
    """One result over several runs: it holds only if every run held; the figures are the latest run's."""
    if before is None:
        return latest
    reasons = before.reasons + [f"run {run}: {r}" for r in latest.reasons]
    return ValidationResult(
        latest.instance_id, before.valid and latest.valid, reasons, latest.record
    )
