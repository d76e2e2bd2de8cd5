"""A backend that runs no process: answers harness requests from a model of each variant.

Lets the measurement protocol, the stop rules and the correctness-first flow be tested in
milliseconds. Each variant has a true per-call time per workload; every answer draws
log-normal noise around it. ``results`` gives each variant's result per workload (a
wrong one makes the candidate incorrect).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from perfbench.sandbox.base import BASE, Backend, Limits, ProcResult, VariantBuild


class FakeBackend(Backend):
    name = "fake"

    def __init__(
        self,
        times: dict[str, dict[str, float]],
        *,
        noise: float = 0.02,
        seed: int = 0,
        results: dict[str, str] | None = None,
    ) -> None:
        self.times = times
        self.noise = noise
        self.rng = random.Random(seed)
        self.results = results or {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.instance = None  # the protocol never asks for it

    # Building is not what these tests are about.
    def prepare_reference(self, repo_git_dir: Path) -> dict[str, VariantBuild]:
        return {}

    def prepare_candidate(self, patch: str) -> VariantBuild:
        return VariantBuild("candidate", True)

    def install_workloads(self, files: dict[str, str]) -> dict[str, str]:
        return {name: name for name in files}

    def run_tests(self, variant: str, test_ids: list[str], limits: Limits) -> ProcResult:
        return ProcResult(0, b"", b"", 0.0)

    def pythonpath(self, variant: str) -> list[str]:
        return [variant]

    def run_harness(
        self, variant: str, script: str, request: dict[str, Any], limits: Limits
    ) -> ProcResult:
        self.requests.append((variant, script, request))
        if script == "compare.py":
            equal = request["expected_calls"] == request["actual_calls"]
            return self._answer({"equal": equal, "detail": "equal" if equal else "differs"}, 0.01)
        workload = Path(request["workload"]).name
        variant = request["pythonpath"][0]
        true = self.times[variant][workload]
        result = json.dumps(self.results.get(variant, "same"))
        if request.get("mode") == "calibrate":
            return self._answer(
                {
                    "nonce": request["nonce"],
                    "ok": True,
                    "per_call_s": true,
                    "loops": 1,
                    "result_digest": result,
                },
                0.05,
            )
        loops, repeats = int(request["loops"]), int(request["repeats"])
        figure = true * math.exp(self.rng.gauss(0.0, self.noise))
        times = [figure] * repeats
        answer = {
            "nonce": request["nonce"],
            "ok": True,
            "times": times,
            "loops": loops,
            "calls": loops * repeats,
            "min": figure,
            "median": figure,
            "mean": figure,
            "wait_s": 0.0,
            "result_digest": result,
        }
        if request.get("return_result"):
            answer["results"] = [result] * (loops * repeats)
        return self._answer(answer, 0.05 + figure * loops * repeats)

    @staticmethod
    def _answer(payload: dict[str, Any], wall: float) -> ProcResult:
        return ProcResult(0, (json.dumps(payload) + "\n").encode(), b"", wall)


__all__ = ["BASE", "FakeBackend"]
