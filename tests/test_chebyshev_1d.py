"""ChebyshevField with 1-d coefficients (BEHAVIOUR.md §1.5).

Rubin's tests build constant aperture corrections as
``ChebyshevField(bbox, np.array([0.75]))``.  We accept 1-d coefficients as a
single row (``T_0(y) T_q(x)``), keep their shape through serialization and
store the array read-only.
"""

from __future__ import annotations

import json
import unittest

import astropy.units as u
import numpy as np
import pytest
from numpy.polynomial import chebyshev

import lsst.images.json
from lsst.images import Box, DetectorFrame, Image, MaskPlane, MaskSchema, VisitImage
from lsst.images.fields import ChebyshevField
from lsst.images.psfs import GaussianPointSpreadFunction
from lsst.images.tests import RoundtripFits, RoundtripJson, make_random_projection
from small_data import dp2_detector, dp2_obs_info

TC = unittest.TestCase()
BBOX = Box.factory[0:10, 0:20]
X = np.array([0.0, 5.0, 19.0, 7.5])
Y = np.array([0.0, 3.0, 9.0, 4.2])


def test_constant_from_shape_1() -> None:
    coefficients = np.array([0.75])
    field = ChebyshevField(BBOX, coefficients)
    assert field.coefficients.shape == (1,)
    assert (field.x_order, field.y_order, field.order) == (0, 0, 0)
    # The value does not depend on the number of points (the reference's 1-d evaluation does).
    for n in (1, 2, 3, 4):
        np.testing.assert_array_equal(field.evaluate(x=X[:n], y=Y[:n]), np.full(n, 0.75))
    assert field.evaluate(x=3.0, y=2.0) == 0.75
    np.testing.assert_array_equal(field.render(Box.factory[2:4, 5:8]).array, np.full((2, 3), 0.75))


def test_one_row_of_x_terms() -> None:
    field = ChebyshevField(BBOX, np.array([1.0, 2.0, 3.0]), unit=u.nJy)
    assert (field.x_order, field.y_order) == (2, 0)
    # Independent expectation: the 1-d Chebyshev series in x', with x' = (x + 0.5) / 10 - 1 here.
    expected = chebyshev.chebval((X + 0.5) / 10.0 - 1.0, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(field.evaluate(x=X, y=Y), expected, rtol=1e-14)
    same_as_2d = ChebyshevField(BBOX, np.array([[1.0, 2.0, 3.0]]), unit=u.nJy)
    np.testing.assert_array_equal(field.evaluate(x=X, y=Y), same_as_2d.evaluate(x=X, y=Y))
    np.testing.assert_array_equal(field.render(BBOX).array, same_as_2d.render(BBOX).array)
    scaled = field * 2.0
    assert scaled.coefficients.shape == (3,)
    np.testing.assert_allclose(scaled.evaluate(x=X, y=Y), 2 * expected, rtol=1e-14)


def test_coefficients_are_stored_read_only() -> None:
    coefficients = np.array([0.75])
    field = ChebyshevField(BBOX, coefficients)
    assert not field.coefficients.flags.writeable
    with pytest.raises(ValueError):
        field.coefficients[0] = 1.0
    coefficients[0] = 2.0  # the caller's array stays writeable; the field shares its memory
    assert coefficients.flags.writeable
    assert np.shares_memory(field.coefficients, coefficients)


def test_bad_shapes_are_rejected() -> None:
    for bad in (np.array(0.75), np.ones(0), np.ones((2, 0)), np.ones((1, 1, 1))):
        with pytest.raises(ValueError, match="1-d or 2-d"):
            ChebyshevField(BBOX, bad)


def test_json_keeps_shape_1(tmp_path) -> None:
    path = tmp_path / "field.json"
    lsst.images.json.write(ChebyshevField(BBOX, np.array([0.75])), path)
    document = json.loads(path.read_text())
    assert document["coefficients"] == {"data": [0.75], "datatype": "float64"}
    result = lsst.images.json.read(ChebyshevField, path).deserialized
    assert result.coefficients.shape == (1,) and result.coefficients[0] == 0.75


@pytest.mark.parametrize("roundtrip", [RoundtripFits, RoundtripJson])
def test_round_trips_keep_shape(roundtrip) -> None:
    for coefficients in (np.array([0.75]), np.array([1.0, -2.0, 0.5]), np.array([[2.0]])):
        with roundtrip(TC, ChebyshevField(BBOX, coefficients, unit=u.nJy)) as rt:
            assert rt.result.coefficients.shape == coefficients.shape
            np.testing.assert_array_equal(rt.result.coefficients, coefficients)
            assert rt.result.unit == u.nJy


def test_visit_image_with_constant_aperture_corrections() -> None:
    detector = dp2_detector()
    bbox = Box.factory[0:16, 0:24]
    frame = DetectorFrame(instrument="LSSTCam", visit=2025052000177, detector=85, bbox=detector.bbox)
    projection = make_random_projection(np.random.default_rng(3), frame, detector.bbox)
    image = Image(np.zeros(bbox.shape, np.float32), bbox=bbox, unit=u.nJy, projection=projection)
    corrections = {
        "base_PsfFlux_instFlux": ChebyshevField(bbox, np.array([0.75])),
        "base_GaussianFlux_instFlux": ChebyshevField(bbox, np.array([0.5])),
    }
    visit = VisitImage(
        image,
        mask_schema=MaskSchema([MaskPlane("BAD", "Bad pixel.")]),
        psf=GaussianPointSpreadFunction(2.0, detector.bbox, 11),
        detector=detector,
        obs_info=dp2_obs_info(),
        aperture_corrections=corrections,
    )
    assert visit.copy().aperture_corrections["base_PsfFlux_instFlux"] is corrections["base_PsfFlux_instFlux"]
    with RoundtripFits(TC, visit) as rt:
        restored = rt.result.aperture_corrections
        assert set(restored) == set(corrections)
        for name, field in corrections.items():
            assert restored[name].coefficients.shape == (1,)
            assert restored[name].evaluate(x=3.0, y=4.0) == field.coefficients[0]
