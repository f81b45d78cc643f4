"""Compare visit-image components (projection, fields, PSF, summary statistics) with ``lsst.afw``.

Duck-typed against afw's documented Python interface: ``SkyWcs.pixelToSkyArray``
/ ``skyToPixelArray`` / ``hasFitsApproximation`` / ``getFitsApproximation``, ``BoundedField.getBBox``
/ ``evaluate(x, y)``, ``PhotoCalib.getCalibrationMean`` /
``computeScaledCalibration``, ``ApCorrMap.keys()`` / ``[name]``,
``Psf.computeKernelImage(point)`` and friends, and the ``ExposureSummaryStats``
dataclass.  Only the PSF comparison needs ``lsst.geom`` (to build the points
afw's PSF methods take); without it the calling test is skipped.
"""

from __future__ import annotations

__all__ = (
    "assert_psfs_equal",
    "compare_aperture_corrections_to_legacy",
    "compare_field_to_legacy",
    "compare_observation_summary_stats_to_legacy",
    "compare_photo_calib_to_legacy",
    "compare_projection_to_legacy_wcs",
    "compare_psf_to_legacy",
    "compare_sky_projection_to_legacy_wcs",
)

import dataclasses
import unittest
from typing import TYPE_CHECKING, Any, TypeVar

import astropy.units as u
import numpy as np

from .._geom import XY, YX, Box
from .._image import Image
from ._assertions import assert_close, assert_equal_allow_nan, assert_images_equal
from ._compat import optional_test_case
from ._coords import check_astropy_wcs_interface, check_projection
from ._legacy_images import arrays_to_legacy_points

if TYPE_CHECKING:
    from .._observation_summary_stats import ObservationSummaryStats
    from .._transforms import Frame, Projection
    from ..fields import BaseField
    from ..psfs import PointSpreadFunction

F = TypeVar("F", bound="Frame")

#: Absolute pixel tolerance of the projection comparisons (sky → pixel goes through AST's iterative
#: inverse for distortion polynomials, and FITS exports of them are fitted, both to about 1e-4 pixel).
_PIXEL_ATOL = 1e-4

#: The same for checks through a FITS export read back by astropy.
_FITS_PIXEL_ATOL = 1e-3

#: Tolerance of PSF image comparisons: the two sides may be independent implementations of one model.
_PSF_RTOL = 1e-10
_PSF_ATOL = 1e-14


def _points(points: XY[np.ndarray] | YX[np.ndarray] | None, bbox: Box) -> tuple[np.ndarray, np.ndarray]:
    """Flat ``x``, ``y`` arrays from an `XY`/`YX` of arrays, or a 3×3 grid over ``bbox``."""
    if points is None:
        points = bbox.meshgrid(n=3)
    return np.ravel(points.x).astype(np.float64), np.ravel(points.y).astype(np.float64)


@optional_test_case(renamed={"sky_projection": "projection"})
def compare_projection_to_legacy_wcs(
    tc: unittest.TestCase,
    projection: Projection[F],
    legacy_wcs: Any,
    pixel_frame: F,
    subimage_bbox: Box,
    is_fits: bool = False,
) -> None:
    """Assert that a `Projection` matches an afw ``SkyWcs`` on a grid of points.

    The points are ``subimage_bbox.meshgrid(step=50)``; the projection is
    checked with `check_projection` and its astropy view over
    ``subimage_bbox`` against array indices.  A FITS WCS (``is_fits``)
    must be exportable with ``as_fits_wcs(subimage_bbox, allow_approximation=True)``,
    and the projection rebuilt from that export must match too.  Otherwise
    the projection must not be exactly FITS-representable, and its FITS
    approximation is compared (recursively, as a FITS one) with the
    SkyWcs's.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    projection
        Projection of this package (``sky_projection=`` is accepted too).
    legacy_wcs
        afw ``SkyWcs``.
    pixel_frame
        Expected pixel frame of the projection.
    subimage_bbox
        Box over which points are compared.
    is_fits
        Whether the SkyWcs is exactly representable as FITS WCS.
    """
    from .._transforms import Projection

    x, y = (v.ravel() for v in subimage_bbox.meshgrid(step=50))
    ra, dec = legacy_wcs.pixelToSkyArray(x, y, degrees=False)
    from astropy.coordinates import SkyCoord

    sky = SkyCoord(ra=np.asarray(ra) * u.rad, dec=np.asarray(dec) * u.rad, frame="icrs")
    # An absolute pixel tolerance (the reference has only the relative one, so points at x or y = 0
    # would have to round-trip exactly), no tighter than the SkyWcs's own sky → pixel round trip:
    # persisted TAN-SIP WCSs carry approximate inverse polynomials.
    back_x, back_y = legacy_wcs.skyToPixelArray(ra, dec, degrees=False)
    own_error = max(
        float(np.max(np.abs(back_x - x), initial=0)), float(np.max(np.abs(back_y - y), initial=0))
    )
    pixel_atol = max(_PIXEL_ATOL, 2 * own_error)
    check_projection(tc, projection, XY(x, y), sky, pixel_frame, pixel_atol=pixel_atol)
    local = XY(x - subimage_bbox.x.start, y - subimage_bbox.y.start)
    check_astropy_wcs_interface(tc, projection.as_astropy(subimage_bbox), local, sky, pixel_atol=pixel_atol)
    if is_fits:
        fits_wcs = projection.as_fits_wcs(subimage_bbox, allow_approximation=True)
        tc.assertIsNotNone(fits_wcs, "The projection cannot be written as a FITS WCS.")
        # astropy inverts SIP distortions iteratively, to about 1e-3 pixel.
        fits_atol = max(pixel_atol, _FITS_PIXEL_ATOL)
        check_astropy_wcs_interface(tc, fits_wcs, local, sky, pixel_atol=fits_atol)
        rebuilt = Projection.from_fits_wcs(fits_wcs, pixel_frame)
        check_projection(tc, rebuilt, local, sky, pixel_frame, pixel_atol=fits_atol)
        tc.assertIn("Begin FrameSet", rebuilt.show())
    else:
        tc.assertIsNone(
            projection.as_fits_wcs(subimage_bbox, allow_approximation=False),
            "The projection is unexpectedly FITS-representable.",
        )
        tc.assertIsNotNone(projection.fits_approximation, "The projection has no FITS approximation.")
        compare_projection_to_legacy_wcs(
            tc,
            projection.fits_approximation,
            legacy_wcs.getFitsApproximation(),
            pixel_frame,
            subimage_bbox,
            is_fits=True,
        )


#: The 4300 name of `compare_projection_to_legacy_wcs`.
compare_sky_projection_to_legacy_wcs = compare_projection_to_legacy_wcs


def _legacy_render(legacy_field: Any, bbox: Box) -> np.ndarray:
    """What afw's ``addToImage(image, overlapOnly=True)`` gives on a zero float64 image covering ``bbox``.

    afw evaluates the field at the pixel centres of the overlap of the two
    boxes and leaves the other pixels alone; evaluating it directly keeps
    this free of afw.
    """
    result = np.zeros(tuple(bbox.shape), dtype=np.float64)
    try:
        overlap = bbox.intersection(Box.from_legacy(legacy_field.getBBox()))
    except ValueError:  # NoOverlapError: nothing to add
        return result
    x, y = (v.ravel() for v in overlap.meshgrid())
    values = np.asarray(legacy_field.evaluate(x, y), dtype=np.float64).reshape(tuple(overlap.shape))
    result[tuple(overlap.slice_within(bbox))] = values
    return result


@optional_test_case()
def compare_field_to_legacy(
    tc: unittest.TestCase, field: BaseField, legacy_field: Any, subimage_bbox: Box
) -> None:
    """Assert that a field matches an afw ``BoundedField``: bbox, point values and rendering.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    field
        Field of this package.
    legacy_field
        afw bounded field (``getBBox()``, ``evaluate(x, y)`` on arrays).
    subimage_bbox
        Box rendered by both (rendering compared with ``rtol=1e-13``).
    """
    bbox = Box.from_legacy(legacy_field.getBBox())
    tc.assertEqual(field.bounds.bbox, bbox, "Field bboxes differ.")
    x, y = (v.ravel() for v in bbox.meshgrid(n=5))
    assert_close(tc, field.evaluate(x=x, y=y), np.asarray(legacy_field.evaluate(x, y)))
    expected = Image(_legacy_render(legacy_field, subimage_bbox), bbox=subimage_bbox, unit=field.unit)
    assert_images_equal(tc, field.render(subimage_bbox), expected, rtol=1e-13)


@optional_test_case()
def compare_aperture_corrections_to_legacy(
    tc: unittest.TestCase, aperture_corrections: Any, legacy_ap_corr_map: Any, subimage_bbox: Box
) -> None:
    """Assert that an aperture-correction mapping matches an afw ``ApCorrMap`` field by field."""
    tc.assertEqual(set(aperture_corrections.keys()), set(legacy_ap_corr_map.keys()), "Different fields.")
    for name, field in aperture_corrections.items():
        compare_field_to_legacy(tc, field, legacy_ap_corr_map[name], subimage_bbox)


@optional_test_case()
def compare_photo_calib_to_legacy(
    tc: unittest.TestCase,
    photometric_scaling: BaseField | None,
    legacy_photo_calib: Any,
    *,
    applied_legacy_photo_calib: Any = None,
    subimage_bbox: Box,
) -> None:
    """Assert that a photometric scaling reproduces an afw ``PhotoCalib``.

    A constant calibration of exactly 1 with nothing applied to the pixels
    must have no scaling at all; another constant one must be a
    `ChebyshevField` whose coefficients are close to ``[[mean]]``; a varying
    one, divided by the calibration mean, must match
    ``computeScaledCalibration()`` (`compare_field_to_legacy` over
    ``subimage_bbox``).
    """
    from ..fields import ChebyshevField
    from ..fields._legacy import _is_constant

    mean = float(legacy_photo_calib.getCalibrationMean())
    constant = _is_constant(legacy_photo_calib)
    if constant and mean == 1.0 and applied_legacy_photo_calib is None:
        tc.assertIsNone(photometric_scaling, "A unit calibration should give no photometric scaling.")
    elif constant:
        tc.assertIsInstance(photometric_scaling, ChebyshevField)
        assert_close(tc, np.atleast_2d(photometric_scaling.coefficients), np.array([[mean]]))
    else:
        tc.assertIsNotNone(photometric_scaling, "A varying calibration needs a photometric scaling.")
        normalized = photometric_scaling.multiply_constant(1.0 / mean)
        compare_field_to_legacy(tc, normalized, legacy_photo_calib.computeScaledCalibration(), subimage_bbox)


@optional_test_case()
def compare_observation_summary_stats_to_legacy(
    tc: unittest.TestCase, summary_stats: ObservationSummaryStats, legacy_summary_stats: Any
) -> None:
    """Assert that every field of an afw ``ExposureSummaryStats`` dataclass is equal (NaN equals NaN)."""
    for field in dataclasses.fields(legacy_summary_stats):
        expected = getattr(legacy_summary_stats, field.name)
        actual = getattr(summary_stats, field.name)
        if isinstance(expected, tuple | list):
            tc.assertEqual(len(actual), len(expected), f"Summary statistic {field.name!r} lengths differ.")
            for a, b in zip(actual, expected, strict=True):
                assert_equal_allow_nan(tc, a, b)
        else:
            assert_equal_allow_nan(tc, actual, expected)


def _is_invalid_psf_error(error: BaseException) -> bool:
    return any(cls.__name__ == "InvalidPsfError" for cls in type(error).__mro__)


@optional_test_case()
def compare_psf_to_legacy(
    tc: unittest.TestCase,
    psf: PointSpreadFunction,
    legacy_psf: Any,
    points: YX[np.ndarray] | XY[np.ndarray] | None = None,
    expect_legacy_raise_on_out_of_bounds: bool = False,
) -> int:
    """Assert that a PSF matches an afw ``Psf`` at sample points; return how many points were inside.

    At each point inside ``psf.bounds`` the kernel bbox and image and the
    stellar bbox and image must match the afw ones (images within a
    relative 1e-10).  Points outside are skipped, after checking that the
    afw PSF raises ``InvalidPsfError`` there if
    ``expect_legacy_raise_on_out_of_bounds``.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    psf
        PSF of this package.
    legacy_psf
        afw PSF (``computeKernelBBox``, ``computeKernelImage``,
        ``computeImageBBox``, ``computeImage``, each taking a ``Point2D``).
    points
        Points to test; default a 3×3 grid over ``psf.bounds.bbox``.
    expect_legacy_raise_on_out_of_bounds
        Require the afw PSF to refuse points outside the bounds.
    """
    x, y = _points(points, psf.bounds.bbox)
    inside = np.atleast_1d(psf.bounds.contains(x=x, y=y))
    count = 0
    for xi, yi, is_inside, point in zip(x, y, inside, arrays_to_legacy_points(x, y), strict=True):
        if not is_inside:
            if expect_legacy_raise_on_out_of_bounds:
                with tc.assertRaises(Exception) as caught:
                    legacy_psf.computeKernelImage(point)
                tc.assertTrue(_is_invalid_psf_error(caught.exception), f"Unexpected {caught.exception!r}.")
            continue
        count += 1
        tc.assertEqual(psf.kernel_bbox, Box.from_legacy(legacy_psf.computeKernelBBox(point)))
        assert_images_equal(
            tc,
            psf.compute_kernel_image(x=xi, y=yi),
            Image.from_legacy(legacy_psf.computeKernelImage(point)),
            rtol=_PSF_RTOL,
            atol=_PSF_ATOL,
        )
        tc.assertEqual(
            psf.compute_stellar_bbox(x=xi, y=yi), Box.from_legacy(legacy_psf.computeImageBBox(point))
        )
        assert_images_equal(
            tc,
            psf.compute_stellar_image(x=xi, y=yi),
            Image.from_legacy(legacy_psf.computeImage(point)),
            rtol=_PSF_RTOL,
            atol=_PSF_ATOL,
        )
    return count


@optional_test_case()
def assert_psfs_equal(
    tc: unittest.TestCase,
    psf1: PointSpreadFunction,
    psf2: PointSpreadFunction,
    points: YX[np.ndarray] | XY[np.ndarray] | None = None,
) -> int:
    """Assert that two PSFs give the same images; return how many points were inside ``psf1.bounds``.

    The kernel bboxes must be equal; at each point inside ``psf1.bounds``
    the kernel image, stellar bbox and stellar image must be equal, and
    outside it ``psf2.compute_kernel_image`` must raise `BoundsError`.  The
    default points are a 3×3 grid over ``psf1.bounds.bbox`` (as in the
    reference, whose "intersection" of the two bboxes is ``psf1``'s with
    itself).
    """
    from .._geom import BoundsError

    tc.assertEqual(psf1.kernel_bbox, psf2.kernel_bbox, "PSF kernel bboxes differ.")
    x, y = _points(points, psf1.bounds.bbox)
    inside = np.atleast_1d(psf1.bounds.contains(x=x, y=y))
    for xi, yi, is_inside in zip(x, y, inside, strict=True):
        if not is_inside:
            with tc.assertRaises(BoundsError):
                psf2.compute_kernel_image(x=xi, y=yi)
            continue
        assert_images_equal(tc, psf1.compute_kernel_image(x=xi, y=yi), psf2.compute_kernel_image(x=xi, y=yi))
        tc.assertEqual(psf1.compute_stellar_bbox(x=xi, y=yi), psf2.compute_stellar_bbox(x=xi, y=yi))
        assert_images_equal(
            tc, psf1.compute_stellar_image(x=xi, y=yi), psf2.compute_stellar_image(x=xi, y=yi)
        )
    return int(np.count_nonzero(inside))
