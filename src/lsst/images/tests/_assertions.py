"""Assertion helpers comparing numbers, images, masks and projections.

All helpers take a `unittest.TestCase` as their first argument and report
failures through it, so they work equally under unittest and pytest (which
accepts ``unittest.TestCase()`` instances as a plain assertion provider).  As
in Rubin's 4300 release the test case may also be left out (see
`optional_test_case`).

Tolerances follow the reference: `assert_close` is `astropy.units.allclose`
with its defaults (``rtol=1e-5``, ``atol=0``, ``equal_nan=False``), so a NaN
fails even against a NaN unless ``equal_nan=True`` is passed.
"""

from __future__ import annotations

__all__ = (
    "assert_close",
    "assert_equal_allow_nan",
    "assert_images_equal",
    "assert_masked_images_equal",
    "assert_masks_equal",
    "assert_projections_equal",
    "assert_sky_projections_equal",
)

import math
import unittest
from typing import TYPE_CHECKING, Any, Literal

import astropy.units as u
import numpy as np

from ._compat import optional_test_case

if TYPE_CHECKING:
    from .._image import Image
    from .._mask import Mask
    from .._masked_image import MaskedImage
    from .._transforms import Projection


@optional_test_case()
def assert_close(
    tc: unittest.TestCase,
    a: np.ndarray | u.Quantity | float,
    b: np.ndarray | u.Quantity | float,
    **kwargs: Any,
) -> None:
    """Assert that two numbers, arrays or Quantities are close.

    Uses `astropy.units.allclose` with its defaults (``rtol=1e-5``,
    ``atol=0``, ``equal_nan=False``), so Quantities in different but
    compatible units compare by value and NaNs fail; keyword arguments
    (``rtol``, ``atol``, ``equal_nan``) are forwarded.  ``rtol=atol=0`` asks
    for exact equality.
    """
    try:
        ok = bool(u.allclose(a, b, **kwargs))
    except u.UnitsError as err:
        tc.fail(f"{a!r} and {b!r} have incompatible units: {err}")
    if not ok:
        mismatched = np.asarray(~u.isclose(a, b, **kwargs))
        detail = f" ({int(mismatched.sum())} of {mismatched.size} values differ)" if mismatched.ndim else ""
        tc.fail(f"{a} != {b}{detail} with {kwargs or 'default tolerances'}.")


@optional_test_case()
def assert_equal_allow_nan(tc: unittest.TestCase, a: float, b: float) -> None:
    """Assert two floats are equal, treating NaN as equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return
    try:
        if np.isnan(a) and np.isnan(b):
            return
    except TypeError:
        pass
    tc.assertEqual(a, b)


@optional_test_case()
def assert_projections_equal(
    tc: unittest.TestCase,
    a: Projection[Any] | None,
    b: Projection[Any] | None,
    expect_identity: bool | None = None,
) -> None:
    """Assert two projections (or two `None`) are equivalent.

    Parameters
    ----------
    tc
        Test case used to report failures.
    a, b
        Projections to compare.
    expect_identity
        `True` to require the same object, `False` to require distinct
        objects, `None` to not care.  Unless identical, the pixel frames, the
        simplified AST ``show()`` text and (recursively) the FITS
        approximations must match.
    """
    if a is None or b is None:
        tc.assertIs(a, b, "One projection is None and the other is not.")
        return
    if expect_identity is True:
        tc.assertIs(a, b, "Projections are not the same object.")
        return
    if expect_identity is False:
        tc.assertIsNot(a, b, "Projections are unexpectedly the same object.")
    if a is b:
        return
    tc.assertEqual(a.pixel_frame, b.pixel_frame, "Projection pixel frames differ.")
    tc.assertEqual(a.show(simplified=True), b.show(simplified=True), "Projection mappings differ.")
    assert_projections_equal(tc, a.fits_approximation, b.fits_approximation, expect_identity=False)


#: The 4300 name of `assert_projections_equal`.
assert_sky_projections_equal = assert_projections_equal


def _check_view(
    tc: unittest.TestCase,
    a: Any,
    b: Any,
    expect_view: bool | Literal["array"] | None,
) -> None:
    """Check memory sharing (and metadata identity) as ``expect_view`` asks; `None` checks nothing."""
    if expect_view is None:
        return
    shares = np.may_share_memory(a.array, b.array)
    if expect_view:
        tc.assertTrue(shares, "Arrays do not share memory.")
    else:
        tc.assertFalse(shares, "Arrays unexpectedly share memory.")
    if expect_view == "array":
        tc.assertEqual(a.metadata, b.metadata, "Metadata differ.")
    elif expect_view:
        tc.assertIs(a.metadata, b.metadata, "Views do not share their metadata dict.")
    else:
        tc.assertIsNot(a.metadata, b.metadata, "Copies unexpectedly share their metadata dict.")


@optional_test_case()
def assert_images_equal(
    tc: unittest.TestCase,
    a: Image,
    b: Image,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    expect_view: bool | Literal["array"] | None = None,
    equal_nan: bool = False,
) -> None:
    """Assert two images have the same bbox, unit, projection and pixels.

    Parameters
    ----------
    tc
        Test case used to report failures.
    a, b
        Images to compare.
    rtol, atol
        Tolerances for the pixel comparison (`assert_close`); the defaults
        ask for exact equality.
    expect_view
        `True`: the arrays must share memory and the metadata dict must be
        the same object; ``"array"``: the arrays share memory and the
        metadata compare equal; `False`: neither the arrays nor the metadata
        dict may be shared.  Pixel values and metadata are compared only
        when no view is expected (`None` or `False`).
    equal_nan
        Let NaN pixels compare equal.  Off by default, as in the reference
        (where images holding NaNs never compare equal); an extension.
    """
    tc.assertEqual(a.bbox, b.bbox, "Image bboxes differ.")
    tc.assertEqual(a.unit, b.unit, "Image units differ.")
    assert_projections_equal(tc, a.projection, b.projection)
    _check_view(tc, a, b, expect_view)
    if not expect_view:
        assert_close(tc, a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan)
        tc.assertEqual(a.metadata, b.metadata, "Image metadata differ.")


@optional_test_case()
def assert_masks_equal(tc: unittest.TestCase, a: Mask, b: Mask) -> None:
    """Assert two masks have identical bbox, schema, metadata, projection and bits."""
    tc.assertEqual(a.bbox, b.bbox, "Mask bboxes differ.")
    tc.assertEqual(a.schema, b.schema, "Mask schemas differ.")
    tc.assertEqual(a.metadata, b.metadata, "Mask metadata differ.")
    assert_projections_equal(tc, a.projection, b.projection)
    if not np.array_equal(a.array, b.array):
        tc.fail(f"Mask arrays differ in {int(np.count_nonzero(a.array != b.array))} elements.")


@optional_test_case()
def assert_masked_images_equal(
    tc: unittest.TestCase,
    a: MaskedImage,
    b: MaskedImage,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    expect_view: bool | None = None,
    equal_nan: bool = False,
) -> None:
    """Assert two masked images are equal plane by plane.

    Metadata and projection are compared first; the image and variance planes
    go through `assert_images_equal` (with ``rtol``/``atol``/``expect_view``/
    ``equal_nan``) and the mask through `assert_masks_equal`, which is always
    exact.
    """
    tc.assertEqual(a.metadata, b.metadata, "MaskedImage metadata differ.")
    assert_projections_equal(tc, a.projection, b.projection)
    kwargs = dict(rtol=rtol, atol=atol, expect_view=expect_view, equal_nan=equal_nan)
    assert_images_equal(tc, a.image, b.image, **kwargs)
    assert_masks_equal(tc, a.mask, b.mask)
    assert_images_equal(tc, a.variance, b.variance, **kwargs)
