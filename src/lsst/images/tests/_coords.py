"""Testing helpers for transforms, projections and astropy WCS views."""

from __future__ import annotations

__all__ = ("check_astropy_wcs_interface", "check_projection", "check_transform", "make_random_projection")

import unittest
from typing import TYPE_CHECKING, Any, TypeVar

import astropy.units as u
import numpy as np

from .._geom import XY, Box
from .._transforms import ICRS, Frame, Projection, Transform

if TYPE_CHECKING:
    from astropy.coordinates import SkyCoord
    from astropy.wcs.wcsapi import BaseHighLevelWCS

F = TypeVar("F", bound=Frame)

#: Number of points also pushed through the scalar interfaces (they are slow per point).
_N_SCALAR = 3


def _default_atol(frame: Frame) -> u.Quantity:
    """Tolerance used when a caller gives none: 1e-11 rad for angles, 1e-8 of the unit otherwise."""
    if frame.unit.physical_type == "angle":
        return 1e-11 * u.rad
    return 1e-8 * frame.unit


def _difference(frame: Frame, a: Any, b: Any) -> np.ndarray:
    """Absolute coordinate differences, wrapped for angular frames so 0 and 2π agree."""
    diff = np.subtract(a, b, dtype=np.float64)
    if frame.unit.physical_type == "angle":
        diff = np.mod(diff + np.pi, 2 * np.pi) - np.pi
    return np.abs(diff)


def _assert_close(
    tc: unittest.TestCase, frame: Frame, actual: XY[Any], expected: XY[Any], atol: u.Quantity, what: str
) -> None:
    tolerance = atol.to_value(frame.unit)
    for axis, a, b in (("x", actual.x, expected.x), ("y", actual.y, expected.y)):
        worst = float(np.max(_difference(frame, a, b), initial=0.0))
        tc.assertLessEqual(
            worst, tolerance, f"{what}: {axis} differs by {worst} {frame.unit} (> {tolerance})."
        )


def check_transform(
    tc: unittest.TestCase,
    transform: Transform[Any, Any],
    input_xy: XY[np.ndarray],
    output_xy: XY[np.ndarray],
    in_frame: Frame,
    out_frame: Frame,
    *,
    check_inverted: bool = True,
    in_atol: u.Quantity | None = None,
    out_atol: u.Quantity | None = None,
) -> None:
    """Check a transform's frames and its mapping of known point pairs.

    The points go through every interface: arrays, Python scalars, Quantity
    arrays and Quantity scalars, forward and inverse; then (unless
    ``check_inverted`` is `False`) the same checks run on
    ``transform.inverted()``.

    Parameters
    ----------
    tc
        Test case used for the assertions.
    transform
        Transform under test.
    input_xy, output_xy
        Matching points in the input and output frames (frame units).
    in_frame, out_frame
        Expected frames.
    check_inverted
        Also check the inverted transform.
    in_atol, out_atol
        Tolerances in the input and output frames.
    """
    in_atol = _default_atol(in_frame) if in_atol is None else in_atol
    out_atol = _default_atol(out_frame) if out_atol is None else out_atol
    tc.assertEqual(transform.in_frame, in_frame)
    tc.assertEqual(transform.out_frame, out_frame)
    in_x, in_y = (np.asarray(v, dtype=np.float64) for v in input_xy)
    out_x, out_y = (np.asarray(v, dtype=np.float64) for v in output_xy)
    expected_out, expected_in = XY(out_x, out_y), XY(in_x, in_y)
    _assert_close(tc, out_frame, transform.apply_forward(x=in_x, y=in_y), expected_out, out_atol, "forward")
    _assert_close(tc, in_frame, transform.apply_inverse(x=out_x, y=out_y), expected_in, in_atol, "inverse")
    result = transform.apply_forward_q(x=in_x * in_frame.unit, y=in_y * in_frame.unit)
    tc.assertTrue(result.x.unit.is_equivalent(out_frame.unit))
    _assert_close(
        tc, out_frame, result.map(lambda q: q.to_value(out_frame.unit)), expected_out, out_atol, "forward_q"
    )
    result = transform.apply_inverse_q(x=out_x * out_frame.unit, y=out_y * out_frame.unit)
    _assert_close(
        tc, in_frame, result.map(lambda q: q.to_value(in_frame.unit)), expected_in, in_atol, "inverse_q"
    )
    for i in range(min(_N_SCALAR, in_x.size)):
        xi, yi, xo, yo = float(in_x.flat[i]), float(in_y.flat[i]), float(out_x.flat[i]), float(out_y.flat[i])
        forward = transform.apply_forward(x=xi, y=yi)
        tc.assertEqual(np.ndim(forward.x), 0)
        _assert_close(tc, out_frame, forward, XY(xo, yo), out_atol, "scalar forward")
        _assert_close(
            tc, in_frame, transform.apply_inverse(x=xo, y=yo), XY(xi, yi), in_atol, "scalar inverse"
        )
        forward_q = transform.apply_forward_q(x=xi * in_frame.unit, y=yi * in_frame.unit)
        tc.assertTrue(forward_q.x.isscalar)
        _assert_close(
            tc,
            out_frame,
            forward_q.map(lambda q: q.to_value(out_frame.unit)),
            XY(xo, yo),
            out_atol,
            "scalar forward_q",
        )
        inverse_q = transform.apply_inverse_q(x=xo * out_frame.unit, y=yo * out_frame.unit)
        _assert_close(
            tc,
            in_frame,
            inverse_q.map(lambda q: q.to_value(in_frame.unit)),
            XY(xi, yi),
            in_atol,
            "scalar inverse_q",
        )
    if check_inverted:
        check_transform(
            tc,
            transform.inverted(),
            output_xy,
            input_xy,
            out_frame,
            in_frame,
            check_inverted=False,
            in_atol=out_atol,
            out_atol=in_atol,
        )


def check_astropy_wcs_interface(
    tc: unittest.TestCase,
    wcs: BaseHighLevelWCS,
    pixel_xy: XY[np.ndarray],
    sky_coords: SkyCoord,
    *,
    pixel_atol: float | None = None,
    sky_atol: u.Quantity | None = None,
) -> None:
    """Check an APE-14 WCS against known (local pixel, sky) pairs.

    Exercises ``pixel_to_world``, ``world_to_pixel``, ``array_index_to_world``
    and the low-level dimension/axis descriptions.

    Parameters
    ----------
    tc
        Test case used for the assertions.
    wcs
        High-level APE-14 WCS whose pixel coordinates are ``pixel_xy``.
    pixel_xy
        Pixel coordinates in the WCS's own (array-local) convention.
    sky_coords
        Matching sky positions.
    pixel_atol
        Pixel tolerance (default 1e-6).
    sky_atol
        Angular tolerance (default 1e-6 arcsec).
    """
    pixel_atol = 1e-6 if pixel_atol is None else pixel_atol
    sky_atol = 1e-6 * u.arcsec if sky_atol is None else sky_atol
    low = wcs.low_level_wcs
    tc.assertEqual(low.pixel_n_dim, 2)
    tc.assertEqual(low.world_n_dim, 2)
    tc.assertEqual(len(low.world_axis_physical_types), 2)
    tc.assertEqual(len(low.world_axis_units), 2)
    x = np.asarray(pixel_xy.x, dtype=np.float64)
    y = np.asarray(pixel_xy.y, dtype=np.float64)
    world = wcs.pixel_to_world(x, y)
    tc.assertLessEqual(
        float(np.max(world.separation(sky_coords).to_value(u.arcsec))), sky_atol.to_value(u.arcsec)
    )
    world = wcs.array_index_to_world(y, x)
    tc.assertLessEqual(
        float(np.max(world.separation(sky_coords).to_value(u.arcsec))), sky_atol.to_value(u.arcsec)
    )
    px, py = wcs.world_to_pixel(sky_coords)
    tc.assertLessEqual(float(np.max(np.abs(px - x))), pixel_atol)
    tc.assertLessEqual(float(np.max(np.abs(py - y))), pixel_atol)
    scalar = wcs.pixel_to_world(float(x.flat[0]), float(y.flat[0]))
    tc.assertTrue(scalar.isscalar)
    tc.assertLessEqual(
        scalar.separation(sky_coords.flatten()[0]).to_value(u.arcsec), sky_atol.to_value(u.arcsec)
    )


def check_projection(
    tc: unittest.TestCase,
    projection: Projection[Any],
    pixel_xy: XY[np.ndarray],
    sky_coords: SkyCoord,
    pixel_frame: Frame,
    *,
    pixel_atol: float | None = None,
    sky_atol: u.Quantity | None = None,
) -> None:
    """Check a projection against known (absolute pixel, sky) pairs.

    Covers `Projection.pixel_to_sky` and `Projection.sky_to_pixel` (arrays and
    scalars), both underlying transforms (through `check_transform`) and the
    astropy view, with and without a bbox.

    Parameters
    ----------
    tc
        Test case used for the assertions.
    projection
        Projection under test.
    pixel_xy
        Absolute pixel coordinates.
    sky_coords
        Matching sky positions.
    pixel_frame
        Expected pixel frame.
    pixel_atol
        Pixel tolerance (default 1e-6 pixels).
    sky_atol
        Angular tolerance (default 1e-6 arcsec).
    """
    pixel_atol = 1e-6 if pixel_atol is None else pixel_atol
    sky_atol = 1e-6 * u.arcsec if sky_atol is None else sky_atol
    tc.assertEqual(projection.pixel_frame, pixel_frame)
    tc.assertEqual(projection.sky_frame, ICRS)
    x = np.asarray(pixel_xy.x, dtype=np.float64)
    y = np.asarray(pixel_xy.y, dtype=np.float64)
    sky = projection.pixel_to_sky(x=x, y=y)
    tc.assertLessEqual(
        float(np.max(sky.separation(sky_coords).to_value(u.arcsec))), sky_atol.to_value(u.arcsec)
    )
    px, py = projection.sky_to_pixel(sky_coords)
    tc.assertLessEqual(float(np.max(np.abs(px - x))), pixel_atol)
    tc.assertLessEqual(float(np.max(np.abs(py - y))), pixel_atol)
    flat_sky = sky_coords.flatten()
    for i in range(min(_N_SCALAR, x.size)):
        one = projection.pixel_to_sky(x=float(x.flat[i]), y=float(y.flat[i]))
        tc.assertTrue(one.isscalar)
        tc.assertLessEqual(one.separation(flat_sky[i]).to_value(u.arcsec), sky_atol.to_value(u.arcsec))
        sx, sy = projection.sky_to_pixel(flat_sky[i])
        tc.assertEqual(np.ndim(sx), 0)
        tc.assertLessEqual(abs(sx - x.flat[i]), pixel_atol)
        tc.assertLessEqual(abs(sy - y.flat[i]), pixel_atol)
    icrs = sky_coords.icrs
    sky_xy = XY(icrs.ra.to_value(u.rad), icrs.dec.to_value(u.rad))
    check_transform(
        tc,
        projection.pixel_to_sky_transform,
        XY(x, y),
        sky_xy,
        pixel_frame,
        ICRS,
        in_atol=pixel_atol * pixel_frame.unit,
        out_atol=sky_atol,
    )
    check_transform(
        tc,
        projection.sky_to_pixel_transform,
        sky_xy,
        XY(x, y),
        ICRS,
        pixel_frame,
        check_inverted=False,
        in_atol=sky_atol,
        out_atol=pixel_atol * pixel_frame.unit,
    )
    check_astropy_wcs_interface(
        tc, projection.as_astropy(), XY(x, y), sky_coords, pixel_atol=pixel_atol, sky_atol=sky_atol
    )
    bbox = getattr(pixel_frame, "bbox", None)
    if isinstance(bbox, Box):
        check_astropy_wcs_interface(
            tc,
            projection.as_astropy(bbox),
            XY(x - bbox.x.start, y - bbox.y.start),
            sky_coords,
            pixel_atol=pixel_atol,
            sky_atol=sky_atol,
        )


def make_random_projection(rng: np.random.Generator, pixel_frame: F, bbox: Box) -> Projection[F]:
    """Build a TAN projection from a random FITS WCS, following the reference recipe.

    The random draws happen in this order, so that a seeded generator gives
    the same projection as Rubin's helper: ``CRPIX1`` uniform in
    ``[1, bbox.x.size)``, ``CRPIX2`` in ``[1, bbox.y.size)``, ``CRVAL1`` in
    ``[0, 2π)`` and ``CRVAL2`` in ``[-π, π)`` (radian-sized ranges used as
    degrees, as the reference does: RA 0-6.3°, Dec ±3.1°), ``CDELT1`` and
    ``CDELT2`` in ``[0.18, 0.22)`` arcsec and finally ``CROTA1`` in
    ``[0, 2π)``.  FITS ignores ``CROTA1`` (only ``CROTA2`` on the latitude
    axis rotates), so the projection is unrotated and unflipped, with
    slightly different x and y scales; the draw is kept for the sequence.
    The WCS is offset so its first array pixel is ``bbox.start``, its pixel
    bounds are ``bbox``, and no FITS approximation is attached.

    Parameters
    ----------
    rng
        Random number generator.
    pixel_frame
        Pixel frame of the projection.
    bbox
        Box covered by the array the WCS describes.
    """
    import astropy.wcs
    from astropy.io import fits

    header = fits.Header()
    header["CTYPE1"] = "RA---TAN"
    header["CTYPE2"] = "DEC--TAN"
    header["CUNIT1"] = "deg"
    header["CUNIT2"] = "deg"
    header["CRPIX1"] = rng.uniform(1.0, bbox.x.size)
    header["CRPIX2"] = rng.uniform(1.0, bbox.y.size)
    header["CRVAL1"] = rng.uniform(0.0, 2.0 * np.pi)
    header["CRVAL2"] = rng.uniform(-np.pi, np.pi)
    header["CDELT1"] = (rng.uniform(0.18, 0.22) * u.arcsec).to_value(u.deg)
    header["CDELT2"] = (rng.uniform(0.18, 0.22) * u.arcsec).to_value(u.deg)
    header["CROTA1"] = rng.uniform(0.0, 2.0 * np.pi)
    header["RADESYS"] = "ICRS"
    wcs = astropy.wcs.WCS(header)
    return Projection.from_fits_wcs(wcs, pixel_frame, pixel_bounds=bbox, x0=bbox.x.start, y0=bbox.y.start)
