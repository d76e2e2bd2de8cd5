"""The records perfbench passes around: instances, workloads, predictions.

Records are plain dataclasses. ``from_dict`` validates field by field and
raises :class:`InputError` naming the field, so a malformed instance in a
dataset of hundreds points at itself. ``to_dict`` gives JSON-ready data that
``from_dict`` reads back unchanged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

INSTANCE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+__[A-Za-z0-9_.-]+-[0-9a-f]{7,40}$")
COMMIT_RE = re.compile(r"^[0-9a-f]{7,40}$")
DEFAULT_MIN_SPEEDUP = 1.2
DEFAULT_EXPERT_SHARE = 0.95


class _Reader:
    """Reads typed fields out of a mapping, with errors that say where."""

    def __init__(self, data: Any, *, source: str | None, line: int | None, prefix: str = ""):
        if not isinstance(data, Mapping):
            raise InputError(
                f"expected a JSON object, got {type(data).__name__}",
                source=source,
                line=line,
                field=prefix.rstrip(".") or None,
            )
        self.data = data
        self.source = source
        self.line = line
        self.prefix = prefix

    def error(self, name: str, message: str) -> InputError:
        return InputError(message, source=self.source, line=self.line, field=self.prefix + name)

    def get(
        self,
        name: str,
        types: type | tuple[type, ...],
        *,
        required: bool = False,
        default: Any = None,
    ) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise self.error(name, "missing required field")
            return default
        value = self.data[name]
        if types is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, types) or (isinstance(value, bool) and types in (int, float)):
            expected = (
                types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
            )
            raise self.error(name, f"expected {expected}, got {type(value).__name__}")
        return value

    def str_list(self, name: str) -> list[str]:
        values = self.get(name, list, default=[])
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise self.error(f"{name}[{i}]", f"expected str, got {type(v).__name__}")
        return list(values)

    def sub(self, name: str, index: int | None = None) -> _Reader:
        value = self.data.get(name) if index is None else self.data[name][index]
        label = name if index is None else f"{name}[{index}]"
        return _Reader(value, source=self.source, line=self.line, prefix=f"{self.prefix}{label}.")


@dataclass(frozen=True)
class Workload:
    """A perf workload: a Python file with ``setup(seed)``, ``run(data)`` and optional ``check``.

    ``path`` is relative to the instance's folder; ``source`` holds the text inline
    (datasets loaded from JSONL or parquet carry it that way). ``visible`` marks the
    workload shown to the agent in the problem statement (timed at seed 0).
    """

    name: str
    path: str | None = None
    source: str | None = None
    visible: bool = False
    description: str = ""

    @classmethod
    def from_dict(cls, r: _Reader) -> Workload:
        name = r.get("name", str, required=True)
        if not re.match(r"^[A-Za-z0-9_.-]+$", name):
            raise r.error("name", f"{name!r} may hold only letters, digits, '_', '.', '-'")
        path = r.get("path", str)
        source = r.get("source", str)
        if not path and not source:
            raise r.error("path", "a workload needs 'path' or 'source'")
        return cls(
            name=name,
            path=path,
            source=source,
            visible=r.get("visible", bool, default=False),
            description=r.get("description", str, default=""),
        )

    def read_source(self, base_dir: Path | None) -> str:
        if self.source is not None:
            return self.source
        assert self.path is not None
        if base_dir is None:
            raise InputError(
                f"workload {self.name!r} has a relative path but no folder to resolve it"
            )
        path = base_dir / self.path
        try:
            return path.read_text()
        except OSError as exc:
            raise InputError(
                f"cannot read workload {self.name!r}: {exc.strerror}", source=path
            ) from exc


@dataclass(frozen=True)
class EnvSpec:
    """How a variant's environment is made; per-repository defaults live in data files."""

    python: str = ""
    system_packages: list[str] = field(default_factory=list)
    install: list[str] = field(default_factory=list)
    pythonpath: list[str] = field(default_factory=list)
    env_vars: dict[str, str] = field(default_factory=dict)
    pip_packages: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, r: _Reader) -> EnvSpec:
        env_vars = r.get("env_vars", dict, default={})
        for k, v in env_vars.items():
            if not isinstance(v, str):
                raise r.error(f"env_vars.{k}", f"expected str, got {type(v).__name__}")
        return cls(
            python=str(r.get("python", (str, int, float), default="")),
            system_packages=r.str_list("system_packages"),
            install=r.str_list("install"),
            pythonpath=r.str_list("pythonpath"),
            env_vars=dict(env_vars),
            pip_packages=r.str_list("pip_packages"),
        )

    @property
    def needs_venv(self) -> bool:
        return bool(self.install or self.pip_packages)

    def content_hash(self) -> str:
        """Stable hash of everything that goes into a built environment."""
        import json

        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Grading:
    """Per-instance grading thresholds (DESIGN.md section 7)."""

    min_speedup: float = DEFAULT_MIN_SPEEDUP
    expert_share: float = DEFAULT_EXPERT_SHARE

    @classmethod
    def from_dict(cls, r: _Reader) -> Grading:
        g = cls(
            min_speedup=r.get("min_speedup", float, default=DEFAULT_MIN_SPEEDUP),
            expert_share=r.get("expert_share", float, default=DEFAULT_EXPERT_SHARE),
        )
        if g.min_speedup < 1.0:
            raise r.error("min_speedup", "must be at least 1.0")
        if not 0 < g.expert_share <= 1.5:
            raise r.error("expert_share", "must lie in (0, 1.5]")
        return g


@dataclass
class Instance:
    """One task: a repository at the parent of an expert's speed-up, its workloads and the expert patch."""

    instance_id: str
    repo: str
    base_commit: str
    opt_commit: str
    problem_statement: str
    workloads: list[Workload]
    created_at: str = ""
    expert_patch: str | None = None
    env: EnvSpec = field(default_factory=EnvSpec)
    guard_tests: list[str] = field(default_factory=list)
    test_command: str = "python -m pytest -q -p no:cacheprovider"
    test_paths: list[str] = field(default_factory=lambda: ["tests"])
    grading: Grading = field(default_factory=Grading)
    validation: dict[str, Any] = field(default_factory=dict)
    hidden_seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Where relative workload paths resolve; not part of the stored record.
    base_dir: Path | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_dict(
        cls,
        data: Any,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        base_dir: Path | None = None,
    ) -> Instance:
        src = str(source) if source is not None else None
        r = _Reader(data, source=src, line=line)
        instance_id = r.get("instance_id", str, required=True)
        if not INSTANCE_ID_RE.match(instance_id):
            raise r.error(
                "instance_id", f"{instance_id!r} is not of the form owner__name-<hex of opt_commit>"
            )
        repo = r.get("repo", str, required=True)
        if repo.count("/") != 1:
            raise r.error("repo", f"{repo!r} is not of the form owner/name")
        for name in ("base_commit", "opt_commit"):
            if not COMMIT_RE.match(r.get(name, str, required=True)):
                raise r.error(name, "expected a hexadecimal commit id")
        raw_workloads = r.get("workloads", list, required=True)
        if not raw_workloads:
            raise r.error("workloads", "an instance needs at least one workload")
        workloads = [Workload.from_dict(r.sub("workloads", i)) for i in range(len(raw_workloads))]
        names = [w.name for w in workloads]
        if len(set(names)) != len(names):
            raise r.error("workloads", "workload names must be unique")
        return cls(
            instance_id=instance_id,
            repo=repo,
            base_commit=r.get("base_commit", str),
            opt_commit=r.get("opt_commit", str),
            problem_statement=r.get("problem_statement", str, required=True),
            workloads=workloads,
            created_at=r.get("created_at", str, default=""),
            expert_patch=r.get("expert_patch", str),
            env=EnvSpec.from_dict(r.sub("env")) if data.get("env") is not None else EnvSpec(),
            guard_tests=r.str_list("guard_tests"),
            test_command=r.get("test_command", str, default=cls.test_command),
            test_paths=r.str_list("test_paths") if "test_paths" in data else ["tests"],
            grading=Grading.from_dict(r.sub("grading"))
            if data.get("grading") is not None
            else Grading(),
            validation=r.get("validation", dict, default={}),
            hidden_seed=r.get("hidden_seed", int),
            metadata=r.get("metadata", dict, default={}),
            base_dir=base_dir,
        )

    def to_dict(self, *, inline_workloads: bool = False) -> dict[str, Any]:
        """JSON-ready record; ``inline_workloads`` stores workload sources instead of paths."""
        d = asdict(self)
        d.pop("base_dir")
        if inline_workloads:
            d["workloads"] = [
                {
                    "name": w.name,
                    "source": w.read_source(self.base_dir),
                    "visible": w.visible,
                    "description": w.description,
                }
                for w in self.workloads
            ]
        return d

    @property
    def hidden_workloads(self) -> list[Workload]:
        return [w for w in self.workloads if not w.visible]

    @property
    def visible_workloads(self) -> list[Workload]:
        return [w for w in self.workloads if w.visible]

    def workload_source(self, workload: Workload) -> str:
        return workload.read_source(self.base_dir)


@dataclass(frozen=True)
class Prediction:
    """An agent's answer in the format SWE-bench agents emit."""

    instance_id: str
    model_name_or_path: str
    model_patch: str

    @classmethod
    def from_dict(
        cls, data: Any, *, source: str | None = None, line: int | None = None
    ) -> Prediction:
        r = _Reader(data, source=source, line=line)
        patch = r.get("model_patch", str, required="model_patch" not in data)
        return cls(
            instance_id=r.get("instance_id", str, required=True),
            model_name_or_path=r.get("model_name_or_path", str, required=True),
            model_patch=patch or "",
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
