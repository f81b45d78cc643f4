"""The public lsst.images.tests helpers: importability and assertion semantics."""

import subprocess
import sys
import unittest

import astropy.units as u
import numpy as np
import pytest

from lsst.images import Box, Image, Mask, MaskedImage, MaskPlane, MaskSchema
from lsst.images.tests import (
    DP2_COADD_DATA_ID,
    DP2_COADD_MISSING_CELL,
    DP2_VISIT_DETECTOR_DATA_ID,
    assert_close,
    assert_equal_allow_nan,
    assert_images_equal,
    assert_masked_images_equal,
    assert_masks_equal,
    assert_projections_equal,
    make_random_image,
    make_random_mask,
    make_random_masked_image,
)

TC = unittest.TestCase()
FAIL = TC.failureException


def test_imports_without_butler():
    code = (
        "import sys, lsst.images.tests as t; "
        "assert not any(m.startswith('lsst.daf') for m in sys.modules), 'butler imported'; "
        "print(len(t.__dict__))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_constants():
    assert DP2_VISIT_DETECTOR_DATA_ID == {"instrument": "LSSTCam", "visit": 2025052000177, "detector": 85}
    assert DP2_COADD_DATA_ID == {"skymap": "lsst_cells_v2", "tract": 9813, "patch": 43, "band": "r"}
    assert DP2_COADD_MISSING_CELL == {"i": 8, "j": 6}


def test_assert_close():
    assert_close(TC, 1.0, 1.0 + 1e-12)
    assert_close(TC, np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    assert_close(TC, 1.0 * u.m, 100.0 * u.cm)
    assert_close(TC, 1.0, 1.1, rtol=0.2)
    with pytest.raises(FAIL):
        assert_close(TC, 1.0, 1.1)
    with pytest.raises(FAIL):
        assert_close(TC, 1.0 * u.m, 1.0 * u.s)


def test_assert_equal_allow_nan():
    assert_equal_allow_nan(TC, float("nan"), float("nan"))
    assert_equal_allow_nan(TC, 1.5, 1.5)
    assert_equal_allow_nan(TC, np.float32("nan"), float("nan"))
    with pytest.raises(FAIL):
        assert_equal_allow_nan(TC, 1.0, float("nan"))
    with pytest.raises(FAIL):
        assert_equal_allow_nan(TC, 1.0, 2.0)


def test_assert_images_equal():
    rng = np.random.default_rng(1)
    a = make_random_image(rng, Box.factory[2:6, 3:8], unit=u.nJy)
    assert a.array.dtype == np.float32 and a.unit == u.nJy
    b = a.copy()
    assert_images_equal(TC, a, b)
    assert_images_equal(TC, a, b, expect_view=False)
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, b, expect_view=True)
    view = a[...]
    assert_images_equal(TC, a, view, expect_view=True)
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, view, expect_view=False)
    # 'array': memory shared, metadata compared by value only.
    detached = a.view()
    detached.metadata = dict(a.metadata)
    assert_images_equal(TC, a, detached, expect_view="array")
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, detached, expect_view=True)
    b.array[0, 0] += 1e-3
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, b)
    assert_images_equal(TC, a, b, atol=1e-2)
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, a.view(unit=u.Jy))
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, a.view(start=(0, 0)))
    c = a.copy()
    c.metadata["x"] = 1
    with pytest.raises(FAIL):
        assert_images_equal(TC, a, c)
    # As in the reference, NaN pixels never compare equal unless asked (equal_nan is our extension).
    nan = Image(np.array([[np.nan, 1.0]]))
    with pytest.raises(FAIL):
        assert_images_equal(TC, nan, nan.copy())
    assert_images_equal(TC, nan, nan.copy(), equal_nan=True)


def test_assert_masks_equal():
    rng = np.random.default_rng(2)
    m = make_random_mask(rng, Box.factory[0:5, 0:6], fraction=0.5)
    assert m.get("BAD").any()
    assert_masks_equal(TC, m, m.copy())
    other = m.copy()
    other.clear("BAD")
    with pytest.raises(FAIL):
        assert_masks_equal(TC, m, other)
    renamed = m.view(schema=MaskSchema([MaskPlane("X", ""), MaskPlane("SAT", ""), MaskPlane("CR", "")]))
    with pytest.raises(FAIL):
        assert_masks_equal(TC, m, renamed)
    with_meta = m.copy()
    with_meta.metadata["a"] = 1
    with pytest.raises(FAIL):
        assert_masks_equal(TC, m, with_meta)


def test_assert_masked_images_equal():
    rng = np.random.default_rng(3)
    mi = make_random_masked_image(rng, Box.factory[1:4, 2:7])
    assert isinstance(mi, MaskedImage)
    assert mi.variance.unit == u.nJy**2
    assert (mi.variance.array > 0).all()
    assert_masked_images_equal(TC, mi, mi.copy())
    assert_masked_images_equal(TC, mi, mi.copy(), expect_view=False)
    assert_masked_images_equal(TC, mi, mi[mi.bbox], expect_view=True)
    with pytest.raises(FAIL):
        assert_masked_images_equal(TC, mi, mi.copy(), expect_view=True)
    changed = mi.copy()
    changed.variance.array[0, 0] *= 2
    with pytest.raises(FAIL):
        assert_masked_images_equal(TC, mi, changed)
    changed = mi.copy()
    changed.mask.array[...] = 0
    with pytest.raises(FAIL):
        assert_masked_images_equal(TC, mi, changed)


class _Proj:
    def __init__(self, frame, text, approx=None):
        self.pixel_frame = frame
        self._text = text
        self.fits_approximation = approx

    def show(self, simplified=False, comments=False):
        return self._text


def test_assert_projections_equal():
    assert_projections_equal(TC, None, None)
    p = _Proj("F", "mapping")
    with pytest.raises(FAIL):
        assert_projections_equal(TC, p, None)
    assert_projections_equal(TC, p, p, expect_identity=True)
    q = _Proj("F", "mapping")
    assert_projections_equal(TC, p, q)
    assert_projections_equal(TC, p, q, expect_identity=False)
    with pytest.raises(FAIL):
        assert_projections_equal(TC, p, q, expect_identity=True)
    with pytest.raises(FAIL):
        assert_projections_equal(TC, p, p, expect_identity=False)
    with pytest.raises(FAIL):
        assert_projections_equal(TC, p, _Proj("G", "mapping"))
    with pytest.raises(FAIL):
        assert_projections_equal(TC, p, _Proj("F", "other"))
    with pytest.raises(FAIL):
        assert_projections_equal(TC, p, _Proj("F", "mapping", approx=_Proj("F", "fits")))
    assert_projections_equal(
        TC, _Proj("F", "m", approx=_Proj("F", "fits")), _Proj("F", "m", approx=_Proj("F", "fits"))
    )
    # Images compare their projections with the same rules.
    with pytest.raises(FAIL):
        assert_images_equal(TC, Image(0.0, shape=(1, 1), projection=p), Image(0.0, shape=(1, 1)))
    assert_masks_equal(
        TC,
        Mask(schema=MaskSchema([]), shape=(1, 1), projection=p),
        Mask(schema=MaskSchema([]), shape=(1, 1), projection=q),
    )


def test_assert_projections_equal_with_real_projections():
    from test_image_serialization import _fixture_projection

    tan, tan2, sip = _fixture_projection(False), _fixture_projection(False), _fixture_projection(True)
    assert_projections_equal(TC, tan, tan2, expect_identity=False)
    with pytest.raises(FAIL):
        assert_projections_equal(TC, tan, sip)
    image = Image(0.0, shape=(2, 2), projection=tan)
    assert_images_equal(TC, image, Image(0.0, shape=(2, 2), projection=tan2))
