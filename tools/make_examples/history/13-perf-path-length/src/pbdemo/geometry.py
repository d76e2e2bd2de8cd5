"""Geometry on the integer grid: points are ``(x, y)`` pairs of ints (pixels)."""

import math
from math import sqrt


def path_length(points, closed=False):
    """Length of the polyline through *points*, in grid units.

    With *closed*, the segment from the last point back to the first one is
    added too (for paths of three or more points).
    """
    total = 0.0
    for i in range(1, len(points)):
        x0, y0 = points[i - 1]
        x1, y1 = points[i]
        dx = x1 - x0
        dy = y1 - y0
        total += sqrt(dx * dx + dy * dy)
    if closed and len(points) > 2:
        x0, y0 = points[-1]
        x1, y1 = points[0]
        total += math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
    return total


def bounding_box(points):
    """``(min_x, min_y, max_x, max_y)`` of a non-empty sequence of points."""
    if not points:
        raise ValueError("bounding box of no points")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def manhattan_length(points):
    """Length of the polyline through *points* moving only along grid lines."""
    total = 0
    for i in range(1, len(points)):
        x0, y0 = points[i - 1]
        x1, y1 = points[i]
        total += abs(x1 - x0) + abs(y1 - y0)
    return total
