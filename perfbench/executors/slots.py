"""Measurement slots: which cores a measurement may use, and who holds them right now.

A machine offers some *slots*; each is a group of cores, disjoint from every other
group. A task holds one slot for its whole life (builds, measurement, checks) and is
pinned to its cores, so two measurements never share a core and a build never lands
on another measurement's cores. Slots are held with a file lock per core group in the
machine's temp folder: the kernel drops the lock when the holder dies, and two Ray
nodes (or two runs) on one machine that map to the same cores wait for each other
instead of measuring side by side.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..locks import try_file_lock
from ..sandbox.limits import available_cpus

log = logging.getLogger(__name__)

SLOT_RESOURCE = "perfbench_slot"
SLOT_CPUS_ENV = "PERFBENCH_SLOT_CPUS"
LOCK_DIR = Path(tempfile.gettempdir()) / "perfbench-slots"

CpuGroup = tuple[int, ...]


@dataclass(frozen=True)
class Slot:
    """Where one task ran: recorded in its report so that overlap can be checked afterwards."""

    executor: str
    node: str
    host: str
    index: int
    cpus: CpuGroup | None

    def describe(self) -> dict[str, Any]:
        return {
            "executor": self.executor,
            "node": self.node,
            "host": self.host,
            "slot": self.index,
            "cpus": list(self.cpus) if self.cpus else None,
        }


def parse_cpu_list(text: str) -> CpuGroup:
    """'1', '0,2' or '2-3' -> CPU numbers."""
    cpus: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            cpus.extend(range(int(lo), int(hi) + 1))
        else:
            cpus.append(int(part))
    return tuple(sorted(set(cpus)))


def parse_groups(text: str) -> list[CpuGroup]:
    """``PERFBENCH_SLOT_CPUS``: groups separated by ';', e.g. '1;2' or '2-3;4-5'."""
    try:
        groups = [parse_cpu_list(g) for g in text.split(";") if g.strip()]
    except ValueError:
        raise InputError(
            f"{text!r} is not a list of core groups like '1;2' or '2-3;4-5'", source=SLOT_CPUS_ENV
        ) from None
    seen: set[int] = set()
    for g in groups:
        if not g or seen & set(g):
            raise InputError(
                f"{text!r}: core groups must be non-empty and disjoint", source=SLOT_CPUS_ENV
            )
        seen |= set(g)
    if not groups:
        raise InputError("no core group given", source=SLOT_CPUS_ENV)
    return groups


def measurement_cpus(available: list[int], slots: int) -> list[int]:
    """The cores measurements may use: all but the first, when that still leaves one per slot.

    The first core is left to the system, the driver and Ray's own processes.
    """
    return available[1:] if len(available) > slots else list(available)


def split_groups(cpus: list[int], slots: int) -> list[CpuGroup]:
    """``slots`` disjoint, contiguous groups of ``cpus`` (the first groups take any remainder)."""
    if slots < 1:
        raise InputError("the number of slots must be at least 1")
    if len(cpus) < slots:
        raise InputError(
            f"{slots} measurement slots need at least {slots} cores to stay disjoint; "
            f"{len(cpus)} available ({_fmt(cpus)})"
        )
    size, extra = divmod(len(cpus), slots)
    groups, start = [], 0
    for i in range(slots):
        n = size + (1 if i < extra else 0)
        groups.append(tuple(cpus[start : start + n]))
        start += n
    return groups


def default_slot_count(available: list[int] | None = None) -> int:
    """One slot per core but the first (one in all on a single-core machine)."""
    cpus = available if available is not None else available_cpus()
    return max(1, len(cpus) - 1)


def node_groups(
    slots: int, env: dict[str, str] | None = None, available: list[int] | None = None
) -> list[CpuGroup]:
    """Core groups of this machine's ``slots``: ``PERFBENCH_SLOT_CPUS``, else an even split."""
    env = os.environ if env is None else env
    if env.get(SLOT_CPUS_ENV):
        groups = parse_groups(env[SLOT_CPUS_ENV])
        if len(groups) != slots:
            log.warning(
                "%s lists %d core groups for %d slots; using the groups",
                SLOT_CPUS_ENV,
                len(groups),
                slots,
            )
        return groups
    cpus = available if available is not None else available_cpus()
    return split_groups(measurement_cpus(cpus, slots), slots)


def _fmt(cpus: CpuGroup | list[int]) -> str:
    return ",".join(map(str, cpus)) or "none"


def _lock_path(cpus: CpuGroup) -> Path:
    return LOCK_DIR / ("cpus-" + re.sub(r"[^0-9-]", "-", "-".join(map(str, cpus))) + ".lock")


@contextmanager
def hold_slot(
    groups: list[CpuGroup], prefer: int = 0, poll_s: float = 0.2
) -> Iterator[tuple[int, CpuGroup]]:
    """Hold the first free core group (trying ``prefer`` first); wait while all are held."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    order = [prefer % len(groups), *[i for i in range(len(groups)) if i != prefer % len(groups)]]
    waited = False
    while True:
        for i in order:
            with try_file_lock(_lock_path(groups[i])) as held:
                if held:
                    yield i, groups[i]
                    return
        if not waited:
            log.warning(
                "every core group of this machine is held (%s); waiting",
                "; ".join(_fmt(g) for g in groups),
            )
            waited = True
        time.sleep(poll_s)


@contextmanager
def pinned(cpus: CpuGroup | None) -> Iterator[None]:
    """Pin the calling thread, and so every process it starts, to ``cpus``; restore afterwards."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def hostname() -> str:
    return socket.gethostname()
