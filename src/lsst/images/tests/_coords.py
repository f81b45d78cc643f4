"""Testing helpers for transforms, projections and astropy WCS views.

Point comparisons go through `assert_close`, as in the reference: without an
explicit tolerance that is a relative tolerance of 1e-5; ``*_atol`` arguments
add an absolute tolerance (a Quantity, or a float in the frame's unit).
"""

from __future__ import annotations

__all__ = (
    "check_astropy_wcs_interface",
    "check_projection",
    "check_transform",
    "make_random_projection",
    "make_random_sky_projection",
)

import unittest
from typing import TYPE_CHECKING, Any, TypeVar

import astropy.units as u
import numpy as np

from .._geom import XY, Box
from .._transforms import ICRS, Frame, Projection, Transform
from ._assertions import assert_close
from ._compat import optional_test_case

if TYPE_CHECKING:
    from astropy.coordinates import SkyCoord
    from astropy.wcs.wcsapi import BaseHighLevelWCS

F = TypeVar("F", bound=Frame)

#: Points (evenly spread over the inputs) also pushed one by one through the scalar interfaces,
#: which cost a mapping evaluation per call.
_N_SCALAR = 8


def _scalar_indices(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, _N_SCALAR)).round().astype(int)) if n else np.array([], int)


def _tolerance(atol: u.Quantity | float | None, unit: u.UnitBase) -> dict[str, float]:
    """``assert_close`` keyword for an absolute tolerance given as a Quantity or in ``unit``."""
    if atol is None:
        return {}
    return {"atol": atol.to_value(unit) if isinstance(atol, u.Quantity) else float(atol)}


def _unwrapped(actual: Any, expected: Any, period: float) -> Any:
    """``actual`` moved by whole periods to the branch nearest ``expected`` (angles that wrap)."""
    actual = np.asarray(actual, dtype=np.float64)
    return expected + (np.mod(actual - expected + period / 2, period) - period / 2)


def _check_points(
    tc: unittest.TestCase,
    frame: Frame,
    actual: XY[Any],
    expected: XY[Any],
    atol: u.Quantity | float | None,
    angle_wrapped: bool,
) -> None:
    kwargs = _tolerance(atol, frame.unit)
    for a, b in ((actual.x, expected.x), (actual.y, expected.y)):
        if angle_wrapped and frame.unit.physical_type == "angle":
            a = _unwrapped(a, np.asarray(b, dtype=np.float64), (2 * np.pi * u.rad).to_value(frame.unit))
        assert_close(tc, a, b, **kwargs)


def _values(q: u.Quantity, unit: u.UnitBase) -> np.ndarray:
    return q.to_value(unit)


@optional_test_case()
def check_transform(
    tc: unittest.TestCase,
    transform: Transform[Any, Any],
    input_xy: XY[np.ndarray],
    output_xy: XY[np.ndarray],
    in_frame: Frame,
    out_frame: Frame,
    *,
    check_inverted: bool = True,
    in_atol: u.Quantity | float | None = None,
    out_atol: u.Quantity | float | None = None,
    angle_wrapped: bool = False,
) -> None:
    """Check a transform's frames and its mapping of known point pairs.

    The points go through every interface: arrays, numpy scalars, Quantity
    arrays and Quantity scalars, forward and inverse; then (unless
    ``check_inverted`` is `False`) the same checks run once on
    ``transform.inverted()`` with inputs and outputs swapped.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    transform
        Transform under test.
    input_xy, output_xy
        Matching points in the input and output frames (frame units).
    in_frame, out_frame
        Expected frames.
    check_inverted
        Also check the inverted transform.
    in_atol, out_atol
        Absolute tolerances in the input and output frames, added to
        `assert_close`'s relative tolerance of 1e-5.
    angle_wrapped
        Compare angular coordinates modulo 2π (4300's keyword).
    """
    tc.assertEqual(transform.in_frame, in_frame)
    tc.assertEqual(transform.out_frame, out_frame)
    in_x, in_y = (np.asarray(v, dtype=np.float64) for v in input_xy)
    out_x, out_y = (np.asarray(v, dtype=np.float64) for v in output_xy)
    expected_out, expected_in = XY(out_x, out_y), XY(in_x, in_y)

    def forward(actual: XY[Any], expected: XY[Any]) -> None:
        _check_points(tc, out_frame, actual, expected, out_atol, angle_wrapped)

    def inverse(actual: XY[Any], expected: XY[Any]) -> None:
        _check_points(tc, in_frame, actual, expected, in_atol, angle_wrapped)

    forward(transform.apply_forward(x=in_x, y=in_y), expected_out)
    inverse(transform.apply_inverse(x=out_x, y=out_y), expected_in)
    result = transform.apply_forward_q(x=in_x * in_frame.unit, y=in_y * in_frame.unit)
    tc.assertTrue(result.x.unit.is_equivalent(out_frame.unit))
    forward(result.map(lambda q: _values(q, out_frame.unit)), expected_out)
    result = transform.apply_inverse_q(x=out_x * out_frame.unit, y=out_y * out_frame.unit)
    inverse(result.map(lambda q: _values(q, in_frame.unit)), expected_in)
    flat_in, flat_out = XY(in_x.ravel(), in_y.ravel()), XY(out_x.ravel(), out_y.ravel())
    for i in _scalar_indices(flat_in.x.size):
        xi, yi = np.float64(flat_in.x[i]), np.float64(flat_in.y[i])
        xo, yo = np.float64(flat_out.x[i]), np.float64(flat_out.y[i])
        one = transform.apply_forward(x=xi, y=yi)
        tc.assertEqual(np.ndim(one.x), 0)
        forward(one, XY(xo, yo))
        inverse(transform.apply_inverse(x=xo, y=yo), XY(xi, yi))
        one_q = transform.apply_forward_q(x=xi * in_frame.unit, y=yi * in_frame.unit)
        tc.assertTrue(one_q.x.isscalar)
        forward(one_q.map(lambda q: _values(q, out_frame.unit)), XY(xo, yo))
        one_q = transform.apply_inverse_q(x=xo * out_frame.unit, y=yo * out_frame.unit)
        inverse(one_q.map(lambda q: _values(q, in_frame.unit)), XY(xi, yi))
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
            angle_wrapped=angle_wrapped,
        )


def _check_sky(tc: unittest.TestCase, actual: SkyCoord, expected: SkyCoord, atol: u.Quantity | None) -> None:
    kwargs = {} if atol is None else {"atol": atol}
    actual, expected = actual.icrs, expected.icrs
    ra = _unwrapped(actual.ra.to_value(u.rad), expected.ra.to_value(u.rad), 2 * np.pi) * u.rad
    assert_close(tc, ra, expected.ra.to(u.rad), **kwargs)
    assert_close(tc, actual.dec.to(u.rad), expected.dec.to(u.rad), **kwargs)


@optional_test_case()
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

    Exercises ``pixel_to_world`` (arrays and one scalar), ``world_to_pixel``,
    ``array_index_to_world`` and the low-level dimension descriptions.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    wcs
        High-level APE-14 WCS whose pixel coordinates are ``pixel_xy``.
    pixel_xy
        Pixel coordinates in the WCS's own (array-local) convention.
    sky_coords
        Matching sky positions.
    pixel_atol
        Absolute pixel tolerance, on top of the relative 1e-5.
    sky_atol
        Absolute angular tolerance, on top of the relative 1e-5.
    """
    low = wcs.low_level_wcs
    tc.assertEqual(low.pixel_n_dim, 2)
    tc.assertEqual(low.world_n_dim, 2)
    x = np.asarray(pixel_xy.x, dtype=np.float64)
    y = np.asarray(pixel_xy.y, dtype=np.float64)
    _check_sky(tc, wcs.pixel_to_world(x, y), sky_coords, sky_atol)
    _check_sky(tc, wcs.array_index_to_world(y, x), sky_coords, sky_atol)
    px, py = wcs.world_to_pixel(sky_coords)
    pixel_kwargs = {} if pixel_atol is None else {"atol": pixel_atol}
    assert_close(tc, np.asarray(px), x, **pixel_kwargs)
    assert_close(tc, np.asarray(py), y, **pixel_kwargs)
    scalar = wcs.pixel_to_world(float(x.flat[0]), float(y.flat[0]))
    tc.assertTrue(scalar.isscalar)
    _check_sky(tc, scalar, sky_coords.flatten()[0], sky_atol)


@optional_test_case(renamed={"sky_projection": "projection"})
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
    per point), both underlying transforms (through `check_transform`, sky
    in radians, without inversion) and the astropy view.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    projection
        Projection under test (``sky_projection=`` is accepted too).
    pixel_xy
        Absolute pixel coordinates.
    sky_coords
        Matching sky positions.
    pixel_frame
        Expected pixel frame.
    pixel_atol
        Absolute pixel tolerance, on top of the relative 1e-5.
    sky_atol
        Absolute angular tolerance, on top of the relative 1e-5.
    """
    tc.assertEqual(projection.pixel_frame, pixel_frame)
    tc.assertEqual(projection.sky_frame, ICRS)
    x = np.asarray(pixel_xy.x, dtype=np.float64)
    y = np.asarray(pixel_xy.y, dtype=np.float64)
    pixel_kwargs = {} if pixel_atol is None else {"atol": pixel_atol}
    _check_sky(tc, projection.pixel_to_sky(x=x, y=y), sky_coords, sky_atol)
    px, py = projection.sky_to_pixel(sky_coords)
    assert_close(tc, px, x, **pixel_kwargs)
    assert_close(tc, py, y, **pixel_kwargs)
    flat_sky = sky_coords.flatten()
    flat_x, flat_y = x.ravel(), y.ravel()
    for i in _scalar_indices(flat_x.size):
        one = projection.pixel_to_sky(x=flat_x[i], y=flat_y[i])
        tc.assertTrue(one.isscalar)
        _check_sky(tc, one, flat_sky[i], sky_atol)
        sx, sy = projection.sky_to_pixel(flat_sky[i])
        tc.assertEqual(np.ndim(sx), 0)
        assert_close(tc, sx, flat_x[i], **pixel_kwargs)
        assert_close(tc, sy, flat_y[i], **pixel_kwargs)
    icrs = sky_coords.icrs
    sky_xy = XY(icrs.ra.to_value(u.rad), icrs.dec.to_value(u.rad))
    pixel_q = None if pixel_atol is None else pixel_atol * pixel_frame.unit
    check_transform(
        tc,
        projection.pixel_to_sky_transform,
        XY(x, y),
        sky_xy,
        pixel_frame,
        ICRS,
        check_inverted=False,
        in_atol=pixel_q,
        out_atol=sky_atol,
        angle_wrapped=True,
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
        out_atol=pixel_q,
        angle_wrapped=True,
    )
    check_astropy_wcs_interface(
        tc, projection.as_astropy(), XY(x, y), sky_coords, pixel_atol=pixel_atol, sky_atol=sky_atol
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


#: The 4300 name of `make_random_projection`.
make_random_sky_projection = make_random_projection
