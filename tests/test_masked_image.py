"""In-memory behaviour of lsst.images.MaskedImage."""

import astropy.units as u
import numpy as np
import pytest

from lsst.images import Box, Image, Mask, MaskedImage, MaskPlane, MaskSchema


def _schema():
    return MaskSchema([MaskPlane("BAD", "Bad pixel."), None, MaskPlane("SAT", "Saturated.")])


def _image():
    return Image(np.arange(12, dtype=np.float32).reshape(3, 4), start=(5, -2), unit=u.nJy)


def test_default_variance_is_one_with_unit_squared():
    im = _image()
    mi = MaskedImage(im, mask_schema=_schema())
    assert mi.image is im
    assert mi.unit == u.nJy
    assert mi.variance.unit == u.nJy**2
    assert mi.variance.array.dtype == np.float32
    np.testing.assert_array_equal(mi.variance.array, 1.0)
    assert mi.variance.bbox == mi.bbox == mi.mask.bbox == im.bbox
    assert mi.mask.schema == _schema()
    assert not mi.mask.array.any()
    plain = MaskedImage(Image(np.zeros((3, 4))), mask_schema=_schema())
    assert plain.variance.unit is None
    assert plain.variance.array.dtype == np.float32


def test_variance_unit_rules():
    im = _image()
    s = _schema()
    v = MaskedImage(im, mask_schema=s, variance=Image(2.0, bbox=im.bbox))
    assert v.variance.unit == u.nJy**2  # unit filled in
    np.testing.assert_array_equal(v.variance.array, 2.0)
    ok = MaskedImage(im, mask_schema=s, variance=Image(2.0, bbox=im.bbox, unit=u.nJy**2))
    assert ok.variance.unit == u.nJy**2
    with pytest.raises(ValueError, match="square"):
        MaskedImage(im, mask_schema=s, variance=Image(1.0, bbox=im.bbox, unit=u.nJy))
    with pytest.raises(ValueError, match="square"):
        MaskedImage(im, mask_schema=s, variance=Image(1.0, bbox=im.bbox, unit=u.Jy**2))
    with pytest.raises(ValueError, match="no units"):
        MaskedImage(Image(np.zeros((3, 4))), mask_schema=s, variance=Image(1.0, shape=(3, 4), unit=u.Jy))


def test_constructor_errors():
    im = _image()
    s = _schema()
    with pytest.raises(TypeError, match="mask_schema"):
        MaskedImage(im)
    with pytest.raises(TypeError, match="mask_schema"):
        MaskedImage(im, mask=Mask(schema=s, bbox=im.bbox), mask_schema=s)
    with pytest.raises(ValueError, match="bboxes"):
        MaskedImage(im, mask=Mask(schema=s, shape=(3, 4)))
    with pytest.raises(ValueError, match="bboxes"):
        MaskedImage(im, mask_schema=s, variance=Image(1.0, shape=(3, 5)))


class _Proj:
    pass


def test_projection_shared_by_all_planes():
    p = _Proj()
    im = Image(0.0, shape=(2, 2), projection=p)
    mi = MaskedImage(im, mask_schema=_schema())
    assert mi.projection is p
    assert mi.mask.projection is p and mi.variance.projection is p
    q = _Proj()
    mi2 = MaskedImage(im, mask_schema=_schema(), projection=q)
    assert mi2.projection is q
    assert mi2.image.projection is q and mi2.mask.projection is q and mi2.variance.projection is q
    assert np.shares_memory(mi2.image.array, im.array)
    assert im.projection is p  # the original is untouched


def test_str_repr():
    mi = MaskedImage(_image(), mask_schema=_schema())
    assert str(mi) == "MaskedImage(Image([y=5:8, x=-2:2], float32), ['BAD', 'SAT'])"
    assert repr(mi) == (
        "MaskedImage(Image(..., bbox=Box(y=Interval(start=5, stop=8), x=Interval(start=-2, stop=2)), "
        "dtype=dtype('float32')), mask_schema=MaskSchema([MaskPlane(name='BAD', description='Bad pixel.'), "
        "None, MaskPlane(name='SAT', description='Saturated.')], dtype=dtype('uint8')))"
    )


def test_subset_views_all_planes():
    mi = MaskedImage(_image(), mask_schema=_schema(), metadata={"a": 1})
    sub = mi[Box.factory[6:8, -1:1]]
    assert sub.bbox == Box.factory[6:8, -1:1]
    assert sub.metadata is mi.metadata
    for plane_sub, plane in [(sub.image, mi.image), (sub.mask, mi.mask), (sub.variance, mi.variance)]:
        assert plane_sub.bbox == sub.bbox
        assert np.shares_memory(plane_sub.array, plane.array)
    sub.mask.set("BAD")
    sub.variance.array[...] = 4
    assert mi.mask.get("BAD").sum() == 4
    assert mi.variance.array.sum() == 12 - 4 + 16
    assert mi.local[1:, :2].bbox == Box.factory[6:8, -2:0]
    assert mi.absolute[7:, 1:].bbox == Box.factory[7:8, 1:2]
    assert mi[...] is mi
    with pytest.raises(TypeError, match="local"):
        mi[1:2]
    with pytest.raises(IndexError):
        mi[Box.factory[0:2, 0:2]]


def test_copy_and_identity_equality():
    mi = MaskedImage(_image(), mask_schema=_schema(), metadata={"a": 1})
    c = mi.copy()
    assert c.image == mi.image and c.mask == mi.mask and c.variance == mi.variance
    assert not np.shares_memory(c.image.array, mi.image.array)
    assert not np.shares_memory(c.mask.array, mi.mask.array)
    assert not np.shares_memory(c.variance.array, mi.variance.array)
    assert c.metadata == {"a": 1} and c.metadata is not mi.metadata
    assert mi == mi
    assert mi != c  # no custom equality: identity only


def test_setitem_unit_conversion():
    s = _schema()
    a = MaskedImage(Image(np.zeros((4, 4)), unit=u.Jy), mask_schema=s)
    b = MaskedImage(Image(np.ones((2, 2)), unit=u.mJy, start=(1, 1)), mask_schema=s)
    b.mask.set("SAT")
    a[Box.factory[1:3, 1:3]] = b
    inner = (slice(1, 3), slice(1, 3))
    np.testing.assert_allclose(a.image.array[inner], 0.001)
    assert a.image.array.sum() == pytest.approx(0.004)
    np.testing.assert_array_equal(a.mask.array[..., 0][inner], 4)
    assert a.mask.array.sum() == 16
    np.testing.assert_allclose(a.variance.array[inner], 1e-6)
    assert a.variance.array[0, 0] == 1.0


def test_read_legacy_entry_points_delegate_to_legacy_reader():
    from conftest import fixture_dir
    from lsst.images import legacy

    path = fixture_dir("legacy") / "ip_diffim__scienceMI.fits"
    masked = MaskedImage.read_legacy(path)
    direct = legacy.read_masked_image(path)
    assert masked.bbox == direct.bbox
    assert masked.image == direct.image and masked.mask == direct.mask and masked.variance == direct.variance
    variance = MaskedImage.read_legacy(path, component="variance")
    assert variance == direct.variance
    assert Image.read_legacy(path) == direct.image
    assert Mask.read_legacy(path, ext=2) == direct.mask


def test_pickle_and_deepcopy_preserve_planes():
    import copy
    import pickle

    mi = MaskedImage(_image(), mask_schema=_schema(), metadata={"a": 1})
    mi.mask.set("SAT", mi.image.array > 5)
    for clone in (pickle.loads(pickle.dumps(mi)), copy.deepcopy(mi)):
        assert clone.image == mi.image and clone.mask == mi.mask and clone.variance == mi.variance
        assert clone.metadata == {"a": 1}
        assert not np.shares_memory(clone.image.array, mi.image.array)
