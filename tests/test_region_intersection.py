"""Result types of ``intersection`` between boxes, polygons, regions and lazy intersections.

The rules (BEHAVIOUR.md §1.2) and the expected results below were checked against
Rubin's lsst-images 30.2026.2100: Polygon ∩ Polygon is always a region (never a
`Box`, even when rectangular); only a mixed Box/Region pair may give a `Box`, and
only when the result is exactly a pixel-aligned rectangle.
"""

from __future__ import annotations

import numpy as np
import pytest

from lsst.images import Box, NoOverlapError, Polygon, Region
from lsst.images._polygon import _IntersectionBounds


def _polygon(xs: list[float], ys: list[float]) -> Polygon:
    return Polygon(x_vertices=xs, y_vertices=ys)


A = Polygon.from_box(Box.factory[0:4, 0:4])
C = Polygon.from_box(Box.factory[10:20, 10:20])
D = Polygon.from_box(Box.factory[12:15, 12:16])
TRIANGLE = _polygon([0, 10, 0], [0, 0, 10])
SQUARE_1 = _polygon([-0.5, 9.5, 9.5, -0.5], [-0.5, -0.5, 9.5, 9.5])  # pixel-aligned: Box [0:10, 0:10]
SQUARE_2 = _polygon([4.5, 20.5, 20.5, 4.5], [4.5, 4.5, 20.5, 20.5])


class _Opaque:
    """A bounds type regions cannot combine geometrically (like a cell grid): every intersection is lazy."""

    bbox = Box.factory[-100:100, -100:100]

    def contains(self, *, x, y):
        return np.logical_and(np.asarray(x) >= 0, np.asarray(y) >= 0)

    def intersection(self, other):
        return _IntersectionBounds(self, other)


def test_polygon_with_polygon_is_never_a_box() -> None:
    result = SQUARE_1.intersection(SQUARE_2)
    assert type(result) is Polygon
    # Rectangular and pixel-aligned, but still a Polygon.
    assert result == Polygon.from_box(Box.factory[5:10, 5:10])
    assert str(result) == "POLYGON ((9.5 9.5, 9.5 4.5, 4.5 4.5, 4.5 9.5, 9.5 9.5))"  # reference vertex order
    assert SQUARE_1.intersection(SQUARE_1) == SQUARE_1
    assert type(SQUARE_1.intersection(SQUARE_1)) is Polygon


def test_contained_polygon_gives_a_new_equal_polygon() -> None:
    result = C.intersection(D)
    assert type(result) is Polygon
    assert result == D and result is not D
    assert str(result) == "POLYGON ((11.5 14.5, 15.5 14.5, 15.5 11.5, 11.5 11.5, 11.5 14.5))"


def test_box_with_region_is_a_box_only_when_pixel_exact() -> None:
    assert SQUARE_1.intersection(Box.factory[0:100, 0:100]) == Box.factory[0:10, 0:10]
    assert type(SQUARE_1.intersection(Box.factory[0:100, 0:100])) is Box
    assert Box.factory[0:10, 0:10].intersection(SQUARE_2) == Box.factory[5:10, 5:10]
    # A triangle cut by a box is not a rectangle.
    result = TRIANGLE.intersection(Box.factory[0:5, 0:5])
    assert type(result) is Polygon
    assert str(result) == "POLYGON ((4.5 4.5, 4.5 0, 0 0, 0 4.5, 4.5 4.5))"
    assert Box.factory[0:5, 0:5].intersection(TRIANGLE) == result
    # A rectangle with integer (not half-integer) corners is not pixel-aligned.
    result = _polygon([1, 8, 8, 1], [2, 2, 6, 6]).intersection(Box.factory[-50:50, -50:50])
    assert type(result) is Polygon
    assert str(result) == "POLYGON ((1 6, 8 6, 8 2, 1 2, 1 6))"


def test_multi_polygon_results_stay_general_regions() -> None:
    union = A.union(C)
    result = union.intersection(Box.factory[2:12, 2:12])
    assert type(result) is Region
    assert str(result) == (
        "MULTIPOLYGON (((1.5 3.5, 3.5 3.5, 3.5 1.5, 1.5 1.5, 1.5 3.5)), "
        "((11.5 11.5, 11.5 9.5, 9.5 9.5, 9.5 11.5, 11.5 11.5)))"
    )
    assert type(union.intersection(union)) is Region


def test_lower_dimensional_leftovers_are_dropped() -> None:
    # SQUARE_1 overlaps A and touches C at one corner: shapely returns a polygon plus a point; the
    # reference asserts here (a reference bug), we keep the polygon.
    result = A.union(C).intersection(SQUARE_1)
    assert type(result) is Polygon
    assert result == A


def test_no_overlap_raises() -> None:
    with pytest.raises(NoOverlapError):
        A.intersection(C)
    with pytest.raises(NoOverlapError):  # only an edge in common: zero area
        Polygon.from_box(Box.factory[0:2, 0:2]).intersection(Polygon.from_box(Box.factory[0:2, 2:4]))
    with pytest.raises(NoOverlapError):
        Box.factory[0:2, 0:2].intersection(Box.factory[5:6, 0:2])
    with pytest.raises(NoOverlapError):
        Box.factory[0:2, 0:2].intersection(Box.factory[0:2, 2:3])


def test_boxes_and_polygons_never_compare_equal() -> None:
    box = Box.factory[0:2, 0:2]
    polygon = Polygon.from_box(box)
    assert box != polygon and polygon != box
    assert not (box == polygon) and not (polygon == box)


def test_box_with_box_intersects_per_axis() -> None:
    assert Box.factory[0:5, 2:9].intersection(Box.factory[3:10, -4:4]) == Box.factory[3:5, 2:4]


def test_unknown_bounds_give_lazy_intersections() -> None:
    opaque = _Opaque()
    lazy = TRIANGLE.intersection(opaque)
    assert isinstance(lazy, _IntersectionBounds)
    assert lazy.a is TRIANGLE and lazy.b is opaque
    assert lazy.bbox == TRIANGLE.bbox.intersection(opaque.bbox)
    np.testing.assert_array_equal(
        lazy.contains(x=np.array([1.0, -0.2, 20.0]), y=np.array([1.0, 1.0, 1.0])), [True, False, False]
    )


def test_lazy_intersection_combines_with_its_first_operand_when_it_can() -> None:
    box = Box.factory[0:5, 0:5]
    opaque = _Opaque()
    # (a ∩ X) is a plain polygon, so the result is (a ∩ X) ∩ b: lazy again, around the smaller polygon.
    result = _IntersectionBounds(TRIANGLE, opaque).intersection(box)
    assert isinstance(result, _IntersectionBounds)
    assert result.a == TRIANGLE.intersection(box) and result.b is opaque
    # (a ∩ X) is lazy, so the result is a ∩ (b ∩ X).
    result = _IntersectionBounds(opaque, TRIANGLE).intersection(box)
    assert isinstance(result, _IntersectionBounds)
    assert result.a is opaque and result.b == TRIANGLE.intersection(box)
    # Boxes and regions defer to the lazy intersection's rule.
    assert box.intersection(_IntersectionBounds(TRIANGLE, opaque)) == _IntersectionBounds(
        TRIANGLE.intersection(box), opaque
    )
    fully_combined = SQUARE_2.intersection(_IntersectionBounds(SQUARE_1, Box.factory[0:100, 0:100]))
    assert fully_combined == Box.factory[5:10, 5:10]  # (SQUARE_1 ∩ SQUARE_2) ∩ box
