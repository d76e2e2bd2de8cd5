"""Render dataset instances from curation specs and the git mirror; promote validated ones.

    python tools/curation/mkinst.py render SPEC.json [...]   # into the stage (--stage)
    python tools/curation/mkinst.py promote ID [...]         # a validated staged folder -> --dataset
    python tools/curation/mkinst.py check                    # every spec against the dataset

A spec holds what we write (problem-statement intro, workload names and descriptions, guard tests,
API and kind, environment overrides); ``render`` adds what the repository says (base = parent of
the expert commit, ``created_at``, patch size) and appends the visible workload's code to the
problem statement. The environment is the repository's ``repo.json`` env with the spec's
overrides on top. Workloads are read from ``STAGE/<id>/workloads/``; when that folder is missing
they are copied in from the rejected spec's own folder or from the dataset. A kept ``validation``
record of the staged instance survives a re-render as long as the base commit is the same.

The stage is a dataset of its own: its ``dataset.json`` takes the evaluation seed of ``--dataset``
(so validation there measures the hidden inputs evaluation will use) and maps each repository to
its mirror (so ``perfbench validate --dataset STAGE`` needs no URL template).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import curlib
from curlib import CurationError, Spec

log = logging.getLogger("mkinst")

TAIL = (
    "\n\nThe workload below shows the kind of call that is slow. `setup(seed)` builds the inputs "
    "(not timed) and `run(data)` is the timed call. Your change will be timed on this workload and "
    "on other workloads of the same API with different inputs, sizes and seeds, so make the code "
    "faster in general rather than for these inputs only.\n\n```python\n{code}```\n"
)
# Fields of instance.json that render() produces; `validation` is measured, never rendered.
RENDERED = (
    "instance_id",
    "repo",
    "base_commit",
    "opt_commit",
    "created_at",
    "problem_statement",
    "workloads",
    "env",
    "guard_tests",
    "test_paths",
    "test_command",
    "grading",
    "metadata",
)


def instance_id(repo: str, opt: str) -> str:
    return f"{curlib.folder_name(repo)}-{opt[:7]}"


def render(spec: Spec, gd: Path, workloads: Path) -> dict[str, Any]:
    """The instance record of ``spec`` (without ``validation``), its workloads read from ``workloads``."""
    s = spec.data
    base, opt = curlib.parent_and_commit(gd, s["opt"])
    created = curlib.git(gd, "show", "-s", "--format=%cI", opt).strip()
    added = deleted = files = 0
    for line in curlib.git(gd, "diff", "--numstat", base, opt).splitlines():
        a, d, _ = line.split("\t", 2)
        files += 1
        added += int(a) if a != "-" else 0
        deleted += int(d) if d != "-" else 0
    for w in s["workloads"]:
        if not (workloads / f"{w['name']}.py").is_file():
            raise CurationError(f"{spec.path}: workload {w['name']!r} not found in {workloads}")
    visible = next(w for w in s["workloads"] if w.get("visible"))
    code = (workloads / f"{visible['name']}.py").read_text()
    data: dict[str, Any] = {
        "instance_id": instance_id(s["repo"], opt),
        "repo": s["repo"],
        "base_commit": base,
        "opt_commit": opt,
        "created_at": created,
        "problem_statement": s["intro"].rstrip() + TAIL.format(code=code),
        "workloads": [
            {
                "name": w["name"],
                "path": f"workloads/{w['name']}.py",
                "visible": bool(w.get("visible")),
                "description": w.get("description", ""),
            }
            for w in s["workloads"]
        ],
        # Only the spec's own overrides: the repository's settings live once, in the
        # dataset's `repositories` (written from repo.json), and the loader puts them under.
        **spec.overrides,
        "guard_tests": s["guard_tests"],
    }
    if "grading" in s:
        data["grading"] = s["grading"]
    data["metadata"] = {
        "api": s["api"],
        "kind": s["kind"],
        "patch_lines": {"added": added, "deleted": deleted},
        "patch_files": files,
        "source": s.get("source", "mined"),
        **s.get("metadata", {}),
    }
    return data


def workloads_source(spec: Spec, iid: str, stage: Path, dataset: Path) -> Path:
    """The first folder holding the spec's workloads: the stage's, the rejected spec's, the dataset's."""
    for folder in (stage / iid, spec.instance_folder, dataset / iid):
        if (folder / "workloads").is_dir():
            return folder / "workloads"
    raise CurationError(
        f"{spec.path}: no workloads for {iid}: write them in {stage / iid / 'workloads'}"
    )


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def ensure_stage(stage: Path, dataset: Path, repo: str, gd: Path, settings: dict[str, Any]) -> None:
    """The stage's dataset.json: the release seed of ``dataset`` and the mirror of ``repo``."""
    stage.mkdir(parents=True, exist_ok=True)
    path = stage / "dataset.json"
    meta = curlib.read_json(path) if path.exists() else {}
    if "eval_seed" not in meta:
        release = curlib.read_json(dataset / "dataset.json")
        if "eval_seed" not in release:
            raise CurationError(f"{dataset / 'dataset.json'}: no eval_seed to validate under")
        meta = {"name": f"stage-of-{release.get('name', dataset.name)}", **meta}
        meta["eval_seed"] = release["eval_seed"]
    meta.setdefault("repos", {})[repo] = str(gd.resolve())
    meta.setdefault("repositories", {})[repo] = settings
    write_json(path, meta)


def cmd_render(args: argparse.Namespace) -> None:
    template = curlib.mirror_template(args.mirror)
    for p in args.specs:
        spec = curlib.load_spec(Path(p))
        gd = curlib.git_dir(spec.repo, template)
        iid = instance_id(spec.repo, curlib.parent_and_commit(gd, spec.data["opt"])[1])
        folder = args.stage / iid
        source = workloads_source(spec, iid, args.stage, args.dataset)
        if source != folder / "workloads":
            log.info("%s: workloads copied from %s", iid, source)
            shutil.copytree(
                source, folder / "workloads", ignore=shutil.ignore_patterns("__pycache__")
            )
        data = render(spec, gd, folder / "workloads")
        path = folder / "instance.json"
        old = curlib.read_json(path) if path.exists() else {}
        if old.get("validation") and old.get("base_commit") == data["base_commit"]:
            data["validation"] = old["validation"]
        ensure_stage(args.stage, args.dataset, spec.repo, gd, spec.repository)
        write_json(path, data)
        pl = data["metadata"]["patch_lines"]
        log.info(
            "%s: +%d/-%d in %d files -> %s",
            iid,
            pl["added"],
            pl["deleted"],
            data["metadata"]["patch_files"],
            path,
        )


def promote(iid: str, stage: Path, dataset: Path, force: bool) -> None:
    src = stage / iid
    record = curlib.read_json(src / "instance.json")
    v = record.get("validation") or {}
    if not v.get("valid"):
        raise CurationError(f"{src}: not validated as valid; not promoted")
    dest = dataset / iid
    if (dest / "instance.json").exists():
        old = curlib.read_json(dest / "instance.json").get("validation") or {}
        if old.get("date", "") > v.get("date", "") and not force:
            raise CurationError(
                f"{dest}: holds a newer validation ({old.get('date')}) than the stage's "
                f"({v.get('date')}); not overwritten (--force to overwrite)"
            )
    tmp = dataset / f".{iid}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    # The instance holds only overrides: its repository's settings go with it.
    stage_meta = curlib.read_json(stage / "dataset.json")
    settings = stage_meta.get("repositories", {}).get(record["repo"])
    if settings is not None:
        meta = curlib.read_json(dataset / "dataset.json")
        meta.setdefault("repositories", {})[record["repo"]] = settings
        write_json(dataset / "dataset.json", meta)
    s = v.get("speedup", {})
    log.info("promoted %s: %s [%s, %s]", iid, s.get("estimate"), s.get("low"), s.get("high"))


def cmd_promote(args: argparse.Namespace) -> None:
    for iid in args.ids:
        promote(iid, args.stage, args.dataset, args.force)


def differences(rendered: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Fields where a rendered record and the dataset's differ (``env`` key by key)."""
    out = []
    for key in RENDERED:
        a, b = rendered.get(key), stored.get(key)
        if a == b:
            continue
        if key == "env" and isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    out.append(f"env.{k}: spec {a.get(k)!r}, dataset {b.get(k)!r}")
        else:
            out.append(f"{key}: spec {json.dumps(a)[:120]}, dataset {json.dumps(b)[:120]}")
    return out


def cmd_check(args: argparse.Namespace) -> int:
    """Render every kept spec with the dataset's workloads and compare with the dataset."""
    template = curlib.mirror_template(args.mirror)
    bad = 0
    seen = set()
    for path in curlib.all_specs(args.repos, ("instances",)):
        spec = curlib.load_spec(path)
        iid = instance_id(spec.repo, spec.data["opt"])
        seen.add(iid)
        stored_path = args.dataset / iid / "instance.json"
        if not stored_path.exists():
            print(f"{path}: {iid} is not in {args.dataset} (move the spec to rejected/?)")
            bad += 1
            continue
        stored = curlib.read_json(stored_path)
        rendered = render(
            spec, curlib.git_dir(spec.repo, template), args.dataset / iid / "workloads"
        )
        diffs = differences(rendered, stored)
        for d in diffs:
            print(f"{iid}: {d}")
        bad += bool(diffs)
    # The repositories' settings: written once into dataset.json, from repo.json.
    meta = curlib.read_json(args.dataset / "dataset.json")
    stored_settings = meta.get("repositories", {})
    for repo_json in sorted(args.repos.glob("*/repo.json")):
        repo = curlib.load_repo(repo_json.parent)
        want = curlib.repository_settings(repo)
        if stored_settings.get(repo["repo"]) != want:
            print(f"{repo_json}: differs from repositories[{repo['repo']!r}] of the dataset")
            bad += 1
    for folder in sorted(args.dataset.glob("*/instance.json")):
        if folder.parent.name not in seen:
            print(f"{folder.parent.name}: in {args.dataset} without a spec under {args.repos}")
            bad += 1
    print(f"{len(seen)} specs checked, {bad} with differences")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--stage", type=Path, default=curlib.DEFAULT_STAGE, help="staging dataset folder"
    )
    common.add_argument(
        "--dataset", type=Path, default=curlib.DEFAULT_DATASET, help="the released dataset"
    )
    common.add_argument(
        "--mirror", help="mirror template, e.g. '/mirrors/{owner}+{name}/repo' [PERFBENCH_REPO_URL]"
    )
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", parents=[common], help="render specs into the stage")
    r.add_argument("specs", nargs="+")
    r.set_defaults(func=cmd_render)
    p = sub.add_parser(
        "promote", parents=[common], help="copy validated staged instances into the dataset"
    )
    p.add_argument("ids", nargs="+")
    p.add_argument("--force", action="store_true", help="overwrite a newer validation record")
    p.set_defaults(func=cmd_promote)
    c = sub.add_parser(
        "check", parents=[common], help="render every spec and compare it with the dataset"
    )
    c.add_argument(
        "--repos", type=Path, default=curlib.REPOS, help="the repositories' curation folders"
    )
    c.set_defaults(func=cmd_check)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return args.func(args) or 0
    except CurationError as e:
        log.error("error: %s", e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
