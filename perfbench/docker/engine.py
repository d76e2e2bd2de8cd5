"""Reaching the Docker engine: one client per process, and a one-line reason when there is none.

Every object perfbench makes carries the label ``perfbench=1`` so that ``perfbench clean``
can find it and nothing else is touched.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable

if TYPE_CHECKING:  # pragma: no cover
    import docker

LABEL = "perfbench"
LABELS = {LABEL: "1"}
DEFAULT_HOST = "unix:///var/run/docker.sock"
PING_TIMEOUT_S = 5
API_TIMEOUT_S = 600

_CLIENTS: dict[str, Any] = {}


def owner_labels() -> dict[str, str]:
    """Labels naming the process that owns a throwaway object, so that ``perfbench clean``
    leaves alone what a running evaluation still uses."""
    return {f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(os.getpid())}


def owner_alive(labels: dict[str, str]) -> bool:
    """Whether the process named by ``owner_labels`` still runs on this host."""
    if labels.get(f"{LABEL}.host") != socket.gethostname():
        return False
    try:
        os.kill(int(labels.get(f"{LABEL}.pid", "0")), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return int(labels.get(f"{LABEL}.pid", "0")) > 0


def engine_url() -> str:
    """Where the SDK will look for the engine (``DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def engine_status() -> tuple[bool, str]:
    """Whether an engine answers, and if not, why, in one line for people."""
    try:
        import docker  # noqa: F401
    except ImportError as exc:
        return False, f"the docker Python package is not installed ({exc}); pip install 'docker>=7'"
    url = engine_url()
    if (
        url == DEFAULT_HOST
        and not os.path.exists(DEFAULT_HOST[len("unix://") :])
        and not (shutil.which("dockerd") or shutil.which("docker"))
    ):
        return (
            False,
            "Docker is not installed (no dockerd or docker command, no socket at /var/run/docker.sock)",
        )
    try:
        client(timeout=PING_TIMEOUT_S, cached=False).ping()
    except Exception as exc:  # the SDK raises several types for the same condition
        detail = _short(exc)
        return (
            False,
            f"Docker engine not reachable at {url} (is dockerd running?){': ' + detail if detail else ''}",
        )
    return True, f"Docker engine at {url}"


def client(timeout: int = API_TIMEOUT_S, cached: bool = True) -> docker.DockerClient:
    """A client for the engine named by the environment; cached per ``DOCKER_HOST``."""
    import docker

    key = f"{engine_url()}|{timeout}"
    if cached and key in _CLIENTS:
        return _CLIENTS[key]
    c = docker.from_env(timeout=timeout)
    if cached:
        _CLIENTS[key] = c
    return c


def require_engine() -> docker.DockerClient:
    """The engine's client, or BackendUnavailable with the one-line reason."""
    ok, why = engine_status()
    if not ok:
        raise BackendUnavailable(why)
    return client()


def _short(exc: BaseException) -> str:
    """The innermost readable cause of a connection error, shortened to a phrase."""
    text = str(exc)
    for marker in (
        "No such file or directory",
        "Connection refused",
        "Permission denied",
        "timed out",
        "Name or service not known",
    ):
        if marker in text:
            return marker
    return ""
