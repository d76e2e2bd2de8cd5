"""The Docker sandbox backend (DESIGN.md section 5): layered images, isolated, pinned containers.

``engine_status`` needs no engine and no SDK; ``DockerBackend`` is imported on first
use, so that ``perfbench`` starts as fast where Docker is absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine import engine_status

if TYPE_CHECKING:  # pragma: no cover
    from .backend import DockerBackend

__all__ = ["DockerBackend", "engine_status"]


def __getattr__(name: str) -> Any:
    if name == "DockerBackend":
        from .backend import DockerBackend

        return DockerBackend
    raise AttributeError(name)
