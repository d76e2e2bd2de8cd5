import math

import pytest
from pbdemo.stats import ewma, mean, variance


def test_mean_and_variance():
    assert mean([1, 2, 3, 4]) == 2.5
    assert variance([2, 4, 4, 4, 5, 5, 7, 9], ddof=0) == 4.0
    assert variance([1, 2, 3, 4]) == pytest.approx(5 / 3)
    with pytest.raises(ValueError):
        mean([])
    with pytest.raises(ValueError):
        variance([1])


def test_ewma_adjusted_is_weighted_mean_of_history():
    values = [3.0, -1.0, 4.0, 1.5, 9.0, 2.0]
    alpha = 0.3
    got = ewma(values, alpha)
    assert len(got) == len(values)
    for i in range(len(values)):
        weights = [(1 - alpha) ** (i - j) for j in range(i + 1)]
        expected = sum(weights[j] * values[j] for j in range(i + 1)) / sum(weights)
        assert got[i] == pytest.approx(expected, rel=1e-12)


def test_ewma_unadjusted_recursion():
    got = ewma([10, 0, 0, 5], 0.5, adjust=False)
    assert got == [10.0, 5.0, 2.5, 3.75]
    assert all(isinstance(v, float) for v in got)


def test_ewma_alpha_one_and_edge_cases():
    assert ewma([1, 7, 3], 1.0) == [1.0, 7.0, 3.0]
    assert ewma([1, 7, 3], 1.0, adjust=False) == [1.0, 7.0, 3.0]
    assert ewma([], 0.2) == []
    for bad in (0.0, -0.1, 1.5, math.nan):
        with pytest.raises(ValueError):
            ewma([1.0], bad)
