"""instances/mined holds together like v1, and every instance is the miner's own work."""

from pathlib import Path

import pytest

from perfbench.datasets import load_dataset
from perfbench.mining.pipeline import leaked_inputs
from perfbench.mining.workloads import GENERATORS
from tests.test_v1_dataset import (  # noqa: F401  (collected here with this module's fixture)
    test_commits_and_guards_exist_and_nothing_of_the_expert_diff_is_stored,
    test_every_instance_held_in_two_validation_runs_under_the_release_seed,
    test_workloads_compile_and_define_setup_and_run,
)

MINED = Path(__file__).resolve().parent.parent / "instances" / "mined"

pytestmark = pytest.mark.skipif(
    not (MINED / "dataset.json").exists(), reason="instances/mined not present"
)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(MINED)


def test_every_record_is_complete(dataset):
    """Like v1, except that one hidden workload may be the visible one's twin at other seeds
    (the miner keeps the workloads that held; v1's curators wrote two or more)."""
    assert len(dataset) >= 1
    for inst in dataset:
        assert inst.expert_patch is None, "no diff of the repository is stored"
        assert inst.hidden_workloads and len(inst.visible_workloads) == 1, inst.instance_id
        assert inst.validation.get("speedup"), f"{inst.instance_id} was never validated"


def test_every_workload_was_generated_by_the_miner(dataset):
    for inst in dataset:
        mined = inst.metadata.get("mined")
        assert mined and mined.get("by", "").startswith("perfbench mine"), inst.instance_id
        for w in inst.workloads:
            provenance = mined["workloads"].get(w.name)
            assert provenance and provenance["generator"] in GENERATORS, (inst.instance_id, w.name)


def test_no_hidden_workload_shows_in_the_problem_statement(dataset):
    for inst in dataset:
        assert any(not w.visible for w in inst.workloads), inst.instance_id
        shown = {inst.workload_source(w) for w in inst.visible_workloads}
        for w in inst.hidden_workloads:
            twin = inst.workload_source(w) in shown  # the visible code at secret seeds
            seeds = inst.metadata["mined"]["workloads"][w.name].get("varies_with_seed")
            assert not twin or seeds, (inst.instance_id, w.name, "a twin that cannot vary")
            if not twin:
                leaks = leaked_inputs(inst.workload_source(w), inst.problem_statement)
                assert not leaks, (inst.instance_id, w.name, leaks[:2])


def test_only_our_files_are_stored():
    for path in MINED.rglob("*"):
        if path.is_file():
            assert path.suffix in {".json", ".py", ".md"}, path
            if path.suffix == ".py":
                assert path.parent.name == "workloads", path


def test_hidden_replays_give_most_calls_inputs_of_their_own(dataset):
    """Equal inputs within a process are what a candidate memoising by value is served from
    its cache: a hidden replay's calibrated scale must draw many sizes (see _can_hide)."""
    import re

    from perfbench.mining.pipeline import MIN_DISTINCT_INPUTS
    from perfbench.mining.workloads.replay import distinct_inputs

    for inst in dataset:
        for w in inst.hidden_workloads:
            source = inst.workload_source(w)
            scale = re.search(r"^BASE_SCALE = (\d+)", source, re.MULTILINE)
            if scale is None:
                continue  # not a replay
            floor = re.search(r"^MIN_SCALE = (\d+)", source, re.MULTILINE)
            distinct = distinct_inputs(int(scale.group(1)), int(floor.group(1)) if floor else 1)
            assert distinct >= MIN_DISTINCT_INPUTS, (inst.instance_id, w.name, distinct)
