"""``perfbench publish``: a dataset of instances to the Hugging Face hub, or to a folder like it."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..datasets import load_dataset
from ..repos import default_cache_dir
from .common import cache_dir_option, repo_url_template_option


@click.command("publish")
@click.option(
    "--dataset",
    "dataset_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Dataset folder (instances/examples), JSON/JSONL/parquet file, or saved HF dataset.",
)
@click.option(
    "--repo-id", default=None, help="Hub dataset repository ORG/NAME (required unless --to-dir)."
)
@click.option(
    "--to-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the files (data/*.parquet, README.md card, perfbench.json, repos/) here "
    "instead of pushing.",
)
@click.option(
    "--split", default="test", show_default=True, help="Name of the split the instances form."
)
@click.option(
    "--private",
    is_flag=True,
    help="Create the hub repository private (an existing one keeps its visibility).",
)
@click.option("--token", default=None, help="Hub token. [default: HF_TOKEN, else the saved login]")
@click.option(
    "--license",
    "license_",
    default=None,
    help="Licence of the records (hub identifier, e.g. mit, cc-by-4.0). "
    "[default: dataset.json's 'license', else 'other']",
)
@click.option(
    "--with-patches",
    is_flag=True,
    help="Derive missing expert patches from the repositories before publishing.",
)
@click.option(
    "--ship-repos/--no-ship-repos",
    default=True,
    show_default=True,
    help="Ship local repositories (bundles, local clones) as git bundles under repos/.",
)
@repo_url_template_option(
    "Where repositories come from for --with-patches (placeholders {repo}, {owner}, {name})."
)
@cache_dir_option("Repository mirrors for --with-patches.")
def command(
    dataset_path: Path,
    repo_id: str | None,
    to_dir: Path | None,
    split: str,
    private: bool,
    token: str | None,
    license_: str | None,
    with_patches: bool,
    ship_repos: bool,
    repo_url_template: str | None,
    cache_dir: Path | None,
) -> None:
    """Publish a dataset: parquet with explicit features, a dataset card, and push_to_hub.

    Workloads are published (evaluation needs them); the dataset's secret evaluation seed is not.
    With --to-dir nothing is uploaded: the folder holds exactly what would be pushed, and
    `perfbench evaluate --dataset DIR` works on it.
    """
    from ..hub.folder import PublishOptions, build_folder, install_folder, staging_dir
    from ..hub.push import check_repo_id, push_folder, resolve_token

    if not repo_id and not to_dir:
        raise click.UsageError("give --repo-id (to push) or --to-dir (to write a folder), or both")
    if repo_id:
        check_repo_id(repo_id)
    dataset = load_dataset(dataset_path)
    if with_patches:
        from ..config import EvalConfig
        from ..session import ensure_expert_patches, repo_cache_for

        config = EvalConfig(
            run_id="publish",
            cache_dir=cache_dir or default_cache_dir(),
            url_template=repo_url_template,
        )
        ensure_expert_patches(dataset, repo_cache_for(dataset, config), list(dataset))
    if repo_id and not to_dir:
        resolve_token(token)  # fail before building anything
    options = PublishOptions(
        repo_id=repo_id or f"ORG/{dataset.name}",
        split=split,
        license=license_,
        ship_repos=ship_repos,
    )
    stage = staging_dir(to_dir)
    try:
        result = build_folder(dataset, stage, options)
        if to_dir:
            install_folder(stage, to_dir, split)
            result.folder = to_dir
            click.echo(f"wrote {len(result.files)} files for {len(dataset)} instances to {to_dir}")
        if repo_id and not to_dir:
            url = push_folder(result, repo_id, token=token, private=private or None)
            click.echo(f"pushed {len(dataset)} instances to {repo_id}: {url}")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
