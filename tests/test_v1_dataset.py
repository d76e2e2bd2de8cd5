"""The curated dataset holds together without network: schema, workloads, and no repository code."""

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

from perfbench import repos
from perfbench.datasets import load_dataset
from perfbench.repos import URL_TEMPLATE_ENV, RepoCache

V1 = Path(__file__).resolve().parent.parent / "instances" / "v1"

pytestmark = pytest.mark.skipif(
    not (V1 / "dataset.json").exists(), reason="instances/v1 not present"
)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(V1)


def test_every_record_passes_the_schema(dataset):
    assert len(dataset) >= 1
    for inst in dataset:
        assert inst.expert_patch is None, "no diff of the repository is stored"
        assert len(inst.hidden_workloads) >= 2 and len(inst.visible_workloads) == 1, (
            inst.instance_id
        )
        assert inst.guard_tests, inst.instance_id
        assert inst.validation.get("speedup"), f"{inst.instance_id} was never validated"


def test_every_instance_held_in_two_validation_runs_under_the_release_seed(dataset):
    from perfbench.validate import held_every_time, seed_digest

    for inst in dataset:
        record = inst.validation
        assert record.get("seed_digest") == seed_digest(dataset.eval_seed, inst), inst.instance_id
        assert held_every_time(record, 2), inst.instance_id
        assert record["history"][0].get("seed_digest") == record["seed_digest"], inst.instance_id


def test_workloads_compile_and_define_setup_and_run(dataset):
    for inst in dataset:
        for w in inst.workloads:
            tree = ast.parse(inst.workload_source(w), filename=f"{inst.instance_id}/{w.name}")
            names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert {"setup", "run"} <= names, (inst.instance_id, w.name)
            setup = next(
                n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "setup"
            )
            assert setup.args.args and setup.args.args[0].arg == "seed", (inst.instance_id, w.name)


def test_no_repository_code_in_the_dataset():
    allowed = {".json", ".py", ".md"}
    for path in V1.rglob("*"):
        if path.is_file():
            if path.parent.name == "predictions":
                assert path.suffix == ".jsonl", path  # sample predictions (patches) for the dataset
                continue
            assert path.suffix in allowed, path
            assert path.stat().st_size < 200_000, path
            if path.suffix == ".py":
                assert path.parent.name == "workloads", path


def test_setup_is_deterministic_per_seed(dataset):
    """Same seed, same inputs; another seed, other inputs (where setup needs no library code)."""
    import pickle
    import types

    checked = 0
    for inst in dataset:
        for w in inst.hidden_workloads:
            module = types.ModuleType("w")
            try:
                exec(compile(inst.workload_source(w), w.name, "exec"), module.__dict__)
                values = [module.setup(s) for s in (5, 5, 6)]
            except Exception:
                continue
            try:
                a, b, c = (pickle.dumps(v) for v in values)
            except Exception:
                # Library objects (templates, parsers) do not pickle: compare their text, addresses left out.
                a, b, c = (re.sub(r"(?:0x)?[0-9a-fA-F]{10,}", "", repr(v)) for v in values)
            assert a == b, (inst.instance_id, w.name)
            assert a != c, (inst.instance_id, w.name, "setup ignores its seed")
            checked += 1
    assert checked > 0


MIRRORS = os.environ.get(URL_TEMPLATE_ENV)


@pytest.mark.skipif(
    not MIRRORS, reason=f"needs repository mirrors: set {URL_TEMPLATE_ENV} to a URL template"
)
def test_commits_and_guards_exist_and_nothing_of_the_expert_diff_is_stored(dataset):
    """Against the real repositories: base is opt's parent, guard test files exist at base, and no
    line the expert added (the solution) appears in a workload or a problem statement."""
    cache = RepoCache(None, MIRRORS)  # the user cache: mirrors are reused between runs
    for inst in dataset:
        git_dir = cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
        parents = subprocess.run(
            ["git", "--git-dir", str(git_dir), "rev-parse", f"{inst.opt_commit}^"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert parents.startswith(inst.base_commit) or inst.base_commit.startswith(parents[:12]), (
            inst.instance_id
        )
        files = subprocess.run(
            ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "--name-only", inst.base_commit],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        for test_id in inst.guard_tests:
            path = test_id.split("::")[0]
            assert path in files or any(f.startswith(path.rstrip("/") + "/") for f in files), (
                inst.instance_id,
                path,
            )
        added = {
            line[1:].strip()
            for line in repos.diff(git_dir, inst.base_commit, inst.opt_commit).splitlines()
            if line.startswith("+") and not line.startswith("+++")
        }
        added = {a for a in added if len(a) >= 40}  # long, distinctive lines only
        ours = [inst.problem_statement] + [inst.workload_source(w) for w in inst.workloads]
        for text in ours:
            stored = {line.strip() for line in text.splitlines()}
            leaked = added & stored
            assert not leaked, (inst.instance_id, sorted(leaked)[:3])
