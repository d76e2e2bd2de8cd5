"""Prebuild the images of a dataset (``perfbench build``), timing each layer.

Shared by the CLI and ``benchmarks/docker_build.py``: for every instance, base ->
env -> instance (or the agent image), reusing what exists; a failed instance is
recorded and the others go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import repos
from ..datasets import Dataset
from ..errors import PerfbenchError
from ..records import Instance
from .images import (
    CACHE_LEVELS,
    LAYERS,
    ImageBuilder,
    ImageSettings,
    LayerResult,
    layers_above,
    remove_image,
)

log = logging.getLogger(__name__)


@dataclass
class InstanceBuild:
    instance_id: str
    layers: list[LayerResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def cached(self) -> bool:
        return bool(self.layers) and all(layer.cached for layer in self.layers)


@dataclass
class BuildPass:
    builds: list[InstanceBuild]
    seconds: float

    @property
    def failed(self) -> list[InstanceBuild]:
        return [b for b in self.builds if not b.ok]


def repo_cache(dataset: Dataset, cache_dir: Path, url_template: str | None) -> repos.RepoCache:
    """The repository cache, with the dataset's own repository locations taking precedence."""
    return repos.RepoCache(cache_dir, url_template, dataset.repo_locations())


def build_pass(
    client: Any,
    settings: ImageSettings,
    dataset: Dataset,
    instances: list[Instance],
    log_dir: Path,
    *,
    agent: bool = False,
    url_template: str | None = None,
    on_stage: Callable[[str, str], None] | None = None,
    on_done: Callable[[InstanceBuild], None] | None = None,
) -> BuildPass:
    """Build (or find) every layer of every instance once."""
    cache = repo_cache(dataset, settings.cache_dir, url_template)
    t0 = time.monotonic()
    out = []
    for inst in instances:
        stage = (lambda text, iid=inst.instance_id: on_stage(iid, text)) if on_stage else None
        builder = ImageBuilder(client, settings, stage)
        b = InstanceBuild(inst.instance_id)
        t1 = time.monotonic()
        try:
            mirror = cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
            b.layers = builder.all_layers(inst, mirror, log_dir / inst.instance_id, agent=agent)
        except PerfbenchError as exc:
            b.error = str(exc)
            log.error("%s: %s", inst.instance_id, exc)
        b.seconds = time.monotonic() - t1
        out.append(b)
        if on_done:
            on_done(b)
    return BuildPass(out, time.monotonic() - t0)


def drop_above(client: Any, passes: list[BuildPass], cache_level: str) -> list[str]:
    """Remove the images of layers above ``cache_level`` (top layer first); returns their tags."""
    if cache_level not in CACHE_LEVELS:
        raise ValueError(cache_level)
    doomed = set(layers_above(cache_level))
    tags: dict[str, int] = {}
    for p in passes:
        for b in p.builds:
            for layer in b.layers:
                name = (
                    layer.layer if layer.layer in LAYERS else "instance"
                )  # the agent image is a top layer
                if name in doomed:
                    tags.setdefault(layer.tag, LAYERS.index(name))
    removed = []
    for tag, _ in sorted(tags.items(), key=lambda kv: -kv[1]):
        if remove_image(client, tag):
            removed.append(tag)
    return removed
