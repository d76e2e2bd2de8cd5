"""Executors without a cluster: slots and their cores, the local executor's parallel slots,
the compute / record split of an evaluation, and the one-line errors of the CLI options."""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass

import minidata
import pytest
from click.testing import CliRunner
from conftest import quick_config

from perfbench.cli import main
from perfbench.datasets import load_dataset
from perfbench.errors import BackendUnavailable, InputError, PerfbenchError
from perfbench.evaluate import Evaluator
from perfbench.executors import make_executor, slots
from perfbench.executors.base import Done, Executor
from perfbench.executors.cluster import check_reachable
from perfbench.executors.local import LocalExecutor
from perfbench.executors.slots import Slot
from perfbench.executors.work import validate_all
from perfbench.records import Prediction

# ---- slots -------------------------------------------------------------------


def test_core_groups_are_disjoint_and_leave_the_first_core():
    assert slots.measurement_cpus([0, 1, 2, 3], 3) == [1, 2, 3]
    assert slots.measurement_cpus([0, 1], 2) == [0, 1]
    assert slots.split_groups([1, 2, 3, 4, 5], 2) == [(1, 2, 3), (4, 5)]
    assert slots.split_groups([1], 1) == [(1,)]
    with pytest.raises(InputError, match="need at least 3 cores"):
        slots.split_groups([0, 1], 3)
    assert slots.default_slot_count([0, 1, 2, 3]) == 3 and slots.default_slot_count([0]) == 1


def test_slot_cpus_from_the_node_environment():
    env = {slots.SLOT_CPUS_ENV: "2-3;4-5"}
    assert slots.node_groups(2, env) == [(2, 3), (4, 5)]
    assert slots.node_groups(2, {}, available=[0, 1, 2, 3, 4]) == [(1, 2), (3, 4)]
    for bad in ("1;1-2", "x", ";"):
        with pytest.raises(InputError, match=slots.SLOT_CPUS_ENV):
            slots.parse_groups(bad)


def test_a_held_slot_is_not_given_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(slots, "LOCK_DIR", tmp_path)
    groups = [(0,), (1,)]
    with slots.hold_slot(groups) as (a, _), slots.hold_slot(groups) as (b, cpus_b):
        assert {a, b} == {0, 1} and cpus_b == groups[b]
        got: list[int] = []
        waiter = threading.Thread(target=lambda: _hold_once(groups, got))
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and not got  # both groups held: the third waits
    waiter.join(10)
    assert got and got[0] in (0, 1)


def _hold_once(groups: list[tuple[int, ...]], out: list[int]) -> None:
    with slots.hold_slot(groups, poll_s=0.05) as (index, _):
        out.append(index)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_pinning_covers_the_thread_and_is_undone():
    before = os.sched_getaffinity(0)
    target = (max(before),)
    with slots.pinned(target):
        assert os.sched_getaffinity(0) == set(target)
    assert os.sched_getaffinity(0) == before


# ---- options and errors --------------------------------------------------------


def test_executor_option_errors_are_one_line(monkeypatch):
    with pytest.raises(InputError, match="--max-workers is for --executor local"):
        make_executor("ray", max_workers=2)
    with pytest.raises(InputError, match="--cpus pins a local run"):
        make_executor("ray", cpus=(1,))
    with pytest.raises(InputError, match="--ray-address needs --executor ray"):
        make_executor("local", ray_address="127.0.0.1:6379")
    with pytest.raises(InputError, match="--max-workers 64"):
        LocalExecutor(64)
    with pytest.raises(BackendUnavailable, match="no Ray cluster answers"):
        check_reachable("127.0.0.1:1", timeout_s=2)
    with pytest.raises(BackendUnavailable, match="expected HOST:PORT"):
        check_reachable("somewhere")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(BackendUnavailable, match=r"needs Ray.*pip install"):
        make_executor("ray")


def test_cli_executor_errors(mini, tmp_path, monkeypatch):
    ds, _ = mini
    base = [
        "evaluate",
        "--dataset",
        str(ds),
        "--predictions",
        "empty",
        "--backend",
        "local",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    runner = CliRunner()
    res = runner.invoke(main, [*base, "--executor", "ray", "--ray-address", "127.0.0.1:1"])
    assert res.exit_code == 1 and "error:" in res.output
    assert ("no Ray cluster answers" in res.output) or ("needs Ray" in res.output), res.output
    monkeypatch.setitem(sys.modules, "ray", None)
    res = runner.invoke(main, [*base, "--executor", "ray"])
    assert res.exit_code == 1 and "--executor ray needs Ray" in res.output, res.output
    res = runner.invoke(main, [*base, "--max-workers", "64"])
    assert res.exit_code == 2 and "--max-workers 64" in res.output, res.output
    assert not (tmp_path / "runs").exists()


# ---- the compute / record split -----------------------------------------------


@pytest.mark.integration
def test_compute_writes_only_staging_and_record_writes_the_run(mini, tmp_path):
    ds_path, rec = mini
    ev = Evaluator(load_dataset(ds_path), quick_config(tmp_path, "split"))
    pred = Prediction(rec["instance_id"], "prose", "Use a dictionary to count values.")
    outcome = ev.compute(pred, tmp_path / "stage")
    assert not (tmp_path / "runs").exists()
    assert outcome.report["applied"] is False and "build-base.log" in outcome.files
    report = ev.record(pred, outcome)
    out_dir = ev.layout.instance_dir("prose", rec["instance_id"])
    assert json.loads((out_dir / "report.json").read_text()) == report
    assert (out_dir / "build-base.log").read_text() == outcome.files["build-base.log"]
    assert report["builds"]["base"]["log"] == str(out_dir / "build-base.log")
    assert ev.pending([pred]) == []


@dataclass
class DyingWork:
    """A task whose worker process dies under it (as if killed)."""

    key: str = "dying/work"

    def run(self, slot: Slot, events: object = None) -> object:
        os._exit(3)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_dead_worker_process_is_reported_lost():
    done = list(LocalExecutor(2).results([DyingWork()]))
    assert len(done) == 1 and "died" in (done[0].error or "")


# ---- parallel local slots -----------------------------------------------------


@pytest.mark.integration
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_local_parallel_slots_use_disjoint_cores(tmp_path):
    ds_path, rec = minidata.make_dataset(
        tmp_path, size=120, grading={"min_speedup": 1.2, "expert_share": 0.8}
    )
    gold = minidata.patch_between(tmp_path / "mini-repo", {"src/mini/core.py": minidata.OPT_CORE})
    iid = rec["instance_id"]
    config = quick_config(tmp_path, "par", max_blocks=4)
    config.guard_tests = False
    config.backend_options = {"isolation": "none"}
    dataset = load_dataset(ds_path)
    ev = Evaluator(dataset, config)
    preds = [Prediction(iid, "gold", gold), Prediction(iid, "empty", "")]
    with LocalExecutor(2) as executor:
        ev.run(preds, executor=executor)
    reports = {
        p.model_name_or_path: ev.layout.load_report(p.model_name_or_path, iid) for p in preds
    }
    # gold's share of the expert is exactly 1 and its speedup far above 1.2x; empty never passes
    assert reports["gold"]["opt"] == "PASS" and reports["empty"]["opt"] != "PASS"
    spans = [r["executor"] for r in reports.values()]
    assert {s["slot"] for s in spans} == {0, 1}
    assert {tuple(s["cpus"]) for s in spans} == {(0,), (1,)}
    for r in reports.values():
        assert r["measurement"]["cpu_affinity"] == r["executor"]["cpus"]
    a, b = spans
    if a["start"] < b["end"] and b["start"] < a["end"]:
        assert not set(a["cpus"]) & set(b["cpus"])

    # validation through the same slots writes its logs into the run folder
    with LocalExecutor(2) as executor:
        [(_, result)] = list(
            validate_all(executor, dataset, dataset.instances, config, 1.2, events=ev.events)
        )
    assert (
        result.record["executor"]["executor"] == "local"
        and result.record["speedup"]["estimate"] > 1
    )
    assert (tmp_path / "runs" / "par" / "validate" / iid / "build-base.log").exists()


def test_lost_evaluations_fail_the_run_after_the_summary(mini, tmp_path):
    ds_path, rec = mini
    ev = Evaluator(load_dataset(ds_path), quick_config(tmp_path, "lost"))

    class Losing(Executor):
        def results(self, works, events=None):
            for work in works:
                yield Done(work, error="node died")

    with pytest.raises(
        PerfbenchError, match=r"1 of 1 evaluations did not finish.*run the same command again"
    ):
        ev.run([Prediction(rec["instance_id"], "m", "")], executor=Losing())
    assert (ev.layout.model_dir("m") / "summary.json").exists()
