"""``perfbench instances list|show``: look at a dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from ..datasets import load_dataset
from ..records import Instance


def expert_figure(inst: Instance) -> str:
    """The validated expert speedup with its CI, as recorded by ``perfbench validate``."""
    v = inst.validation or {}
    sp = v.get("speedup") or {}
    if not sp.get("estimate"):
        return "-"
    return f"{sp['estimate']:.2f}x [{sp.get('low', 0):.2f}, {sp.get('high', 0):.2f}]"


def patch_size(inst: Instance) -> str:
    meta = inst.metadata or {}
    if "patch_lines" in meta:
        lines, files = meta["patch_lines"], meta.get("patch_files", "?")
        plural = "" if files == 1 else "s"
        return f"+{lines.get('added', '?')}/-{lines.get('deleted', '?')} in {files} file{plural}"
    if inst.expert_patch:
        added = sum(
            1
            for ln in inst.expert_patch.splitlines()
            if ln.startswith("+") and not ln.startswith("+++")
        )
        deleted = sum(
            1
            for ln in inst.expert_patch.splitlines()
            if ln.startswith("-") and not ln.startswith("---")
        )
        return f"+{added}/-{deleted}"
    return "-"


def instances_table(name: str, version: str, rows: list[dict[str, Any]], width: int) -> Table:
    """One line per instance at ``width``: every column where it fits, then shorter ids and
    the API cut with "…" (narrow terminals), never a wrapped cell."""
    from ..tables import Col, fitted_table, short_instance_id

    def col(key: str) -> list[str]:
        return [escape(str(r[key])) for r in rows]

    ids, short = col("instance_id"), [escape(short_instance_id(r["instance_id"])) for r in rows]
    speedups = [escape(r["expert_speedup"].split(" [")[0]) for r in rows]
    full = [
        Col("instance", ids),
        Col("repo", col("repo")),
        Col("API", col("api"), elastic=True),
        Col("workloads", col("workloads"), justify="right"),
        Col("expert speedup [95% CI]", col("expert_speedup")),
        Col("patch", col("patch")),
    ]
    compact = [
        Col("instance", ids),
        Col("API", col("api"), elastic=True),
        Col("expert [95% CI]", col("expert_speedup")),
    ]
    narrow = [Col("instance", short), Col("expert", speedups), Col("API", col("api"), elastic=True)]
    title = f"{name} {version}: {len(rows)} instances"
    return fitted_table(title, [full, compact, narrow], width)


@click.group("instances")
def command() -> None:
    """List or show the instances of a dataset."""


@command.command("list")
@click.option(
    "--dataset",
    "dataset_path",
    default=Path("instances/examples"),
    show_default=True,
    type=click.Path(path_type=Path),
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
def list_cmd(dataset_path: Path, as_json: bool) -> None:
    """One line per instance: repository, API, validated expert speedup, patch size."""
    from ..tables import stdout_console

    ds = load_dataset(dataset_path)
    if as_json:
        click.echo(json.dumps([_row(i) for i in ds], indent=2))
        return
    console = stdout_console()
    console.print(instances_table(ds.name, ds.version, [_row(i) for i in ds], console.width))


def _row(inst: Instance) -> dict[str, Any]:
    return {
        "instance_id": inst.instance_id,
        "repo": inst.repo,
        "api": (inst.metadata or {}).get("api", "-"),
        "workloads": len(inst.workloads),
        "expert_speedup": expert_figure(inst),
        "patch": patch_size(inst),
    }


@command.command("show")
@click.argument("instance_id")
@click.option(
    "--dataset",
    "dataset_path",
    default=Path("instances/examples"),
    show_default=True,
    type=click.Path(path_type=Path),
)
def show_cmd(instance_id: str, dataset_path: Path) -> None:
    """Print one instance record (workload sources inline)."""
    ds = load_dataset(dataset_path)
    inst = ds.get(instance_id)
    click.echo(json.dumps(inst.to_dict(inline_workloads=True), indent=2))
