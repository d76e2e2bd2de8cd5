"""The curation tools: a spec renders into the instance record the dataset holds, and every spec
under tools/curation/repos/ is well formed."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from gitrepo_factory import RepoBuilder

from perfbench.datasets import load_dataset
from perfbench.records import EnvSpec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "curation"))

import curlib  # noqa: E402
import mkinst  # noqa: E402

WORKLOAD = "def setup(seed=0):\n    return list(range(seed, seed + 100))\n\n\ndef run(data):\n    return sum(data)\n"


def make_curation(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """A mirror of acme/widgets with one speed-up commit, its repo.json and one spec."""
    b = RepoBuilder(tmp_path / "mirrors" / "acme" / "widgets")
    base = b.commit(
        "Add total",
        {
            "widgets/__init__.py": "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n"
        },
    )
    opt = b.commit(
        "Faster total",
        {"widgets/__init__.py": "def total(xs):\n    return sum(xs)\n", "NEWS": "faster\n"},
    )
    folder = tmp_path / "repos" / "acme__widgets"
    (folder / "instances").mkdir(parents=True)
    (folder / "repo.json").write_text(
        json.dumps(
            {
                "repo": "acme/widgets",
                "env": {
                    "python": "3.11",
                    "install": [],
                    "pip_packages": ["pytest"],
                    "pythonpath": ["."],
                    "env_vars": {"A": "1"},
                },
                "test_paths": ["widgets/tests"],
            }
        )
    )
    spec = {
        "repo": "acme/widgets",
        "opt": opt,
        "api": "widgets.total",
        "kind": "builtin",
        "intro": "`widgets.total` is slow on long lists.\n",
        "workloads": [
            {"name": "sum_small", "visible": True, "description": "100 ints"},
            {"name": "sum_hidden", "description": "other ints"},
        ],
        "env": {"python": "3.9", "pip_packages": None, "env_vars": {"B": "2"}},
        "guard_tests": ["widgets/tests/test_total.py"],
    }
    spec_path = folder / "instances" / f"{opt[:7]}.json"
    spec_path.write_text(json.dumps(spec))
    return spec_path, tmp_path / "mirrors" / "{owner}" / "{name}", base, opt


def write_workloads(folder: Path) -> None:
    (folder / "workloads").mkdir(parents=True)
    for name in ("sum_small", "sum_hidden"):
        (folder / "workloads" / f"{name}.py").write_text(WORKLOAD)


def test_render_merges_env_and_appends_the_visible_workload(tmp_path: Path):
    spec_path, template, base, opt = make_curation(tmp_path)
    stage, dataset = tmp_path / "stage", tmp_path / "release"
    dataset.mkdir()
    (dataset / "dataset.json").write_text(json.dumps({"name": "v9", "eval_seed": 4242}))
    iid = f"acme__widgets-{opt[:7]}"
    write_workloads(stage / iid)

    argv = ["render", str(spec_path), "--stage", str(stage), "--dataset", str(dataset)]
    assert mkinst.main([*argv, "--mirror", str(template)]) == 0

    record = json.loads((stage / iid / "instance.json").read_text())
    assert record["instance_id"] == iid
    assert record["base_commit"] == base  # the parent of the expert commit
    assert record["opt_commit"] == opt
    # The record keeps the spec's own overrides; repo.json goes once into the stage's
    # `repositories`, and loading puts it under: scalars replace, None removes, dicts merge.
    assert record["env"] == {"python": "3.9", "pip_packages": None, "env_vars": {"B": "2"}}
    assert "test_paths" not in record
    loaded = load_dataset(stage).get(iid)
    assert asdict(loaded.env) == asdict(
        EnvSpec(python="3.9", pythonpath=["."], env_vars={"A": "1", "B": "2"})
    )
    assert loaded.test_paths == ["widgets/tests"]  # from repo.json
    assert record["problem_statement"].startswith(
        "`widgets.total` is slow on long lists.\n\nThe workload"
    )
    assert record["problem_statement"].endswith(f"```python\n{WORKLOAD}```\n")
    assert [w["visible"] for w in record["workloads"]] == [True, False]
    assert record["metadata"]["patch_files"] == 2
    assert record["metadata"]["patch_lines"] == {"added": 2, "deleted": 4}
    assert "validation" not in record
    # The stage validates under the release's seed and finds the mirror by itself.
    meta = json.loads((stage / "dataset.json").read_text())
    assert meta["eval_seed"] == 4242
    assert Path(meta["repos"]["acme/widgets"]) == Path(
        str(template).format(owner="acme", name="widgets")
    )


def test_rerender_keeps_validation_and_promote_needs_a_valid_one(tmp_path: Path, monkeypatch):
    spec_path, template, _, opt = make_curation(tmp_path)
    monkeypatch.setenv("PERFBENCH_REPO_URL", str(template))
    stage, dataset = tmp_path / "stage", tmp_path / "release"
    dataset.mkdir()
    (dataset / "dataset.json").write_text(json.dumps({"eval_seed": 1}))
    iid = f"acme__widgets-{opt[:7]}"
    write_workloads(stage / iid)
    common = ["--stage", str(stage), "--dataset", str(dataset)]
    assert mkinst.main(["render", str(spec_path), *common]) == 0
    assert mkinst.main(["promote", iid, *common]) == 2  # not validated: refused
    assert not (dataset / iid).exists()

    path = stage / iid / "instance.json"
    record = json.loads(path.read_text())
    record["validation"] = {
        "valid": True,
        "date": "2026-01-01T00:00:00+00:00",
        "speedup": {"estimate": 2.0},
    }
    path.write_text(json.dumps(record))
    assert mkinst.main(["render", str(spec_path), *common]) == 0
    assert json.loads(path.read_text())["validation"]["valid"] is True
    assert mkinst.main(["promote", iid, *common]) == 0
    assert json.loads((dataset / iid / "instance.json").read_text())["validation"]["valid"]

    # A newer record in the dataset is not overwritten without --force.
    newer = json.loads((dataset / iid / "instance.json").read_text())
    newer["validation"]["date"] = "2027-01-01T00:00:00+00:00"
    (dataset / iid / "instance.json").write_text(json.dumps(newer))
    assert mkinst.main(["promote", iid, *common]) == 2
    assert mkinst.main(["promote", iid, *common, "--force"]) == 0

    # check: the dataset's record renders back from the spec; a drifted env is reported.
    repos = spec_path.parents[2]
    assert mkinst.main(["check", "--repos", str(repos), *common]) == 0
    drifted = json.loads((dataset / iid / "instance.json").read_text())
    drifted["env"]["python"] = "3.12"  # an override edited by hand
    (dataset / iid / "instance.json").write_text(json.dumps(drifted))
    assert mkinst.main(["check", "--repos", str(repos), *common]) == 1


def test_spec_errors_name_the_file_and_field(tmp_path: Path):
    spec_path, *_ = make_curation(tmp_path)
    spec = json.loads(spec_path.read_text())
    spec_path.write_text(json.dumps({**spec, "repo": "acme/gadgets"}))
    with pytest.raises(curlib.CurationError, match=r"7?\.json: field 'repo'"):
        curlib.load_spec(spec_path)
    spec_path.write_text(json.dumps({**spec, "workloads": [{"name": "a"}]}))
    with pytest.raises(curlib.CurationError, match="exactly one visible"):
        curlib.load_spec(spec_path)
    spec_path.write_text(json.dumps({**spec, "envv": {}}))
    with pytest.raises(curlib.CurationError, match="unknown field"):
        curlib.load_spec(spec_path)
    spec_path.write_text("{\n  oops")
    with pytest.raises(curlib.CurationError, match=r":2: invalid JSON"):
        curlib.load_spec(spec_path)


def test_every_spec_parses_and_names_its_repository_folder():
    specs = curlib.all_specs()
    assert len(specs) >= 42
    kept = set()
    for path in specs:
        spec = curlib.load_spec(path)  # raises on a bad spec, naming the file
        folder = path.parents[1]
        assert (folder / "repo.json").is_file()
        assert folder.name == curlib.folder_name(spec.repo)
        assert path.parent.name in ("instances", "rejected")
        if path.parent.name == "instances":
            kept.add(mkinst.instance_id(spec.repo, spec.data["opt"]))
    # Every kept spec is an instance of the dataset and every instance has a spec.
    released = {p.parent.name for p in curlib.DEFAULT_DATASET.glob("*/instance.json")}
    assert kept == released
