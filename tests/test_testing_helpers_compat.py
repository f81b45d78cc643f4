"""lsst.images.tests as code written for Rubin's 2100 and 4300 releases uses it (BEHAVIOUR.md §3).

2100 passes the running TestCase first (``assert_images_equal(self, a, b)``); 4300
drops it and renames ``*projection*`` helpers to ``*sky_projection*``.  Both call
forms must work; the reference's tolerances, view rules, injected round-trip
metadata and ``make_random_projection`` recipe are reproduced.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unittest

import astropy.units as u
import numpy as np
import pytest

from lsst.images import XY, Box, DetectorFrame, GeneralFrame, Image, Transform
from lsst.images.tests import (
    RoundtripFits,
    RoundtripJson,
    assert_close,
    assert_images_equal,
    assert_projections_equal,
    assert_sky_projections_equal,
    check_projection,
    check_transform,
    make_random_projection,
    make_random_sky_projection,
)
from rubin_reference import IMPORT_REFERENCE_TESTS, run_reference_2100

TC = unittest.TestCase()
BBOX = Box.factory[10:90, 20:120]
FRAME = DetectorFrame(instrument="X", visit=1, detector=2, bbox=BBOX)
SAMPLE_X, SAMPLE_Y = np.array([20.0, 70.0, 119.0]), np.array([10.0, 50.0, 89.0])


def test_import_needs_no_optional_package() -> None:
    code = (
        "import sys, lsst.images.tests as t; "
        "bad = [m for m in sys.modules if m.startswith(('lsst.afw', 'lsst.geom', 'lsst.daf',"
        " 'lsst.cell_coadds', 'lsst.images.cells', 'h5py', 'piff', 'galsim'))]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_make_random_projection_follows_the_reference_recipe() -> None:
    projection = make_random_projection(np.random.default_rng(500), FRAME, BBOX)
    sky = projection.pixel_to_sky(x=SAMPLE_X, y=SAMPLE_Y)
    # Values from lsst-images 30.2026.2100's helper with the same seed, frame and box.
    np.testing.assert_allclose(
        sky.ra.deg, [4.05180156431154, 4.054561715060701, 4.05726666064729], rtol=1e-13
    )
    np.testing.assert_allclose(
        sky.dec.deg, [-0.5622071145679711, -0.5598420659540703, -0.5575361422923609], rtol=1e-13
    )
    assert projection.pixel_bounds == BBOX and projection.fits_approximation is None
    header = projection.as_fits_wcs(BBOX).to_header()
    assert "PC1_2" not in header and "PC2_1" not in header  # never rotated
    assert header["PC1_1"] > 0 and header["PC2_2"] > 0  # never flipped
    scales = np.array([header["PC1_1"], header["PC2_2"]]) * 3600
    assert np.all((0.18 <= scales) & (scales < 0.22))
    assert make_random_sky_projection is make_random_projection


def test_make_random_projection_matches_the_reference_wheel() -> None:
    seeds = [1, 2, 3, 42]
    script = (
        IMPORT_REFERENCE_TESTS
        + f"""
import json, numpy as np
from lsst.images import Box, DetectorFrame
bbox = Box.factory[10:90, 20:120]
frame = DetectorFrame(instrument="X", visit=1, detector=2, bbox=bbox)
out = []
for seed in {seeds!r}:
    p = reference_tests.make_random_projection(np.random.default_rng(seed), frame, bbox)
    s = p.pixel_to_sky(x=np.array({SAMPLE_X.tolist()!r}), y=np.array({SAMPLE_Y.tolist()!r}))
    out.append({{"ra": s.ra.deg.tolist(), "dec": s.dec.deg.tolist(), "show": p.show(simplified=True)}})
print(json.dumps(out))
"""
    )
    for seed, expected in zip(seeds, run_reference_2100(script), strict=True):
        projection = make_random_projection(np.random.default_rng(seed), FRAME, BBOX)
        sky = projection.pixel_to_sky(x=SAMPLE_X, y=SAMPLE_Y)
        np.testing.assert_allclose(sky.ra.deg, expected["ra"], rtol=1e-13)
        np.testing.assert_allclose(sky.dec.deg, expected["dec"], rtol=1e-13)
        assert projection.show(simplified=True) == expected["show"]


def test_both_call_forms() -> None:
    image = Image(np.arange(12, dtype=np.float32).reshape(3, 4), unit=u.nJy)
    assert_images_equal(TC, image, image.copy())  # 2100
    assert_images_equal(image, image.copy())  # 4300
    assert_images_equal(tc=TC, a=image, b=image.copy())
    with pytest.raises(AssertionError):
        assert_images_equal(image, image.view(unit=u.Jy))
    projection = make_random_projection(np.random.default_rng(1), FRAME, BBOX)
    assert_projections_equal(projection, projection, expect_identity=True)
    assert_sky_projections_equal(
        TC, projection, make_random_projection(np.random.default_rng(1), FRAME, BBOX)
    )
    sky = projection.pixel_to_sky(x=SAMPLE_X, y=SAMPLE_Y)
    check_projection(TC, projection, XY(SAMPLE_X, SAMPLE_Y), sky, FRAME)
    check_projection(
        sky_projection=projection, pixel_xy=XY(SAMPLE_X, SAMPLE_Y), sky_coords=sky, pixel_frame=FRAME
    )
    with pytest.raises(TypeError, match="alias"):
        check_projection(
            projection=projection, sky_projection=projection, pixel_xy=None, sky_coords=sky, pixel_frame=FRAME
        )


def test_tolerances_follow_astropy_allclose() -> None:
    assert_close(TC, 1000.0, 1000.009)  # rtol 1e-5 by default
    with pytest.raises(AssertionError):
        assert_close(TC, 1000.0, 1000.02)
    with pytest.raises(AssertionError):
        assert_close(TC, float("nan"), float("nan"))  # equal_nan is False by default
    assert_close(TC, float("nan"), float("nan"), equal_nan=True)
    with pytest.raises(AssertionError):
        assert_close(TC, 1.0, 1.0 + 1e-12, rtol=0, atol=0)  # exact


def test_check_transform_tolerances_and_wrapping() -> None:
    frame = GeneralFrame(unit=u.rad)
    identity = Transform.identity(frame)
    x, y = np.array([0.0, 1.0, 2.0 * np.pi - 1e-9]), np.array([0.5, 0.25, 0.1])
    check_transform(TC, identity, XY(x, y), XY(x, y), frame, frame)
    check_transform(identity, XY(x, y), XY(x * (1 + 1e-6), y), frame, frame)  # within rtol 1e-5
    with pytest.raises(AssertionError):
        check_transform(identity, XY(x, y), XY(x + 1e-3, y), frame, frame)
    check_transform(identity, XY(x, y), XY(x + 1e-3, y), frame, frame, out_atol=2e-3, in_atol=2e-3)  # floats
    wrapped = XY(np.where(x > 6, x - 2 * np.pi, x), y)  # the last point wrapped to just below 0
    with pytest.raises(AssertionError):
        check_transform(identity, XY(x, y), wrapped, frame, frame, check_inverted=False)
    check_transform(identity, XY(x, y), wrapped, frame, frame, check_inverted=False, angle_wrapped=True)


def test_view_rules_of_assert_images_equal() -> None:
    image = Image(np.zeros((2, 3), np.float32))
    copy = image.copy()
    assert_images_equal(TC, image, copy, expect_view=False)
    shares_metadata = copy.view()
    shares_metadata.metadata = image.metadata
    with pytest.raises(AssertionError, match="metadata"):  # a copy must not share the metadata dict
        assert_images_equal(TC, image, shares_metadata, expect_view=False)
    view = image[...]
    view.array[0, 0] = 1.0  # pixel values are not compared for views
    assert_images_equal(TC, image, view, expect_view=True)


@pytest.mark.parametrize("roundtrip", [RoundtripFits, RoundtripJson])
def test_roundtrip_injected_metadata_and_call_forms(roundtrip) -> None:
    image = Image(np.arange(6, dtype=np.float32).reshape(2, 3), unit=u.nJy)
    image.metadata["own"] = 1
    expected = {
        "roundtrip_test_1": 1,
        "roundtrip_test_2": 2.5,
        "roundtrip_test_3": "three",
        "roundtrip_test_4": True,
        "roundtrip_test_5": None,
    }
    for rt in (roundtrip(TC, image), roundtrip(image), roundtrip(image, None, recipe=None)):
        with rt:
            if roundtrip is RoundtripJson:
                written = rt.inspect()["metadata"]
            else:
                hdus = rt.inspect()
                written = json.loads(bytes(hdus["JSON"].data[0][0]).decode())["metadata"]
            assert written == {"own": 1, **expected}
            assert rt.result.metadata == {"own": 1} and image.metadata == {"own": 1}
            assert rt.serialized.metadata == {"own": 1}
            assert rt.get().metadata == {"own": 1}
        if roundtrip is RoundtripFits:
            assert hdus._file is None or hdus._file.closed  # inspect() handles are closed on exit
        np.testing.assert_array_equal(rt.result.array, image.array)
