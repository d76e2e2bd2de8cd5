"""What an agent's predictions cost (tokens, wall time, steps), carried from the agent run to the
run summary and the leaderboard.

``perfbench evaluate --predictions OUT`` finds ``OUT.runs/`` (the sidecar ``perfbench agent
run`` writes), copies each evaluated instance's costs to ``runs/RUN/MODEL/agent_cost.json``,
and the model's ``summary.json`` gets an ``agent_cost`` object over the instances it reports.
A submitted summary carries it to the leaderboard, which shows tokens and agent time per
instance beside the opt rate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..reports import atomic_write_json
from .records import RunFolder, sidecar_of

log = logging.getLogger(__name__)

COST_FILE = "agent_cost.json"
COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens", "steps")


def read_costs(predictions: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``{model: {instance_id: cost line}}`` from the sidecar of a predictions file, if any."""
    if not sidecar_of(predictions).is_dir():
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for meta in RunFolder(predictions).metas():
        if not meta.finished:
            continue
        out.setdefault(meta.agent, {})[meta.instance_id] = {
            "status": meta.status,
            "wall_s": meta.wall_s,
            **{k: getattr(meta, k) for k in COUNTS},
        }
    return out


def store_costs(model_dir: Path, lines: dict[str, dict[str, Any]]) -> None:
    """Merge ``lines`` into ``model_dir/agent_cost.json`` (atomically)."""
    path = model_dir / COST_FILE
    known = _load(path)
    known.update(lines)
    atomic_write_json(path, dict(sorted(known.items())))


def summarize(model_dir: Path, instance_ids: Iterable[str]) -> dict[str, Any] | None:
    """Totals and per-instance means over ``instance_ids``; None without cost records."""
    known = _load(model_dir / COST_FILE)
    lines = [known[i] for i in instance_ids if i in known]
    if not lines:
        return None
    n = len(lines)
    totals = {k: int(sum(int(line.get(k) or 0) for line in lines)) for k in COUNTS}
    wall = float(sum(float(line.get("wall_s") or 0.0) for line in lines))
    return {
        "instances": n,
        **totals,
        "wall_s": round(wall, 3),
        "tokens_per_instance": totals["total_tokens"] / n,
        "wall_s_per_instance": wall / n,
    }


def _load(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable (%s); agent costs start afresh", path, exc)
        return {}
    return data if isinstance(data, dict) else {}
