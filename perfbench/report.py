"""The report of one evaluation (a model's prediction on one instance), as a typed record.

Every ``report.json`` is a :class:`Report` written with :meth:`Report.to_dict` and read back
with :meth:`Report.from_dict`: the evaluation builds its parts in several places (the grade,
the measurement, the sandbox, an error), and this record is where they meet and are checked,
so a field cannot appear in a report without being declared, typed and documented here.

Field by field (intervals are ``{estimate, low, high, n_blocks, method, level, half_width}``,
ratios of per-call times over the hidden workloads, geometric mean, at the level in
``measurement.ci_level``; ``builds`` maps each variant to ``ok``, ``seconds`` (what this
evaluation waited for it: near zero when cached), ``cached``, ``build_s`` (the variant's own
build, timed when it was made, so a cached build keeps its figure; null when unknown),
``ccache`` (that build's compiler-cache ``hits`` and ``misses``, or null), ``error``,
``apply_method`` and ``log``):
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from .errors import InputError

SCHEMA_VERSION = 1
STATUSES = ("done", "error")
VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE", "ERROR")

Interval = dict[str, Any]


@dataclass
class Report:
    # -- what was evaluated
    run_id: str  #: the run's name (``--run-id``)
    model: str  #: ``model_name_or_path`` of the prediction
    instance_id: str  #: ``owner__name-<7 hex of opt_commit>``
    repo: str  #: ``owner/name``
    created_at: str  #: ISO 8601, UTC, when the evaluation started
    patch_sha256: str  #: digest of the model patch as given
    thresholds: dict[str, Any]  #: the instance's ``grading``: ``min_speedup``, ``expert_share``
    machine: dict[str, Any]  #: host, platform, CPU model, cores, Python, perfbench version
    # -- outcome
    status: str  #: ``done``, or ``error`` when the evaluation itself failed (not the patch)
    opt: str  #: PASS / FAIL / INCONCLUSIVE, or ERROR with status ``error``
    reason: str  #: one line: why this verdict
    flags: list[str] = field(default_factory=list)  #: overfit, contended, timeout, ... (README)
    applied: bool | None = None  #: the patch applied (None: not known, status error)
    built: bool | None = None  #: the candidate built
    correct: bool | None = None  #: every result equals base's AND the guard tests pass
    improved: bool | None = None  #: correct and the speedup's interval lies above 1
    opt_gso: bool | None = None  #: GSO's point-estimate verdict, for comparison
    apply_method: str = ""  #: git apply / git apply --ignore-whitespace / patch --fuzz
    correct_detail: str = ""  #: the first difference found, or "results equal base's"
    guard: dict[str, Any] = field(default_factory=dict)  #: ran, passed, detail of the guard tests
    # -- figures
    speedup: Interval | None = None  #: T_base / T_candidate (identity rules applied)
    expert_speedup: Interval | None = None  #: T_base / T_expert, in the same blocks
    share_of_expert: Interval | None = None  #: T_expert / T_candidate
    hidden_speedup: Interval | None = None  #: the speedup on the hidden workloads (= speedup)
    visible_speedup: Interval | None = None  #: the speedup on the visible workload
    control: Interval | None = None  #: base over base measured again (``--control``)
    cold_speedup: Interval | None = None  #: first calls only (before any warm-up)
    measured_speedup: Interval | None = None  #: as timed, when an identity rule replaced it
    per_workload: dict[str, Any] = field(default_factory=dict)  #: speedups per workload
    # -- how it was measured
    sandbox: dict[str, Any] = field(default_factory=dict)  #: backend, isolation, what was protected
    builds: dict[str, Any] = field(default_factory=dict)  #: per variant: see "builds" above
    measurement: dict[str, Any] = field(default_factory=dict)  #: blocks, stop, looks, CI level
    seconds: float = 0.0  #: wall time of the whole evaluation
    executor: dict[str, Any] | None = None  #: where and when a cluster task ran it
    # -- evaluation errors (status ``error``)
    error: str = ""  #: what went wrong
    fix: str = ""  #: one line: what to do about it, then rerun the same command
    schema: int = SCHEMA_VERSION  #: version of this record's layout

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: Path | str | None = None) -> Report:
        """Check and load a report; an unknown or mistyped field is an error naming it."""
        if not isinstance(data, dict):
            raise InputError("a report must be a JSON object", source=source)
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise InputError(
                "field not in the report schema (perfbench/report.py)",
                source=source,
                field=unknown[0],
            )
        for name, f in fields.items():
            if name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise InputError("missing required field", source=source, field=name)
                continue
            if not _fits(data[name], hints[name]):
                raise InputError(
                    f"expected {_describe(hints[name])}, got {type(data[name]).__name__}",
                    source=source,
                    field=name,
                )
        if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise InputError(
                f"report schema {data['schema']} is not {SCHEMA_VERSION}",
                source=source,
                field="schema",
            )
        if data["status"] not in STATUSES:
            raise InputError(
                f"expected one of {', '.join(STATUSES)}", source=source, field="status"
            )
        if data["opt"] not in VERDICTS:
            raise InputError(f"expected one of {', '.join(VERDICTS)}", source=source, field="opt")
        return cls(**data)


def _fits(value: Any, hint: Any) -> bool:
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    return str(hint).replace("typing.", "")


def field_docs() -> dict[str, str]:
    """Each field's one-line description, from the ``#:`` comments above (for docs and tests)."""
    import inspect
    import re

    out = {}
    for line in inspect.getsource(Report).splitlines():
        m = re.match(r"\s+(\w+): .*#: (.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out
