import pytest

from minilib.stats import mean


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5
    assert mean(x / 2 for x in range(5)) == 1.0


def test_mean_of_nothing():
    with pytest.raises(ValueError):
        mean([])
