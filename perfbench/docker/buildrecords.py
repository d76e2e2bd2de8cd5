"""Each variant's build record, read back from the image that holds it.

``pbbuild.py variant DIR`` leaves ``DIR/build.json`` (the build's seconds and, for compiled code,
its ccache hits and misses). Base and expert are built while the instance image is made, often
long before the evaluation that reports them, so the figure travels inside the image: a cached
image still says what its variants' builds cost.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
from typing import Any

log = logging.getLogger(__name__)

BUILD_RECORD = "build.json"  # the name pbbuild.py writes (dockerfiles/pbbuild.py: BUILD_RECORD)


def parse_record(raw: bytes) -> dict[str, Any] | None:
    """A build record from its JSON; None when it is not one (an older image, a torn write)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("seconds"), (int, float)):
        return None
    out: dict[str, Any] = {"seconds": float(data["seconds"])}
    stats = data.get("ccache")
    if isinstance(stats, dict) and all(isinstance(stats.get(k), int) for k in ("hits", "misses")):
        out["ccache"] = {"hits": stats["hits"], "misses": stats["misses"]}
    return out


def read_from_container(client: Any, cid: str, root: str) -> dict[str, Any] | None:
    """``root/build.json`` of a container (running or not), or None when it has none."""
    import docker
    import requests

    try:
        stream, _ = client.api.get_archive(cid, f"{root}/{BUILD_RECORD}")
        blob = b"".join(stream)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        log.debug("no build record at %s in %s: %s", root, cid[:12], exc)
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            member = tar.next()
            fh = tar.extractfile(member) if member is not None else None
            return parse_record(fh.read()) if fh is not None else None
    except tarfile.TarError:
        return None


def read_from_image(client: Any, image: str, roots: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The build records of ``roots`` (variant -> in-image root) in ``image``; a variant whose
    record is missing is left out. One container is created to read them, never started."""
    from .containers import REGISTRY, remove_container
    from .engine import LABEL, LABELS, owner_labels

    cid = client.api.create_container(
        image,
        command=["true"],
        network_disabled=True,
        labels={**LABELS, **owner_labels(), f"{LABEL}.layer": "build-records"},
    )["Id"]
    REGISTRY.add(client, cid)
    try:
        records = {v: read_from_container(client, cid, root) for v, root in roots.items()}
    finally:
        remove_container(client, cid)
        REGISTRY.discard(cid)
    return {v: r for v, r in records.items() if r is not None}
