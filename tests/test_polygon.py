"""Tests for Polygon, Region, lazy intersections and their serialized (GeoJSON-like) forms."""

import json
import pickle

import numpy as np
import pydantic
import pytest
import shapely
from numpy import array  # noqa: F401  (used by eval of reprs)

from conftest import fixture_dir, load_manifest
from lsst.images import Box, NoOverlapError, Polygon, Region, RegionSerializationModel
from lsst.images._polygon import IntersectionBoundsSerializationModel, SerializableBounds, _IntersectionBounds

TRAPEZOID = Polygon(x_vertices=[0, 10, 10, 3], y_vertices=[0, 0, 5, 5])
BOUNDS_ADAPTER = pydantic.TypeAdapter(SerializableBounds)


def test_polygon_basics():
    p = TRAPEZOID
    assert p.n_vertices == 4
    assert p.area == pytest.approx(42.5)
    assert p.bbox == Box.factory[0:6, 0:11]
    assert not p.x_vertices.flags.writeable
    with pytest.raises(ValueError):
        p.x_vertices[0] = 3.0
    assert str(p) == "POLYGON ((0 0, 10 0, 10 5, 3 5, 0 0))"
    assert repr(p) == "Polygon(x_vertices=array([ 0., 10., 10.,  3.]), y_vertices=array([0., 0., 5., 5.]))"
    assert eval(repr(p)) == p
    with pytest.raises(ValueError):
        Polygon(x_vertices=[0, 1], y_vertices=[0, 1])
    with pytest.raises(ValueError):
        Polygon(x_vertices=[0, 1, 2], y_vertices=[0, 1])
    with pytest.raises(TypeError):
        hash(p)


def test_polygon_containment():
    inside = TRAPEZOID.contains(x=np.array([0.0, 1.0, 10.2, 3.5]), y=np.array([0.0, 1.0, 2.0, 4.9]))
    np.testing.assert_array_equal(inside, [False, True, False, True])  # boundary points are outside
    assert TRAPEZOID.contains(x=5, y=2) is True
    assert TRAPEZOID.contains(Polygon(x_vertices=[1, 2, 2], y_vertices=[1, 1, 2]))
    assert not TRAPEZOID.contains(Box.factory[0:3, 0:3])  # the box covers x=-0.5
    assert TRAPEZOID.contains(Box.factory[1:3, 4:6])
    with pytest.raises(TypeError):
        TRAPEZOID.contains()
    with pytest.raises(TypeError):
        TRAPEZOID.contains(TRAPEZOID, x=1, y=1)
    grid = TRAPEZOID.contains(x=np.zeros((2, 3)) + 5, y=np.ones((2, 3)))
    assert grid.shape == (2, 3) and grid.all()


def test_from_box_and_try_to_box():
    box = Box.factory[1:3, 2:20]
    p = Polygon.from_box(box)
    np.testing.assert_array_equal(p.x_vertices, [1.5, 1.5, 19.5, 19.5])
    np.testing.assert_array_equal(p.y_vertices, [0.5, 2.5, 2.5, 0.5])
    assert p.bbox == box and p.area == box.shape.y * box.shape.x
    assert p.try_to_box() == box
    assert TRAPEZOID.try_to_box() is TRAPEZOID
    assert (
        Polygon(x_vertices=[0, 1, 1, 0], y_vertices=[0, 0, 1, 1]).try_to_box().n_vertices == 4
    )  # not aligned


def test_intersections():
    box = Box.factory[1:3, 2:20]
    result = TRAPEZOID.intersection(box)
    assert isinstance(result, Polygon)
    assert result.area == pytest.approx(2 * 8.5)
    assert result == Polygon(x_vertices=[1.5, 10, 10, 1.5], y_vertices=[0.5, 0.5, 2.5, 2.5])
    # Same vertex order as the reference library (it matters for byte-identical clipped bounds).
    np.testing.assert_array_equal(result.x_vertices, [1.5, 10.0, 10.0, 1.5, 1.5])
    np.testing.assert_array_equal(result.y_vertices, [2.5, 2.5, 0.5, 0.5, 2.5])
    assert box.intersection(TRAPEZOID) == result  # Box defers to the region
    assert TRAPEZOID.intersection(Box.factory[-5:30, -5:30]) == TRAPEZOID
    assert Polygon.from_box(box).intersection(Box.factory[2:10, 0:5]) == Box.factory[2:3, 2:5]
    with pytest.raises(NoOverlapError):
        TRAPEZOID.intersection(Box.factory[100:101, 100:101])
    with pytest.raises(NoOverlapError):  # touching edges have no area in common
        Polygon.from_box(Box.factory[0:2, 0:2]).intersection(Box.factory[0:2, 2:4])


def test_region_algebra_and_wkt():
    other = Polygon(x_vertices=[20, 30, 30], y_vertices=[0, 0, 5])
    union = TRAPEZOID.union(other)
    assert type(union) is Region and union.area == pytest.approx(42.5 + 25)
    assert union.bbox == Box.factory[0:6, 0:31]
    assert str(union) == "MULTIPOLYGON (((0 0, 10 0, 10 5, 3 5, 0 0)), ((20 0, 30 0, 30 5, 20 0)))"
    assert eval(repr(union)) == union
    assert union.contains(x=np.array([5.0, 25.0, 15.0]), y=np.array([2.0, 1.0, 1.0])).tolist() == [
        True,
        True,
        False,
    ]
    hole = TRAPEZOID.difference(Polygon(x_vertices=[1, 2, 2], y_vertices=[1, 1, 2]))
    assert type(hole) is Region and hole.area == pytest.approx(42.5 - 0.5)
    assert not hole.contains(x=1.8, y=1.5) and hole.contains(x=5.0, y=1.5)
    assert Region.from_wkt(TRAPEZOID.wkt) == TRAPEZOID and isinstance(Region.from_wkt(TRAPEZOID.wkt), Polygon)
    assert (
        TRAPEZOID.union(Polygon(x_vertices=[5, 12, 12], y_vertices=[1, 1, 4])).try_to_polygon().n_vertices > 4
    )
    assert TRAPEZOID.to_shapely().equals(shapely.Polygon([(0, 0), (10, 0), (10, 5), (3, 5)]))
    with pytest.raises(TypeError):
        Region(shapely.Point(0, 0))
    assert union.intersection(Box.factory[0:6, 19:40]) == Polygon(
        x_vertices=[20, 30, 30], y_vertices=[0, 0, 5]
    )


def test_pickle():
    for region in (TRAPEZOID, TRAPEZOID.union(Polygon(x_vertices=[20, 30, 30], y_vertices=[0, 0, 5]))):
        copy = pickle.loads(pickle.dumps(region))
        assert copy == region and type(copy) is type(region)


def test_serialization_round_trips():
    model = TRAPEZOID.serialize()
    assert model.model_dump_json() == (
        '{"type":"Polygon","coordinates":[[[0.0,0.0],[10.0,0.0],[10.0,5.0],[3.0,5.0],[0.0,0.0]]]}'
    )
    back = model.deserialize()
    assert isinstance(back, Polygon) and back.n_vertices == 5 and back == TRAPEZOID  # closing vertex kept
    assert back.serialize() == model  # no second closing vertex
    hole = TRAPEZOID.difference(Polygon(x_vertices=[1, 2, 2], y_vertices=[1, 1, 2]))
    assert hole.serialize().deserialize() == hole
    multi = TRAPEZOID.union(Polygon(x_vertices=[20, 30, 30], y_vertices=[0, 0, 5]))
    assert multi.serialize().type == "MultiPolygon"
    assert (
        RegionSerializationModel.model_validate_json(multi.serialize().model_dump_json()).deserialize()
        == multi
    )


def test_serializable_bounds_union_and_lazy_intersection():
    box = Box.factory[1:3, 2:20]
    lazy = _IntersectionBounds(TRAPEZOID, box)
    assert lazy.bbox == Box.factory[1:3, 2:11]
    np.testing.assert_array_equal(
        lazy.contains(x=np.array([3.0, 5.0, 15.0]), y=np.array([1.0, 4.0, 1.0])), [1, 0, 0]
    )
    for bounds in (box, TRAPEZOID, lazy):
        text = BOUNDS_ADAPTER.dump_json(bounds.serialize())
        restored = BOUNDS_ADAPTER.validate_json(text).deserialize()
        assert restored == bounds
    data = json.loads(BOUNDS_ADAPTER.dump_json(lazy.serialize()))
    assert set(data) == {"a", "b"} and data["b"] == {
        "y": {"start": 1, "stop": 3},
        "x": {"start": 2, "stop": 20},
    }
    assert isinstance(BOUNDS_ADAPTER.validate_python(data), IntersectionBoundsSerializationModel)
    # A region intersected with a lazy intersection combines with its operands: (T ∩ T) ∩ box.
    nested = TRAPEZOID.intersection(lazy)
    assert not isinstance(nested, _IntersectionBounds)
    assert nested == TRAPEZOID.intersection(box)


@pytest.mark.parametrize("fixture_set", ["lsst-images-2100", "lsst-images-4300"])
def test_fixture_visit_bounds(fixture_set):
    expected = load_manifest(fixture_set)["files"]["visit_full"]["expect"]["bounds"]
    tree = json.loads((fixture_dir(fixture_set) / "visit_full.tree.json").read_text())
    bounds = BOUNDS_ADAPTER.validate_python(tree["bounds"]).deserialize()
    assert isinstance(bounds, Polygon)
    np.testing.assert_array_equal(bounds.x_vertices, expected["x_vertices"])
    np.testing.assert_array_equal(bounds.y_vertices, expected["y_vertices"])
    assert (
        bounds.bbox
        == Box.factory[
            expected["bbox"]["y"][0] : expected["bbox"]["y"][1],
            expected["bbox"]["x"][0] : expected["bbox"]["x"][1],
        ]
    )
    samples = expected["contains"]
    inside = bounds.contains(x=np.array([s["x"] for s in samples]), y=np.array([s["y"] for s in samples]))
    assert inside.tolist() == [s["inside"] for s in samples]
    assert json.loads(BOUNDS_ADAPTER.dump_json(bounds.serialize())) == tree["bounds"]
