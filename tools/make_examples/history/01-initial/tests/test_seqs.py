import pytest
from pbdemo.seqs import chunked, flatten, unique


def test_unique_keeps_first_seen_order():
    assert unique([3, 1, 3, 2, 1, 4]) == [3, 1, 2, 4]
    assert unique("abracadabra") == ["a", "b", "r", "c", "d"]


def test_unique_empty_and_generators():
    assert unique([]) == []
    assert unique(x % 3 for x in range(10)) == [0, 1, 2]


def test_unique_with_key():
    words = ["Apple", "banana", "apple", "BANANA", "cherry"]
    assert unique(words, key=str.lower) == ["Apple", "banana", "cherry"]
    assert unique([(1, "a"), (2, "b"), (1, "c")], key=lambda p: p[0]) == [(1, "a"), (2, "b")]


def test_unique_equal_numbers_of_different_types():
    assert unique([1, 1.0, True, 2]) == [1, 2]


def test_unique_unhashable_items():
    assert unique([[1], [2], [1], [3], [2]]) == [[1], [2], [3]]
    assert unique([{"a": 1}, {"a": 1}, {"b": 2}]) == [{"a": 1}, {"b": 2}]
    assert unique([1, [1], 1, [1]]) == [1, [1]]


def test_chunked():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 2)) == []
    with pytest.raises(ValueError):
        list(chunked([1], 0))


def test_flatten():
    assert flatten([[1, 2], [], [3]]) == [1, 2, 3]
