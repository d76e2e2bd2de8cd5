"""What every executor does: run units of work in measurement slots and stream back results.

An executor knows nothing of grading or reports. It takes :class:`Work` items (picklable:
they travel to worker processes or Ray nodes), runs each in a slot it holds, and yields a
:class:`Done` for each as it finishes, in whatever order. The driver (``Evaluator.run``)
owns the loop and writes the results, so only one process ever writes the run folder.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .slots import Slot

if TYPE_CHECKING:
    from ..config import Events

log = logging.getLogger(__name__)


class Work(Protocol):
    """One task: ``key`` names it; ``run`` does it in ``slot`` and returns picklable data."""

    key: str

    def run(self, slot: Slot, events: Events | None = None) -> Any: ...


@dataclass
class Done:
    """A finished task: its value, or why it was lost (worker or node died, retries spent)."""

    work: Any
    value: Any = None
    error: str | None = None


class Executor(abc.ABC):
    name = "abstract"
    in_process = (
        False  # True when work runs in the driver's own thread (progress per block is shown)
    )

    @abc.abstractmethod
    def results(self, works: Sequence[Work], events: Events | None = None) -> Iterator[Done]:
        """Run ``works``, yielding each as it finishes."""

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        """Release workers or the cluster connection."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
