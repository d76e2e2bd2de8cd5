import math
import random

from perfbench.measure import stats


def test_t_interval_contains_truth_and_is_wider_than_bootstrap_at_small_n():
    rng = random.Random(1)
    values = [math.log(2.0) + rng.gauss(0, 0.05) for _ in range(5)]
    t = stats.ratio_from_logs(values, "t")
    b = stats.ratio_from_logs(values, "bootstrap", seed=3)
    assert t.low < 2.0 < t.high
    assert (t.high / t.low) > (b.high / b.low)
    assert b == stats.ratio_from_logs(values, "bootstrap", seed=3)  # fixed seed, same interval


def test_t_coverage_close_to_95_percent():
    rng = random.Random(7)
    hits = 0
    for _ in range(2000):
        vals = [rng.gauss(0.0, 1.0) for _ in range(6)]
        _, lo, hi = stats.mean_ci(vals, "t")
        hits += lo <= 0.0 <= hi
    assert 0.93 < hits / 2000 < 0.97


def test_block_log_ratios_geometric_mean_over_workloads():
    base = [{"a": 4.0, "b": 1.0}, {"a": 4.0, "b": 1.0}]
    cand = [{"a": 1.0, "b": 1.0}, {"a": 1.0}]  # second block lacks b: skipped
    logs = stats.block_log_ratios(base, cand, ["a", "b"])
    assert logs == [math.log(2.0)]


def test_half_width_and_single_value():
    est = stats.ratio_from_logs([0.1], "t")
    assert est.low == 0.0 and math.isinf(est.half_width)
    est = stats.ratio_from_logs([0.0, 0.0, 0.0], "t")
    assert est.half_width == 0.0 and est.estimate == 1.0


def test_wilson():
    lo, hi = stats.wilson_interval(5, 10)
    assert lo < 0.5 < hi
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)


def test_blocks_to_clear_scales_with_the_square_of_the_width():
    # 1.3x [1.2, 1.41] at 30 blocks: the lower bound sits at 1.2; clearing 1.25 needs the log
    # half-width to shrink from ln(1.41/1.2)/2 to ln(1.3/1.25), i.e. about 4x as many blocks.
    est = stats.RatioEstimate(1.3, 1.2, 1.41, 30, "t")
    n = est.blocks_to_clear(1.25)
    expected = 30 * (math.log(1.41 / 1.2) / 2 / math.log(1.3 / 1.25)) ** 2
    assert n == math.ceil(expected) and 100 < n < 140
    assert est.blocks_to_clear(1.1) == 30  # already clear: never fewer blocks than measured
    assert (
        est.blocks_to_clear(1.3) is None and est.blocks_to_clear(1.4) is None
    )  # estimate not above
    assert stats.RatioEstimate(1.3, 0.0, math.inf, 1, "t").blocks_to_clear(1.2) is None
