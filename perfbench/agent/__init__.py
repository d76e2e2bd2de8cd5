"""``perfbench agent run``: run an agent on a dataset's instances and write its predictions.

Each instance gets a fresh container from the agent-facing image (``perfbench build
--agent``: base_commit only, no workloads, no expert patch, no later history), with no
network, CPU, memory and pids limits and a wall-clock budget enforced from the host. The
agent is either a program of the user's, run inside the container (``command.py``), or the
built-in loop that talks to an OpenAI-compatible endpoint and runs its shell commands in the
container (``loop.py``). The prediction is the diff of the working tree against base_commit;
each instance's status, costs and trajectory go to a sidecar folder (``records.py``), and a
re-run skips finished instances (``runner.py``).
"""
