"""Tests for Interval, Box, XY/YX and the slice factories in lsst.images._geom."""

import copy
import pickle

import numpy as np
import pydantic
import pytest

from lsst.images import (
    XY,
    YX,
    AbsoluteSliceProxy,
    Bounds,
    BoundsError,
    Box,
    Interval,
    LocalSliceProxy,
    NoOverlapError,
)

# --- Interval -----------------------------------------------------------------


def test_interval_basic_properties():
    i = Interval(3, 7)
    assert (i.start, i.stop, i.min, i.max, i.size) == (3, 7, 3, 6, 4)
    assert i.center == 4.5
    assert isinstance(i.center, float)
    assert i.range == range(3, 7)
    np.testing.assert_array_equal(i.arange, [3, 4, 5, 6])
    assert Interval.from_size(4, 2) == Interval(2, 6)
    assert Interval.from_size(3) == Interval(0, 3)


@pytest.mark.parametrize("start,stop", [(3, 3), (3, 2), (0, -5)])
def test_interval_empty_raises_index_error(start, stop):
    with pytest.raises(IndexError, match="positive size"):
        Interval(start, stop)


def test_interval_immutable_unhashable_picklable():
    i = Interval(-2, 5)
    with pytest.raises(AttributeError):
        i.start = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(i)
    j = pickle.loads(pickle.dumps(i))
    assert j == i and j is not i
    assert copy.deepcopy(i) == i


def test_interval_equality_only_with_intervals():
    assert Interval(1, 2) == Interval(1, 2)
    assert Interval(1, 2) != Interval(1, 3)
    assert Interval(1, 2) != (1, 2)
    assert not (Interval(1, 2) == 3)


def test_interval_str_repr():
    assert str(Interval(3, 7)) == "3:7"
    assert repr(Interval(3, 7)) == "Interval(start=3, stop=7)"
    assert eval(repr(Interval(-3, 7))) == Interval(-3, 7)


def test_interval_point_containment_half_pixel_margin():
    i = Interval(3, 7)
    values = np.array([2.4, 2.5, 2.6, 6.4, 6.5, 6.9, 7.4, 7.5, 7.6])
    expected = [False, True, True, True, True, True, True, False, False]
    np.testing.assert_array_equal(i.contains(values), expected)
    assert [i.contains(float(v)) for v in values] == expected
    assert i.contains(3) is True
    assert i.contains(np.array([[2, 3]])).shape == (1, 2)
    # Interval containment is exact.
    assert i.contains(Interval(3, 7))
    assert i.contains(Interval(4, 5))
    assert not i.contains(Interval(2, 5))
    # `in` is integer membership with no margin.
    assert 3 in i and 6 in i and 7 not in i and 2 not in i


def test_interval_arithmetic_and_padding():
    i = Interval(3, 7)
    assert i + 2 == Interval(5, 9)
    assert i - 2 == Interval(1, 5)
    assert i.dilated_by(2) == Interval(1, 9)
    assert i.padded(-1) == Interval(4, 6)
    with pytest.raises(IndexError):
        i.padded(-2)


def test_interval_hull_and_intersection():
    assert Interval.hull(3, Interval(5, 9), -1) == Interval(-1, 9)
    assert Interval.hull(3) == Interval(3, 4)
    assert Interval(3, 7).intersection(Interval(5, 10)) == Interval(5, 7)
    with pytest.raises(NoOverlapError, match="No overlap"):
        Interval(3, 7).intersection(Interval(7, 12))
    assert issubclass(NoOverlapError, ValueError)
    assert issubclass(BoundsError, ValueError)


def test_interval_linspace():
    i = Interval(3, 7)
    np.testing.assert_array_equal(i.linspace(), [3.0, 4.0, 5.0, 6.0])
    assert i.linspace().dtype == np.float64
    np.testing.assert_array_equal(i.linspace(3), [3.0, 4.5, 6.0])
    np.testing.assert_array_equal(i.linspace(step=1.5), [3.0, 4.5, 6.0])
    np.testing.assert_array_equal(i.linspace(step=2.0), [3.0, 6.0])
    np.testing.assert_allclose(i.linspace(step=0.7), [3.0, 3.6, 4.2, 4.8, 5.4, 6.0])
    np.testing.assert_array_equal(i.linspace(step=10.0), [3.0])
    with pytest.raises(TypeError):
        i.linspace(3, step=1.0)


def test_interval_slice_within():
    assert Interval(3, 7).slice_within(Interval(0, 10)) == slice(3, 7)
    assert Interval(3, 7).slice_within(Interval(3, 8)) == slice(0, 4)
    with pytest.raises(IndexError):
        Interval(3, 7).slice_within(Interval(4, 10))


def test_interval_free_factory():
    assert Interval.factory[2:5] == Interval(2, 5)
    assert Interval.factory[:5] == Interval(0, 5)
    assert Interval.factory[-3:-1] == Interval(-3, -1)
    assert Interval.factory[2:5:1] == Interval(2, 5)
    with pytest.raises(ValueError, match="non-unit step"):
        Interval.factory[2:5:2]
    with pytest.raises(IndexError):
        Interval.factory[2:]


def test_interval_absolute_factory_negative_numbers_are_coordinates():
    i = Interval(-5, 3)
    assert i.absolute[-3:] == Interval(-3, 3)
    assert i.absolute[:-1] == Interval(-5, -1)
    assert i.absolute[:] == i
    with pytest.raises(IndexError, match="start"):
        i.absolute[-6:0]
    with pytest.raises(IndexError, match="stop"):
        i.absolute[0:4]


def test_interval_local_factory_sequence_semantics():
    i = Interval(3, 7)
    assert i.local[1:] == Interval(4, 7)
    assert i.local[-2:] == Interval(5, 7)
    assert i.local[:-1] == Interval(3, 6)
    assert i.local[1:100] == Interval(4, 7)  # stop clipped
    assert i.local[-50:] == Interval(3, 7)
    with pytest.raises(IndexError):
        i.local[4:]  # start beyond the end: empty
    with pytest.raises(IndexError):
        i.local[2:2]


def test_interval_pydantic():
    class Model(pydantic.BaseModel):
        i: Interval

    m = Model(i=Interval(3, 7))
    assert m.model_dump() == {"i": {"start": 3, "stop": 7}}
    assert m.model_dump_json() == '{"i":{"start":3,"stop":7}}'
    assert Model.model_validate_json('{"i":{"start":-1,"stop":2}}').i == Interval(-1, 2)
    assert Model(i={"start": 1, "stop": 4}).i == Interval(1, 4)
    with pytest.raises((pydantic.ValidationError, IndexError)):
        Model(i={"start": 1, "stop": 1})


# --- XY / YX ------------------------------------------------------------------


def test_xy_yx():
    assert repr(XY(1, 2)) == "XY(x=1, y=2)"
    assert repr(YX(1, 2)) == "YX(y=1, x=2)"
    assert XY(1, 2) == (1, 2)
    assert XY(1, 2).yx == YX(2, 1)
    assert YX(1, 2).xy == XY(2, 1)
    assert XY(1, 2).map(str) == XY("1", "2")
    assert YX(3, 4).map(lambda v: v * 2) == YX(6, 8)
    assert isinstance(YX(1, 2).map(str), YX)
    assert pickle.loads(pickle.dumps(XY(1, 2))) == XY(1, 2)


# --- Box ----------------------------------------------------------------------


def test_box_basic():
    b = Box.factory[1:3, 4:9]
    assert b.y == Interval(1, 3) and b.x == Interval(4, 9)
    assert b.start == YX(1, 4) and isinstance(b.start, YX)
    assert b.shape == YX(2, 5) and isinstance(b.shape, YX)
    assert b.bbox is b
    assert b.serialize() is b and b.deserialize() is b
    assert isinstance(b, Bounds)
    assert str(b) == "[y=1:3, x=4:9]"
    assert repr(b) == "Box(y=Interval(start=1, stop=3), x=Interval(start=4, stop=9))"
    assert eval(repr(b)) == b


def test_box_equality_hash_pickle():
    b = Box.factory[1:3, 4:9]
    assert b == Box(Interval(1, 3), Interval(4, 9))
    assert b != Box.factory[1:3, 4:8]
    assert b != ((1, 3), (4, 9))
    with pytest.raises(TypeError):
        hash(b)
    assert pickle.loads(pickle.dumps(b)) == b
    with pytest.raises(AttributeError):
        b.x = Interval(0, 1)  # type: ignore[misc]


def test_box_factory_arity():
    assert Box.factory[XY(slice(4, 9), slice(1, 3))] == Box.factory[1:3, 4:9]
    with pytest.raises(TypeError):
        Box.factory[1:3]
    with pytest.raises(TypeError):
        Box.factory[1:3, 4:9, 1:2]


def test_box_from_shape():
    assert Box.from_shape((3, 4)) == Box.factory[0:3, 0:4]
    assert Box.from_shape([3, 4], start=(1, 2)) == Box.factory[1:4, 2:6]
    assert Box.from_shape(XY(3, 4), start=XY(1, 2)) == Box.factory[2:6, 1:4]
    assert Box.from_shape(YX(3, 4), start=XY(1, 2)) == Box.factory[2:5, 1:5]
    assert Box.from_shape((3, 4), start=np.array([1, 2])) == Box.factory[1:4, 2:6]
    with pytest.raises(TypeError):
        Box.from_shape(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Box.from_shape((3, 4, 5))
    with pytest.raises(ValueError):
        Box.from_shape((3, 4), start=(1,))


def test_box_contains():
    b = Box.factory[1:3, 4:9]
    assert b.contains(Box.factory[1:2, 4:5])
    assert not b.contains(Box.factory[0:2, 4:5])
    assert b.contains(y=1, x=4) is True
    np.testing.assert_array_equal(
        b.contains(y=np.array([0.5, 0.4, 3.4, 3.5]), x=np.array([4, 4, 4, 4])), [True, False, True, False]
    )
    np.testing.assert_array_equal(b.contains(y=np.array([1, 1]), x=np.array([3.4, 3.6])), [False, True])
    with pytest.raises(TypeError):
        b.contains()
    with pytest.raises(TypeError):
        b.contains(y=1)
    with pytest.raises(TypeError):
        b.contains(b, y=1, x=1)


def test_box_intersection_padding():
    b = Box.factory[1:3, 4:9]
    assert b.intersection(Box.factory[2:10, 0:5]) == Box.factory[2:3, 4:5]
    with pytest.raises(NoOverlapError):
        b.intersection(Box.factory[10:12, 0:3])
    assert b.dilated_by(1) == Box.factory[0:4, 3:10]
    assert b.padded(2) == Box.factory[-1:5, 2:11]
    with pytest.raises(IndexError):
        b.padded(-1)


def test_box_slice_within():
    b = Box.factory[1:3, 4:9]
    outer = Box.factory[0:10, 2:10]
    s = b.slice_within(outer)
    assert s == YX(slice(1, 3), slice(2, 7))
    arr = np.arange(80).reshape(10, 8)
    assert arr[s].shape == (2, 5)
    assert arr[s][0, 0] == arr[1, 2]
    with pytest.raises(IndexError):
        b.slice_within(Box.factory[2:10, 0:10])


def test_box_boundary():
    assert list(Box.factory[1:3, 4:9].boundary()) == [YX(1, 4), YX(1, 8), YX(2, 8), YX(2, 4)]


def test_box_meshgrid():
    b = Box.factory[1:3, 4:9]
    g = b.meshgrid()
    assert isinstance(g, XY)
    np.testing.assert_array_equal(g.x, [[4, 5, 6, 7, 8]] * 2)
    np.testing.assert_array_equal(g.y, [[1] * 5, [2] * 5])
    g2 = b.meshgrid(2)
    np.testing.assert_array_equal(g2.x, [[4, 8], [4, 8]])
    np.testing.assert_array_equal(g2.y, [[1, 1], [2, 2]])
    g3 = b.meshgrid(XY(2, 3))
    assert g3.x.shape == (3, 2)
    np.testing.assert_array_equal(g3.y[:, 0], [1, 1.5, 2])
    g4 = b.meshgrid(YX(2, 3))
    assert g4.x.shape == (2, 3)
    assert b.meshgrid((2, 3)).x.shape == (3, 2)  # plain sequences are (x, y)
    g5 = b.meshgrid(step=2.0)
    np.testing.assert_array_equal(g5.x, [[4, 6, 8]])
    np.testing.assert_array_equal(g5.y, [[1, 1, 1]])
    with pytest.raises(TypeError):
        b.meshgrid(2, step=1.0)


def test_box_absolute_and_local_slicing():
    b = Box.factory[-3:3, 4:9]
    # Negative absolute values are coordinates.
    assert b.absolute[-2:, :6] == Box.factory[-2:3, 4:6]
    assert b.absolute[XY(slice(5, 7), slice(-1, 0))] == Box.factory[-1:0, 5:7]
    with pytest.raises(IndexError):
        b.absolute[-4:, :]
    # Negative local values count from the end.
    assert b.local[-1:, :2] == Box.factory[2:3, 4:6]
    assert b.local[1:-1, -2:] == Box.factory[-2:2, 7:9]
    with pytest.raises(TypeError):
        b.local[1]  # type: ignore[index]


def test_box_pydantic():
    class Model(pydantic.BaseModel):
        b: Box
        maybe: Box | None = None

    b = Box.factory[1:3, 4:9]
    m = Model(b=b)
    assert m.model_dump()["b"] == {"y": {"start": 1, "stop": 3}, "x": {"start": 4, "stop": 9}}
    text = m.model_dump_json()
    assert text.startswith('{"b":{"y":{"start":1,"stop":3},"x":{"start":4,"stop":9}}')
    assert Model.model_validate_json(text).b == b
    assert Model(b={"y": {"start": 0, "stop": 2}, "x": {"start": 1, "stop": 2}}).b == Box.factory[0:2, 1:2]
    assert "properties" in Model.model_json_schema()


class _FakeImage:
    """Minimal parent for the slice proxies: records the box it is indexed with."""

    def __init__(self, bbox):
        self.bbox = bbox

    def __getitem__(self, key):
        return key


def test_slice_proxies():
    parent = _FakeImage(Box.factory[10:20, -5:5])
    assert AbsoluteSliceProxy(parent)[12:14, -5:-3] == Box.factory[12:14, -5:-3]
    assert LocalSliceProxy(parent)[-2:, :3] == Box.factory[18:20, -5:-2]
    with pytest.raises(IndexError):
        AbsoluteSliceProxy(parent)[0:14, :]


def test_legacy_conversion_duck_typed():
    class FakeBox2I:
        def getMinX(self):
            return 2

        def getMinY(self):
            return -1

        def getMaxX(self):
            return 5

        def getMaxY(self):
            return 3

    assert Box.from_legacy(FakeBox2I()) == Box.factory[-1:4, 2:6]
