"""Lay out a published dataset as files, check that it loads back unchanged, install it in a folder.

The same folder is what ``--to-dir`` leaves behind and what is pushed to the
hub, so a local review sees exactly what will be published::

    README.md                         dataset card (YAML metadata + text)
    perfbench.json                    name, version, licence, repository locations; never a seed
    data/<split>-00000-of-00001.parquet
    repos/<owner>__<name>.bundle      local repositories, shipped so evaluation works offline
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..datasets import DATASET_FILE, Dataset
from ..errors import InputError, PerfbenchError
from ..records import Instance
from ..reports import atomic_write_json, atomic_write_text
from . import card, schema

log = logging.getLogger(__name__)

SIDECAR = "perfbench.json"
CARD = "README.md"
DATA_DIR = "data"
REPOS_DIR = "repos"


@dataclass(frozen=True)
class PublishOptions:
    repo_id: str = "ORG/NAME"
    split: str = "test"
    license: str | None = None  # None: the dataset's own (dataset.json "license"), else "other"
    ship_repos: bool = True


@dataclass
class PublishResult:
    folder: Path
    split: card.SplitFiles
    dataset_dict: Any  # datasets.DatasetDict, for push_to_hub
    files: list[str] = field(default_factory=list)


def build_folder(dataset: Dataset, dest: Path, options: PublishOptions) -> PublishResult:
    """Write every published file of ``dataset`` under the empty folder ``dest`` and verify them."""
    import datasets as hf

    if not _valid_split(options.split):
        raise InputError(
            f"split name {options.split!r} may hold only letters, digits and '_'", field="split"
        )
    feats = schema.features()
    rows = [schema.instance_row(inst) for inst in dataset]
    split_ds = hf.Dataset.from_list(rows, features=feats, split=hf.NamedSplit(options.split))
    shard = Path(DATA_DIR) / f"{options.split}-00000-of-00001.parquet"
    (dest / DATA_DIR).mkdir(parents=True, exist_ok=True)
    split_ds.to_parquet(str(dest / shard))
    split = card.SplitFiles(
        name=options.split,
        num_examples=len(split_ds),
        num_bytes=split_ds.data.nbytes,
        download_size=(dest / shard).stat().st_size,
        pattern=f"{DATA_DIR}/{options.split}-*",
    )
    locations = ship_repositories(dataset, dest, enabled=options.ship_repos)
    license = options.license or str(_dataset_meta(dataset).get("license") or "other")
    atomic_write_json(dest / SIDECAR, sidecar(dataset, license, locations, options.split))
    atomic_write_text(
        dest / CARD,
        card.render_card(
            dataset,
            repo_id=options.repo_id,
            license=license,
            split=split,
            features=feats,
            repo_locations=locations,
        ),
    )
    verify_round_trip(dest / shard, dataset)
    for written in (dest / SIDECAR, dest / CARD):
        readable(written)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    return PublishResult(dest, split, hf.DatasetDict({options.split: split_ds}), files)


def _valid_split(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c == "_" for c in name)


def _dataset_meta(dataset: Dataset) -> dict[str, Any]:
    """``dataset.json`` of a dataset folder, for fields ``Dataset`` does not keep (licence)."""
    path = dataset.root / DATASET_FILE if dataset.root else None
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def sidecar(
    dataset: Dataset, license: str, locations: dict[str, str], split: str
) -> dict[str, Any]:
    """Dataset-level facts that are not columns. The evaluation seed is deliberately absent."""
    return {
        "name": dataset.name,
        "version": dataset.version,
        "description": dataset.description,
        "license": card.hub_license(license),
        **(
            {"license_text": license}
            if card.hub_license(license) != license.strip().lower()
            else {}
        ),
        "split": split,
        "repos": locations,
        "published_with": f"perfbench {__version__}",
        "note": "eval_seed withheld: hidden workloads are timed at seeds from a secret seed",
    }


def ship_repositories(dataset: Dataset, dest: Path, *, enabled: bool) -> dict[str, str]:
    """Copy (or bundle) local repositories into ``dest/repos``; keep remote URLs as they are.

    Machine-local paths are never published: a local repository is either
    shipped as a git bundle or left out (then found through the URL template).
    """
    out: dict[str, str] = {}
    for repo in sorted({i.repo for i in dataset}):
        loc = dataset.repo_location(repo)
        if loc is None:
            continue
        if "://" in loc and not loc.startswith("file://"):
            out[repo] = loc
            continue
        src = Path(loc.removeprefix("file://"))
        if not enabled:
            log.warning("%s: local repository %s not shipped (--no-ship-repos)", repo, src)
            continue
        if not src.exists():
            raise InputError(
                f"repository location {loc!r} of {repo} does not exist",
                source=dataset.root,
                field=f"repos.{repo}",
            )
        rel = f"{REPOS_DIR}/{repo.replace('/', '__')}.bundle"
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_file():
            shutil.copyfile(src, target)
        else:
            _bundle(
                src,
                target,
                [c for i in dataset if i.repo == repo for c in (i.base_commit, i.opt_commit)],
            )
        out[repo] = rel
    return out


def _bundle(repo_dir: Path, target: Path, commits: list[str]) -> None:
    """``git bundle`` of every ref of a local repository, after checking it reaches the commits."""
    for commit in sorted(set(commits)):
        refs = _git(repo_dir, "for-each-ref", "--count=1", "--contains", commit)
        if not refs.strip():
            raise InputError(
                f"commit {commit} is not reachable from any ref of {repo_dir}, so a bundle "
                "would not carry it",
                source=repo_dir,
            )
    _git(repo_dir, "bundle", "create", str(target.resolve()), "--all")


def _git(repo_dir: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=repo_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise PerfbenchError(
            f"git {args[0]} in {repo_dir} failed: {lines[-1] if lines else proc.returncode}"
        )
    return proc.stdout


def verify_round_trip(parquet: Path, dataset: Dataset) -> None:
    """Read the written parquet as ``datasets`` does; every instance must come back the same."""
    import pyarrow.parquet as pq
    from datasets import Features

    stored = Features.from_arrow_schema(pq.read_schema(parquet))
    if stored != schema.features():
        raise PerfbenchError(
            f"{parquet}: the features stored in the file differ from the declared ones"
        )
    rows = pq.read_table(parquet).to_pylist()
    for inst, row in zip(dataset, rows, strict=True):
        back = Instance.from_dict(schema.decode_row(row), source=parquet).to_dict(
            inline_workloads=True
        )
        want = schema.expected_record(inst)
        if back != want:
            diff = sorted(k for k in want if back.get(k) != want[k])
            raise PerfbenchError(
                f"{inst.instance_id}: published record differs from the dataset's in "
                f"{', '.join(diff)}"
            )


def install_folder(stage: Path, out: Path, split: str) -> None:
    """Move the staged files into ``out``: each file replaced atomically, stale shards removed."""
    out.mkdir(parents=True, exist_ok=True)
    new = {p.relative_to(stage) for p in stage.rglob("*") if p.is_file()}
    for rel in sorted(new):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, target)
    for old in (out / DATA_DIR).glob(f"{split}-*.parquet"):
        if old.relative_to(out) not in new:
            old.unlink()
    shutil.rmtree(stage, ignore_errors=True)


def staging_dir(near: Path | None) -> Path:
    """A fresh folder on the same file system as ``near`` (so installing is a rename)."""
    if near is not None:
        near.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{near.name}.", suffix=".tmp", dir=near.parent))
    return Path(tempfile.mkdtemp(prefix="perfbench-publish-"))


def readable(path: Path) -> None:
    """Give a file written by ``atomic_write_text`` (mode 0600, from mkstemp) the usual mode."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
