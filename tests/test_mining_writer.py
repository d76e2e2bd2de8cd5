"""Instance folders, problem statements, dataset.json and the mining journal (no measuring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfbench.datasets import load_dataset
from perfbench.errors import InputError
from perfbench.mining.instance_writer import (
    ApiInfo,
    ensure_dataset,
    instance_id,
    normalize_repo_name,
    problem_statement,
    write_instance_folder,
)
from perfbench.mining.pipeline import MineState, _with_visible, derive_repo_name
from perfbench.mining.workloads import GeneratedWorkload
from perfbench.mining.workloads.base import unique_names
from perfbench.records import Instance, Workload

VISIBLE = (
    "def setup(seed=0):\n    return list(range(10))\n\n\ndef run(data):\n    return sum(data)\n"
)


def test_ids_and_repo_names():
    assert instance_id("pytoolz/toolz", "72aeb8005475abc") == "pytoolz__toolz-72aeb80"
    assert normalize_repo_name("/a/b.git") == "a/b"
    assert normalize_repo_name("we ird/na me") == "we-ird/na-me"
    with pytest.raises(InputError, match="owner/name"):
        normalize_repo_name("just-a-name")
    assert derive_repo_name(Path("/x/y"), "git@github.com:pytoolz/toolz.git") == "pytoolz/toolz"
    assert derive_repo_name(Path("/x/y"), "https://example.org/git/grp/proj/") == "grp/proj"
    assert derive_repo_name(Path("/tmp/minilib"), None) == "local/minilib"
    assert derive_repo_name(Path("/m/toolz.git"), None) == "local/toolz"


def test_problem_statement_names_the_api_and_shows_the_workload():
    apis = [
        ApiInfo("pkg.mod._helper", "_helper(xs)", False),
        ApiInfo("pkg.mod.total", "total(xs)", True),
    ]
    text = problem_statement(apis, "called on long lists", VISIBLE, ["tests"])
    assert text.startswith("`pkg.mod.total(xs)` is slow in this situation: called on long lists.")
    assert "Make `pkg.mod.total` faster" in text and "_helper" not in text
    assert f"```python\n{VISIBLE}```" in text and "`tests/`" in text
    two = problem_statement(
        [ApiInfo("a.f", "f()", True), ApiInfo("a.g", "g()", True)], "x", VISIBLE, []
    )
    assert "(together with `a.g`)" in two and "the repository's tests" in two


def test_instance_folder_round_trips_through_the_dataset_loader(tmp_path: Path):
    meta = ensure_dataset(tmp_path, name="mined", repo_name="o/n", location="/repos/n")
    again = ensure_dataset(tmp_path, name="other", repo_name="o/m", location="/repos/m")
    assert again["eval_seed"] == meta["eval_seed"] and again["name"] == "mined"
    assert again["repos"] == {"o/n": "/repos/n", "o/m": "/repos/m"}
    inst = Instance(
        instance_id="o__n-abcdef1",
        repo="o/n",
        base_commit="a" * 40,
        opt_commit="abcdef1" + "0" * 33,
        problem_statement="p",
        workloads=[Workload("w", source=VISIBLE), Workload("v", source=VISIBLE, visible=True)],
    )
    write_instance_folder(tmp_path, inst, {"w": VISIBLE, "v": VISIBLE})
    write_instance_folder(tmp_path, inst, {"w": VISIBLE, "v": VISIBLE})  # replaces, no leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.json", "o__n-abcdef1"]
    loaded = load_dataset(tmp_path).get("o__n-abcdef1")
    assert [w.path for w in loaded.workloads] == ["workloads/w.py", "workloads/v.py"]
    assert loaded.workload_source(loaded.visible_workloads[0]) == VISIBLE


def test_state_journal_survives_a_torn_line(tmp_path: Path):
    path = tmp_path / "state.jsonl"
    state = MineState(path)
    state.append("a" * 40, "generated", workloads=["w"])
    state.append("a" * 40, "done", status="instance")
    state.append("b" * 40, "generated")
    with path.open("a") as fh:
        fh.write('{"sha": "c", "stage": "do')  # a write cut short
    again = MineState(path)
    assert again.finished("a" * 40)["status"] == "instance"
    assert again.finished("b" * 40) is None and again.stage("b" * 40) == "generated"
    assert again.stage("c") is None
    assert all(json.loads(ln)["sha"] for ln in path.read_text().splitlines()[:3])


def _w(name: str, generator: str, size: int = 10) -> GeneratedWorkload:
    return GeneratedWorkload(name, "x" * size, generator, f"{name} situation", ["a.f"])


def test_visible_workload_choice():
    chosen = _with_visible([_w("t", "tests"), _w("r", "replay", 500)])
    assert [(w.name, v) for w, v in chosen] == [("t", False), ("r", True)]  # replay reads best
    lone = _with_visible([_w("t", "tests")])
    assert [(w.name, v) for w, v in lone] == [("t", False), ("t_visible", True)]
    assert lone[1][0].source == lone[0][0].source and lone[1][0].details["twin_of"] == "t"
    named = [_w("a", "replay"), _w("a", "tests"), _w("a_2", "asv")]
    unique_names(named)
    assert [w.name for w in named] == ["a", "a_2", "a_2_2"]


def test_dry_run_lists_candidates_and_a_lower_threshold_lowers_the_grading_bar(tmp_path: Path):
    from gitrepo_factory import RepoBuilder

    from perfbench.mining.pipeline import MineOptions, mine

    b = RepoBuilder(tmp_path / "repo")
    b.commit("Add f", {"pkg/__init__.py": "", "pkg/m.py": "def f(xs):\n    return list(xs)\n"})
    b.commit("Speed up f with a set", {"pkg/m.py": "def f(xs):\n    return list(set(xs))\n"})
    opts = MineOptions(dry_run=True, threshold=1.1, commits=[b.head()[:7]])
    report = mine(b.path, tmp_path / "out", opts)
    assert [c.sha for c in report.scan.candidates] == [b.head()]
    assert report.repo_name == "local/repo" and not (tmp_path / "out").exists()
    assert opts.grading.min_speedup == 1.1
    with pytest.raises(InputError, match="no candidate commit matches"):
        mine(b.path, tmp_path / "out", MineOptions(dry_run=True, commits=["0000000"]))
