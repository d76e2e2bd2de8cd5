"""A base image made without any registry: ``debootstrap`` a Debian root filesystem, ``docker import`` it.

Behind a firewall, or here, no ``FROM debian`` can be pulled, but a Debian mirror
usually answers. The root filesystem is made once per (suite, mirror, package set),
kept as a tarball beside the downloaded packages, and imported under a tag that
names that content; an image that exists is never made again, and a removed one is
re-imported from the tarball in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable, BuildError
from ..pythons import DEFAULT_SUITE
from .engine import LABEL
from .locks import file_lock

log = logging.getLogger(__name__)

MIRROR_ENV = "PERFBENCH_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
ROOTFS_REPOSITORY = "perfbench/rootfs"
# The keyring debootstrap checks each suite's Release signature with (debian-archive-keyring
# ships the keys of every current suite: bookworm's package already has trixie's).
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
DEBOOTSTRAP_DIR = "/usr/share/debootstrap"
# What every variant build needs: Python with venv, pip and headers, a C toolchain,
# git and patch (applying candidates), util-linux (setpriv), pytest for guard tests, ccache
# (a candidate's build compiles only the sources it changed: see dockerfiles/pbbuild.py).
BASE_PACKAGES = (
    "python3",
    "python3-venv",
    "python3-pip",
    "python3-dev",
    "python3-pytest",
    "git",
    "build-essential",
    "ca-certificates",
    "patch",
    "util-linux",
    "ccache",
)
_EXCLUDES = (
    "./proc/*",
    "./sys/*",
    "./dev/*",
    "./run/*",
    "./tmp/*",
    "./var/cache/apt/archives/*.deb",
    "./var/cache/apt/*.bin",
    "./var/lib/apt/lists/*",
    "./debootstrap",
)
_IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"LABEL {LABEL}=1",
    "LABEL perfbench.layer=rootfs",
    'CMD ["/bin/bash"]',
)


@dataclass(frozen=True)
class RootfsSpec:
    """What goes into the root filesystem; its digest names the tarball and the image tag."""

    suite: str = DEFAULT_SUITE
    mirror: str = ""
    packages: tuple[str, ...] = BASE_PACKAGES
    variant: str = "minbase"

    def __post_init__(self) -> None:
        if not self.mirror:
            object.__setattr__(self, "mirror", os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR)

    def digest(self) -> str:
        blob = json.dumps(
            {**asdict(self), "packages": sorted(self.packages), "changes": _IMPORT_CHANGES},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{ROOTFS_REPOSITORY}:{self.suite}-{self.digest()}"


@dataclass
class RootfsResult:
    tag: str
    image_id: str
    seconds: float
    cached: bool
    tarball: Path


def ensure_rootfs_image(
    client: Any, spec: RootfsSpec, cache_dir: Path, log_path: Path, rebuild: bool = False
) -> RootfsResult:
    """The imported root filesystem image, imported only when its tag is missing (or ``rebuild``).

    debootstrap runs only when the tarball is missing, even for ``rebuild``.
    """
    root = cache_dir / "docker" / "rootfs"
    tarball = root / f"{spec.suite}-{spec.digest()}.tar"
    t0 = time.monotonic()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(spec.tag):
        if not rebuild:
            image_id = _image_id(client, spec.tag)
            if image_id:
                return RootfsResult(spec.tag, image_id, time.monotonic() - t0, True, tarball)
        if not tarball.exists():  # kept across rebuilds: remove it to run debootstrap again
            make_tarball(spec, tarball, cache_dir / "docker" / "debs", log_path)
        repository, tag = spec.tag.split(":", 1)
        log.info("importing %s as %s", tarball, spec.tag)
        with open(log_path, "a") as fh:
            fh.write(f"$ docker import {tarball} {spec.tag}\n")
        client.api.import_image(
            src=str(tarball), repository=repository, tag=tag, changes=list(_IMPORT_CHANGES)
        )
        image_id = _image_id(client, spec.tag)
        if not image_id:
            raise BuildError(f"docker import of {tarball} made no image {spec.tag}", log_path)
    return RootfsResult(spec.tag, image_id, time.monotonic() - t0, False, tarball)


def make_tarball(spec: RootfsSpec, tarball: Path, debs_dir: Path, log_path: Path) -> None:
    """Run debootstrap into a scratch folder and pack it; downloaded packages stay in ``debs_dir``."""
    if not shutil.which("debootstrap"):
        raise BackendUnavailable(
            "cannot make the Docker base image: debootstrap is not installed (apt-get install debootstrap), "
            "and no base image was given (set PERFBENCH_BASE_IMAGE to an image you can pull)"
        )
    if os.geteuid() != 0:
        raise BackendUnavailable(
            "cannot make the Docker base image: debootstrap needs root "
            "(or set PERFBENCH_BASE_IMAGE to an image you can pull)"
        )
    keyring = check_debootstrap(spec.suite)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    debs_dir.mkdir(parents=True, exist_ok=True)
    target = tarball.with_suffix(".partial")
    _remove_tree(target)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "debootstrap",
        f"--variant={spec.variant}",
        f"--include={','.join(spec.packages)}",
        f"--cache-dir={debs_dir.resolve()}",
        f"--keyring={keyring}",
        spec.suite,
        str(target),
        spec.mirror,
    ]
    log.info("making a %s root filesystem with debootstrap (a few minutes, once)", spec.suite)
    try:
        _logged(cmd, log_path, "debootstrap failed")
        _logged(
            [
                "tar",
                "--numeric-owner",
                "-C",
                str(target),
                *[f"--exclude={e}" for e in _EXCLUDES],
                "-cf",
                str(tarball) + ".tmp",
                ".",
            ],
            log_path,
            "packing the root filesystem failed",
        )
        os.replace(str(tarball) + ".tmp", tarball)
    finally:
        _remove_tree(target)


def check_debootstrap(suite: str, scripts_dir: Path | None = None, keyring: Path = KEYRING) -> Path:
    """The keyring that checks the suite's Release signature, after checking that this host's
    debootstrap knows the suite. Without a keyring debootstrap would only warn and go on
    unverified; an older debootstrap lacks the scripts of newer suites."""
    scripts = scripts_dir or Path(os.environ.get("DEBOOTSTRAP_DIR", DEBOOTSTRAP_DIR)) / "scripts"
    if not (scripts / suite).exists():
        raise BackendUnavailable(
            f"cannot make the {suite} root filesystem: this debootstrap has no script for {suite} "
            f"(none in {scripts}); install a newer debootstrap from Debian "
            "(apt-get install -t <newer suite or backports> debootstrap)"
        )
    if not keyring.is_file():
        raise BackendUnavailable(
            f"cannot make the {suite} root filesystem: no Debian archive keyring at {keyring} to "
            "check its packages' signatures (apt-get install debian-archive-keyring)"
        )
    return keyring


def _logged(cmd: list[str], log_path: Path, what: str) -> None:
    with open(log_path, "a") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise BuildError(f"{what} (exit {proc.returncode})", log_path)


def _remove_tree(path: Path) -> None:
    """Remove a debootstrap target, unmounting what a failed run may have left mounted in it."""
    if not path.exists():
        return
    for sub in ("proc", "sys", "dev/pts", "dev"):
        mount_point = path / sub
        if os.path.ismount(mount_point):
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def _image_id(client: Any, tag: str) -> str:
    import docker

    try:
        return client.api.inspect_image(tag)["Id"]
    except docker.errors.ImageNotFound:
        return ""
