"""Compare detectors and amplifiers with ``lsst.afw.cameraGeom`` objects (duck-typed).

The afw side is read through its documented getters (``getName``, ``getBBox``,
``getOrientation``, ``getAmplifiers``, ``getRawBBox``, ...) and its
``TransformMap`` (iterated for its camera systems; each transform's
``getMapping().applyForward(points)`` evaluated on a 3×3 grid), so no afw
import is needed.
"""

from __future__ import annotations

__all__ = ("compare_amplifier_to_legacy", "compare_detector_to_legacy")

import unittest
from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np

from .._geom import XY, Box
from ._assertions import assert_equal_allow_nan
from ._compat import optional_test_case
from ._coords import check_transform

if TYPE_CHECKING:
    from ..cameras import Amplifier, Detector


@optional_test_case()
def compare_amplifier_to_legacy(
    tc: unittest.TestCase,
    amplifier: Amplifier,
    legacy_amplifier: Any,
    *,
    is_raw_assembled: bool,
    expect_nominal_calibrations: bool = True,
) -> None:
    """Assert that an `Amplifier` matches an afw ``Amplifier``.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    amplifier
        Amplifier of this package.
    legacy_amplifier
        afw amplifier.
    is_raw_assembled
        Whether the afw raw geometry describes an assembled raw image (it is
        then compared with ``assembled_raw_geometry``, else with
        ``unassembled_raw_geometry``).
    expect_nominal_calibrations
        Whether the amplifier must carry the afw gain, read noise,
        saturation, suspect level and linearity (NaN equals NaN); otherwise
        it must carry none.
    """
    from ..cameras import ReadoutCorner

    tc.assertEqual(amplifier.name, legacy_amplifier.getName())
    tc.assertEqual(amplifier.bbox, Box.from_legacy(legacy_amplifier.getBBox()), f"{amplifier.name}: bbox")
    raw = amplifier.assembled_raw_geometry if is_raw_assembled else amplifier.unassembled_raw_geometry
    tc.assertIsNotNone(raw, f"{amplifier.name}: no raw geometry of the requested kind.")
    assert raw is not None
    expected = {
        "readout_corner": ReadoutCorner.from_legacy(legacy_amplifier.getReadoutCorner()),
        "bbox": Box.from_legacy(legacy_amplifier.getRawBBox()),
        "data_bbox": Box.from_legacy(legacy_amplifier.getRawDataBBox()),
        "flip_x": bool(legacy_amplifier.getRawFlipX()),
        "flip_y": bool(legacy_amplifier.getRawFlipY()),
        "x_offset": legacy_amplifier.getRawXYOffset().getX(),
        "y_offset": legacy_amplifier.getRawXYOffset().getY(),
        "horizontal_overscan_bbox": Box.from_legacy(legacy_amplifier.getRawSerialOverscanBBox()),
        "vertical_overscan_bbox": Box.from_legacy(legacy_amplifier.getRawParallelOverscanBBox()),
        "horizontal_prescan_bbox": Box.from_legacy(legacy_amplifier.getRawSerialPrescanBBox()),
    }
    for name, value in expected.items():
        tc.assertEqual(getattr(raw, name), value, f"{amplifier.name}: raw {name}")
    calibrations = amplifier.nominal_calibrations
    if not expect_nominal_calibrations:
        tc.assertIsNone(calibrations, f"{amplifier.name}: unexpected nominal calibrations.")
        return
    tc.assertIsNotNone(calibrations, f"{amplifier.name}: no nominal calibrations.")
    assert calibrations is not None
    assert_equal_allow_nan(tc, calibrations.gain, legacy_amplifier.getGain())
    assert_equal_allow_nan(tc, calibrations.read_noise, legacy_amplifier.getReadNoise())
    assert_equal_allow_nan(tc, calibrations.saturation, legacy_amplifier.getSaturation())
    assert_equal_allow_nan(tc, calibrations.suspect_level, legacy_amplifier.getSuspectLevel())
    np.testing.assert_array_equal(
        np.asarray(calibrations.linearity_coefficients), np.asarray(legacy_amplifier.getLinearityCoeffs())
    )
    tc.assertEqual(calibrations.linearity_type, legacy_amplifier.getLinearityType())


def _legacy_transform_points(legacy_detector: Any, target: str, x: np.ndarray, y: np.ndarray) -> XY[Any]:
    """Push pixel points through the afw transform from the detector's pixels to ``target``."""
    from ..legacy._convert import legacy_camera_systems

    transform_map, pixels, focal_plane, field_angle = legacy_camera_systems(legacy_detector)
    destination = focal_plane if target == "FocalPlane" else field_angle
    if destination is None:
        raise AssertionError(f"The legacy detector has no {target} camera system.")
    mapping = transform_map.getTransform(pixels, destination).getMapping()
    out = np.asarray(mapping.applyForward(np.array([x, y], dtype=np.float64)))
    return XY(out[0], out[1])


@optional_test_case()
def compare_detector_to_legacy(
    tc: unittest.TestCase,
    detector: Detector,
    legacy_detector: Any,
    *,
    is_raw_assembled: bool,
    expect_nominal_calibrations: bool = True,
) -> None:
    """Assert that a `Detector` matches an afw ``Detector``.

    Compared: name, id, type, bbox and serial; the orientation (focal-plane
    position, reference point, yaw/pitch/roll in radians, exactly); pixel
    size and physical type; the amplifiers in order
    (`compare_amplifier_to_legacy`); and the pixel → focal plane and pixel →
    field angle transforms on a 3×3 grid (`check_transform` with 1e-9 pixel,
    1e-7 mm and 1e-7 arcsec absolute tolerances).
    """
    from ..cameras import DetectorType

    tc.assertEqual(detector.name, legacy_detector.getName())
    tc.assertEqual(detector.id, legacy_detector.getId())
    tc.assertEqual(detector.type, DetectorType.from_legacy(legacy_detector.getType()))
    tc.assertEqual(detector.bbox, Box.from_legacy(legacy_detector.getBBox()))
    tc.assertEqual(detector.serial, legacy_detector.getSerial())
    orientation = detector.orientation
    legacy_orientation = legacy_detector.getOrientation()
    fp, ref = legacy_orientation.getFpPosition3(), legacy_orientation.getReferencePoint()
    tc.assertEqual(
        (orientation.focal_plane_x, orientation.focal_plane_y, orientation.focal_plane_z),
        (fp.getX(), fp.getY(), fp.getZ()),
    )
    tc.assertEqual((orientation.pixel_reference_x, orientation.pixel_reference_y), (ref.getX(), ref.getY()))
    for name, getter in (("yaw", "getYaw"), ("pitch", "getPitch"), ("roll", "getRoll")):
        tc.assertEqual(
            getattr(orientation, name).to_value(u.rad),
            getattr(legacy_orientation, getter)().asRadians(),
            name,
        )
    pixel_size = legacy_detector.getPixelSize()
    tc.assertEqual((detector.pixel_size, detector.pixel_size), (pixel_size.getX(), pixel_size.getY()))
    tc.assertEqual(detector.physical_type, legacy_detector.getPhysicalType())
    for amplifier, legacy_amplifier in zip(detector.amplifiers, legacy_detector.getAmplifiers(), strict=True):
        compare_amplifier_to_legacy(
            tc,
            amplifier,
            legacy_amplifier,
            is_raw_assembled=is_raw_assembled,
            expect_nominal_calibrations=expect_nominal_calibrations,
        )
    x, y = (v.ravel() for v in detector.bbox.meshgrid(n=3))
    for transform, target, out_atol in (
        (detector.to_focal_plane, "FocalPlane", 1e-7 * u.mm),
        (detector.to_field_angle, "FieldAngle", 1e-7 * u.arcsec),
    ):
        expected = _legacy_transform_points(legacy_detector, target, x, y)
        if target == "FieldAngle":  # afw field angles are in radians
            expected = XY(*((v * u.rad).to_value(transform.out_frame.unit) for v in expected))
        check_transform(
            tc,
            transform,
            XY(x, y),
            expected,
            transform.in_frame,
            transform.out_frame,
            in_atol=1e-9 * transform.in_frame.unit,
            out_atol=out_atol,
        )
