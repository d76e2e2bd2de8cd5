"""The layered images: ``base`` (OS, toolchain) -> ``env`` (repository + environment spec) ->
``instance`` (base and expert variants built), plus the agent-facing image.

Every tag is a content hash of what went into the image (parent image id,
Dockerfile, build script, spec, CA bundle, commits), so an image that exists is
the right one and is reused as is; a change anywhere makes a new tag. Builds use
the host network, log to one file per image, and a failure raises BuildError
naming that log. A layer that failed is remembered for the rest of the process,
so the instances that depend on it are skipped at once instead of failing again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import repos
from ..errors import BuildError
from ..pythons import suite_for_python
from ..records import Instance
from . import ca, history
from .engine import LABEL, LABELS
from .locks import file_lock
from .rootfs import RootfsSpec, ensure_rootfs_image

log = logging.getLogger(__name__)

DOCKERFILES = Path(__file__).resolve().parent.parent.parent / "dockerfiles"
BASE_IMAGE_ENV = "PERFBENCH_BASE_IMAGE"
LAYERS = ("base", "env", "instance")
CACHE_LEVELS = ("none", "base", "env", "instance")
# In-image roots of the variants: equal lengths, so that paths in memory do not differ.
VARIANT_ROOTS = {"base": "/pb/base", "expert": "/pb/expt", "candidate": "/pb/cand"}

_FAILED: dict[str, BuildError] = {}
# Tags made in this process: ``rebuild`` makes each shared layer once, not once per instance.
_MADE: set[str] = set()

StageFn = Callable[[str], None]


@dataclass
class ImageSettings:
    """Where images come from and how they are built."""

    cache_dir: Path
    base_image: str | None = None  # a FROM image from a registry; None: debootstrap + import
    ca_bundle: Path | None = field(default_factory=ca.resolve_ca_bundle)  # None: no extra CA
    rebuild: bool = False  # build even when the tag exists (and without Docker's layer cache)
    rootfs: RootfsSpec = field(default_factory=RootfsSpec)
    build_timeout_s: int = 3600


@dataclass
class LayerResult:
    layer: str
    tag: str
    image_id: str
    seconds: float
    cached: bool
    log_path: Path | None = None


def _digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _tag_part(text: str, limit: int = 80) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:limit].lstrip(".-") or "x"


def image_id(client: Any, ref: str) -> str:
    import docker

    try:
        return client.api.inspect_image(ref)["Id"]
    except docker.errors.ImageNotFound:
        return ""


def image_size(client: Any, ref: str) -> int | None:
    """Bytes of an image with every layer under it (``docker images`` SIZE), or None."""
    import docker

    try:
        return int(client.api.inspect_image(ref)["Size"])
    except (docker.errors.ImageNotFound, KeyError, TypeError, ValueError):
        return None


class ImageBuilder:
    """Makes (or finds) each layer for an instance; one object may serve many instances."""

    def __init__(self, client: Any, settings: ImageSettings, stage: StageFn | None = None) -> None:
        self.client = client
        self.settings = settings
        self.stage = stage or (lambda text: None)

    # ---- tags -------------------------------------------------------------

    def _template(self, name: str) -> str:
        return (DOCKERFILES / f"{name}.Dockerfile").read_text()

    def env_spec_json(self, instance: Instance) -> str:
        return json.dumps(asdict(instance.env), sort_keys=True, indent=1)

    def env_tag(self, instance: Instance, base_id: str) -> str:
        digest = _digest(
            base_id,
            self._template("env"),
            (DOCKERFILES / "pbbuild.py").read_text(),
            self.env_spec_json(instance),
            ca.bundle_digest(self.settings.ca_bundle),
        )
        return f"perfbench/env:{_tag_part(instance.repo.replace('/', '__').lower())}-{digest}"

    def instance_tag(self, instance: Instance, env_id: str) -> str:
        digest = _digest(
            env_id, self._template("instance"), instance.base_commit, instance.opt_commit
        )
        return f"perfbench/instance:{_tag_part(instance.instance_id.lower())}-{digest}"

    def agent_tag(self, instance: Instance, env_id: str) -> str:
        digest = _digest(env_id, self._template("agent"), instance.base_commit, "agent-1")
        return f"perfbench/agent:{_tag_part(instance.instance_id.lower())}-{digest}"

    # ---- layers -------------------------------------------------------------

    def base(self, log_dir: Path, python: str = "") -> LayerResult:
        """The OS layer; without a ``--base-image``, the Debian suite whose Python is ``python``."""
        t0 = time.monotonic()
        from_image = self.settings.base_image or os.environ.get(BASE_IMAGE_ENV) or ""
        rootfs_cached = True
        if from_image:
            from_id = image_id(self.client, from_image) or from_image
        else:
            spec = replace(self.settings.rootfs, suite=suite_for_python(python))
            self.stage(f"base image: {spec.suite} root filesystem")
            rootfs = self._guard(
                "rootfs",
                spec.tag,
                lambda: ensure_rootfs_image(
                    self.client,
                    spec,
                    self.settings.cache_dir,
                    log_dir / f"build-rootfs-{spec.suite}.log",
                    rebuild=self.settings.rebuild and spec.tag not in _MADE,
                ),
            )
            _MADE.add(spec.tag)
            # Named by content (the spec's digest), not by the id of one import of it.
            from_image, from_id, rootfs_cached = rootfs.tag, rootfs.tag, rootfs.cached
        tag = f"perfbench/base:{_digest(from_id, self._template('base'))}"
        self.stage("base image")
        result = self._build(
            "base", tag, log_dir / "build-base.log", {"FROM_IMAGE": from_image}, lambda ctx: None
        )
        result.seconds = time.monotonic() - t0
        result.cached = result.cached and rootfs_cached
        return result

    def env(
        self, instance: Instance, log_dir: Path, base: LayerResult | None = None
    ) -> LayerResult:
        base = base or self.base(log_dir, instance.env.python)
        tag = self.env_tag(instance, base.image_id)

        def fill(ctx: Path) -> None:
            ca.write_ca_dir(self.settings.ca_bundle, ctx / "ca")
            (ctx / "env.json").write_text(self.env_spec_json(instance))
            shutil.copyfile(DOCKERFILES / "pbbuild.py", ctx / "pbbuild.py")

        self.stage("env image")
        return self._build(
            "env",
            tag,
            log_dir / "build-env.log",
            {"BASE_IMAGE": base.tag},
            fill,
            {"perfbench.repo": instance.repo},
        )

    def instance(
        self, instance: Instance, mirror: Path, log_dir: Path, env: LayerResult | None = None
    ) -> LayerResult:
        """base_commit and opt_commit as trees (no history), each built: what evaluation runs."""
        env = env or self.env(instance, log_dir)

        def fill(ctx: Path) -> None:
            repos.export_tree(mirror, instance.base_commit, ctx / "base")
            repos.export_tree(mirror, instance.opt_commit, ctx / "expt")

        tag = self.instance_tag(instance, env.image_id)
        return self._top_layer(
            "instance", "instance image (base and expert)", tag, instance, env, fill, log_dir
        )

    def agent(
        self, instance: Instance, mirror: Path, log_dir: Path, env: LayerResult | None = None
    ) -> LayerResult:
        """base only, with a history cut at base_commit: what an agent works in."""
        env = env or self.env(instance, log_dir)

        def fill(ctx: Path) -> None:
            history.cut_history(
                mirror, instance.base_commit, ctx / "repo", forbidden=(instance.opt_commit,)
            )

        tag = self.agent_tag(instance, env.image_id)
        return self._top_layer("agent", "agent image", tag, instance, env, fill, log_dir)

    def _top_layer(
        self,
        layer: str,
        what: str,
        tag: str,
        instance: Instance,
        env: LayerResult,
        fill: Callable[[Path], None],
        log_dir: Path,
    ) -> LayerResult:
        """A layer of one instance on top of its repository's env image."""
        self.stage(what)
        return self._build(
            layer,
            tag,
            log_dir / f"build-{layer}.log",
            {"ENV_IMAGE": env.tag},
            fill,
            {"perfbench.instance": instance.instance_id},
        )

    def all_layers(
        self, instance: Instance, mirror: Path, log_dir: Path, agent: bool = False
    ) -> list[LayerResult]:
        base = self.base(log_dir, instance.env.python)
        env = self.env(instance, log_dir, base)
        top = (self.agent if agent else self.instance)(instance, mirror, log_dir, env)
        return [base, env, top]

    # ---- building -------------------------------------------------------------

    def _guard(self, layer: str, tag: str, make: Callable[[], Any]) -> Any:
        """Run ``make`` unless ``tag`` already failed in this process (then skip with its error)."""
        if tag in _FAILED:
            first = _FAILED[tag]
            raise BuildError(
                f"skipped: the {layer} image {tag} failed to build earlier in this run "
                f"({first.args[0]})"
            )
        try:
            return make()
        except BuildError as exc:
            _FAILED[tag] = exc
            raise

    def _build(
        self,
        layer: str,
        tag: str,
        log_path: Path,
        buildargs: dict[str, str],
        fill: Callable[[Path], None],
        labels: dict[str, str] | None = None,
    ) -> LayerResult:
        return self._guard(
            layer,
            tag,
            lambda: self._build_locked(layer, tag, log_path, buildargs, fill, labels or {}),
        )

    def _build_locked(
        self,
        layer: str,
        tag: str,
        log_path: Path,
        buildargs: dict[str, str],
        fill: Callable[[Path], None],
        labels: dict[str, str],
    ) -> LayerResult:
        t0 = time.monotonic()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(tag):
            existing = image_id(self.client, tag)
            if existing and (not self.settings.rebuild or tag in _MADE):
                log_path.write_text(f"{tag}: cached image {existing}\n")
                return LayerResult(layer, tag, existing, time.monotonic() - t0, True, log_path)
            ctx = (
                self.settings.cache_dir
                / "docker"
                / "contexts"
                / f"{tag.replace('/', '_').replace(':', '_')}"
            )
            shutil.rmtree(ctx, ignore_errors=True)
            ctx.mkdir(parents=True)
            try:
                shutil.copyfile(DOCKERFILES / f"{layer}.Dockerfile", ctx / "Dockerfile")
                fill(ctx)
                built = self._docker_build(layer, tag, ctx, buildargs, labels, log_path)
                _MADE.add(tag)
            finally:
                shutil.rmtree(ctx, ignore_errors=True)
        return LayerResult(layer, tag, built, time.monotonic() - t0, False, log_path)

    def _docker_build(
        self,
        layer: str,
        tag: str,
        ctx: Path,
        buildargs: dict[str, str],
        labels: dict[str, str],
        log_path: Path,
    ) -> str:
        import docker
        import requests

        log.info("building %s image %s (log: %s)", layer, tag, log_path)
        error = ""
        with open(log_path, "w") as fh:
            fh.write(f"# docker build {tag}  (layer {layer}, args {buildargs})\n")
            try:
                stream = self.client.api.build(
                    path=str(ctx),
                    tag=tag,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    network_mode="host",
                    buildargs=buildargs,
                    labels={**LABELS, f"{LABEL}.layer": layer, **labels},
                    nocache=self.settings.rebuild,
                    decode=True,
                    timeout=self.settings.build_timeout_s,
                )
                for chunk in stream:
                    if "stream" in chunk:
                        fh.write(chunk["stream"])
                    elif "error" in chunk:
                        error = str(chunk.get("errorDetail", {}).get("message") or chunk["error"])
                        fh.write(f"ERROR: {error}\n")
                    elif "status" in chunk:
                        fh.write(f"{chunk['status']} {chunk.get('progress', '')}\n")
                    fh.flush()
            except docker.errors.APIError as exc:
                error = str(exc.explanation or exc)
                fh.write(f"ERROR: {error}\n")
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                error = f"lost the Docker engine during the build: {exc}"
                fh.write(f"ERROR: {error}\n")
        if error:
            short = error.strip().splitlines()[-1][:200] if error.strip() else "error"
            raise BuildError(f"{layer} image {tag} did not build: {short}", log_path)
        built = image_id(self.client, tag)
        if not built:
            raise BuildError(
                f"{layer} image {tag} did not build (no image after the build)", log_path
            )
        return built


def remove_image(client: Any, ref: str) -> bool:
    """Remove an image by tag or id; False when it is in use or already gone."""
    import docker

    try:
        client.api.remove_image(ref, force=False, noprune=False)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        log.debug("image %s kept: %s", ref, exc)
        return False


def layers_above(cache_level: str) -> tuple[str, ...]:
    """Layers that a run removes when it ends, for a given ``cache_level``."""
    if cache_level not in CACHE_LEVELS:
        raise ValueError(cache_level)
    return LAYERS[CACHE_LEVELS.index(cache_level) :]
