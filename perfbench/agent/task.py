"""The files an agent gets for one instance, and the environment it runs in.

Inside the container (documented in the README, "Benchmarking your agent"):

- ``/testbed``: the repository at base_commit (the image's working directory);
- ``/pb/task/problem.md``: the problem statement (also on a command agent's stdin);
- ``/pb/task/workloads/<name>.py``: the visible workload, the only one there is;
- ``/pb/task/bin/pb-time``: times the visible workload on the tree as it is now;
- ``/pb/task/task.json``: instance id, base_commit, interpreter and import path.

Hidden workloads, the expert patch and the dataset never enter the container: only what
``task_files`` returns is copied in, and it reads nothing but the problem statement and the
visible workloads.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..records import Instance

TASK_DIR = "/pb/task"
REPO_DIR = "/testbed"
PROBLEM = f"{TASK_DIR}/problem.md"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PB_TIME = Path(__file__).with_name("pb_time.py")


def interpreter(instance: Instance) -> str:
    """The instance's Python in the agent image (as ``pbbuild.py`` made it)."""
    return "/pb/base/venv/bin/python" if instance.env.needs_venv else "python3"


def task_files(instance: Instance) -> dict[str, tuple[bytes, int]]:
    """Container path -> (content, mode) of everything copied in for ``instance``."""
    visible = instance.visible_workloads
    workloads = [{"name": w.name, "path": f"{TASK_DIR}/workloads/{w.name}.py"} for w in visible]
    task = {
        "instance_id": instance.instance_id,
        "repo": instance.repo,
        "base_commit": instance.base_commit,
        "repo_dir": REPO_DIR,
        "problem": PROBLEM,
        "python": interpreter(instance),
        "pythonpath": list(instance.env.pythonpath),
        "workloads": workloads,
        "time_helper": f"{TASK_DIR}/bin/pb-time",
    }
    files = {
        PROBLEM: (instance.problem_statement.encode(), 0o644),
        f"{TASK_DIR}/task.json": (json.dumps(task, indent=1).encode(), 0o644),
        f"{TASK_DIR}/bin/pb-time": (PB_TIME.read_bytes(), 0o755),
    }
    for w, entry in zip(visible, workloads, strict=True):
        files[entry["path"]] = (instance.workload_source(w).encode(), 0o644)
    return files


def environment(instance: Instance) -> dict[str, str]:
    """The agent's environment: where things are, and the instance's interpreter first."""
    path = f"{TASK_DIR}/bin:" + (
        f"/pb/base/venv/bin:{SYSTEM_PATH}" if instance.env.needs_venv else SYSTEM_PATH
    )
    env = {
        **instance.env.env_vars,
        "PERFBENCH_INSTANCE_ID": instance.instance_id,
        "PERFBENCH_PROBLEM": PROBLEM,
        "PERFBENCH_TASK": TASK_DIR,
        "PERFBENCH_REPO": REPO_DIR,
        "PERFBENCH_BASE_COMMIT": instance.base_commit,
        "PATH": path,
        "HOME": "/root",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if instance.env.pythonpath:
        env["PYTHONPATH"] = ":".join(f"{REPO_DIR}/{p}" for p in instance.env.pythonpath)
    if instance.env.needs_venv:
        env["VIRTUAL_ENV"] = "/pb/base/venv"
    return env
