"""Load datasets of instances from folders, JSON/JSONL, parquet or a saved Hugging Face dataset.

A dataset *folder* (``instances/examples``) holds ``dataset.json`` (name, version,
the secret evaluation seed and where its repositories live) and one sub-folder
per instance with ``instance.json`` and its workload files. Files (JSONL,
parquet, a published dataset) carry workload sources inline.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .records import EnvSpec, Instance, _Reader

log = logging.getLogger(__name__)

DATASET_FILE = "dataset.json"
INSTANCE_FILE = "instance.json"
REPOSITORIES_KEY = "repositories"  # dataset.json: settings shared by a repository's instances
PUBLISHED_FILE = (
    "perfbench.json"  # sidecar of a published dataset (perfbench publish); holds no seed
)
DEFAULT_EVAL_SEED = 20261123


@dataclass
class Dataset:
    """A named, versioned list of instances plus where their repositories are."""

    name: str
    instances: list[Instance]
    version: str = ""
    description: str = ""
    eval_seed: int = DEFAULT_EVAL_SEED
    repos: dict[str, str] = field(default_factory=dict)
    root: Path | None = None
    has_eval_seed: bool = False  # its own (private) eval_seed; a published dataset has none

    def seedless(self, instances: Iterable[Instance] | None = None) -> bool:
        """True when hidden workloads would run at perfbench's public default seed: no private
        ``eval_seed`` and some instance without its own ``hidden_seed``."""
        insts = self.instances if instances is None else list(instances)
        return not self.has_eval_seed and any(i.hidden_seed is None for i in insts)

    def __post_init__(self) -> None:
        ids = [i.instance_id for i in self.instances]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise InputError(f"duplicate instance ids: {', '.join(dupes)}", source=self.root)
        self._by_id = {i.instance_id: i for i in self.instances}

    def __len__(self) -> int:
        return len(self.instances)

    def __iter__(self) -> Iterator[Instance]:
        return iter(self.instances)

    def __contains__(self, instance_id: object) -> bool:
        return instance_id in self._by_id

    def get(self, instance_id: str) -> Instance:
        try:
            return self._by_id[instance_id]
        except KeyError:
            raise InputError(f"unknown instance {instance_id!r} in dataset {self.name!r}") from None

    def select(self, instance_ids: Iterable[str] | None) -> list[Instance]:
        if not instance_ids:
            return list(self.instances)
        return [self.get(i) for i in instance_ids]

    def repo_locations(self) -> dict[str, str]:
        """The dataset's own location of each of its repositories that has one."""
        return {r: loc for r in {i.repo for i in self} if (loc := self.repo_location(r))}

    def repo_location(self, repo: str) -> str | None:
        """Where the dataset itself says ``repo`` lives (e.g. a bundled git bundle), if anywhere."""
        loc = self.repos.get(repo)
        if loc is None:
            return None
        if "://" not in loc and self.root is not None and not Path(loc).is_absolute():
            return str((self.root / loc).resolve())
        return loc


def load_dataset(path: str | Path) -> Dataset:
    """Load a dataset from any of the supported forms, validating every record."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"dataset not found: {p}")
    if p.is_dir():
        if (p / DATASET_FILE).exists() or any(p.glob(f"*/{INSTANCE_FILE}")):
            return _load_folder(p)
        if (p / "dataset_dict.json").exists() or (p / "state.json").exists():
            return _load_hf_saved(p)
        parquet = sorted(p.glob("**/*.parquet"))
        if parquet:
            return _load_parquet_files(parquet, name=p.name, root=p)
        jsonl = sorted(p.glob("*.jsonl"))
        if jsonl:
            return _from_records(_read_jsonl(jsonl[0]), name=p.name, source=jsonl[0], root=p)
        raise InputError(f"{p}: no {DATASET_FILE}, instance folders, parquet or JSONL files found")
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        return _from_records(_read_jsonl(p), name=p.stem, source=p, root=p.parent)
    if suffix == ".json":
        data = _read_json(p)
        meta: dict[str, Any] = {}
        if isinstance(data, dict) and "instances" in data:
            meta, data = data, data["instances"]
        if not isinstance(data, list):
            raise InputError("expected a list of instances or an object with 'instances'", source=p)
        records = [(i + 1, rec) for i, rec in enumerate(data)]
        return _from_records(
            records, name=meta.get("name", p.stem), source=p, root=p.parent, meta=meta
        )
    if suffix == ".parquet":
        return _load_parquet_files([p], name=p.stem, root=p.parent)
    raise InputError(
        f"{p}: unsupported dataset file type {suffix!r} (use a folder, .json, .jsonl or .parquet)"
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=path) from None


def _read_jsonl(path: Path) -> list[tuple[int, Any]]:
    records = []
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=path) from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((lineno, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", source=path, line=lineno) from None
    if not records:
        raise InputError("file holds no records", source=path)
    return records


def merge_settings(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` on top of ``defaults``: objects merge key by key, ``null`` removes a key,
    anything else (strings, numbers, lists) replaces."""
    out = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_settings(out[key], value)
        else:
            out[key] = value
    return out


# What a repository's settings in dataset.json may give its instances.
REPOSITORY_FIELDS = ("env", "test_paths", "test_command")


def repository_settings(meta: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    """``repositories`` of dataset.json: per owner/name, the env and test options that its
    instances inherit, checked here so that a typo names the dataset file, not an instance."""
    settings = meta.get(REPOSITORIES_KEY, {})
    if not isinstance(settings, dict):
        raise InputError(
            "expected an object of owner/name -> settings", source=source, field=REPOSITORIES_KEY
        )
    for repo, spec in settings.items():
        where = f"{REPOSITORIES_KEY}.{repo}"
        if not isinstance(spec, dict):
            raise InputError("expected an object", source=source, field=where)
        unknown = sorted(set(spec) - set(REPOSITORY_FIELDS))
        if unknown:
            raise InputError(
                f"unknown field {unknown[0]!r} (a repository gives {', '.join(REPOSITORY_FIELDS)})",
                source=source,
                field=where,
            )
        if "env" in spec:
            EnvSpec.from_dict(
                _Reader(spec["env"], source=str(source), line=None, prefix=f"{where}.env.")
            )
    return settings


def inherit(record: Any, settings: dict[str, dict[str, Any]]) -> Any:
    """An instance record with its repository's settings under it: the instance's own ``env``
    overrides field by field (``env_vars`` key by key, ``null`` removes), its test options
    replace the repository's."""
    if not isinstance(record, dict) or record.get("repo") not in settings:
        return record
    spec = settings[record["repo"]]
    out = dict(record)
    if "env" in spec:
        out["env"] = merge_settings(spec["env"], record.get("env") or {})
    for name in ("test_paths", "test_command"):
        if name in spec and name not in record:
            out[name] = spec[name]
    return out


def _load_folder(root: Path) -> Dataset:
    meta = _read_json(root / DATASET_FILE) if (root / DATASET_FILE).exists() else {}
    if not isinstance(meta, dict):
        raise InputError("expected a JSON object", source=root / DATASET_FILE)
    settings = repository_settings(meta, root / DATASET_FILE)
    instances = []
    for inst_file in sorted(root.glob(f"*/{INSTANCE_FILE}")):
        record = inherit(_read_json(inst_file), settings)
        instances.append(Instance.from_dict(record, source=inst_file, base_dir=inst_file.parent))
    if not instances:
        raise InputError(f"{root}: dataset folder holds no */{INSTANCE_FILE}")
    for inst in instances:
        folder = inst.base_dir.name if inst.base_dir else ""
        if folder != inst.instance_id:
            raise InputError(
                f"folder name {folder!r} differs from instance_id {inst.instance_id!r}",
                source=inst.base_dir / INSTANCE_FILE if inst.base_dir else None,
            )
        for w in inst.workloads:
            if w.path and not (inst.base_dir / w.path).is_file():  # type: ignore[operator]
                raise InputError(
                    f"workload file {w.path!r} does not exist",
                    source=inst.base_dir / INSTANCE_FILE,  # type: ignore[operator]
                    field=f"workloads.{w.name}.path",
                )
    return _dataset_from_meta(meta, instances, default_name=root.name, root=root)


def _dataset_from_meta(
    meta: dict[str, Any], instances: list[Instance], *, default_name: str, root: Path | None
) -> Dataset:
    seed = meta.get("eval_seed", DEFAULT_EVAL_SEED)
    if not isinstance(seed, int):
        raise InputError("eval_seed must be an integer", source=root, field="eval_seed")
    repos = meta.get("repos", {})
    if not isinstance(repos, dict):
        raise InputError("repos must map owner/name to a location", source=root, field="repos")
    return Dataset(
        name=str(meta.get("name", default_name)),
        version=str(meta.get("version", "")),
        description=str(meta.get("description", "")),
        eval_seed=seed,
        has_eval_seed="eval_seed" in meta,
        repos={str(k): str(v) for k, v in repos.items()},
        instances=instances,
        root=root,
    )


def _from_records(
    records: list[tuple[int, Any]],
    *,
    name: str,
    source: Path,
    root: Path,
    meta: dict[str, Any] | None = None,
) -> Dataset:
    meta = dict(meta or {})
    meta_source = source
    if not meta:
        for sidecar in (root / DATASET_FILE, root / PUBLISHED_FILE):
            if sidecar.is_file():
                meta, meta_source = _read_json(sidecar), sidecar
                break
    settings = repository_settings(meta, meta_source)
    instances = [
        Instance.from_dict(
            inherit(_decode_row(rec), settings), source=source, line=line, base_dir=root
        )
        for line, rec in records
    ]
    return _dataset_from_meta(meta, instances, default_name=name, root=root)


def _decode_row(rec: Any) -> Any:
    """Rows stored in columnar form keep nested JSON objects as strings; decode them."""
    if not isinstance(rec, dict):
        return rec
    out = dict(rec)
    for key in ("env", "grading", "validation", "metadata"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key]) if out[key] else None
    env = out.get("env")
    if isinstance(env, dict) and isinstance(env.get("env_vars"), str):
        out["env"] = {**env, "env_vars": json.loads(env["env_vars"]) if env["env_vars"] else None}
    return out


def _load_parquet_files(files: list[Path], *, name: str, root: Path) -> Dataset:
    import pyarrow.parquet as pq

    # pyarrow, not pandas: pandas >= 3 reads a null string as NaN, which records refuse.
    records: list[tuple[int, Any]] = []
    for f in files:
        for i, row in enumerate(pq.read_table(f).to_pylist(), start=1):
            records.append((i, row))
    return _from_records(records, name=name, source=files[0], root=root)


def _load_hf_saved(path: Path) -> Dataset:
    import datasets as hf

    loaded = hf.load_from_disk(str(path))
    split = loaded[next(iter(loaded))] if isinstance(loaded, hf.DatasetDict) else loaded
    records = [(i + 1, _to_plain(row)) for i, row in enumerate(split)]
    return _from_records(records, name=path.name, source=path, root=path)


def _to_plain(value: Any) -> Any:
    """numpy arrays and scalars from parquet become lists and Python numbers."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value
