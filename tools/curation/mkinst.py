"""Render an instance.json from a spec and the git mirror (working aid of every curation part).

Usage: python tools/curation/common/mkinst.py SPEC.json [...]   (writes into $STAGE, default /tmp/pb/ds)
       python tools/curation/common/mkinst.py --promote ID [...] [--force]   (copies a validated staged folder to instances/v1;
       refuses to replace a folder whose validation record is newer than the staged one unless --force)

A spec (tools/curation/part*/specs/<id>.json) holds what we write: the intro of the problem
statement, env, guard tests, workload names and descriptions, metadata api/kind. The script adds
what the repository says (base commit = parent of opt, created_at, patch size) and appends the
visible workload's code to the problem statement. Workload files live in STAGE/<id>/workloads/.
An existing ``validation`` record in the staged instance.json is kept.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATASET = ROOT / "instances" / "v1"
STAGE = Path(os.environ.get("STAGE", "/tmp/pb/ds"))
MIRROR = os.environ.get("PERFBENCH_REPO_URL", "/work/.mirror/{owner}+{name}/repo")

TAIL = ("\n\nThe workload below shows the kind of call that is slow. `setup(seed)` builds the inputs "
        "(not timed) and `run(data)` is the timed call. Your change will be timed on this workload and "
        "on other workloads of the same API with different inputs, sizes and seeds, so make the code "
        "faster in general rather than for these inputs only.\n\n```python\n{code}```\n")


def git(repo, *args):
    owner, name = repo.split("/")
    gd = MIRROR.format(owner=owner, name=name, repo=repo)
    return subprocess.run(["git", "--git-dir", gd, *args], check=True, capture_output=True, text=True).stdout


def render(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    repo = spec["repo"]
    opt = git(repo, "rev-parse", spec["opt"] + "^{commit}").strip()
    base = git(repo, "rev-parse", opt + "^").strip()
    owner, name = repo.split("/")
    iid = f"{owner}__{name}-{opt[:7]}"
    created = git(repo, "show", "-s", "--format=%cI", opt).strip()
    added = deleted = files = 0
    for line in git(repo, "diff", "--numstat", base, opt).splitlines():
        a, d, _ = line.split("\t", 2)
        files += 1
        added += int(a) if a != "-" else 0
        deleted += int(d) if d != "-" else 0
    folder = STAGE / iid
    path = folder / "instance.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    visible = [w for w in spec["workloads"] if w.get("visible")]
    assert len(visible) == 1, "exactly one visible workload"
    code = (folder / "workloads" / f"{visible[0]['name']}.py").read_text()
    for w in spec["workloads"]:
        assert (folder / "workloads" / f"{w['name']}.py").exists(), w["name"]
    statement = spec["intro"].rstrip() + TAIL.format(code=code)
    data = {
        "instance_id": iid,
        "repo": repo,
        "base_commit": base,
        "opt_commit": opt,
        "created_at": created,
        "problem_statement": statement,
        "workloads": [{"name": w["name"], "path": f"workloads/{w['name']}.py", "visible": bool(w.get("visible")),
                       "description": w.get("description", "")} for w in spec["workloads"]],
        "env": spec["env"],
        "guard_tests": spec["guard_tests"],
        "test_paths": spec.get("test_paths", ["tests"]),
    }
    if "test_command" in spec:
        data["test_command"] = spec["test_command"]
    if "grading" in spec:
        data["grading"] = spec["grading"]
    data["validation"] = old.get("validation", {}) if old.get("base_commit") == base else {}
    data["metadata"] = {
        "api": spec["api"],
        "kind": spec["kind"],
        "patch_lines": {"added": added, "deleted": deleted},
        "patch_files": files,
        "source": spec.get("source", "mined"),
        **spec.get("metadata", {}),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(iid, f"+{added}/-{deleted} in {files} files")


def promote(iid):
    src = STAGE / iid
    data = json.loads((src / "instance.json").read_text())
    v = data.get("validation") or {}
    if not v.get("valid"):
        sys.exit(f"{iid}: not validated as valid; not promoted")
    dest = DATASET / iid
    if (dest / "instance.json").exists():
        old = json.loads((dest / "instance.json").read_text()).get("validation") or {}
        if old.get("date", "") > v.get("date", "") and "--force" not in sys.argv:
            sys.exit(f"{iid}: instances/v1 holds a newer validation ({old.get('date')}) than the stage "
                     f"({v.get('date')}); not overwritten (use --force)")
    tmp = DATASET / f".{iid}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    print("promoted", iid, v["speedup"].get("estimate"), v["speedup"].get("low"), v["speedup"].get("high"))


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--promote":
        args = [a for a in args if a != "--force"]
        DATASET.mkdir(parents=True, exist_ok=True)
        for a in args[1:]:
            promote(a)
    else:
        for p in args:
            render(p)
