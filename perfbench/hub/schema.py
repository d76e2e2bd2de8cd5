"""The published columns: explicit ``datasets.Features`` and the row of one instance.

Fixed-shape records are Arrow structs so the hub's viewer and ``datasets``
show them as such (workloads, env, grading). Fields whose shape varies from
instance to instance (``validation``, ``metadata``, ``env.env_vars``) are JSON
strings; ``perfbench.datasets`` decodes them on load. Secrets are left out:
``hidden_seed`` (and the dataset's ``eval_seed``, which is not a column at all).
"""

from __future__ import annotations

import json
from typing import Any

from ..records import Instance

# Instance fields that must never be published: they would let agents reproduce hidden inputs.
SECRET_FIELDS = ("hidden_seed",)


def features() -> Any:
    """The ``datasets.Features`` of a published split (``datasets`` is imported lazily: slow)."""
    from datasets import Features, List, Value

    string = Value("string")
    return Features(
        {
            "instance_id": string,
            "repo": string,
            "base_commit": string,
            "opt_commit": string,
            "created_at": string,
            "problem_statement": string,
            "expert_patch": string,
            "workloads": List(
                {
                    "name": string,
                    "source": string,
                    "visible": Value("bool"),
                    "description": string,
                }
            ),
            "env": {
                "python": string,
                "system_packages": List(string),
                "install": List(string),
                "pythonpath": List(string),
                "pip_packages": List(string),
                "env_vars": string,
            },
            "guard_tests": List(string),
            "test_command": string,
            "test_paths": List(string),
            "grading": {"min_speedup": Value("float64"), "expert_share": Value("float64")},
            "validation": string,
            "metadata": string,
        }
    )


FIELD_DOCS: dict[str, str] = {
    "instance_id": "`owner__name-<7 hex of opt_commit>`; unique in the dataset",
    "repo": "GitHub-style `owner/name` of the repository",
    "base_commit": "the commit the agent starts from (parent of the expert's change)",
    "opt_commit": "the expert's commit that made the code faster",
    "created_at": "date of the expert's commit (ISO 8601)",
    "problem_statement": "what the agent is told: the API to speed up and one visible workload",
    "expert_patch": "unified diff base -> opt; null when it is to be derived from the repository",
    "workloads": "list of {name, source, visible, description}: the timed Python workloads "
    "(`setup(seed)`, `run(data)`, optional `check`); `visible` marks the one shown to agents",
    "env": "struct {python, system_packages, install, pythonpath, pip_packages, env_vars}: "
    "how each "
    "variant's environment is built; `env_vars` is a JSON object as a string (null if empty)",
    "guard_tests": "test ids that pass at base and opt; a candidate must keep them passing",
    "test_command": "command that runs the guard tests",
    "test_paths": "folders holding the repository's tests",
    "grading": "struct {min_speedup, expert_share}: thresholds of the opt verdict",
    "validation": "JSON string: how the expert's speedup was measured (per workload: speedup, CI, "
    "blocks, machine, date)",
    "metadata": "JSON string: free-form details (API, patch size, mining provenance, licence)",
}


def instance_row(inst: Instance) -> dict[str, Any]:
    """One published row: workload sources inline, nested records shaped for ``features()``."""
    d = inst.to_dict(inline_workloads=True)
    for name in SECRET_FIELDS:
        d.pop(name, None)
    env = dict(d["env"])
    env["env_vars"] = json.dumps(env["env_vars"], sort_keys=True) if env.get("env_vars") else None
    d["env"] = env
    d["validation"] = json.dumps(d.get("validation") or {}, sort_keys=True)
    d["metadata"] = json.dumps(d.get("metadata") or {}, sort_keys=True)
    return d


def expected_record(inst: Instance) -> dict[str, Any]:
    """What loading the published row back must give: the inline record without secrets."""
    d = inst.to_dict(inline_workloads=True)
    for name in SECRET_FIELDS:
        d[name] = None
    return d


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``instance_row``: JSON-string fields back to objects, as the loader does."""
    out = dict(row)
    for key in ("validation", "metadata"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key]) if out[key] else None
    env = out.get("env")
    if isinstance(env, dict) and isinstance(env.get("env_vars"), str):
        out["env"] = {**env, "env_vars": json.loads(env["env_vars"])}
    return out
