from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import minidata

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.evaluate import Evaluator
from perfbench.measure.protocol import MeasureConfig
from perfbench.sandbox.base import Limits

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def mini(tmp_path: Path):
    """A one-instance dataset over a fresh repository, with lenient expert share for noisy CI machines."""
    ds_path, record = minidata.make_dataset(
        tmp_path, size=120, grading={"min_speedup": 1.2, "expert_share": 0.7}
    )
    return ds_path, record


def quick_config(tmp_path: Path, run_id: str = "t", **measure: object) -> EvalConfig:
    m = {
        "min_blocks": 3,
        "max_blocks": 10,
        "time_budget_s": 60,
        "target_half_width": 0.05,
        **measure,
    }
    return EvalConfig(
        run_id=run_id,
        runs_dir=tmp_path / "runs",
        backend="local",
        cache_dir=tmp_path / "cache",
        measure=MeasureConfig(**m),  # type: ignore[arg-type]
        limits=Limits(timeout_s=15, memory_mb=512, cpus=None),
    )


def reference_mirror(dataset, config: EvalConfig, inst) -> Path:
    """``inst``'s repository mirror, its expert patch derived: what a backend's
    ``prepare_reference`` takes when a test drives the backend without a session."""
    from perfbench.session import ensure_expert_patches, repo_cache_for

    cache = repo_cache_for(dataset, config)
    ensure_expert_patches(dataset, cache, [inst])
    return cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))


@pytest.fixture
def evaluate_mini(mini, tmp_path: Path):
    """Evaluate predictions (list of (model, patch)) on the mini dataset; returns reports by model."""

    def run(preds: list[tuple[str, str]], run_id: str = "t", **measure: object) -> dict[str, dict]:
        from perfbench.records import Prediction

        ds = load_dataset(mini[0])
        iid = mini[1]["instance_id"]
        config = quick_config(tmp_path, run_id, **measure)
        ev = Evaluator(ds, config)
        ev.run([Prediction(iid, model, patch) for model, patch in preds])
        return {model: ev.layout.load_report(model, iid) for model, _ in preds}

    return run
