"""``perfbench export-pyperf``: a run's timings as pyperf JSON files."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export-pyperf")
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--merge/--no-merge",
    default=True,
    show_default=True,
    help="Also write one file per model and variant, MODEL/pyperf/VARIANT.json, whose "
    "benchmarks are INSTANCE:WORKLOAD.",
)
def command(run_dir: Path, merge: bool) -> None:
    """Write pyperf JSON files for the reports under RUN_DIR (a run, a model folder or an instance).

    Each instance gets INSTANCE/pyperf/VARIANT.json (base, expert, candidate): one benchmark per
    workload, one pyperf run per timed process. New evaluations write these files themselves;
    this command makes them for older runs. Compare with pyperf's own tools:

    \b
      python -m pyperf compare_to base.json candidate.json --table
      python -m pyperf stats candidate.json
      python -m pyperf hist base.json
    """
    from ..errors import InputError
    from ..pyperf_export import export_run

    written = export_run(run_dir, merge=merge)
    if not written:
        raise InputError(f"{run_dir}: no report.json with timings.jsonl beside it")
    for path in written:
        click.echo(str(path))
    click.echo(
        f"{len(written)} pyperf files; e.g. python -m pyperf compare_to "
        f"{written[0].parent / 'base.json'} {written[0].parent / 'candidate.json'} --table",
        err=True,
    )
