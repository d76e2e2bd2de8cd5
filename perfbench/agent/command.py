"""Command agents: a program of the user's, copied into the container and run there.

The program is one file (a shell script, a Python script with ``#!/usr/bin/env python3``, a
static binary); it runs as ``/pb/agent/<file name> ARGS...`` in ``/testbed`` with the
problem statement on stdin, and the environment of ``task.environment``
(``PERFBENCH_PROBLEM``, ``PERFBENCH_INSTANCE_ID``, ...). What it needs beyond the file must
be in the image already (the container has no network). It is done when it exits: exit
status 0 means its tree is its answer; any other status is a crash, and past the budget the
container is killed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..records import Instance
from .base import DONE, AgentOutcome
from .container import AgentContainer
from .records import CRASHED, LOG_FILE, TIMEOUT, Trajectory

AGENT_DIR = "/pb/agent"
TAIL = 2000


@dataclass
class CommandAgent:
    name: str
    program: Path
    args: list[str] = field(default_factory=list)
    kind: str = "command"

    def __post_init__(self) -> None:
        if not self.program.is_file():
            raise InputError(f"agent program not found: {self.program}", field="command")

    @property
    def path(self) -> str:
        return f"{AGENT_DIR}/{self.program.name}"

    def describe(self) -> str:
        return f"command agent {self.name!r}: {shlex.join([self.path, *self.args])}"

    def files(self) -> dict[str, tuple[bytes, int]]:
        return {self.path: (self.program.read_bytes(), 0o755)}

    def run(
        self, instance: Instance, box: AgentContainer, deadline: float, trajectory: Trajectory
    ) -> AgentOutcome:
        argv = [self.path, *self.args]
        trajectory.write("start", argv=argv, instance_id=instance.instance_id)
        result = box.exec(argv, deadline=deadline, stdin=instance.problem_statement.encode())
        out = result.stdout.decode(errors="replace")
        err = result.stderr.decode(errors="replace")
        (trajectory.path.parent / LOG_FILE).write_text(
            f"$ {shlex.join(argv)}\n--- stdout ---\n{out}\n--- stderr ---\n{err}\n"
        )
        trajectory.write(
            "exit",
            exit_code=result.exit_code,
            seconds=round(result.seconds, 3),
            timed_out=result.timed_out,
            stdout_tail=out[-TAIL:],
            stderr_tail=err[-TAIL:],
        )
        if result.timed_out:
            return AgentOutcome(
                TIMEOUT, f"still running after the {box.limits.budget_s:.0f}s budget; killed"
            )
        if result.exit_code != 0:
            last = next((line for line in reversed(err.splitlines()) if line.strip()), "")
            return AgentOutcome(
                CRASHED,
                f"exit status {result.exit_code}" + (f": {last[:200]}" if last else ""),
                exit_code=result.exit_code,
                steps=1,
            )
        return AgentOutcome(DONE, "exited with status 0", exit_code=0, steps=1)
