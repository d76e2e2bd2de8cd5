"""The ``ray`` executor: every evaluation is one Ray task that holds a measurement slot.

Scheduling: a task asks for one unit of the custom resource ``perfbench_slot`` and no
CPU, so a node runs at most as many measurements as it advertises slots
(``ray start --resources '{"perfbench_slot": N}'``). On the node the task takes one
core group of that node (:mod:`.slots`), pins itself to it and runs the whole
evaluation there: builds, base, expert and candidate side by side, checks.

Failures: a task lost with its worker or node is retried elsewhere by Ray
(``max_retries``) and, should those be spent, resubmitted by the driver a few times.
Results stream back with ``ray.wait`` and the driver writes them, so killing the
driver loses only what was running; a rerun resumes from the reports on disk.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ..config import Events
from ..errors import BackendUnavailable
from .base import Done, Executor, Work
from .slots import SLOT_RESOURCE, Slot, default_slot_count, hold_slot, hostname, node_groups, pinned

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'ray[default]' (or perfbench[ray])"


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailable(
            f"--executor ray needs Ray, which is not installed ({exc}); {INSTALL_HINT}"
        ) from None
    return ray


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast, in one line, when nothing listens at ``host:port`` (Ray retries for minutes)."""
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise BackendUnavailable(
            f"--ray-address {address!r}: expected HOST:PORT (e.g. 10.0.0.5:6379)"
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise BackendUnavailable(
            f"--ray-address {address}: no Ray cluster answers ({exc.strerror or exc})"
        ) from None


class RayExecutor(Executor):
    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        max_retries: int = 3,
        resubmits: int = 2,
        poll_s: float = 5.0,
        no_slot_grace_s: float = 600.0,
    ) -> None:
        self.ray = import_ray()
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.max_retries = max_retries
        self.resubmits = resubmits
        self.poll_s = poll_s
        self.no_slot_grace_s = no_slot_grace_s
        self._connect()

    def _connect(self) -> None:
        ray = self.ray
        quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
        if self.address:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BackendUnavailable(
                    f"--ray-address {self.address}: cannot join the cluster: {first}"
                ) from None
        else:
            # No cluster named: a one-machine Ray with the default slots, so this works anywhere.
            slots = default_slot_count()
            log.info("no --ray-address: starting a local Ray with %d %s", slots, SLOT_RESOURCE)
            ray.init(
                address="local", resources={SLOT_RESOURCE: slots}, include_dashboard=False, **quiet
            )
        total = self.slots()
        if total < 1:
            self.close()
            raise BackendUnavailable(
                f"the Ray cluster at {self.address} advertises no {SLOT_RESOURCE}; "
                "start its nodes with "
                f"ray start --address ... --resources '{{\"{SLOT_RESOURCE}\": N}}'"
            )

    def slots(self) -> int:
        return int(self.ray.cluster_resources().get(SLOT_RESOURCE, 0))

    def describe(self) -> str:
        nodes = [
            n for n in self.ray.nodes() if n.get("Alive") and n["Resources"].get(SLOT_RESOURCE)
        ]
        where = self.address or "a local Ray"
        return f"ray at {where}: {self.slots()} slots on {len(nodes)} nodes"

    def close(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()

    def results(self, works: Sequence[Work], events: Events | None = None) -> Iterator[Done]:
        ray = self.ray
        task = ray.remote(run_in_slot).options(
            num_cpus=0,
            resources={SLOT_RESOURCE: 1},
            max_retries=self.max_retries,
            retry_exceptions=False,
        )
        pending: dict[Any, tuple[Work, int]] = {task.remote(w): (w, 0) for w in works}
        log.info("%d tasks submitted to %s", len(pending), self.describe())
        no_slots_since: float | None = None
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=self.poll_s)
                if not ready:
                    no_slots_since = self._check_slots(no_slots_since)
                    continue
                for ref in ready:
                    work, resubmitted = pending.pop(ref)
                    try:
                        value = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        yield Done(work, error=_first_line(exc))
                    except ray.exceptions.RayError as exc:
                        if resubmitted < self.resubmits:
                            log.warning("%s: %s; submitting it again", work.key, _first_line(exc))
                            pending[task.remote(work)] = (work, resubmitted + 1)
                        else:
                            yield Done(work, error=_first_line(exc))
                    else:
                        yield Done(work, value)
        finally:
            for ref in pending:
                try:
                    ray.cancel(ref)  # a KeyboardInterrupt in the task: its sandbox is cleaned up
                except Exception as exc:  # the cluster may be gone already
                    log.debug("cancel %s: %s", ref, exc)

    def _check_slots(self, since: float | None) -> float | None:
        """While no node offers a slot, wait ``no_slot_grace_s`` for one to join, then give up."""
        if self.slots() > 0:
            return None
        now = time.monotonic()
        if since is None:
            log.warning("no node of the cluster offers a %s; waiting for one", SLOT_RESOURCE)
            return now
        if now - since > self.no_slot_grace_s:
            raise BackendUnavailable(
                f"no node with a {SLOT_RESOURCE} for {self.no_slot_grace_s:.0f} s; "
                "finished reports are kept: run the same command again to resume"
            )
        return since


def run_in_slot(work: Work) -> Any:
    """Body of a Ray task: take one of this node's core groups, pin to it, run ``work``."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    slots = 1
    for node in ray.nodes():
        if node.get("NodeID") == node_id:
            slots = int(node.get("Resources", {}).get(SLOT_RESOURCE, 1)) or 1
            break
    with hold_slot(node_groups(slots)) as (index, cpus), pinned(cpus):
        return work.run(Slot(RayExecutor.name, node_id, hostname(), index, cpus))


def _first_line(exc: BaseException) -> str:
    """``Type: first line`` of a Ray error, or of the exception a task raised."""
    cause = getattr(exc, "cause", None) or exc
    lines = [ln.strip() for ln in str(cause).splitlines() if ln.strip()]
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"
