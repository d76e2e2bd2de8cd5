"""Load agent predictions (SWE-bench format) and the ``gold`` / ``empty`` controls."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .datasets import Dataset
from .errors import InputError, PatchError
from .patches import check_patch
from .records import Prediction

GOLD = "gold"
EMPTY = "empty"

log = logging.getLogger(__name__)


def load_predictions(
    spec: str,
    dataset: Dataset,
    instance_ids: list[str] | None = None,
    *,
    strict_patches: bool = False,
) -> list[Prediction]:
    """Predictions from a file, or the ``gold`` (expert patch) / ``empty`` (null patch) controls.

    Every prediction must name an instance of ``dataset``; an instance may have
    at most one prediction per model. A patch that is not a diff (or touches
    protected paths) is the agent's failure, not the user's: by default it is
    logged as a warning naming the instance and kept, to be graded as not applied
    (FAIL). With ``strict_patches`` it is an input error naming its line instead.
    """
    selected = dataset.select(instance_ids)
    if spec == GOLD:
        return [Prediction(i.instance_id, GOLD, i.expert_patch or "") for i in selected]
    if spec == EMPTY:
        return [Prediction(i.instance_id, EMPTY, "") for i in selected]
    path = Path(spec)
    if not path.exists():
        raise InputError(f"predictions file not found: {path} (or use 'gold' / 'empty')")
    preds = _read(path)
    wanted = {i.instance_id for i in selected}
    seen: set[tuple[str, str]] = set()
    for line, pred in preds:
        if pred.instance_id not in dataset:
            raise InputError(
                f"unknown instance {pred.instance_id!r} (not in dataset {dataset.name!r})",
                source=path,
                line=line,
                field="instance_id",
            )
        key = (pred.model_name_or_path, pred.instance_id)
        if key in seen:
            raise InputError(
                f"second prediction for {pred.instance_id!r} by the same model",
                source=path,
                line=line,
            )
        seen.add(key)
        if pred.model_patch.strip():
            try:
                check_patch(pred.model_patch)
            except PatchError as exc:
                if strict_patches:
                    raise InputError(
                        f"{exc} (without --strict-patches it is graded as not applied)",
                        source=path,
                        line=line,
                        field="model_patch",
                    ) from None
                if pred.instance_id in wanted:
                    where = f"{path}, line {line}" if line is not None else str(path)
                    log.warning(
                        "%s (%s): model_patch is refused, graded as not applied: %s (%s)",
                        pred.instance_id,
                        pred.model_name_or_path,
                        exc,
                        where,
                    )
    return [p for _, p in preds if p.instance_id in wanted]


def _read(path: Path) -> list[tuple[int | None, Prediction]]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=path) from None
    if not text.strip():
        raise InputError("predictions file is empty", source=path)
    src = str(path)
    if path.suffix.lower() == ".jsonl":
        return _read_jsonl(text, src)
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and path.suffix.lower() == ".json"):
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            if stripped.startswith("{") and exc.msg.startswith("Extra data"):
                return _read_jsonl(text, src)
            raise InputError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        return _from_json(data, src)
    return _read_jsonl(text, src)


def _read_jsonl(text: str, src: str) -> list[tuple[int | None, Prediction]]:
    out: list[tuple[int | None, Prediction]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", source=src, line=lineno) from None
        out.append((lineno, Prediction.from_dict(rec, source=src, line=lineno)))
    if not out:
        raise InputError("predictions file holds no records", source=src)
    return out


def _from_json(data: Any, src: str) -> list[tuple[int | None, Prediction]]:
    if isinstance(data, list):
        items = [(None, rec) for rec in data]
    elif isinstance(data, dict):
        # SWE-bench also writes {instance_id: {...}}; the key supplies a missing id.
        items = []
        for key, rec in data.items():
            if isinstance(rec, dict):
                rec = {"instance_id": key, **rec}
            items.append((None, rec))
    else:
        raise InputError(
            "expected a list of predictions or an object keyed by instance id", source=src
        )
    if not items:
        raise InputError("predictions file holds no records", source=src)
    out = []
    for index, (_, rec) in enumerate(items):
        try:
            out.append((None, Prediction.from_dict(rec, source=src)))
        except InputError as exc:
            raise InputError(f"record {index}: {exc.detail}", source=src, field=exc.field) from None
    return out
