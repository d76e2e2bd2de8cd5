"""Sandbox backends: where variants are built and workloads run (``local``, ``docker``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable, InputError
from ..records import Instance
from .base import BASE, CANDIDATE, EXPERT, VARIANTS, Backend, Limits, ProcResult, VariantBuild

log = logging.getLogger(__name__)

BACKENDS = ("auto", "local", "docker")

__all__ = [
    "BACKENDS",
    "BASE",
    "CANDIDATE",
    "EXPERT",
    "VARIANTS",
    "Backend",
    "Limits",
    "ProcResult",
    "VariantBuild",
    "make_backend",
    "resolve_backend_name",
]


def docker_available() -> tuple[bool, str]:
    """Whether a Docker engine answers, and if not, why (one line)."""
    try:
        from ..docker import engine_status
    except ImportError as exc:  # docker SDK missing
        return False, f"the docker Python package is not installed ({exc})"
    return engine_status()


_AUTO_WARNED: list[bool] = []


def resolve_backend_name(name: str) -> str:
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        ok, why = docker_available()
        if ok:
            return "docker"
        if not _AUTO_WARNED:
            log.warning("no Docker engine (%s); using the local backend", why)
            _AUTO_WARNED.append(True)
        return "local"
    if name == "docker":
        ok, why = docker_available()
        if not ok:
            raise BackendUnavailable(f"--backend docker: {why}")
    return name


def make_backend(
    name: str,
    instance: Instance,
    *,
    work_dir: Path,
    log_dir: Path,
    cache_dir: Path,
    hide: list[Path] | None = None,
    options: dict[str, Any] | None = None,
) -> Backend:
    options = dict(options or {})
    resolved = resolve_backend_name(name)
    if resolved == "docker":
        from ..docker import DockerBackend

        return DockerBackend(
            instance, work_dir=work_dir, log_dir=log_dir, cache_dir=cache_dir, **options
        )
    from .local import LocalBackend

    return LocalBackend(
        instance,
        work_dir=work_dir,
        log_dir=log_dir,
        cache_dir=cache_dir,
        hide=hide,
        isolation=options.get("isolation", "auto"),
        use_cache=options.get("use_cache", True),
    )
