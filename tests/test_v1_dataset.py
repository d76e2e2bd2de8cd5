"""The curated dataset holds together without network: schema, workloads, and no repository code."""

import ast
from pathlib import Path

import pytest

from perfbench.datasets import load_dataset

V1 = Path(__file__).resolve().parent.parent / "instances" / "v1"

pytestmark = pytest.mark.skipif(not (V1 / "dataset.json").exists(), reason="instances/v1 not present")


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(V1)


def test_every_record_passes_the_schema(dataset):
    assert len(dataset) >= 1
    for inst in dataset:
        assert inst.expert_patch is None, "no diff of the repository is stored"
        assert len(inst.hidden_workloads) >= 2 and len(inst.visible_workloads) == 1, inst.instance_id
        assert inst.guard_tests, inst.instance_id
        assert inst.validation.get("speedup"), f"{inst.instance_id} was never validated"


def test_workloads_compile_and_define_setup_and_run(dataset):
    for inst in dataset:
        for w in inst.workloads:
            tree = ast.parse(inst.workload_source(w), filename=f"{inst.instance_id}/{w.name}")
            names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert {"setup", "run"} <= names, (inst.instance_id, w.name)
            setup = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "setup")
            assert setup.args.args and setup.args.args[0].arg == "seed", (inst.instance_id, w.name)


def test_no_repository_code_in_the_dataset():
    allowed = {".json", ".py", ".md"}
    for path in V1.rglob("*"):
        if path.is_file():
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
                a, b, c = (repr(v) for v in values)
            assert a == b, (inst.instance_id, w.name)
            assert a != c, (inst.instance_id, w.name, "setup ignores its seed")
            checked += 1
    assert checked > 0
