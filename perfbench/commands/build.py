"""``perfbench build``: prebuild the Docker images of a dataset (base, env, instance or agent)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import BuildError
from ..repos import default_cache_dir
from .common import cache_dir_option, parse_ids, repo_url_template_option


@click.command("build")
@click.option(
    "--dataset",
    "dataset_path",
    default=Path("instances/examples"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Dataset folder or file.",
)
@click.option("--instance-ids", default=None, help="Comma-separated instance ids (default: all).")
@click.option(
    "--agent",
    is_flag=True,
    help="Build the agent-facing images: base variant only, history cut at base_commit, "
    "no workloads, no expert patch.",
)
@click.option(
    "--cache-level",
    type=click.Choice(["none", "base", "env", "instance"]),
    default="instance",
    show_default=True,
    help="Keep images up to this layer when done; the ones above are removed.",
)
@click.option(
    "--rebuild", is_flag=True, help="Build every layer again, even where an image exists."
)
@click.option(
    "--base-image",
    default=None,
    envvar="PERFBENCH_BASE_IMAGE",
    help="FROM image for the base layer, where a registry answers. "
    "[default: a Debian root filesystem made with debootstrap]",
)
@click.option(
    "--ca-bundle",
    default=None,
    envvar="PERFBENCH_CA_BUNDLE",
    help="Extra CA bundle the builds trust ('none' for no bundle). "
    "[default: PIP_CERT, SSL_CERT_FILE or REQUESTS_CA_BUNDLE]",
)
@click.option(
    "--log-dir",
    default=None,
    type=click.Path(path_type=Path),
    help="Build logs, one per image. [default: runs/build/<timestamp>]",
)
@repo_url_template_option()
@cache_dir_option("Repository mirrors and the root-filesystem cache.")
def command(
    dataset_path: Path,
    instance_ids: str | None,
    agent: bool,
    cache_level: str,
    rebuild: bool,
    base_image: str | None,
    ca_bundle: str | None,
    log_dir: Path | None,
    repo_url_template: str | None,
    cache_dir: Path | None,
) -> None:
    """Prebuild Docker images so that evaluations start at once.

    Every layer is tagged by a hash of what went into it and reused while it exists. After
    the build, every instance is resolved a second time to show what a cached build costs.
    """
    from ..cli import console
    from ..datasets import load_dataset
    from ..docker.ca import resolve_ca_bundle
    from ..docker.engine import require_engine
    from ..docker.images import ImageSettings, image_size
    from ..docker.prebuild import build_pass, drop_above
    from ..tables import make_progress, stdout_console

    client = require_engine()
    dataset = load_dataset(dataset_path)
    selected = dataset.select(parse_ids(instance_ids))
    log_dir = log_dir or Path("runs") / "build" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    settings = ImageSettings(
        cache_dir=cache_dir or default_cache_dir(),
        base_image=base_image,
        ca_bundle=resolve_ca_bundle(ca_bundle),
        rebuild=rebuild,
    )
    what = "agent" if agent else "instance"
    console.print(
        f"building {what} images for {len(selected)} instances of {dataset.name} (logs: {log_dir})"
    )
    with make_progress(console) as progress:
        task = progress.add_task("starting", total=len(selected))
        first = build_pass(
            client,
            settings,
            dataset,
            selected,
            log_dir,
            agent=agent,
            url_template=repo_url_template,
            on_stage=lambda iid, text: progress.update(task, description=f"{iid}: {text}"),
            on_done=lambda b: progress.advance(task),
        )
        progress.update(task, description="checking the cache")
    settings.rebuild = False
    second = build_pass(
        client,
        settings,
        dataset,
        selected,
        log_dir / "cached",
        agent=agent,
        url_template=repo_url_template,
    )

    out = stdout_console()
    from rich.table import Table

    table = Table(title=f"{what} images", title_justify="left")
    for col in ("instance", "python", "image", "size", "first build", "cached build", "status"):
        table.add_column(col, overflow="fold")
    pythons = {inst.instance_id: _python_label(inst.env.python, base_image) for inst in selected}
    for b1, b2 in zip(first.builds, second.builds, strict=True):
        top = b1.layers[-1].tag if b1.layers else "-"
        size = image_size(client, top) if b1.layers else None
        status = (
            "[red]failed[/]: " + b1.error
            if b1.error
            else ("cached" if b1.cached else "[green]built[/]")
        )
        table.add_row(
            b1.instance_id,
            pythons.get(b1.instance_id, "-"),
            top,
            f"{size / 1e6:.0f} MB" if size else "-",
            f"{b1.seconds:.1f}s",
            f"{b2.seconds:.2f}s" if b2.ok else "-",
            status,
        )
    out.print(table)
    out.print(
        f"first build: {first.seconds:.1f}s; cached build: {second.seconds:.2f}s "
        f"({len(first.builds) - len(first.failed)} of {len(first.builds)} instances ok)"
    )
    if cache_level != "instance":
        removed = drop_above(client, [first, second], cache_level)
        out.print(f"cache level {cache_level}: removed {len(removed)} images")
    if first.failed:
        raise BuildError(
            f"{len(first.failed)} of {len(first.builds)} instances did not build "
            f"(first: {first.failed[0].error})"
        )


def _python_label(python: str, base_image: str | None) -> str:
    """``3.9 (bullseye)``: the Python an instance asks for and the suite whose image gives it."""
    from ..pythons import suite_for_python

    if base_image:  # the option reads PERFBENCH_BASE_IMAGE too
        return python or "-"
    try:
        return f"{python or 'default'} ({suite_for_python(python)})"
    except BuildError:
        return f"{python} (none)"
