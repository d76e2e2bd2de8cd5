"""``perfbench validate``: check that every instance's expert speedup reproduces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..datasets import load_dataset
from ..executors import make_executor
from ..executors.work import validate_all
from ..reports import atomic_write_json
from ..validate import DEFAULT_THRESHOLD, write_validation
from .common import build_config, executor_options, measurement_options, parse_ids


@click.command("validate")
@click.option("--dataset", "dataset_path", required=True, type=click.Path(path_type=Path))
@click.option("--instance-ids", default=None, help="Comma-separated instance ids (default: all).")
@click.option("--threshold", default=DEFAULT_THRESHOLD, show_default=True,
              help="Lowest acceptable lower bound of the expert speedup's 95% CI.")
@click.option("--run-id", default=None, help="Name of this validation run. [default: a timestamp]")
@click.option("--write/--no-write", default=True, show_default=True,
              help="Store the validation record in each instance.json (folder datasets).")
@click.option("--strict", is_flag=True, help="Exit with status 1 when an instance does not hold.")
@measurement_options
def command(dataset_path: Path, instance_ids: str | None, threshold: float, run_id: str | None, write: bool,
            strict: bool, **opts: Any) -> None:
    """Measure base against expert for each instance; keep the record of what held.

    An instance holds when base and expert give the same results, the guard tests pass at both,
    and the lower bound of the expert speedup's 95% CI is at least THRESHOLD.
    """
    from ..cli import console
    from ..tables import RichEvents, stdout_console

    dataset = load_dataset(dataset_path)
    instances = dataset.select(parse_ids(instance_ids))
    run_id = run_id or "validate-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    where = executor_options(opts)
    config = build_config(run_id, opts)
    results = []
    events = RichEvents(console, total=len(instances), max_blocks=config.measure.max_blocks)
    with make_executor(**where) as executor, events:
        for inst, res in validate_all(executor, dataset, instances, config, threshold, events):
            if write and res.record:
                write_validation(inst, res.record)
            report = {"opt": "PASS" if res.valid else "FAIL", "reason": "; ".join(res.reasons) or "holds",
                      "speedup": res.record.get("speedup")}
            events.instance_finished("expert", inst.instance_id, report)
            results.append(res)
    table = Table(title=f"validation of {dataset.name}: {sum(r.valid for r in results)}/{len(results)} hold",
                  title_justify="left")
    for col in ("instance", "expert speedup [95% CI]", "blocks", "holds", "reasons"):
        table.add_column(col, overflow="fold")
    for r in results:
        sp = r.record.get("speedup") or {}
        fig = f"{sp['estimate']:.2f}x [{sp['low']:.2f}, {sp['high']:.2f}]" if sp.get("estimate") else "-"
        table.add_row(r.instance_id, fig, str(r.record.get("blocks", "-")),
                      "[green]yes[/]" if r.valid else "[red]no[/]", "; ".join(r.reasons)[:200])
    stdout_console().print(table)
    out = config.runs_dir / run_id / "validation.json"
    atomic_write_json(out, {"dataset": dataset.name, "threshold": threshold,
                            "instances": {r.instance_id: {"valid": r.valid, "reasons": r.reasons, **r.record}
                                          for r in results}})
    console.print(f"records: {out}")
    if strict and not all(r.valid for r in results):
        raise SystemExit(1)
