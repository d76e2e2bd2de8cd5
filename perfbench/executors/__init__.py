"""Executors: where evaluations run: ``local`` (this machine, one or more slots) or ``ray``.

See :mod:`.slots` for how measurement slots keep parallel measurements off each
other's cores, and README "Running on a cluster".
"""

from __future__ import annotations

from ..errors import InputError
from .base import Done, Executor, Work
from .slots import SLOT_CPUS_ENV, SLOT_RESOURCE, Slot

EXECUTORS = ("local", "ray")

__all__ = [
    "EXECUTORS",
    "SLOT_CPUS_ENV",
    "SLOT_RESOURCE",
    "Done",
    "Executor",
    "Slot",
    "Work",
    "make_executor",
]


def make_executor(
    name: str = "local",
    *,
    max_workers: int = 1,
    cpus: tuple[int, ...] | None = None,
    ray_address: str | None = None,
) -> Executor:
    """The executor ``name``; ``cpus``: the cores local slots share (None: all but the first)."""
    if name == "local":
        if ray_address:
            raise InputError("--ray-address needs --executor ray")
        from .local import LocalExecutor

        return LocalExecutor(max_workers, cpus)
    if name == "ray":
        if max_workers != 1:
            raise InputError(
                "--max-workers is for --executor local; on Ray each node's "
                f"{SLOT_RESOURCE} resource sets how many measurements it runs at once"
            )
        if cpus:
            raise InputError(
                "--cpus pins a local run; on Ray each node pins its slots "
                f"(set {SLOT_CPUS_ENV} on the node to choose the cores)"
            )
        from .cluster import RayExecutor

        return RayExecutor(ray_address)
    raise InputError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
