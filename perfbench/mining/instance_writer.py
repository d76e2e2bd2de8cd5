"""Mined instances on disk: ids, problem statements, instance folders and ``dataset.json``.

Folders follow :mod:`perfbench.datasets`: ``<out>/dataset.json`` and one
``<out>/<instance_id>/`` per instance with ``instance.json`` and ``workloads/*.py``.
Every write goes through a temporary name and a rename, so an interrupted run
leaves either the old folder or the new one. The problem statement is generated
from the changed API's names and signatures and the visible workload only: it
never quotes the commit message or the diff, which would give the solution away.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..datasets import DATASET_FILE, INSTANCE_FILE
from ..errors import InputError
from ..records import Instance
from ..reports import atomic_write_json

_NAME_PART = re.compile(r"[^A-Za-z0-9_.-]+")


def instance_id(repo_name: str, opt_sha: str) -> str:
    owner, _, name = repo_name.partition("/")
    return f"{owner}__{name}-{opt_sha[:7]}"


def normalize_repo_name(text: str) -> str:
    """``owner/name`` with characters an instance id allows; raises on anything else."""
    parts = text.strip().strip("/").removesuffix(".git").split("/")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"{text!r} is not of the form owner/name", field="repo-name")
    cleaned = [_NAME_PART.sub("-", p).strip("-.") for p in parts]
    if not all(cleaned):
        raise InputError(f"{text!r} has no usable characters in owner or name", field="repo-name")
    return "/".join(cleaned)


@dataclass
class ApiInfo:
    """A changed function as the problem statement names it."""

    api: str  # pkg.mod.func
    signature: str  # func(a, b=1)
    public: bool


def problem_statement(
    apis: list[ApiInfo], situation: str, visible_source: str, test_paths: list[str]
) -> str:
    """What the agent is told: the API, when it is slow, and the visible workload.

    ``apis`` must name at least one function or module; a change made at module level
    only (an import, a table built at import) is named by its module.
    """
    shown = [a for a in apis if a.public] or apis
    if not shown:
        raise ValueError("a problem statement needs at least one API or module to name")
    head = shown[0]
    names = ", ".join(f"`{a.api}`" for a in shown)
    module = head.api.rsplit(".", 1)[0]
    if head.signature:
        call = f"`{module}.{head.signature}`"
    elif head.api.startswith("import "):
        call = f"`{head.api}`"
    else:
        call = f"`{head.api}`"
    if len(shown) > 1:
        intro = f"{call} (together with {', '.join(f'`{a.api}`' for a in shown[1:])}) is slow"
    else:
        intro = f"{call} is slow"
    tests = ", ".join(f"`{p}/`" for p in test_paths) if test_paths else "the repository's tests"
    return (
        f"{intro} in this situation: {situation}. It accounts for much of the time of programs "
        f"that use it in this way.\n\n"
        f"Make {names} faster. Its results, and those of every other public function of the "
        f"library, must stay the same, and the tests under {tests} must keep passing.\n\n"
        "The workload below shows the kind of call that is slow. `setup(seed)` builds the inputs "
        "(not timed) and `run(data)` is the timed call. Your change will be timed on this "
        "workload and on other workloads of the same API with different inputs, sizes and seeds, "
        "so make the code faster in general rather than for these inputs only.\n\n"
        f"```python\n{visible_source.rstrip()}\n```\n"
    )


def write_instance_folder(out_dir: Path, inst: Instance, sources: dict[str, str]) -> Path:
    """Write ``inst`` (workload files from ``sources`` by name) as ``out_dir/<instance_id>/``."""
    final = out_dir / inst.instance_id
    tmp = out_dir / f".{inst.instance_id}.{uuid.uuid4().hex[:8]}.tmp"
    (tmp / "workloads").mkdir(parents=True)
    try:
        for name, text in sources.items():
            (tmp / "workloads" / f"{name}.py").write_text(text)
        record = inst.to_dict()
        record["workloads"] = [
            {
                "name": w.name,
                "path": f"workloads/{w.name}.py",
                "visible": w.visible,
                "description": w.description,
            }
            for w in inst.workloads
        ]
        (tmp / INSTANCE_FILE).write_text(json.dumps(record, indent=2) + "\n")
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def ensure_dataset(
    out_dir: Path, *, name: str, repo_name: str, location: str, description: str = ""
) -> dict[str, Any]:
    """Create or update ``dataset.json``; the evaluation seed is drawn once, when it is created."""
    path = out_dir / DATASET_FILE
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        if not isinstance(data, dict):
            raise InputError("expected a JSON object", source=path)
    data.setdefault("name", name)
    data.setdefault("version", "1")
    data.setdefault(
        "description", description or f"Instances mined from {repo_name} by perfbench mine."
    )
    data.setdefault("eval_seed", secrets.randbelow(2**31 - 2) + 1)
    repos = data.setdefault("repos", {})
    repos[repo_name] = location
    atomic_write_json(path, data)
    return data
