"""In-memory behaviour of lsst.images.Image."""

import astropy.units as u
import numpy as np
import pytest

from lsst.images import XY, Box, Image


def _image():
    return Image(np.arange(12, dtype=np.float32).reshape(3, 4), start=(5, -2), unit=u.nJy)


def test_construct_from_array_keeps_memory():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    im = Image(a, start=(5, -2))
    assert im.array is a
    assert im.bbox == Box.factory[5:8, -2:2]
    assert im.unit is None and im.projection is None
    assert im.metadata == {}


def test_construct_fill_values_and_dtypes():
    im = Image(shape=(2, 3))
    assert im.array.dtype == np.int64
    np.testing.assert_array_equal(im.array, 0)
    im = Image(1.5, shape=(2, 3))
    assert im.array.dtype == np.float64
    im = Image(1.5, shape=(2, 3), dtype=np.float32)
    assert im.array.dtype == np.float32
    np.testing.assert_array_equal(im.array, 1.5)
    im = Image(7, bbox=Box.factory[1:3, 4:9])
    assert im.array.shape == (2, 5)
    assert im.bbox == Box.factory[1:3, 4:9]
    assert Image(np.zeros((2, 3)), start=XY(1, 5)).bbox == Box.factory[5:7, 1:4]
    # dtype forces a conversion (and hence a copy).
    a = np.zeros((2, 3), dtype=np.int32)
    im = Image(a, dtype=np.float32)
    assert im.array.dtype == np.float32 and not np.shares_memory(a, im.array)
    assert Image(np.zeros((2, 2)), unit="Jy").unit == u.Jy


def test_construct_errors():
    with pytest.raises(TypeError, match="No bbox"):
        Image()
    with pytest.raises(TypeError):
        Image(5)
    with pytest.raises(ValueError, match="shape"):
        Image(np.zeros((2, 3)), shape=(3, 3))
    with pytest.raises(ValueError, match="bbox"):
        Image(np.zeros((2, 3)), bbox=Box.factory[0:3, 0:3])
    with pytest.raises(ValueError):
        Image(0, bbox=Box.factory[0:2, 0:3], shape=(2, 4))
    with pytest.raises(ValueError):
        Image(np.zeros(3))
    with pytest.raises(ValueError):
        Image(np.zeros((2, 3)), bbox=Box.factory[0:2, 0:3], start=(1, 1))


def test_str_repr():
    im = _image()
    assert str(im) == "Image([y=5:8, x=-2:2], float32)"
    assert repr(im) == (
        "Image(..., bbox=Box(y=Interval(start=5, stop=8), x=Interval(start=-2, stop=2)), "
        "dtype=dtype('float32'))"
    )


def test_box_subset_is_view_sharing_memory_and_metadata():
    im = _image()
    im.metadata["key"] = 1
    sub = im[Box.factory[6:8, -1:1]]
    assert sub.bbox == Box.factory[6:8, -1:1]
    np.testing.assert_array_equal(sub.array, [[5, 6], [9, 10]])
    assert np.shares_memory(sub.array, im.array)
    assert sub.metadata is im.metadata
    assert sub.unit == u.nJy
    sub.array[0, 0] = -1
    assert im.array[1, 1] == -1
    sub.metadata["other"] = 2
    assert im.metadata["other"] == 2
    assert im[...] is im


def test_subset_errors():
    im = _image()
    with pytest.raises(IndexError):
        im[Box.factory[6:9, -1:1]]
    with pytest.raises(IndexError):
        im[Box.factory[4:6, -1:1]]
    with pytest.raises(TypeError, match=r"\.local"):
        im[1:2]
    with pytest.raises(TypeError, match=r"\.absolute"):
        im[(slice(1, 2), slice(1, 2))]


def test_local_vs_absolute_negative_indices():
    im = _image()  # bbox [y=5:8, x=-2:2]
    local = im.local[-1:, -2:]
    assert local.bbox == Box.factory[7:8, 0:2]
    np.testing.assert_array_equal(local.array, [[10, 11]])
    absolute = im.absolute[6:, -2:0]
    assert absolute.bbox == Box.factory[6:8, -2:0]
    np.testing.assert_array_equal(absolute.array, [[4, 5], [8, 9]])
    with pytest.raises(IndexError):
        im.absolute[-1:, -2:]  # y=-1 is a coordinate outside the image
    assert np.shares_memory(local.array, im.array)


def test_quantity_get_set():
    im = _image()
    q = im.quantity
    assert q.unit == u.nJy
    assert np.shares_memory(q.value, im.array)
    im2 = Image(np.zeros((2, 2)), unit=u.Jy)
    im2.quantity = np.ones((2, 2)) * u.mJy
    np.testing.assert_allclose(im2.array, 0.001)
    with pytest.raises(u.UnitConversionError):
        im2.quantity = 5 * u.s
    im3 = Image(np.zeros((2, 2)))
    assert im3.quantity.unit == u.dimensionless_unscaled
    with pytest.raises(u.UnitConversionError):
        im3.quantity = 5 * u.s


def test_array_setter_writes_in_place():
    im = Image(np.zeros((2, 2)))
    old = im.array
    im.array = 3
    assert im.array is old
    np.testing.assert_array_equal(old, 3)


def test_setitem_converts_units():
    im = Image(np.zeros((4, 4)), unit=u.Jy)
    im[Box.factory[1:3, 1:3]] = Image(np.ones((2, 2)), start=(1, 1), unit=u.mJy)
    expected = np.zeros((4, 4))
    expected[1:3, 1:3] = 0.001
    np.testing.assert_allclose(im.array, expected)
    with pytest.raises(u.UnitConversionError):
        im[Box.factory[1:3, 1:3]] = Image(np.ones((2, 2)), start=(1, 1))
    with pytest.raises(ValueError):
        im[Box.factory[1:3, 1:3]] = Image(np.ones((3, 3)), unit=u.Jy)
    plain = Image(np.zeros((3, 3), dtype=np.int16))
    plain[...] = Image(np.full((3, 3), 4, dtype=np.int16))
    np.testing.assert_array_equal(plain.array, 4)


def test_view():
    im = _image()
    v = im.view(start=(0, 0))
    assert v.bbox == Box.factory[0:3, 0:4]
    assert v.array is im.array
    assert v.unit == u.nJy
    assert v.metadata is im.metadata
    assert im.view(unit=None).unit is None
    assert im.view(unit=u.Jy).unit == u.Jy
    assert im.bbox == Box.factory[5:8, -2:2]


def test_copy_is_deep():
    im = Image(np.ones((2, 2)), metadata={"a": 1}, unit=u.Jy)
    c = im.copy()
    assert c == im
    assert not np.shares_memory(c.array, im.array)
    assert c.metadata == {"a": 1} and c.metadata is not im.metadata
    c.array[0, 0] = 5
    assert im.array[0, 0] == 1


def test_equality():
    im = _image()
    assert im == Image(im.array.copy(), start=(5, -2), unit=u.nJy)
    assert im != Image(im.array.copy(), start=(5, -2))  # unit differs
    assert im != Image(im.array.copy(), start=(0, 0), unit=u.nJy)  # bbox differs
    assert im.__eq__(5) is NotImplemented
    x = np.array([[np.nan, 1.0]])
    assert Image(x) == Image(x.copy())
    assert Image(x) == Image(x.astype(np.float32))
    assert Image(x) != Image(np.array([[np.nan, 2.0]]))
    assert Image(np.array([[1, 2]])) == Image(np.array([[1, 2]]))
    # metadata is not part of equality
    assert Image(np.zeros((1, 1)), metadata={"a": 1}) == Image(np.zeros((1, 1)))
    with pytest.raises(TypeError):
        hash(im)


def test_wcs_properties_without_projection():
    im = _image()
    assert im.projection is None
    assert im.astropy_wcs is None
    assert im.fits_wcs is None
    assert im.butler_dataset is None
    assert im.butler_provenance is None


class _FakeProjection:
    """Records the calls GeneralizedImage makes on a projection."""

    def __init__(self):
        self.calls = []

    def as_astropy(self, bbox):
        self.calls.append(("as_astropy", bbox))
        return "astropy-view"

    def as_fits_wcs(self, bbox, allow_approximation=False):
        self.calls.append(("as_fits_wcs", bbox, allow_approximation))
        return "fits-wcs"


def test_wcs_properties_delegate_to_projection():
    proj = _FakeProjection()
    im = Image(0.0, shape=(3, 4), start=(1, 2), projection=proj)
    assert im.astropy_wcs == "astropy-view"
    assert im.fits_wcs == "fits-wcs"
    assert im.fits_wcs == "fits-wcs"  # cached: only one call
    assert proj.calls == [
        ("as_astropy", Box.factory[1:4, 2:6]),
        ("as_fits_wcs", Box.factory[1:4, 2:6], True),
    ]
    sub = im[Box.factory[2:3, 2:6]]
    assert sub.projection is proj
    assert im.copy().projection is proj


class _FakeOpaque:
    def __init__(self, label):
        self.label = label

    def copy(self):
        return _FakeOpaque(self.label + "+copy")

    def subset(self, bbox):
        return _FakeOpaque(f"{self.label}+subset{bbox}")


def test_opaque_metadata_propagation():
    im = Image(0.0, shape=(3, 4))
    assert im._opaque_metadata is None
    assert im.copy()._opaque_metadata is None
    im._opaque_metadata = _FakeOpaque("o")
    assert im.copy()._opaque_metadata.label == "o+copy"
    assert im[Box.factory[0:1, 0:1]]._opaque_metadata.label == "o+subset[y=0:1, x=0:1]"
    assert im[...]._opaque_metadata.label == "o"


def test_metadata_setter_detaches():
    im = Image(0.0, shape=(2, 2))
    sub = im[Box.factory[0:1, 0:1]]
    im.metadata = {"new": True}
    assert sub.metadata == {}
    with pytest.raises(TypeError):
        im.metadata = [1]  # type: ignore[assignment]


def test_legacy_duck_typed():
    class Point:
        def __init__(self, x, y):
            self._x, self._y = x, y

        def getX(self):
            return self._x

        def getY(self):
            return self._y

    class FakeAfwImage:
        def __init__(self, array, xy0):
            self._array, self._xy0 = array, xy0

        def getArray(self):
            return self._array

        def getXY0(self):
            return self._xy0

    a = np.ones((3, 2), dtype=np.float32)
    im = Image.from_legacy(FakeAfwImage(a, Point(10, 20)), unit=u.nJy)
    assert im.bbox == Box.factory[20:23, 10:12]
    assert im.array is a
    assert im.unit == u.nJy
