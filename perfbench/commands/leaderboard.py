"""``perfbench leaderboard``: rank models from submitted run summaries; ``submit`` adds one."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_SUBMISSIONS = Path("leaderboard/submissions")
DEFAULT_OUT = Path("leaderboard")
DEFAULT_INSTANCES = Path("instances")

_submissions_opt = click.option(
    "--submissions",
    "submissions_dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Folder of submitted run summaries. [default: {DEFAULT_SUBMISSIONS}]",
)
_instances_opt = click.option(
    "--instances-dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Folder of bundled datasets that submissions may name. [default: {DEFAULT_INSTANCES}]",
)
_dataset_opt = click.option(
    "--dataset",
    "datasets",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A further dataset (folder or file) that submissions may name; repeatable.",
)


@click.group("leaderboard", invoke_without_command=True)
@_submissions_opt
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where README.md and index.html are written.",
)
@_instances_opt
@_dataset_opt
@click.pass_context
def command(
    ctx: click.Context,
    submissions_dir: Path | None,
    out_dir: Path,
    instances_dir: Path | None,
    datasets: tuple[Path, ...],
) -> None:
    """Rebuild leaderboard/README.md and leaderboard/index.html from run summaries.

    Every summary is validated first (required fields, a known dataset, instances of that
    dataset); on any error nothing is written.
    """
    ctx.obj = {"submissions": submissions_dir, "instances": instances_dir, "datasets": datasets}
    if ctx.invoked_subcommand is not None:
        return
    from ..leaderboard.build import build_leaderboard

    result = build_leaderboard(
        submissions_dir or DEFAULT_SUBMISSIONS,
        out_dir,
        instances_dir=instances_dir or DEFAULT_INSTANCES,
        datasets=datasets,
    )
    click.echo(
        f"{result.models} models from {result.submissions} runs: {result.readme}, {result.index}"
    )


@command.command("submit")
@click.argument("run_model_dir", type=click.Path(path_type=Path))
@_submissions_opt
@_instances_opt
@_dataset_opt
@click.pass_obj
def submit_cmd(
    obj: dict,
    run_model_dir: Path,
    submissions_dir: Path | None,
    instances_dir: Path | None,
    datasets: tuple[Path, ...],
) -> None:
    """Validate RUN_DIR/MODEL/summary.json and copy it into the submissions folder.

    The copy is named <dataset>__<model>__<run_id>.json; submitting the same run again replaces it.
    """
    from ..leaderboard.submissions import known_datasets, submit

    folder = submissions_dir or obj.get("submissions") or DEFAULT_SUBMISSIONS
    known = known_datasets(
        instances_dir or obj.get("instances") or DEFAULT_INSTANCES,
        datasets or obj.get("datasets") or (),
    )
    dest = submit(run_model_dir, folder, known)
    click.echo(f"submitted {dest}; rebuild with `perfbench leaderboard`")
