"""Hand-written run folders shaped like real ones (report.json, timings.jsonl, summary.json)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

WORKLOADS = [("visible_w", 0, True), ("hidden_a", 1234567, False), ("hidden_b", 7654321, False)]
SPEED = {"base": 1.0, "expert": 0.25, "candidate": 0.4}  # relative per-call time


def ratio(estimate: float, low: float, high: float, n: int = 5) -> dict[str, Any]:
    return {
        "estimate": estimate,
        "low": low,
        "high": high,
        "n_blocks": n,
        "method": "t",
        "half_width": (high - low) / 2 / estimate,
    }


def samples(blocks: int = 5, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    t = 1_790_000_000.0
    for b in range(blocks):
        pairs = [(v, w) for v in SPEED for w, _, _ in WORKLOADS]
        rng.shuffle(pairs)
        for pos, (variant, w) in enumerate(pairs):
            times = [0.002 * SPEED[variant] * (1 + rng.random() * 0.1) for _ in range(6)]
            out.append(
                {
                    "block": b,
                    "position": pos,
                    "variant": variant,
                    "workload": w,
                    "ok": True,
                    "min_s": min(times),
                    "mean_s": sum(times) / len(times),
                    "times": times,
                    "loops": 3,
                    "digest": "ab" * 32,
                    "error": "",
                    "wall_s": 0.3,
                    "setup_s": 0.01,
                    "import_s": 0.001,
                    "first_call_s": times[0] * 1.2,
                    "start": t,
                    "end": t + 0.3,
                    "cpu_share": 0.99,
                }
            )
            t += 0.31
    return out


def done_report(
    run_id: str, model: str, iid: str, *, opt: str = "PASS", blocks: int = 5
) -> dict[str, Any]:
    return {
        "schema": 1,
        "run_id": run_id,
        "model": model,
        "instance_id": iid,
        "repo": "owner/name",
        "created_at": "2026-01-02T03:04:05+00:00",
        "machine": {
            "hostname": "vm",
            "platform": "Linux-x86_64",
            "cpu": "Some CPU",
            "cores": 2,
            "python": "3.11.7",
            "perfbench": "0.1.0",
        },
        "thresholds": {"min_speedup": 1.2, "expert_share": 0.95},
        "patch_sha256": "0" * 64,
        "sandbox": {"backend": "local"},
        "builds": {},
        "applied": True,
        "built": True,
        "correct": True,
        "improved": True,
        "opt": opt,
        "opt_gso": opt == "PASS",
        "reason": "speedup 2.5x [2.4, 2.6] clears 1.2x",
        "apply_method": "git apply",
        "correct_detail": "results equal base's",
        "guard": {"ran": True, "passed": True, "detail": "3 passed"},
        "speedup": ratio(2.5, 2.4, 2.6, blocks),
        "expert_speedup": ratio(4.0, 3.9, 4.1, blocks),
        "share_of_expert": ratio(0.625, 0.6, 0.65, blocks),
        "hidden_speedup": ratio(2.5, 2.4, 2.6, blocks),
        "visible_speedup": ratio(2.6, 2.5, 2.7, blocks),
        "control": None,
        "cold_speedup": ratio(2.4, 2.2, 2.6, blocks),
        "measured_speedup": None,
        "per_workload": {},
        "flags": ["contended"] if opt != "PASS" else [],
        "measurement": {
            "blocks": blocks,
            "stop_reason": "CI half-width 1.00% <= 2.00%",
            "seconds": 12.5,
            "loops": {w: 3 for w, _, _ in WORKLOADS},
            "repeats": {w: 6 for w, _, _ in WORKLOADS},
            "workloads": [
                {"name": w, "path": None, "seed": s, "visible": v} for w, s, v in WORKLOADS
            ],
            "variants": list(SPEED),
            "orders": [],
            "failures": {},
            "voided_blocks": [],
            "cv": {},
            "load_average": [0.5, 0.75],
            "cpu_share": {v: 0.99 for v in SPEED},
            "cpu_affinity": [1],
            "ci_method": "t",
            "seed": 0,
            "ci_level": 0.992,
        },
        "status": "done",
        "seconds": 20.25,
        "executor": {"executor": "local", "node": "vm", "slot": 0, "cpus": [1]},
    }


def error_report(run_id: str, model: str, iid: str) -> dict[str, Any]:
    msg = "base build failed: no such file"
    return {
        "schema": 1,
        "run_id": run_id,
        "model": model,
        "instance_id": iid,
        "repo": "owner/name",
        "created_at": "2026-01-02T03:04:05+00:00",
        "machine": {"perfbench": "0.1.0"},
        "thresholds": {"min_speedup": 1.2, "expert_share": 0.95},
        "patch_sha256": "1" * 64,
        "status": "error",
        "error": msg,
        "applied": False,
        "built": False,
        "correct": False,
        "improved": False,
        "opt": "FAIL",
        "opt_gso": False,
        "reason": msg,
        "flags": ["error"],
        "seconds": 1.5,
    }


def make_run(root: Path, run_id: str = "r1") -> Path:
    """runs/r1/{org__model-a: 2 done (with timings) + 1 error, model-b: 1 done}; returns runs/r1."""
    run = root / run_id
    layout = [
        ("org__model-a", "org/model-a", "owner__name-aaaaaaa", "PASS"),
        ("org__model-a", "org/model-a", "owner__name-bbbbbbb", "INCONCLUSIVE"),
        ("org__model-a", "org/model-a", "owner__name-ccccccc", None),
        ("model-b", "model-b", "owner__name-aaaaaaa", "FAIL"),
    ]
    for i, (folder, model, iid, opt) in enumerate(layout):
        d = run / folder / iid
        d.mkdir(parents=True)
        if opt is None:
            rep = error_report(run_id, model, iid)
        else:
            rep = done_report(run_id, model, iid, opt=opt)
            (d / "timings.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples(seed=i)))
        (d / "report.json").write_text(json.dumps(rep, indent=2))
    return run
