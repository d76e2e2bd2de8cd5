"""``perfbench clean``: remove the containers and images perfbench made (label ``perfbench=1``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..repos import default_cache_dir
from .common import cache_dir_option


@click.command("clean")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also remove the shared env, base and root-filesystem images.",
)
@click.option("--candidates", is_flag=True, help="Only leftover containers and candidate images.")
@click.option(
    "--rootfs-cache",
    is_flag=True,
    help="Also delete the debootstrap tarball and packages kept under the cache folder.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only objects that also carry this label, e.g. perfbench.instance=ID (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed.")
@click.option(
    "--force",
    is_flag=True,
    help="Also remove the containers and candidate images of evaluations still running.",
)
@cache_dir_option("Cache folder of the root-filesystem tarball.")
def command(
    everything: bool,
    candidates: bool,
    rootfs_cache: bool,
    labels: tuple[str, ...],
    dry_run: bool,
    force: bool,
    cache_dir: Path | None,
) -> None:
    """Remove perfbench's Docker containers and images.

    By default: leftover containers, candidate, instance and agent images. Nothing
    without the perfbench=1 label is touched, and nothing an evaluation still running
    on this host uses (unless --force).
    """
    from ..cli import console
    from ..docker.cleanup import clean, clean_rootfs_cache
    from ..docker.engine import require_engine

    if everything and candidates:
        raise click.UsageError("--all and --candidates exclude each other")
    scope = "all" if everything else "candidates" if candidates else "default"
    result = clean(require_engine(), scope, dry_run=dry_run, force=force, labels=labels)
    verb = "would remove" if dry_run else "removed"
    for ref in result.images:
        console.print(f"{verb} image {ref}", highlight=False)
    for ref in result.kept:
        console.print(f"[yellow]kept[/] {ref}", highlight=False)
    console.print(
        f"{verb} {len(result.containers)} containers and {len(result.images)} images "
        f"({result.freed_bytes / 1e9:.2f} GB before sharing)"
    )
    if rootfs_cache:
        for p in clean_rootfs_cache(cache_dir or default_cache_dir(), dry_run=dry_run):
            console.print(f"{verb} {p}", highlight=False)
