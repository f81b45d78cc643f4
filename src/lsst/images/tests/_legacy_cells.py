"""Compare a `CellCoadd` with an ``lsst.cell_coadds.MultipleCellCoadd`` (duck-typed).

The legacy side is read through ``lsst.cell_coadds``' Python interface:
``stitch()`` (a StitchedCoadd with ``image``, ``mask``, ``variance``,
``mask_fractions``, ``noise_realizations`` and ``psf``), ``identifiers``
(``skymap``, ``tract``, ``patch.x``/``patch.y``, ``band``), ``wcs``, ``units``,
``inner_bbox`` and ``cells`` (Index2D → SingleCellCoadd whose ``inputs`` are
observation identifiers with ``instrument``, ``visit``, ``detector``).  The
coadd type itself comes from `lsst.images.cells`, imported only when called.
"""

from __future__ import annotations

__all__ = ("compare_cell_coadd_to_legacy",)

import unittest
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np

from .._geom import XY, YX, Box
from ._compat import optional_test_case
from ._legacy_components import compare_projection_to_legacy_wcs, compare_psf_to_legacy
from ._legacy_images import compare_image_to_legacy, compare_mask_to_legacy

if TYPE_CHECKING:
    from .._mask import MaskPlane


def _observations(rows: Any) -> list[tuple[str, int, int]]:
    return sorted((str(r["instrument"]), int(r["visit"]), int(r["detector"])) for r in rows)


@optional_test_case()
def compare_cell_coadd_to_legacy(
    tc: unittest.TestCase,
    cell_coadd: Any,
    legacy_cell_coadd: Any,
    *,
    tract_bbox: Box,
    plane_map: Mapping[str, MaskPlane] | None = None,
    alternates: Mapping[str, Any] | None = None,
    psf_points: XY[np.ndarray] | YX[np.ndarray] | None = None,
) -> None:
    """Assert that a `~lsst.images.cells.CellCoadd` matches a legacy ``MultipleCellCoadd``.

    Compared: the image, mask, variance, ``"rejected"`` mask fraction and
    noise realizations of the stitched legacy coadd; the skymap, tract,
    patch index and band; that the coadd lies in ``tract_bbox`` and has the
    legacy inner bbox as its patch's; the unit; the projection against the
    legacy WCS on a `TractFrame` (as a FITS WCS), shared by the mask and
    variance; the PSF at ``psf_points`` (the legacy PSF must refuse points
    in missing cells); and, cell by cell, the observations that contributed
    (sorted by instrument, visit, detector).

    Parameters
    ----------
    tc
        Test case used for the assertions (may be left out, 4300 style).
    cell_coadd
        Coadd of this package.
    legacy_cell_coadd
        Legacy ``MultipleCellCoadd``.
    tract_bbox
        Bounding box of the tract (for the projection's pixel frame).
    plane_map
        Legacy mask plane name → `MaskPlane`; default
        `get_legacy_deep_coadd_mask_planes`.
    alternates
        Component reads to compare too: ``image``, ``mask``, ``variance``,
        ``projection`` (or ``sky_projection``) and ``psf``.
    psf_points
        Points for the PSF comparison; default a 3×3 grid over its bounds.
    """
    from .._legacy_mask_planes import get_legacy_deep_coadd_mask_planes
    from .._transforms import TractFrame

    if plane_map is None:
        plane_map = get_legacy_deep_coadd_mask_planes()
    alternates = dict(alternates or {})
    stitched = legacy_cell_coadd.stitch()
    for image in (cell_coadd.image, alternates.get("image")):
        if image is not None:
            compare_image_to_legacy(tc, image, stitched.image)
    for mask in (cell_coadd.mask, alternates.get("mask")):
        if mask is not None:
            compare_mask_to_legacy(tc, mask, stitched.mask, plane_map=plane_map)
    for variance in (cell_coadd.variance, alternates.get("variance")):
        if variance is not None:
            compare_image_to_legacy(tc, variance, stitched.variance)
    if getattr(stitched, "mask_fractions", None) is not None:
        compare_image_to_legacy(tc, cell_coadd.mask_fractions["rejected"], stitched.mask_fractions)
    for ours, theirs in zip(cell_coadd.noise_realizations, stitched.noise_realizations, strict=True):
        compare_image_to_legacy(tc, ours, theirs)
    identifiers = legacy_cell_coadd.identifiers
    tc.assertEqual(cell_coadd.skymap, identifiers.skymap)
    tc.assertEqual(cell_coadd.tract, identifiers.tract)
    tc.assertEqual(
        (cell_coadd.patch.index.y, cell_coadd.patch.index.x), (identifiers.patch.y, identifiers.patch.x)
    )
    tc.assertEqual(cell_coadd.band, identifiers.band)
    tc.assertTrue(tract_bbox.contains(cell_coadd.bbox), "The coadd is not inside its tract.")
    tc.assertEqual(cell_coadd.patch.inner_bbox, Box.from_legacy(legacy_cell_coadd.inner_bbox))
    units = legacy_cell_coadd.units
    tc.assertEqual(cell_coadd.unit, u.Unit(getattr(units, "name", units)))
    frame = TractFrame(skymap=identifiers.skymap, tract=identifiers.tract, bbox=tract_bbox)
    projections = [cell_coadd.projection]
    projections += [alternates[k] for k in ("projection", "sky_projection") if k in alternates]
    for projection in projections:
        compare_projection_to_legacy_wcs(
            tc, projection, legacy_cell_coadd.wcs, frame, cell_coadd.bbox, is_fits=True
        )
    tc.assertIs(cell_coadd.mask.projection, cell_coadd.projection, "The mask has its own projection.")
    tc.assertIs(cell_coadd.variance.projection, cell_coadd.projection, "The variance has its own projection.")
    for psf in (cell_coadd.psf, alternates.get("psf")):
        if psf is not None:
            compare_psf_to_legacy(
                tc, psf, stitched.psf, points=psf_points, expect_legacy_raise_on_out_of_bounds=True
            )
    _compare_provenance(tc, cell_coadd, legacy_cell_coadd)


def _compare_provenance(tc: unittest.TestCase, cell_coadd: Any, legacy_cell_coadd: Any) -> None:
    from ..cells import CellIJ

    try:
        provenance = cell_coadd.provenance
    except AttributeError:
        tc.fail("The coadd has no provenance.")
    for index, legacy_cell in legacy_cell_coadd.cells.items():
        cell = CellIJ(i=index.y, j=index.x)
        if not cell_coadd.bounds.contains_cell(cell):
            continue
        expected = sorted(
            (str(obs.instrument), int(obs.visit), int(obs.detector)) for obs in legacy_cell.inputs
        )
        contributions = provenance.contributions
        rows = contributions[(contributions["cell_i"] == cell.i) & (contributions["cell_j"] == cell.j)]
        tc.assertEqual(_observations(rows), expected, f"Inputs of cell {cell} differ.")
