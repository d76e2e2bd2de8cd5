"""instances/compiled holds together like v1: the same record, validation and workload checks."""

from pathlib import Path

import pytest

from perfbench.datasets import load_dataset
from tests.test_v1_dataset import (  # noqa: F401  (collected here with this module's fixture)
    test_commits_and_guards_exist_and_nothing_of_the_expert_diff_is_stored,
    test_every_instance_held_in_two_validation_runs_under_the_release_seed,
    test_every_record_passes_the_schema,
    test_workloads_compile_and_define_setup_and_run,
)

COMPILED = Path(__file__).resolve().parent.parent / "instances" / "compiled"

pytestmark = pytest.mark.skipif(
    not (COMPILED / "dataset.json").exists(), reason="instances/compiled not present"
)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(COMPILED)


def test_only_our_files_are_stored():
    allowed = {".json", ".py", ".md"}
    for path in COMPILED.rglob("*"):
        if path.is_file():
            assert path.suffix in allowed, path
            assert path.stat().st_size < 200_000, path
            if path.suffix == ".py":
                assert path.parent.name == "workloads", path


def test_each_repository_shares_one_environment(dataset):
    """One env block per repository, so a per-repository spec can replace them unchanged."""
    envs: dict[str, set[str]] = {}
    for inst in dataset:
        envs.setdefault(inst.repo, set()).add(inst.env.content_hash())
    assert len(envs) >= 3
    assert all(len(hashes) == 1 for hashes in envs.values()), envs


def test_every_instance_names_its_compiled_language(dataset):
    """The README and the issue count instances by the language of the expert's change."""
    for inst in dataset:
        assert inst.metadata.get("language") in {"C", "Cython"}, inst.instance_id
