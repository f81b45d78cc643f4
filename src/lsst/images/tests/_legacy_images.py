"""Compare images, masks, masked images and visit images with their ``lsst.afw`` counterparts.

The ``compare_*_to_legacy`` helpers check an object of this package against
the equivalent afw object, typically one read by afw from the same file.  They
are duck-typed against afw's documented Python interface (``getBBox``,
``getArray``, ``getPlaneBitMask``, ``getMaskedImage``, ...): afw itself is
never imported here, so faithful stand-ins work too.  Helpers that must build
afw-side objects (`arrays_to_legacy_points`) need ``lsst.geom`` and raise
`unittest.SkipTest` without it, which skips the calling test.
"""

from __future__ import annotations

__all__ = (
    "arrays_to_legacy_points",
    "compare_image_to_legacy",
    "compare_mask_to_legacy",
    "compare_masked_image_to_legacy",
    "compare_visit_image_to_legacy",
    "legacy_coords_to_astropy",
    "legacy_points_to_xy_array",
)

import importlib
import unittest
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np

from .._geom import XY, Box
from ._compat import optional_test_case

if TYPE_CHECKING:
    from astropy.coordinates import SkyCoord

    from .._image import Image
    from .._mask import Mask, MaskPlane
    from .._masked_image import MaskedImage
    from .._visit_image import VisitImage


def require_legacy_module(name: str) -> Any:
    """Import a legacy-stack module, or skip the calling test when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise unittest.SkipTest(
            f"{name} is not installed (it is part of the LSST science pipelines)."
        ) from None


def arrays_to_legacy_points(x: np.ndarray, y: np.ndarray) -> list[Any]:
    """Return ``lsst.geom.Point2D`` objects for matching ``x`` and ``y`` arrays (needs ``lsst.geom``)."""
    geom = require_legacy_module("lsst.geom")
    return [geom.Point2D(float(xi), float(yi)) for xi, yi in zip(np.ravel(x), np.ravel(y), strict=True)]


def legacy_points_to_xy_array(legacy_points: list[Any]) -> XY[np.ndarray]:
    """Return the coordinates of legacy ``Point2D`` objects as an `XY` of float arrays."""
    return XY(
        np.array([p.getX() for p in legacy_points], dtype=np.float64),
        np.array([p.getY() for p in legacy_points], dtype=np.float64),
    )


def legacy_coords_to_astropy(legacy_coords: list[Any]) -> SkyCoord:
    """Return one ICRS `~astropy.coordinates.SkyCoord` for a list of legacy ``SpherePoint`` objects."""
    from astropy.coordinates import SkyCoord

    ra = np.array([c.getRa().asRadians() for c in legacy_coords], dtype=np.float64)
    dec = np.array([c.getDec().asRadians() for c in legacy_coords], dtype=np.float64)
    return SkyCoord(ra=ra * u.rad, dec=dec * u.rad, frame="icrs")


@optional_test_case()
def compare_image_to_legacy(
    tc: unittest.TestCase, image: Image, legacy_image: Any, expect_view: bool | None = None
) -> None:
    """Assert that an `Image` matches an afw ``Image``: bbox, pixels, and memory sharing if asked.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    image
        Image of this package.
    legacy_image
        afw image (``getBBox()``, ``getArray()``).
    expect_view
        `True`/`False` to require that the two share (do not share) memory;
        pixels are compared exactly unless a view is expected.
    """
    tc.assertEqual(image.bbox, Box.from_legacy(legacy_image.getBBox()), "Image bboxes differ.")
    legacy_array = legacy_image.getArray()
    if expect_view is not None:
        tc.assertEqual(
            np.may_share_memory(image.array, legacy_array), expect_view, "Unexpected memory sharing."
        )
    if not expect_view:
        np.testing.assert_array_equal(image.array, legacy_array)


@optional_test_case()
def compare_mask_to_legacy(
    tc: unittest.TestCase, mask: Mask, legacy_mask: Any, plane_map: Mapping[str, MaskPlane] | None = None
) -> None:
    """Assert that a `Mask` matches an afw ``Mask`` plane by plane.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    mask
        Mask of this package.
    legacy_mask
        afw mask (``getBBox()``, ``getArray()``, ``getPlaneBitMask(name)``).
    plane_map
        Legacy plane name → `MaskPlane` of ``mask``; by default every plane of
        the mask's schema is looked up under its own name.
    """
    tc.assertEqual(mask.bbox, Box.from_legacy(legacy_mask.getBBox()), "Mask bboxes differ.")
    if plane_map is None:
        plane_map = {plane.name: plane for plane in mask.schema if plane is not None}
    legacy_array = np.asarray(legacy_mask.getArray())
    for legacy_name, plane in plane_map.items():
        expected = (legacy_array & legacy_mask.getPlaneBitMask(legacy_name)).astype(bool)
        actual = mask.get(plane.name)
        if not np.array_equal(actual, expected):
            tc.fail(
                f"Mask plane {plane.name!r} differs from legacy plane {legacy_name!r} "
                f"in {int(np.count_nonzero(actual != expected))} pixels."
            )


@optional_test_case()
def compare_masked_image_to_legacy(
    tc: unittest.TestCase,
    masked_image: MaskedImage,
    legacy_masked_image: Any,
    *,
    plane_map: Mapping[str, MaskPlane] | None = None,
    expect_view: bool | None = None,
    alternates: Mapping[str, Any] | None = None,
) -> None:
    """Assert that a `MaskedImage` matches an afw ``MaskedImage`` plane by plane.

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    masked_image
        Masked image of this package.
    legacy_masked_image
        afw masked image (``getImage()``, ``getMask()``, ``getVariance()``).
    plane_map
        Legacy plane name → `MaskPlane` (see `compare_mask_to_legacy`).
    expect_view
        Memory-sharing expectation for the image and variance planes.
    alternates
        Other reads of the same data (e.g. component reads) keyed by
        ``"image"``, ``"mask"`` or ``"variance"``, also compared with the
        legacy planes.
    """
    legacy_image = legacy_masked_image.getImage()
    legacy_mask = legacy_masked_image.getMask()
    legacy_variance = legacy_masked_image.getVariance()
    compare_image_to_legacy(tc, masked_image.image, legacy_image, expect_view=expect_view)
    compare_mask_to_legacy(tc, masked_image.mask, legacy_mask, plane_map=plane_map)
    compare_image_to_legacy(tc, masked_image.variance, legacy_variance, expect_view=expect_view)
    alternates = alternates or {}
    if (image := alternates.get("image")) is not None:
        compare_image_to_legacy(tc, image, legacy_image)
    if (mask := alternates.get("mask")) is not None:
        compare_mask_to_legacy(tc, mask, legacy_mask, plane_map=plane_map)
    if (variance := alternates.get("variance")) is not None:
        compare_image_to_legacy(tc, variance, legacy_variance)


@optional_test_case()
def compare_visit_image_to_legacy(
    tc: unittest.TestCase,
    visit_image: VisitImage,
    legacy_exposure: Any,
    *,
    plane_map: Mapping[str, MaskPlane] | None = None,
    expect_view: bool | None = None,
    instrument: str,
    visit: int,
    detector: int,
    applied_legacy_photo_calib: Any = None,
    alternates: Mapping[str, Any] | None = None,
) -> None:
    """Assert that a `VisitImage` matches an afw ``Exposure`` in every component.

    Checked: the planes (`compare_masked_image_to_legacy`); the projection
    against the SkyWcs on a `DetectorFrame` built from ``instrument``,
    ``visit``, ``detector`` and the legacy detector's bbox, with the mask
    and variance sharing the visit's projection object; the PSF, summary
    statistics and detector (assembled raw geometry); the aperture
    corrections and photometric scaling on a small box
    (``detector_bbox.local[2:4, 3:6]``).

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    visit_image
        Visit image of this package.
    legacy_exposure
        afw ``Exposure``.
    plane_map
        Legacy mask plane name → `MaskPlane`; default
        `get_legacy_visit_image_mask_planes`.
    expect_view
        Memory-sharing expectation for the image and variance planes.
    instrument, visit, detector
        Expected identifiers of the projection's pixel frame.
    applied_legacy_photo_calib
        The calibration already applied to the pixels, if any (see
        `compare_photo_calib_to_legacy`).
    alternates
        Component reads to compare too: ``image``, ``mask``, ``variance``,
        ``projection``, ``psf``, ``summary_stats``, ``detector``,
        ``obs_info`` (instrument only), ``aperture_corrections`` and
        ``photometric_scaling`` (also under the reference's misspelling
        ``photometic_scaling``).

    Notes
    -----
    The reference always checks the projection as a non-FITS one (which
    must carry a FITS approximation, as DP2 visits do); here a legacy WCS
    without a FITS approximation is checked as an exactly FITS-representable
    one instead, so files with plain TAN(-SIP) WCSs can be compared too.
    """
    from .._legacy_mask_planes import get_legacy_visit_image_mask_planes
    from .._transforms import DetectorFrame
    from ._legacy_cameras import compare_detector_to_legacy
    from ._legacy_components import (
        compare_aperture_corrections_to_legacy,
        compare_observation_summary_stats_to_legacy,
        compare_photo_calib_to_legacy,
        compare_projection_to_legacy_wcs,
        compare_psf_to_legacy,
    )

    alternates = dict(alternates or {})
    if plane_map is None:
        plane_map = get_legacy_visit_image_mask_planes()
    compare_masked_image_to_legacy(
        tc,
        visit_image,
        legacy_exposure.getMaskedImage(),
        plane_map=plane_map,
        expect_view=expect_view,
        alternates={k: alternates[k] for k in ("image", "mask", "variance") if k in alternates},
    )
    legacy_detector = legacy_exposure.getDetector()
    detector_bbox = Box.from_legacy(legacy_detector.getBBox())
    pixel_frame = DetectorFrame(instrument=instrument, visit=visit, detector=detector, bbox=detector_bbox)
    legacy_wcs = legacy_exposure.getWcs()
    is_fits = not legacy_wcs.hasFitsApproximation()
    info = legacy_exposure.getInfo()
    tiny = detector_bbox.local[2:4, 3:6]
    components: list[tuple[str, Any]] = [("", visit_image)]
    components += [(key, alternates[key]) for key in alternates]
    for key, source in components:
        if key in ("", "projection"):
            projection = source.projection if key == "" else source
            compare_projection_to_legacy_wcs(
                tc, projection, legacy_wcs, pixel_frame, visit_image.bbox, is_fits=is_fits
            )
        if key in ("", "psf"):
            compare_psf_to_legacy(tc, source.psf if key == "" else source, legacy_exposure.getPsf())
        if key in ("", "summary_stats"):
            compare_observation_summary_stats_to_legacy(
                tc, source.summary_stats if key == "" else source, info.getSummaryStats()
            )
        if key in ("", "detector"):
            compare_detector_to_legacy(
                tc, source.detector if key == "" else source, legacy_detector, is_raw_assembled=True
            )
        if key in ("", "aperture_corrections"):
            compare_aperture_corrections_to_legacy(
                tc, source.aperture_corrections if key == "" else source, info.getApCorrMap(), tiny
            )
        if key in ("", "photometric_scaling", "photometic_scaling"):
            compare_photo_calib_to_legacy(
                tc,
                source.photometric_scaling if key == "" else source,
                legacy_exposure.getPhotoCalib(),
                applied_legacy_photo_calib=applied_legacy_photo_calib,
                subimage_bbox=tiny,
            )
        if key == "obs_info":
            tc.assertEqual(source.instrument, instrument, "obs_info names another instrument.")
    tc.assertIs(visit_image.mask.projection, visit_image.projection, "The mask has its own projection.")
    tc.assertIs(
        visit_image.variance.projection, visit_image.projection, "The variance has its own projection."
    )
