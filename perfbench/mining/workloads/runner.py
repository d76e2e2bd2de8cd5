"""Trial runs of generated workloads in fresh processes, through the real harness.

Before a workload is worth measuring it must run at base and at opt, give the
same result twice at base (the protocol voids a variant whose results change
between processes) and the same result at opt as at base. These trials use
``harness/runner.py`` and ``harness/compare.py``, the code the measurement uses,
so a workload that passes here runs there too.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...sandbox.base import HARNESS_DIR

log = logging.getLogger(__name__)

TRIAL_SEED = 1  # neither the visible seed (0) nor a hidden one


@dataclass
class Proc:
    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool


def run_process(
    argv: list[str], *, cwd: Path, env: dict[str, str], stdin: bytes = b"", timeout_s: float
) -> Proc:
    """Run ``argv`` in its own session; on timeout the whole process group is killed."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc)
        out, err = proc.communicate()
    finally:
        _kill(proc)
    return Proc(proc.returncode, out, err, timed_out)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Trial:
    """One process of the harness: per-call time and the encoded result, or why it failed."""

    ok: bool
    error: str = ""
    per_call_s: float = 0.0
    first_call_s: float = 0.0
    setup_s: float = 0.0
    result: str | None = None
    digest: str = ""


class WorkloadRunner:
    """Runs workload sources against the exported base and opt trees."""

    def __init__(
        self,
        python: str,
        trees: dict[str, Path],
        pythonpath: list[str],
        timeout_s: float = 120.0,
        rounds: int = 3,
    ) -> None:
        self.rounds = max(2, rounds)  # base runs twice at least: determinism is checked on them
        self.python = python
        self.trees = {k: v.resolve() for k, v in trees.items()}
        self.pythonpath = pythonpath
        self.timeout_s = timeout_s

    def paths(self, variant: str) -> list[str]:
        return [str(self.trees[variant] / p) for p in self.pythonpath]

    def _env(self, scratch: Path) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "SYSTEMROOT")}
        return {
            **keep,
            "HOME": str(scratch),
            "TMPDIR": str(scratch),
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def _harness(self, script: str, request: dict[str, Any], scratch: Path) -> Proc:
        argv = [self.python, "-s", str(HARNESS_DIR / script)]
        return run_process(
            argv,
            cwd=scratch,
            env=self._env(scratch),
            stdin=(json.dumps(request) + "\n").encode(),
            timeout_s=self.timeout_s,
        )

    def trial(
        self, source: str, variant: str, seed: int = TRIAL_SEED, *, target_s: float = 0.01
    ) -> Trial:
        """Run ``source`` in a fresh process of ``variant``: a first call, then calibrated loops."""
        with tempfile.TemporaryDirectory(prefix="perfbench-trial-") as tmp:
            scratch = Path(tmp)
            path = scratch / "workload.py"
            path.write_text(source)
            nonce = secrets.token_hex(8)
            request = {
                "workload": str(path),
                "seed": seed,
                "mode": "calibrate",
                "target_s": target_s,
                "warmup": 1,
                "pythonpath": self.paths(variant),
                "nonce": nonce,
                "return_result": True,
            }
            proc = self._harness("runner.py", request, scratch)
        if proc.timed_out:
            return Trial(False, f"timed out after {self.timeout_s:.0f}s")
        lines = [ln for ln in proc.stdout.decode(errors="replace").splitlines() if ln.strip()]
        try:
            answer = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            return Trial(False, f"exit {proc.returncode}: {tail[0][:300]}")
        if answer.get("nonce") != nonce or not answer.get("ok"):
            return Trial(False, f"{answer.get('phase', '?')}: {str(answer.get('error'))[:300]}")
        return Trial(
            True,
            per_call_s=float(answer["per_call_s"]),
            first_call_s=float(answer.get("first_call_s", 0.0)),
            setup_s=float(answer.get("setup_s", 0.0)),
            result=answer.get("result"),
            digest=str(answer.get("result_digest", "")),
        )

    def equal(self, source: str, expected: str | None, actual: str | None) -> tuple[bool, str]:
        """Whether two encoded results agree, as the harness at base judges (tolerance, check())."""
        if expected is None or actual is None:
            return False, "result too large to compare"
        if expected == actual:
            return True, "identical"
        with tempfile.TemporaryDirectory(prefix="perfbench-compare-") as tmp:
            scratch = Path(tmp)
            path = scratch / "workload.py"
            path.write_text(source)
            request = {
                "workload": str(path),
                "expected": expected,
                "actual": actual,
                "pythonpath": self.paths("base"),
            }
            proc = self._harness("compare.py", request, scratch)
        try:
            answer = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            return False, "comparison failed"
        return bool(answer.get("equal")), str(answer.get("detail", ""))

    def screen(self, source: str) -> tuple[str | None, dict[str, Any]]:
        """Run base and opt alternately, ``rounds`` times each: a reason to drop it (or None), figures.

        The trial speedup compares the fastest run of each side, so one noisy trial
        neither makes a workload look faster nor slower than it is.
        """
        first = self.trial(source, "base")
        if not first.ok:
            return f"fails at base: {first.error}", {}
        second = self.trial(source, "base")
        if not second.ok:
            return f"fails at base on a second run: {second.error}", {}
        if first.digest != second.digest:
            return "gives different results in two processes at base (nondeterministic)", {}
        opt = self.trial(source, "opt")
        if not opt.ok:
            return f"fails at opt: {opt.error}", {}
        same, detail = self.equal(source, first.result, opt.result)
        if not same:
            return f"results differ between base and opt: {detail[:200]}", {}
        base_times = [first.per_call_s, second.per_call_s]
        opt_times = [opt.per_call_s]
        while len(opt_times) < self.rounds:
            more = self.trial(source, "opt")
            if not more.ok:
                return f"fails at opt on a later run: {more.error}", {}
            opt_times.append(more.per_call_s)
            if len(base_times) < self.rounds:
                again = self.trial(source, "base")
                if not again.ok:
                    return f"fails at base on a later run: {again.error}", {}
                base_times.append(again.per_call_s)
        base_s, opt_s = min(base_times), min(opt_times)
        figures = {
            "base_s": base_s,
            "opt_s": opt_s,
            "trial_speedup": round(base_s / max(opt_s, 1e-12), 3),
            "trial_rounds": len(opt_times),
        }
        return None, figures

    def varies_with_seed(self, source: str, seeds: tuple[int, ...] = (2, 3, 1, 4)) -> bool | None:
        """Whether the seeds give different results at base (None: a run failed).

        A workload whose result does not depend on the seed has fixed inputs: shown
        to the agent at seed 0, it would be the same at the hidden seeds. Seeds are
        tried in turn until one differs from the first: a workload that draws from a
        few sizes may give two seeds the same one by chance.
        """
        first = self.trial(source, "base", seeds[0], target_s=0.0)
        if not first.ok:
            return None
        for seed in seeds[1:]:
            other = self.trial(source, "base", seed, target_s=0.0)
            if not other.ok:
                return None
            if other.digest != first.digest:
                return True
        return False
