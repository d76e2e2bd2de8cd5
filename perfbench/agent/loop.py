"""The built-in agent: a minimal loop between an OpenAI-compatible chat endpoint and the container.

Protocol (told to the model in the first message): every answer holds exactly one fenced
shell block (```bash ... ```); the host runs it with ``docker exec`` as ``bash -c`` in
``/testbed`` under a per-command timeout and answers with its exit status and output (cut in
the middle past a limit). An answer with a line ``SUBMIT`` and no block ends the run; so do
the step limit and the token limit (the tree as it is then is the answer), and the
wall-clock budget (a timeout: no prediction). The container needs no network: only the host
talks to the endpoint, with the key from ``PERFBENCH_LLM_KEY``.

Every step goes to the trajectory: the model's answer, the command, its exit status and
(cut) output, the call's token counts and seconds.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from ..llm import LLMClient, LLMError, LLMSettings
from ..records import Instance
from .base import DONE, AgentOutcome
from .container import AgentContainer, truncate
from .records import ERROR, TIMEOUT, Trajectory
from .task import PROBLEM, REPO_DIR, TASK_DIR

BLOCK = re.compile(r"```(?:bash|sh|shell|console)?[ \t]*\n(.*?)```", re.DOTALL)
SUBMIT = re.compile(r"^\s*SUBMIT\s*$", re.MULTILINE)

SYSTEM = f"""You are a software engineer making a Python repository faster without changing \
what it computes. You work in a Linux container with no network.

- The repository is at {REPO_DIR} (a git checkout of the base commit); edit it in place.
- The problem statement is at {PROBLEM}.
- The visible workload is under {TASK_DIR}/workloads/; `pb-time` times it on the tree as it \
is now and prints a digest of its results (the digest must not change).

Answer with exactly one shell command in a fenced block:

```bash
<command>
```

It runs with bash in {REPO_DIR}; you get its exit status and output. When your change is \
complete, answer with a line holding only SUBMIT and no command block. Your diff against \
the base commit is your answer."""


@dataclass
class LoopLimits:
    max_steps: int = 30
    max_tokens: int = 200_000  # prompt + completion over the whole instance
    output_chars: int = 10_000


@dataclass
class BuiltinAgent:
    name: str
    settings: LLMSettings
    limits: LoopLimits = field(default_factory=LoopLimits)
    kind: str = "builtin"

    def describe(self) -> str:
        return (
            f"built-in agent {self.name!r}: model {self.settings.model} at {self.settings.endpoint}, "
            f"at most {self.limits.max_steps} steps and {self.limits.max_tokens} tokens"
        )

    def files(self) -> dict[str, tuple[bytes, int]]:
        return {}

    def run(
        self, instance: Instance, box: AgentContainer, deadline: float, trajectory: Trajectory
    ) -> AgentOutcome:
        client = LLMClient(self.settings)
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": instance.problem_statement},
        ]
        trajectory.write("prompt", model=self.settings.model, messages=messages)
        out = AgentOutcome(DONE)
        t_start = time.monotonic()
        while True:
            if out.steps >= self.limits.max_steps:
                out.reason = f"step limit ({self.limits.max_steps}) reached"
                break
            if out.total_tokens >= self.limits.max_tokens:
                out.reason = f"token limit ({self.limits.max_tokens}) reached"
                break
            if time.monotonic() >= deadline:
                box.kill()
                return self._end(out, TIMEOUT, f"budget of {box.limits.budget_s:.0f}s spent")
            try:
                reply = client.complete(messages)
            except LLMError as exc:
                trajectory.write("error", error=str(exc))
                return self._end(out, ERROR, str(exc))
            out.steps += 1
            out.prompt_tokens += reply.prompt_tokens
            out.completion_tokens += reply.completion_tokens
            out.total_tokens += reply.total_tokens
            messages.append({"role": "assistant", "content": reply.content})
            step = {
                "step": out.steps,
                "elapsed_s": round(time.monotonic() - t_start, 3),
                "llm_s": round(reply.seconds, 3),
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.total_tokens,
                "reply": reply.content,
            }
            block = BLOCK.search(reply.content)
            if block is None:
                if SUBMIT.search(reply.content):
                    trajectory.write("step", **step, submitted=True)
                    out.reason = "submitted"
                    break
                observation = "No command found. Answer with one ```bash block, or SUBMIT."
                trajectory.write("step", **step, command=None, observation=observation)
                messages.append({"role": "user", "content": observation})
                continue
            command = block.group(1).strip()
            timeout = min(box.limits.command_timeout_s, max(0.0, deadline - time.monotonic()))
            result = box.exec(
                ["timeout", "-k", "5", f"{max(timeout, 1):.0f}", "bash", "-c", command],
                deadline=min(deadline, time.monotonic() + timeout + 15),
            )
            if box.killed:
                trajectory.write("step", **step, command=command, timed_out=True)
                return self._end(out, TIMEOUT, f"budget of {box.limits.budget_s:.0f}s spent")
            text = result.text(self.limits.output_chars)
            code = result.exit_code
            note = " (killed: the command's time limit)" if code in (124, 137) else ""
            observation = f"exit status {code}{note}\n{text}"
            trajectory.write(
                "step",
                **step,
                command=command,
                exit_code=code,
                exec_s=round(result.seconds, 3),
                output=truncate(text, self.limits.output_chars),
            )
            messages.append({"role": "user", "content": observation})
        trajectory.write("end", reason=out.reason, steps=out.steps, total_tokens=out.total_tokens)
        return out

    @staticmethod
    def _end(out: AgentOutcome, status: str, reason: str) -> AgentOutcome:
        out.status, out.reason = status, reason
        return out
