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


def test_path_length_long_walk_with_negative_coordinates():
    points = [(0, 0)]
    for i in range(1, 200):
        x, y = points[-1]
        points.append((x + (i % 7) - 3, y - (i % 5) + 2))
    expected = 0.0
    for i in range(1, len(points)):
        dx = points[i][0] - points[i - 1][0]
        dy = points[i][1] - points[i - 1][1]
        expected += (dx * dx + dy * dy) ** 0.5
    assert path_length(points) == pytest.approx(expected, rel=1e-12)
    assert path_length(points[::-1]) == pytest.approx(expected, rel=1e-12)
