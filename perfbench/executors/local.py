"""The ``local`` executor: one machine, one or several measurement slots.

With one slot (the default) every evaluation runs in the driver's own process, one
after another, as perfbench always did. With ``--max-workers N`` the pinned cores are
split into N disjoint groups and each evaluation runs in a fresh process that holds one
group for its whole life (its builds included), so parallel measurements never share a
core. A fresh process per task, rather than threads, lets an interrupted run stop
its workers at once and keeps ``preexec_fn`` out of a threaded process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from ..config import Events
from ..errors import InputError
from ..sandbox.limits import available_cpus
from .base import Done, Executor, Work
from .slots import CpuGroup, Slot, hold_slot, hostname, measurement_cpus, pinned, split_groups

log = logging.getLogger(__name__)


def local_groups(max_workers: int, cpus: CpuGroup | None) -> list[CpuGroup]:
    """Core groups of ``max_workers`` slots: from ``--cpus``, else all cores but the first."""
    pool = list(cpus) if cpus else measurement_cpus(available_cpus(), max_workers)
    try:
        return split_groups(pool, max_workers)
    except InputError as exc:
        raise InputError(f"--max-workers {max_workers}: {exc}") from None


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, max_workers: int = 1, cpus: CpuGroup | None = None) -> None:
        if max_workers < 1:
            raise InputError(f"--max-workers must be at least 1, not {max_workers}")
        self.max_workers = max_workers
        self.cpus = cpus
        self.groups = local_groups(max_workers, cpus) if max_workers > 1 else [cpus or ()]
        self.in_process = max_workers == 1

    def describe(self) -> str:
        if self.in_process:
            return "local"
        return f"local, {self.max_workers} slots on cores " + "; ".join(
            ",".join(map(str, g)) for g in self.groups
        )

    def results(self, works: Sequence[Work], events: Events | None = None) -> Iterator[Done]:
        if self.in_process:
            slot = Slot(
                self.name, hostname(), hostname(), 0, tuple(self.cpus) if self.cpus else None
            )
            for work in works:
                yield Done(work, work.run(slot, events))
            return
        yield from _ProcessSlots(self.groups).run(works)


@dataclass
class _Running:
    work: Any
    process: BaseProcess
    conn: Connection
    index: int


class _ProcessSlots:
    """Runs each work item in a fresh (spawned) process holding one of ``groups``."""

    def __init__(self, groups: list[CpuGroup]) -> None:
        self.groups = groups
        self.context = multiprocessing.get_context("spawn")

    def run(self, works: Sequence[Work]) -> Iterator[Done]:
        queue = list(works)
        running: dict[int, _Running] = {}
        try:
            while queue or running:
                for index in range(len(self.groups)):
                    if queue and index not in running:
                        running[index] = self._start(queue.pop(0), index)
                ready = wait(
                    [r.conn for r in running.values()]
                    + [r.process.sentinel for r in running.values()]
                )
                for index, r in list(running.items()):
                    if r.conn not in ready and r.process.sentinel not in ready:
                        continue
                    done = self._collect(r)
                    if done is None:
                        continue
                    del running[index]
                    yield done
        finally:
            self._stop([r.process for r in running.values()])

    def _start(self, work: Work, index: int) -> _Running:
        parent, child = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_child,
            args=(work, self.groups, index, child),
            name=f"perfbench-slot-{index}",
            daemon=False,
        )
        process.start()
        child.close()
        return _Running(work, process, parent, index)

    def _collect(self, r: _Running) -> Done | None:
        """The result of a finished worker, or None while it still runs."""
        if not r.conn.poll() and r.process.is_alive():
            return None
        try:
            kind, value = r.conn.recv()
        except EOFError:  # it died before sending anything
            kind, value = "lost", None
        r.process.join()
        r.conn.close()
        if kind == "ok":
            return Done(r.work, value)
        return Done(
            r.work,
            error=str(value or f"the worker process died (exit status {r.process.exitcode})"),
        )

    @staticmethod
    def _stop(processes: list[BaseProcess]) -> None:
        """Interrupt workers (they clean up their sandboxes), then kill what is left."""
        for p in processes:
            if p.is_alive() and p.pid:
                try:
                    os.kill(p.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        for p in processes:
            p.join(timeout=15)
            if p.is_alive():
                p.kill()
                p.join()


def _child(work: Work, groups: list[CpuGroup], index: int, conn: Connection) -> None:
    """Body of a worker process: hold a slot, pin to it, run, send the result back."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with hold_slot(groups, prefer=index) as (held, cpus), pinned(cpus):
            slot = Slot(LocalExecutor.name, hostname(), hostname(), held, cpus)
            conn.send(("ok", work.run(slot)))
    except KeyboardInterrupt:
        conn.send(("lost", "interrupted"))
    except Exception as exc:
        conn.send(("lost", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
