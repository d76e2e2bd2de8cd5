import pytest
from pbdemo.geometry import bounding_box, manhattan_length, path_length


def test_path_length_open_and_closed():
    square = [(0, 0), (3, 0), (3, 4), (0, 4)]
    assert path_length(square) == 10.0
    assert path_length(square, closed=True) == 14.0
    assert path_length([(0, 0), (3, 4)]) == 5.0
    assert path_length([(0, 0), (3, 4)], closed=True) == 5.0


def test_path_length_degenerate():
    assert path_length([]) == 0.0
    assert path_length([(7, 7)]) == 0.0
    assert path_length([(1, 1), (1, 1), (1, 1)], closed=True) == 0.0
    assert isinstance(path_length([(0, 0), (1, 1)]), float)


def test_bounding_box_and_manhattan():
    pts = [(2, -1), (5, 3), (-4, 0)]
    assert bounding_box(pts) == (-4, -1, 5, 3)
    assert manhattan_length(pts) == 7 + 12
    with pytest.raises(ValueError):
        bounding_box([])
