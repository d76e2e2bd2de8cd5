"""The shared session through evaluate and validate, on a fake backend: no sandbox, no timed
process, so the whole per-instance flow (build, workloads at their seeds, correctness first,
stopping, grading, the typed report) runs in well under a second per case."""

from __future__ import annotations

from pathlib import Path

import minidata
import pytest
from conftest import quick_config
from fake_backend import FakeBackend

import perfbench.session as session_module
from perfbench.datasets import load_dataset
from perfbench.evaluate import Evaluator
from perfbench.records import Prediction
from perfbench.report import Report
from perfbench.sandbox.base import BASE, CANDIDATE, EXPERT
from perfbench.seeds import workload_seed
from perfbench.validate import validate_instance

WORKLOADS = ("pairs", "visible")


def _times(base: float, expert: float, candidate: float) -> dict[str, dict[str, float]]:
    return {
        v: dict.fromkeys(WORKLOADS, t)
        for v, t in ((BASE, base), (EXPERT, expert), (CANDIDATE, candidate))
    }


@pytest.fixture
def fake_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The mini dataset, with every session opening a FakeBackend instead of a sandbox."""
    ds_path, rec = minidata.make_dataset(tmp_path / "ds")
    model: dict[str, object] = {}
    dataset = load_dataset(ds_path)
    # A candidate of its own (neither base's nor the expert's code), so the identity rules stay out.
    model["patch"] = minidata.patch_between(
        tmp_path / "ds" / "mini-repo",
        {"src/mini/core.py": minidata.OPT_CORE + "\n# the candidate's own version\n"},
    )
    opened: list[FakeBackend] = []

    def fake_backend(name, instance, **kwargs):
        backend = FakeBackend(model["times"], noise=0.01, seed=3, results=model.get("results"))
        opened.append(backend)
        return backend

    monkeypatch.setattr(session_module, "make_backend", fake_backend)
    return dataset, dataset.get(rec["instance_id"]), model, opened


def _evaluate(tmp_path: Path, dataset, inst, patch: str, **measure):
    config = quick_config(tmp_path, **{"max_blocks": 12, "min_blocks": 5, **measure})
    config.guard_tests = False
    pred = Prediction(inst.instance_id, "model", patch)
    return Evaluator(dataset, config).evaluate_one(pred), config


def test_evaluate_through_the_session_grades_and_reports(tmp_path, fake_session):
    dataset, inst, model, opened = fake_session
    model["times"] = _times(base=0.010, expert=0.005, candidate=0.005)
    report, _ = _evaluate(tmp_path, dataset, inst, model["patch"], max_blocks=12, seed=5)
    assert report["status"] == "done", report
    assert report["opt"] == "PASS", (report["opt"], report.get("speedup"))
    # The typed record accepts what was written, and the CLI's settings reached it.
    Report.from_dict(report)
    measured = report["measurement"]
    assert (measured["max_blocks"], measured["seed"]) == (12, 5)
    assert measured["looks"][-1] == 12 and measured["blocks"] <= 12
    # Each workload ran at the seed the session derives from the dataset's evaluation seed.
    (backend,) = opened
    timed = [
        r for v, s, r in backend.requests if s != "compare.py" and r.get("mode") != "calibrate"
    ]
    seeds = {Path(r["workload"]).name: r["seed"] for r in timed}
    expected = {w.name: workload_seed(dataset.eval_seed, inst, w) for w in inst.workloads}
    assert seeds == expected
    # Interleaved blocks: every block measured all three variants.
    variants = {r["pythonpath"][0] for r in timed}
    assert variants == {BASE, EXPERT, CANDIDATE}


def test_a_slow_candidate_fails_and_stops_early(tmp_path, fake_session):
    dataset, inst, model, _ = fake_session
    model["times"] = _times(base=0.010, expert=0.005, candidate=0.020)
    report, _ = _evaluate(tmp_path, dataset, inst, model["patch"])
    assert report["opt"] == "FAIL"
    assert report["speedup"]["high"] < 1.0
    assert report["measurement"]["blocks"] == 5  # decided at the first look


def test_wrong_results_fail_after_the_first_block(tmp_path, fake_session):
    dataset, inst, model, _ = fake_session
    model["times"] = _times(base=0.010, expert=0.005, candidate=0.001)
    model["results"] = {CANDIDATE: "wrong"}
    report, _ = _evaluate(tmp_path, dataset, inst, model["patch"])
    assert report["opt"] == "FAIL"
    assert report["correct"] is False
    assert report["measurement"]["blocks"] == 1


def test_validate_through_the_session(tmp_path, fake_session):
    dataset, inst, model, opened = fake_session
    config = quick_config(tmp_path, max_blocks=12, min_blocks=5)
    model["times"] = _times(base=0.010, expert=0.005, candidate=0.005)
    held = validate_instance(dataset, inst, config, threshold=1.2)
    assert held.valid, held.reasons
    assert held.record["speedup"]["low"] >= 1.2
    model["times"] = _times(base=0.010, expert=0.0098, candidate=0.0098)
    lost = validate_instance(dataset, inst, config, threshold=1.2)
    assert not lost.valid
    assert any("lower bound under 1.2x" in r for r in lost.reasons), lost.reasons
    # Validation measures base and expert only.
    assert {r["pythonpath"][0] for _, s, r in opened[-1].requests if s != "compare.py"} == {
        BASE,
        EXPERT,
    }
