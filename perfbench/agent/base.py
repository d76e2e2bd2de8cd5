"""What every kind of agent gives the runner: how it ended, what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..records import Instance
from .container import AgentContainer
from .records import Trajectory

DONE = "done"  # the agent ended on its own: its diff becomes the prediction


@dataclass
class AgentOutcome:
    """``status`` is ``done`` or one of the run statuses ``timeout``, ``crashed``, ``error``."""

    status: str
    reason: str = ""
    exit_code: int | None = None
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Agent(Protocol):
    name: str
    kind: str

    def describe(self) -> str:
        """One line for people: what runs, with which limits."""
        ...

    def files(self) -> dict[str, tuple[bytes, int]]:
        """Files the agent itself needs in the container (its program), by container path."""
        ...

    def run(
        self, instance: Instance, box: AgentContainer, deadline: float, trajectory: Trajectory
    ) -> AgentOutcome:
        """Work on ``instance`` in the started container ``box`` until done or ``deadline``."""
        ...
