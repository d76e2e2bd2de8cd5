"""Correctness: results compared with base's in a separate process, and guard tests.

The comparison runs ``harness/compare.py`` in the *base* variant (trusted code)
on encoded results, so nothing of the candidate's runs while it is judged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .measure.protocol import Measurement, TimedWorkload
from .sandbox.base import BASE, CANDIDATE, EXPERT, Backend, Limits

log = logging.getLogger(__name__)


@dataclass
class CorrectnessResult:
    correct: bool | None
    detail: str = ""
    per_workload: dict[str, str] = field(default_factory=dict)


@dataclass
class GuardResult:
    ran: bool
    passed: bool | None
    detail: str = ""


def compare_results(
    backend: Backend, m: Measurement, variant: str, limits: Limits
) -> CorrectnessResult:
    """Whether ``variant``'s result equals base's for every workload."""
    reference = m.results.get(BASE, {})
    produced = m.results.get(variant, {})
    per: dict[str, str] = {}
    ok = True
    for w in m.workloads:
        expected, actual = reference.get(w.name), produced.get(w.name)
        if not expected:
            return CorrectnessResult(None, f"no reference result for {w.name}")
        if not actual:
            per[w.name] = "no result"
            ok = False
            continue
        # Every timed call ran on an input of its own: compare them all (up to the harness's
        # byte budget, which may keep a few more of one side's results than of the other's).
        common = min(len(expected), len(actual))
        expected, actual = expected[:common], actual[:common]
        if expected == actual:
            per[w.name] = "identical"
            continue
        per[w.name] = _compare_one(backend, w, expected, actual, limits)
        if per[w.name] != "equal":
            ok = False
    if not ok:
        first = next((f"{k}: {v}" for k, v in per.items() if v not in ("identical", "equal")), "")
        return CorrectnessResult(False, first, per)
    return CorrectnessResult(True, "results equal base's", per)


def _compare_one(
    backend: Backend, w: TimedWorkload, expected: list[str], actual: list[str], limits: Limits
) -> str:
    request = {
        "workload": w.path,
        "expected_calls": expected,
        "actual_calls": actual,
        "pythonpath": backend.pythonpath(BASE),
    }
    proc = backend.run_harness(BASE, "compare.py", request, limits)
    try:
        answer = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return f"comparison failed ({proc.failure_reason() or 'no output'})"
    return "equal" if answer.get("equal") else str(answer.get("detail", "differs"))


def run_guard_tests(
    backend: Backend, test_ids: list[str], limits: Limits, log_path: Path, variant: str = CANDIDATE
) -> GuardResult:
    if not test_ids:
        return GuardResult(False, None, "instance lists no guard tests")
    proc = backend.run_tests(variant, test_ids, limits)
    text = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    log_path.write_text(f"$ guard tests on {variant}: {' '.join(test_ids)}\n{text}\n")
    if proc.timed_out:
        return GuardResult(True, False, "guard tests timed out")
    if proc.returncode != 0:
        tail = [ln for ln in text.strip().splitlines() if ln.strip()][-1:] or [""]
        return GuardResult(True, False, f"guard tests failed: {tail[0][:200]}")
    return GuardResult(True, True, f"{len(test_ids)} guard tests passed")


__all__ = ["EXPERT", "CorrectnessResult", "GuardResult", "compare_results", "run_guard_tests"]
