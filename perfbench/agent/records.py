"""What an agent run leaves behind: per-instance ``meta.json``, ``trajectory.jsonl``,
``model.patch`` and ``agent.log`` under ``<out>.runs/<instance_id>/``, and the predictions file.

Every file is written atomically (the trajectory is appended line by line while the agent
works and is complete once ``meta.json`` exists), so an interrupted run leaves either a
finished instance or none, and the same command resumes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..records import Prediction
from ..reports import atomic_write_json, atomic_write_text

log = logging.getLogger(__name__)

OK, NO_DIFF, TIMEOUT, CRASHED, ERROR = "ok", "no_diff", "timeout", "crashed", "error"
STATUSES = (OK, NO_DIFF, TIMEOUT, CRASHED, ERROR)
# The agent's own outcomes: kept on a re-run. ``error`` is ours (an image that did not build,
# an endpoint that did not answer, an engine that went away): the same command redoes it.
FINISHED = (OK, NO_DIFF, TIMEOUT, CRASHED)

META_FILE = "meta.json"
TRAJECTORY_FILE = "trajectory.jsonl"
PATCH_FILE = "model.patch"
LOG_FILE = "agent.log"


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunMeta:
    """One instance's outcome: status and why, what it cost, what ran it."""

    instance_id: str
    agent: str
    kind: str  # "command" or "builtin"
    status: str
    reason: str = ""
    wall_s: float = 0.0
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    patch_bytes: int = 0
    exit_code: int | None = None
    image: str = ""
    started_at: str = ""
    limits: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def prediction_patch_counts(self) -> bool:
        """Only an agent that ended on its own with a diff gives a non-empty prediction."""
        return self.status == OK

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMeta:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RunFolder:
    """``<out>.runs/``: the sidecar of the predictions file ``out``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = sidecar_of(out)

    def instance_dir(self, instance_id: str) -> Path:
        return self.root / instance_id

    def meta(self, instance_id: str) -> RunMeta | None:
        path = self.instance_dir(instance_id) / META_FILE
        if not path.is_file():
            return None
        try:
            return RunMeta.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("%s: unreadable (%s); the instance runs again", path, exc)
            return None

    def metas(self) -> list[RunMeta]:
        if not self.root.is_dir():
            return []
        found = (self.meta(d.name) for d in sorted(self.root.iterdir()) if d.is_dir())
        return [m for m in found if m is not None]

    def start(self, instance_id: str) -> Path:
        """A clean folder for a (re)run of the instance: what an earlier attempt left is gone."""
        folder = self.instance_dir(instance_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name in (META_FILE, TRAJECTORY_FILE, PATCH_FILE, LOG_FILE):
            (folder / name).unlink(missing_ok=True)
        return folder

    def finish(self, meta: RunMeta, patch: str) -> None:
        folder = self.instance_dir(meta.instance_id)
        atomic_write_text(folder / PATCH_FILE, patch)
        atomic_write_json(folder / META_FILE, meta.to_dict())  # last: it marks the instance done

    def patch(self, instance_id: str) -> str:
        path = self.instance_dir(instance_id) / PATCH_FILE
        return path.read_text() if path.is_file() else ""

    def check_agent(self, agent: str) -> None:
        """One predictions file holds one model: refuse to mix agents in one sidecar."""
        others = sorted({m.agent for m in self.metas() if m.agent != agent})
        if others:
            raise InputError(
                f"{self.root} holds runs of agent {others[0]!r}, not {agent!r}: "
                "write this agent's predictions to another --out",
                source=self.out,
            )

    def write_predictions(self, order: Iterable[str]) -> list[Prediction]:
        """Rewrite ``out`` from the finished instances (in ``order``), atomically."""
        preds = []
        for iid in order:
            meta = self.meta(iid)
            if meta is None or not meta.finished:
                continue
            patch = self.patch(iid) if meta.prediction_patch_counts else ""
            preds.append(Prediction(iid, meta.agent, patch))
        text = "".join(json.dumps(p.to_dict()) + "\n" for p in preds)
        atomic_write_text(self.out, text)
        return preds


def sidecar_of(predictions: Path) -> Path:
    """Where the runner keeps the per-instance records of a predictions file."""
    return predictions.with_name(predictions.name + ".runs")


class Trajectory:
    """Appends one JSON object per line, flushed at once, so a crash keeps every step so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def __enter__(self) -> Trajectory:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def write(self, kind: str, **data: Any) -> None:
        record = {"type": kind, "time": now_iso(), **data}
        if self._fh is None:
            raise RuntimeError("trajectory not open")
        self._fh.write(json.dumps(record, default=str) + "\n")
        self._fh.flush()
