"""What the curation tools share: where things are, loading a spec merged with its repository's
defaults, and reading the repository's git mirror.

A repository's curation data lives in ``repos/<owner>__<name>/``: ``repo.json`` holds what its
instances share (the environment, test options), ``instances/<sha7>.json`` and
``rejected/<sha7>.json`` hold one spec each, with only what differs from ``repo.json``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfbench.datasets import REPOSITORY_FIELDS, merge_settings

CURATION = Path(__file__).resolve().parent
ROOT = CURATION.parents[1]
REPOS = CURATION / "repos"
DEFAULT_DATASET = ROOT / "instances" / "v1"
DEFAULT_STAGE = ROOT / "runs" / "stage"  # runs/ is git-ignored
HARNESS = ROOT / "harness"

REPO_KEYS = {"repo", "env", "test_paths", "test_command"}
SPEC_REQUIRED = ("repo", "opt", "intro", "api", "kind", "workloads", "guard_tests")
SPEC_OPTIONAL = {"env", "test_paths", "test_command", "grading", "source", "metadata"}
DEFAULT_TEST_PATHS = ["tests"]


class CurationError(Exception):
    """Bad curation data or setup; the message names the file and field."""


def folder_name(repo: str) -> str:
    """``owner/name`` -> the folder name under ``repos/`` (the dataset's instance-id prefix)."""
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise CurationError(f"repository {repo!r} is not owner/name")
    return f"{owner}__{name}"


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CurationError(f"{path}: not found") from None
    except json.JSONDecodeError as e:
        raise CurationError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
    if not isinstance(data, dict):
        raise CurationError(f"{path}: expected a JSON object")
    return data


def load_repo(folder: Path) -> dict[str, Any]:
    """A repository's ``repo.json``, checked."""
    path = folder / "repo.json"
    data = read_json(path)
    unknown = set(data) - REPO_KEYS
    if unknown:
        raise CurationError(
            f"{path}: unknown field(s) {sorted(unknown)}; known: {sorted(REPO_KEYS)}"
        )
    if "repo" not in data:
        raise CurationError(f"{path}: missing field 'repo'")
    if folder_name(data["repo"]) != folder.name:
        raise CurationError(f"{path}: field 'repo' {data['repo']!r} does not match the folder name")
    if not isinstance(data.get("env", {}), dict):
        raise CurationError(f"{path}: field 'env' must be an object")
    return data


@dataclass
class Spec:
    """One instance's spec, merged with its repository's defaults."""

    path: Path
    data: dict[str, Any]
    overrides: dict[str, Any]  # what the spec itself sets of env / test options
    repository: dict[
        str, Any
    ]  # its repository's settings, as the dataset's `repositories` holds them

    @property
    def repo(self) -> str:
        return self.data["repo"]

    @property
    def instance_folder(self) -> Path:
        """Where a rejected spec keeps its workloads: ``rejected/<sha7>/``."""
        return self.path.with_suffix("")


def load_spec(path: Path) -> Spec:
    """Read ``repos/<owner__name>/{instances,rejected}/<sha7>.json`` and merge ``repo.json`` under it."""
    path = Path(path)
    raw = read_json(path)
    missing = [k for k in SPEC_REQUIRED if k not in raw]
    if missing:
        raise CurationError(f"{path}: missing field(s) {missing}")
    unknown = set(raw) - set(SPEC_REQUIRED) - SPEC_OPTIONAL
    if unknown:
        raise CurationError(f"{path}: unknown field(s) {sorted(unknown)}")
    folder = path.resolve().parents[1]
    repo = load_repo(folder)
    if raw["repo"] != repo["repo"]:
        raise CurationError(
            f"{path}: field 'repo' {raw['repo']!r} differs from {folder / 'repo.json'} ({repo['repo']!r})"
        )
    if not str(raw["opt"]).startswith(path.stem):
        raise CurationError(f"{path}: field 'opt' {raw['opt']!r} does not start with the file name")
    visible = [w for w in raw["workloads"] if w.get("visible")]
    if len(visible) != 1:
        raise CurationError(f"{path}: field 'workloads' needs exactly one visible workload")
    data = dict(raw)
    data["env"] = merge_settings(repo.get("env", {}), raw.get("env", {}))
    for key in ("test_paths", "test_command"):
        if key not in raw and key in repo:
            data[key] = repo[key]
    data.setdefault("test_paths", DEFAULT_TEST_PATHS)
    overrides = {k: raw[k] for k in REPOSITORY_FIELDS if raw.get(k) not in (None, {})}
    return Spec(path, data, overrides, repository_settings(repo))


def repository_settings(repo: dict[str, Any]) -> dict[str, Any]:
    """What ``repo.json`` gives the dataset's ``repositories`` entry of its repository."""
    return {k: repo[k] for k in REPOSITORY_FIELDS if k in repo}


def all_specs(root: Path = REPOS, kinds: tuple[str, ...] = ("instances", "rejected")) -> list[Path]:
    return sorted(p for kind in kinds for p in root.glob(f"*/{kind}/*.json"))


# ---- the git mirror ---------------------------------------------------------------------------


def mirror_template(given: str | None) -> str:
    """The mirror location template: ``--mirror``, else ``PERFBENCH_REPO_URL``."""
    template = given or os.environ.get("PERFBENCH_REPO_URL")
    if not template:
        raise CurationError(
            "no mirror location: pass --mirror '/mirrors/{owner}+{name}/repo' or set PERFBENCH_REPO_URL"
        )
    return template


def git_dir(repo: str, template: str) -> Path:
    """The local git repository of ``repo`` (bare or not) named by ``template``."""
    owner, name = repo.split("/", 1)
    loc = template.format(owner=owner, name=name, repo=repo)
    loc = loc.removeprefix("file://")
    if "://" in loc:
        raise CurationError(f"the curation tools need a local mirror, not {loc!r}")
    path = Path(loc)
    if not path.exists():
        raise CurationError(f"mirror of {repo} not found at {path}")
    return path


def git(gd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(gd), *args], capture_output=True, text=True)
    if proc.returncode:
        raise CurationError(f"git {' '.join(args)} in {gd}: {proc.stderr.strip()}")
    return proc.stdout


def export_tree(repo: str, gd: Path, commit: str, trees: Path) -> Path:
    """``commit``'s files under ``trees/<owner__name>/<sha12>`` (exported once, then reused)."""
    full = git(gd, "rev-parse", commit + "^{commit}").strip()
    dest = trees / folder_name(repo) / full[:12]
    if (dest / ".done").exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)  # left by an interrupted export
    tmp.mkdir(parents=True)
    tar = subprocess.run(
        ["git", "-C", str(gd), "archive", full], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        tf.extractall(tmp, filter="data")
    (tmp / ".done").write_text(full + "\n")
    tmp.rename(dest)
    return dest


def parent_and_commit(gd: Path, commit: str) -> tuple[str, str]:
    opt = git(gd, "rev-parse", commit + "^{commit}").strip()
    return git(gd, "rev-parse", opt + "^").strip(), opt


DEFAULT_TREES = ROOT / "runs" / "trees"


def instance_trees(record: dict[str, Any], mirror: str | None, trees: Path) -> dict[str, Path]:
    """The exported base and opt trees of an instance record, keyed ``base`` and ``opt``."""
    gd = git_dir(record["repo"], mirror_template(mirror))
    return {
        "base": export_tree(record["repo"], gd, record["base_commit"], trees),
        "opt": export_tree(record["repo"], gd, record["opt_commit"], trees),
    }


def tree_environ(record: dict[str, Any], tree: Path) -> dict[str, str]:
    """The process environment the instance's code runs with in ``tree`` (its pythonpath, env_vars)."""
    env = record.get("env") or {}
    paths = [str(tree / p) for p in env.get("pythonpath", [])]
    return {**os.environ, **env.get("env_vars", {}), "PYTHONPATH": os.pathsep.join(paths)}


def load_instance(folder: Path) -> dict[str, Any]:
    """An instance record from its folder (or from the instance.json path itself)."""
    folder = Path(folder)
    return read_json(folder if folder.suffix == ".json" else folder / "instance.json")
