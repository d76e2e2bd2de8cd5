"""Build the candidate variant: the patched tree goes into a container of the instance
image, is built there exactly as base and expert were, and the container is committed
to a throwaway image that the session removes when it closes.

The patch is applied on the host with :mod:`perfbench.patches` (the same checks and
fallbacks as every backend), to a tree exported with ``git archive``; guard tests
are then restored from base, whatever the patch did to them.
"""

from __future__ import annotations

import logging
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError
from .buildrecords import read_from_container
from .containers import REGISTRY, remove_container
from .engine import LABEL, LABELS, owner_labels
from .images import VARIANT_ROOTS

log = logging.getLogger(__name__)

CANDIDATE_REPOSITORY = "perfbench/candidate"
# Where a candidate's build may write and leave its image fit for a long-lived sandbox
# supervisor: that runs on the image's own /usr/bin/python3 with -I -S (standard library
# only: no site-packages, no user or environment paths), which none of these can change.
# A build that wrote anywhere else (the interpreter, its standard library, shared
# libraries, /etc) could have made that supervisor carry data from one timed process to
# the next: the candidate's processes then each get a container of their own instead.
SUPERVISOR_SAFE = (
    "/pb/cand",
    "/tmp",
    "/var/tmp",
    "/root",
    "/usr/local/lib/python3",
    "/usr/local/bin",
    "/usr/lib/python3/dist-packages",
    "/var/cache",
    "/var/log",
)


@dataclass
class CandidateImage:
    tag: str
    system_changes: list[str] = field(default_factory=list)  # paths changed outside SUPERVISOR_SAFE
    record: dict[str, Any] | None = None  # pbbuild's build.json: seconds, ccache hits/misses


def system_changes(changes: list[dict[str, Any]] | None) -> list[str]:
    """Paths of a build container's ``docker diff`` that lie outside SUPERVISOR_SAFE."""
    out = []
    for change in changes or []:
        path = str(change.get("Path", ""))
        inside = any(
            path == root
            or path.startswith(root + "/")
            or (
                root.endswith("/python3") and path.startswith(root + ".")
            )  # python3.11 and the like
            for root in SUPERVISOR_SAFE
        )
        # A folder above a safe one is listed as modified (kind 0) when something below it changed.
        above = change.get("Kind") == 0 and any(
            root.startswith(path.rstrip("/") + "/") for root in SUPERVISOR_SAFE
        )
        if not inside and not above:
            out.append(path)
    return sorted(out)


def build_candidate(
    client: Any,
    instance_image: str,
    tree: Path,
    log_path: Path,
    tag_hint: str,
    timeout_s: float = 3600,
) -> CandidateImage:
    """Commit an image holding ``tree`` built at /pb/cand; returns its tag. Raises BuildError."""
    api = client.api
    root = VARIANT_ROOTS["candidate"]
    archive = tree.parent / f"{tree.name}.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tree, arcname="tree")
    cid = api.create_container(
        instance_image,
        command=["python3", "/pb/etc/pbbuild.py", "variant", root],
        working_dir=root,
        labels={**LABELS, **owner_labels(), f"{LABEL}.layer": "candidate-build"},
        use_config_proxy=False,
        # The build runs the candidate's code (its install commands): the expert's tree, which the
        # instance image holds, is covered by an empty mount, as in every other container of the
        # candidate. It may reach package registries (host network), nothing else of the machine.
        host_config=api.create_host_config(
            network_mode="host", tmpfs={VARIANT_ROOTS["expert"]: "ro,size=4k,mode=000"}
        ),
    )["Id"]
    REGISTRY.add(client, cid)
    try:
        with open(archive, "rb") as fh:
            api.put_archive(cid, root, fh)
        api.start(cid)
        t0 = time.monotonic()
        code = _wait(client, cid, timeout_s)
        output = api.logs(cid, stdout=True, stderr=True).decode(errors="replace")
        log_path.write_text(f"# candidate build in {instance_image}\n{output}\n")
        if code is None:
            raise BuildError(f"candidate build timed out after {timeout_s:.0f}s", log_path)
        if code != 0:
            last = [ln for ln in output.splitlines() if ln.strip()][-1:] or [f"exit {code}"]
            raise BuildError(f"candidate build failed: {last[0][:200]}", log_path)
        record = read_from_container(client, cid, root)
        outside = system_changes(api.diff(cid))
        if outside:
            log.info(
                "the candidate's build changed %d paths outside its tree (%s): its processes get a container "
                "each",
                len(outside),
                ", ".join(outside[:5]),
            )
        tag = f"{tag_hint[:100]}-{uuid.uuid4().hex[:10]}"
        labels = {LABEL: "1", f"{LABEL}.layer": "candidate", **owner_labels()}
        api.commit(
            cid,
            repository=CANDIDATE_REPOSITORY,
            tag=tag,
            changes=[f"LABEL {k}={v}" for k, v in labels.items()],
        )
        log.debug(
            "candidate image %s:%s built in %.1fs", CANDIDATE_REPOSITORY, tag, time.monotonic() - t0
        )
        return CandidateImage(f"{CANDIDATE_REPOSITORY}:{tag}", outside, record)
    finally:
        remove_container(client, cid)
        REGISTRY.discard(cid)
        archive.unlink(missing_ok=True)


def _wait(client: Any, cid: str, timeout_s: float) -> int | None:
    """The exit status, or None (container killed) once ``timeout_s`` has passed."""
    import requests

    try:
        return int(client.api.wait(cid, timeout=timeout_s)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        try:
            client.api.kill(cid)
        except Exception:
            pass
        return None
