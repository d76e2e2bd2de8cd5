"""Failures of the evaluation are not the patch's: status ``error``, no verdict, left out of the
rates, redone by the same command. And ``correct`` means results equal AND guard tests passing."""

from __future__ import annotations

import pytest
from test_grading import measurement, run_grade, times

from perfbench.errors import BackendUnavailable, HarnessError
from perfbench.grading import FAIL
from perfbench.reports import aggregate
from perfbench.sandbox.local import LocalBackend


def test_guard_failure_makes_a_candidate_incorrect():
    g = run_grade(measurement(times(10, 5, 5)), correct=True, guard=False)
    assert g.correct is False and g.opt == FAIL and "guard_failed" in g.flags
    assert g.reason.startswith("not correct: guard tests failed")
    line = {
        "status": "done",
        **{k: v for k, v in g.to_dict().items() if k in ("correct", "opt", "applied", "built")},
    }
    assert aggregate([line])["correct_rate"] == 0.0


def test_error_reports_are_left_out_of_rates():
    done = {
        "status": "done",
        "instance_id": "a",
        "opt": "PASS",
        "applied": True,
        "built": True,
        "correct": True,
        "improved": True,
        "opt_gso": True,
        "flags": [],
    }
    err = {
        "status": "error",
        "instance_id": "b",
        "opt": "ERROR",
        "applied": None,
        "built": None,
        "correct": None,
        "error": "docker: the engine stopped answering",
        "flags": ["error"],
    }
    agg = aggregate([done, err])
    assert agg["n_instances"] == 1 and agg["n_errors"] == 1 and agg["opt_rate"] == 1.0
    assert agg["opt_fail"] == 0 and agg["errors"] == {"b": "docker: the engine stopped answering"}


def _only_report(evaluate_mini, mini, run_id="t"):
    reports = evaluate_mini([("gold", _gold_patch(mini))], run_id=run_id)
    return reports["gold"]


def _gold_patch(mini):
    import minidata

    return minidata.patch_between(
        mini[0].parent / "mini-repo", {"src/mini/core.py": minidata.OPT_CORE}
    )


@pytest.mark.integration
def test_engine_dying_mid_run_is_an_error_and_a_rerun_finishes(
    mini, evaluate_mini, monkeypatch, tmp_path
):
    real = LocalBackend.run_harness
    calls = {"n": 0}

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 4:
            raise BackendUnavailable("docker: cannot run a container: the engine stopped answering")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LocalBackend, "run_harness", dying)
    r = _only_report(evaluate_mini, mini)
    assert r["status"] == "error" and r["opt"] == "ERROR" and r["correct"] is None, r
    assert "engine stopped answering" in r["error"] and r["fix"]
    import json

    summary = json.loads((tmp_path / "runs" / "t" / "gold" / "summary.json").read_text())
    assert summary["aggregates"]["n_errors"] == 1 and summary["aggregates"]["n_instances"] == 0
    assert summary["aggregates"]["opt_fail"] == 0
    monkeypatch.setattr(LocalBackend, "run_harness", real)
    again = _only_report(evaluate_mini, mini)  # the same command, no --rerun
    assert again["status"] == "done" and again["opt"] in ("PASS", "INCONCLUSIVE"), again.get(
        "reason"
    )


@pytest.mark.integration
def test_missing_test_runner_is_an_error_not_a_fail(mini, evaluate_mini, monkeypatch):
    monkeypatch.setattr(LocalBackend, "test_runner_module", lambda self: "pb_no_such_runner")
    r = _only_report(evaluate_mini, mini)
    assert r["status"] == "error" and r["opt"] == "ERROR", r
    assert "pb_no_such_runner" in r["error"] and "pip install pb_no_such_runner" in r["fix"]
    assert "\n" not in r["fix"]
    monkeypatch.undo()
    again = _only_report(evaluate_mini, mini)
    assert again["status"] == "done" and again["guard"]["passed"] is True, again.get("reason")


def test_harness_error_carries_a_fix():
    exc = HarnessError("no pytest", fix="pip install pytest")
    assert str(exc) == "no pytest (fix: pip install pytest)" and exc.fix == "pip install pytest"
    assert isinstance(BackendUnavailable("x"), HarnessError)
