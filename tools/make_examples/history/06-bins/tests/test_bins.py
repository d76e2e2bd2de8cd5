import math

import pytest
from pbdemo.bins import bucket_index, digitize, histogram, linear_edges


def test_linear_edges():
    assert linear_edges(0, 10, 6) == [0.0, 2.0, 4.0, 6.0, 8.0, 10]
    with pytest.raises(ValueError):
        linear_edges(0, 1, 1)
    with pytest.raises(ValueError):
        linear_edges(1, 1, 3)


def test_bucket_index_boundaries():
    edges = [0, 10, 20]
    assert [bucket_index(v, edges) for v in (-5, 0, 9.99, 10, 19, 20, 25)] == [0, 1, 1, 2, 2, 3, 3]
    assert bucket_index(math.nan, edges) == 3
    assert bucket_index(5, []) == 0


def test_digitize_matches_bucket_index_with_repeated_edges():
    edges = [1, 2, 2, 2, 5]
    values = [0, 1, 1.5, 2, 2.5, 5, 6, -math.inf, math.inf]
    assert digitize(values, edges) == [0, 1, 1, 4, 4, 5, 5, 0, 5]


def test_histogram_counts_every_value_once():
    edges = [0.25, 0.5, 0.75]
    values = [0.1, 0.3, 0.5, 0.6, 0.75, 0.99, 1.0, -1.0, math.nan]
    assert histogram(values, edges) == [2, 1, 2, 4]
    assert sum(histogram(values, edges)) == len(values)
    assert histogram([], edges) == [0, 0, 0, 0]


def test_unsorted_edges_rejected():
    with pytest.raises(ValueError):
        histogram([1, 2], [3, 1])
    with pytest.raises(ValueError):
        digitize([1, 2], [0, 5, 4])
