"""The stop rule keeps its promise: simulated runs, 10,000 each, with the truth on the threshold.

A run looks at the schedule's looks and stops at the first interval that excludes the
threshold (as the verdict rule does). With the true speedup exactly at the threshold, any
such decision is wrong: at most 2.5% of runs may decide above it and 2.5% below. An A/A
candidate (true speedup 1) may be called ``improved`` in at most 1% of runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from perfbench.measure import simulate
from perfbench.measure.protocol import MeasureConfig

RUNS = 10_000
RECORDED = Path(__file__).parent / "data" / "block_log_ratios.json"
SCHEDULE = MeasureConfig().schedule
NOISES = {
    "normal": simulate.normal_noise(0.05),
    "heavy-tailed": simulate.heavy_noise(0.05),
    "bimodal": simulate.bimodal_noise(0.03),
    # per-block log-ratios of a real run on this machine (40 blocks, an A/A candidate), centred on zero
    "recorded": simulate.resampled(json.loads(RECORDED.read_text())["log_ratios"]),
}


@pytest.mark.parametrize("name", sorted(NOISES))
def test_truth_on_the_threshold_is_rarely_declared_past_it(name):
    threshold = math.log(1.2)
    result = simulate.simulate(
        NOISES[name], SCHEDULE, runs=RUNS, seed=1, truth=threshold, threshold=threshold, label=name
    )
    assert result.above <= 0.025 and result.below <= 0.025, result.line()


@pytest.mark.parametrize("name", sorted(NOISES))
def test_a_a_candidate_is_rarely_improved(name):
    cfg = MeasureConfig()
    result = simulate.simulate(
        NOISES[name], SCHEDULE, runs=RUNS, seed=2, alpha=cfg.improved_alpha, label=name
    )
    assert result.above <= 0.01, result.line()


def test_looking_after_every_block_at_a_plain_interval_would_not():
    # The simulation can see the failure it guards against: the rule this one replaced.
    result = simulate.simulate_naive(NOISES["normal"], 40, runs=2_000, seed=3)
    assert result.above + result.below > 0.10, result.line()
