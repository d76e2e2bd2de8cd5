"""Remove what perfbench made in the engine, found by its ``perfbench=1`` label, and nothing else."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .containers import remove_container
from .engine import LABEL, owner_alive
from .images import remove_image

log = logging.getLogger(__name__)

# Children before parents: the engine refuses to remove an image another one is built on.
ORDER = ("candidate", "agent", "instance", "env", "base", "rootfs")
SCOPES = {
    "candidates": ("candidate",),
    "default": ("candidate", "agent", "instance"),
    "all": ORDER,
}


@dataclass
class CleanResult:
    containers: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    freed_bytes: int = 0


def clean(
    client: Any,
    scope: str = "default",
    dry_run: bool = False,
    force: bool = False,
    labels: tuple[str, ...] = (),
) -> CleanResult:
    """Remove perfbench's containers and the images of the layers in ``scope``.

    Containers and candidate images whose owning process still runs on this host
    belong to an evaluation in progress and are kept, unless ``force``. ``labels``
    (``key=value``) narrow the selection further, e.g. to one instance.
    """
    layers = SCOPES[scope]
    selector = {"label": [f"{LABEL}=1", *labels]}
    out = CleanResult()
    for c in client.api.containers(all=True, filters=selector):
        if not force and owner_alive(c.get("Labels") or {}):
            out.kept.append(f"container {c['Id'][:12]} (evaluation in progress)")
            continue
        out.containers.append(c["Id"][:12])
        if not dry_run:
            remove_container(client, c["Id"])
    images = client.api.images(filters=selector)
    for layer in ORDER:
        if layer not in layers:
            continue
        for img in images:
            labels = img.get("Labels") or {}
            if labels.get(f"{LABEL}.layer") != layer:
                continue
            if not force and owner_alive(labels):
                out.kept.extend(
                    f"{ref} (evaluation in progress)" for ref in img.get("RepoTags") or [img["Id"]]
                )
                continue
            for ref in img.get("RepoTags") or [img["Id"]]:
                if ref == "<none>:<none>":
                    ref = img["Id"]
                if dry_run or remove_image(client, ref):
                    out.images.append(ref)
                    out.freed_bytes += int(img.get("Size") or 0)
                else:
                    out.kept.append(f"{ref} (in use)")
    return out


def clean_rootfs_cache(cache_dir: Path, dry_run: bool = False) -> list[Path]:
    """Delete the debootstrap tarballs and downloaded packages (the next base build runs debootstrap)."""
    paths = [
        p for p in (cache_dir / "docker" / "rootfs", cache_dir / "docker" / "debs") if p.exists()
    ]
    if not dry_run:
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)
    return paths
