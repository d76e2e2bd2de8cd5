"""The dataset card (README.md): hub YAML metadata, field descriptions, how to evaluate, provenance.

The YAML carries ``configs`` (which files form which split) and ``dataset_info``
(features, sizes) in the form ``datasets.push_to_hub`` writes, so the card in a
``--to-dir`` folder is the card that lands on the hub, and ``datasets`` loads
the folder with the declared features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

from .. import __version__
from ..datasets import Dataset
from .schema import FIELD_DOCS

DEFAULT_TAGS = ["code", "performance", "benchmark", "software-engineering", "agents", "perfbench"]
GITHUB = "https://github.com/{repo}"


@dataclass(frozen=True)
class SplitFiles:
    """What one published split holds; sizes as ``datasets`` reports them."""

    name: str
    num_examples: int
    num_bytes: int
    download_size: int
    pattern: str  # data_files pattern relative to the folder, e.g. data/test-*


_LICENSE_ID = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")


def hub_license(text: str | None) -> str:
    """The hub's licence identifier for ``text``: lower case (``MIT`` -> ``mit``, ``Apache-2.0`` ->
    ``apache-2.0``), or ``other`` for anything that is not an identifier (a sentence, a list)."""
    ident = (text or "").strip().lower()
    return ident if _LICENSE_ID.match(ident) else "other"


def license_text(text: str | None) -> str:
    """How the card's prose names the licence: the identifier, or the dataset's own words."""
    ident = hub_license(text)
    return (
        ident
        if ident != "other" or not (text or "").strip()
        else f"{ident} ({_one_line(str(text))})"
    )


def card_yaml(
    *,
    license: str,
    pretty_name: str,
    features: Any,
    split: SplitFiles,
    tags: list[str] | None = None,
) -> str:
    """The YAML header: licence, categories, tags, and the configs/dataset_info of ``datasets``."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(
        license=hub_license(license),
        pretty_name=pretty_name,
        task_categories=["text-generation"],
        tags=tags or DEFAULT_TAGS,
        size_categories=[_size_category(split.num_examples)],
        language=["en", "code"],
    )
    info = DatasetInfo(
        config_name="default",
        features=features,
        splits=SplitDict(),
        download_size=split.download_size,
        dataset_size=split.num_bytes,
    )
    info.splits.add(
        SplitInfo(name=split.name, num_bytes=split.num_bytes, num_examples=split.num_examples)
    )
    info.size_in_bytes = split.download_size + split.num_bytes
    DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    MetadataConfigs(
        {"default": {"data_files": [{"split": split.name, "path": split.pattern}]}}
    ).to_dataset_card_data(data)
    return data.to_yaml()


def _size_category(n: int) -> str:
    return "n<1K" if n < 1000 else ("1K<n<10K" if n < 10_000 else "10K<n<100K")


def render_card(
    dataset: Dataset,
    *,
    repo_id: str,
    license: str,
    split: SplitFiles,
    features: Any,
    repo_locations: dict[str, str],
) -> str:
    """The full README.md of a published dataset."""
    title = f"perfbench: {dataset.name}"
    local_dir = repo_id.split("/")[-1]
    template = Template(
        resources.files("perfbench.templates").joinpath("dataset_card.md").read_text()
    )
    return template.substitute(
        yaml=card_yaml(license=license, pretty_name=title, features=features, split=split).strip(),
        title=title,
        description=_one_line(dataset.description)
        or "Performance-optimization tasks for coding agents.",
        n_instances=len(dataset),
        split=split.name,
        repositories=_plural(len({i.repo for i in dataset}), "repository", "repositories"),
        version=f"`{dataset.version}`" if dataset.version else "unversioned",
        perfbench_version=__version__,
        repo_id=repo_id,
        local_dir=local_dir,
        repos_note=_repos_note(repo_locations),
        fields="\n".join(f"| `{k}` | {_cell(v)} |" for k, v in FIELD_DOCS.items()),
        license=license_text(license),
        provenance="\n".join(_provenance_row(i, repo_locations) for i in dataset),
    )


def _repos_note(locations: dict[str, str]) -> str:
    shipped = {r: loc for r, loc in locations.items() if "://" not in loc}
    if not shipped:
        return (
            "Repositories are cloned from GitHub (`https://github.com/{repo}.git`); use "
            "`--repo-url-template` (placeholders `{repo}`, `{owner}`, `{name}`) for local mirrors."
        )
    names = ", ".join(f"`{r}` (`{loc}`)" for r, loc in sorted(shipped.items()))
    return (
        f"Repositories shipped with the data as git bundles, so evaluation works offline: {names}. "
        "perfbench reads their locations from `perfbench.json`; with an older perfbench pass "
        "`--repo-url-template` pointing at the bundle."
    )


def _provenance_row(inst: Any, locations: dict[str, str]) -> str:
    loc = locations.get(inst.repo)
    repo = f"[`{inst.repo}`]({loc})" if loc and "://" in loc else f"`{inst.repo}`"
    if loc is None:
        repo = f"[`{inst.repo}`]({GITHUB.format(repo=inst.repo)})"
    meta = inst.metadata or {}
    licence = meta.get("license") or meta.get("repo_license") or "see repository"
    return (
        f"| `{inst.instance_id}` | {repo} | `{inst.base_commit[:12]}` | `{inst.opt_commit[:12]}` | "
        f"{inst.created_at or '-'} | {_cell(str(licence))} |"
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")
