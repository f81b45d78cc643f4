"""Conversions from the legacy stack's cell coadds (``lsst.cell_coadds``) to `lsst.images.cells`.

The legacy types are used through their documented Python interface only (duck typing,
nothing is imported), so these functions work wherever such objects exist:

* ``MultipleCellCoadd``: ``cells`` (a mapping of ``Index2D`` to ``SingleCellCoadd``),
  ``grid`` (a ``UniformGrid``: ``bbox``, ``cell_size``), ``inner_bbox``, ``identifiers``
  (``skymap``, ``tract``, ``patch`` as an ``Index2D``, ``band``), ``units``, ``wcs`` (a
  ``SkyWcs``) and ``stitch()``;
* the stitched coadd: ``image``, ``mask``, ``variance`` (afw images), ``mask_fractions``
  (an afw image or None), ``noise_realizations`` and ``psf`` (a ``StitchedPsf``: ``images``,
  a mapping of ``Index2D`` to kernel images, and ``grid``);
* ``SingleCellCoadd.inputs``: the observations (``instrument``, ``visit``, ``detector``,
  ``physical_filter``, ``day_obs``) that contributed, as a mapping to their per-cell
  ``CoaddInputs`` (``overlaps_center``, ``overlap_fraction``, ``weight``, ``psf_shape``
  with ``getIxx``/``getIyy``/``getIxy``, ``psf_shape_flag``) or, in older versions, as a
  plain collection of observations; ``SingleCellCoadd.aperture_correction_map`` (name to
  value), where present.

A cell absent from a mapping is a missing cell.  Values a legacy version does not carry
(the overlap polygon of an input, ``unmasked_fraction``, per-input weights of old
versions) become None or NaN rather than invented numbers.
"""

from __future__ import annotations

__all__ = (
    "aperture_corrections_from_legacy",
    "cell_coadd_from_legacy",
    "cell_field_from_legacy",
    "cell_psf_from_legacy",
    "provenance_from_legacy",
)

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._cell_ij import CellIJ
from ._grid import CellGrid, CellGridBounds

if TYPE_CHECKING:
    from .._mask import MaskPlane
    from ._coadd import CellCoadd
    from ._field import CellField
    from ._provenance import CoaddProvenance
    from ._psf import CellPointSpreadFunction


def _cells_of(container: Any) -> dict[CellIJ, Any]:
    """``{CellIJ: value}`` of a legacy grid container (a mapping keyed by ``Index2D``)."""
    items = container.items() if hasattr(container, "items") else container
    return {CellIJ.from_legacy(index): value for index, value in items}


def _block_bounds(
    grid: CellGrid, cells: Mapping[CellIJ, Any], bounds: CellGridBounds | None
) -> CellGridBounds:
    """The bounds of the smallest block of cells holding ``cells``, the others missing."""
    if bounds is not None:
        return bounds
    if not cells:
        raise ValueError("the legacy object has no cells")
    lo = CellIJ(min(c.i for c in cells), min(c.j for c in cells))
    hi = CellIJ(max(c.i for c in cells) + 1, max(c.j for c in cells) + 1)
    cy, cx = grid.cell_shape
    start = grid.bbox.start
    from .._geom import Box

    bbox = Box.factory[start.y + lo.i * cy : start.y + hi.i * cy, start.x + lo.j * cx : start.x + hi.j * cx]
    missing = frozenset(
        CellIJ(i, j) for i in range(lo.i, hi.i) for j in range(lo.j, hi.j) if CellIJ(i, j) not in cells
    )
    return CellGridBounds(grid=grid, bbox=bbox, missing=missing)


def _grid_array(bounds: CellGridBounds, values: Mapping[CellIJ, Any], shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``bounds.subgrid_size + shape`` filled from ``values`` (NaN elsewhere)."""
    size, start = bounds.subgrid_size, bounds.subgrid_start
    out = np.full((size.i, size.j, *shape), np.nan)
    for cell, value in values.items():
        if bounds.contains_cell(cell):
            out[cell.i - start.i, cell.j - start.j] = value
    return out


def cell_psf_from_legacy(stitched_psf: Any, bounds: CellGridBounds | None = None) -> CellPointSpreadFunction:
    """Convert a legacy ``StitchedPsf`` (one kernel image per cell) to a `CellPointSpreadFunction`.

    ``bounds`` defaults to the block of cells the PSF has kernels for, the cells without
    one being missing.
    """
    from ._psf import CellPointSpreadFunction

    grid = CellGrid.from_legacy(stitched_psf.grid)
    kernels = {
        cell: np.asarray(image.getArray(), dtype=np.float64)
        for cell, image in _cells_of(stitched_psf.images).items()
    }
    shapes = {k.shape for k in kernels.values()}
    if len(shapes) != 1:
        raise ValueError(f"the cell kernels of a StitchedPsf must share one shape, not {sorted(shapes)}")
    bounds = _block_bounds(grid, kernels, bounds)
    return CellPointSpreadFunction(_grid_array(bounds, kernels, shapes.pop()), bounds)


def cell_field_from_legacy(values: Any, bounds: CellGridBounds, unit: Any = None) -> CellField:
    """A `CellField` from a legacy mapping of ``Index2D`` to one number per cell."""
    from ._field import CellField

    return CellField(
        bounds, _grid_array(bounds, {c: float(v) for c, v in _cells_of(values).items()}, ()), unit
    )


def aperture_corrections_from_legacy(legacy: Any, bounds: CellGridBounds) -> dict[str, CellField]:
    """The per-cell aperture corrections of a ``MultipleCellCoadd``, one `CellField` per name."""
    per_name: dict[str, dict[CellIJ, float]] = {}
    for cell, single in _cells_of(legacy.cells).items():
        for name, value in (getattr(single, "aperture_correction_map", None) or {}).items():
            per_name.setdefault(str(name), {})[cell] = float(value)
    from ._field import CellField

    return {
        name: CellField(bounds, _grid_array(bounds, values, ())) for name, values in sorted(per_name.items())
    }


def _moment(shape: Any, name: str) -> float:
    if shape is None:
        return math.nan
    getter = getattr(shape, f"get{name}", None)
    return float(getter() if getter is not None else getattr(shape, name.lower()))


def provenance_from_legacy(legacy: Any) -> CoaddProvenance:
    """The inputs and per-cell contributions of a ``MultipleCellCoadd`` as a `CoaddProvenance`."""
    from .._polygon import Polygon
    from ._provenance import CoaddProvenance

    observations: dict[tuple[str, int, int], Any] = {}
    rows: list[tuple[CellIJ, Any, Any]] = []
    for cell, single in sorted(_cells_of(legacy.cells).items()):
        inputs = single.inputs
        pairs = inputs.items() if isinstance(inputs, Mapping) else ((obs, None) for obs in inputs)
        for obs, info in pairs:
            key = (str(obs.instrument), int(obs.visit), int(obs.detector))
            observations.setdefault(key, obs)
            rows.append((cell, key, info))
    inputs_table = CoaddProvenance.make_empty_input_table(len(observations))
    polygons = getattr(getattr(legacy, "common", None), "visit_polygons", None) or {}
    for n, (key, obs) in enumerate(sorted(observations.items())):
        inputs_table["instrument"][n], inputs_table["visit"][n], inputs_table["detector"][n] = key
        inputs_table["physical_filter"][n] = str(getattr(obs, "physical_filter", ""))
        inputs_table["day_obs"][n] = int(getattr(obs, "day_obs", 0) or 0)
        polygon = polygons.get(obs) if hasattr(polygons, "get") else None
        inputs_table["polygon"][n] = Polygon.from_legacy(polygon) if polygon is not None else None
    rows.sort(key=lambda row: (row[0], row[1]))
    table = CoaddProvenance.make_empty_contribution_table(len(rows))
    for n, (cell, key, info) in enumerate(rows):
        table["cell_i"][n], table["cell_j"][n] = cell.i, cell.j
        table["instrument"][n], table["visit"][n], table["detector"][n] = key
        table["overlaps_center"][n] = bool(getattr(info, "overlaps_center", False))
        for column in ("overlap_fraction", "unmasked_fraction", "weight"):
            value = getattr(info, column, None)
            table[column][n] = math.nan if value is None else float(value)
        shape = getattr(info, "psf_shape", None)
        table["psf_shape_xx"][n] = _moment(shape, "Ixx")
        table["psf_shape_yy"][n] = _moment(shape, "Iyy")
        table["psf_shape_xy"][n] = _moment(shape, "Ixy")
        table["psf_shape_flag"][n] = bool(getattr(info, "psf_shape_flag", False))
    return CoaddProvenance(inputs_table, table)


def cell_coadd_from_legacy(
    legacy: Any, *, plane_map: Mapping[str, MaskPlane] | None = None, tract_info: Any
) -> CellCoadd:
    """Convert a legacy ``MultipleCellCoadd`` into a `CellCoadd` (see the module docstring).

    ``tract_info`` (an ``lsst.skymap`` ``TractInfo``) gives the tract's bbox, for the
    projection's `TractFrame`, and the patch's sequential number.
    """
    import astropy.units as u

    from .._geom import YX, Box
    from .._image import Image
    from .._legacy_mask_planes import get_legacy_deep_coadd_mask_planes
    from .._mask import Mask
    from .._transforms import Projection, TractFrame
    from ._coadd import CellCoadd
    from ._patch import PatchDefinition

    identifiers = legacy.identifiers
    units = legacy.units
    unit = u.Unit(getattr(units, "name", units))
    tract_bbox = Box.from_legacy(tract_info.getBBox() if hasattr(tract_info, "getBBox") else tract_info.bbox)
    frame = TractFrame(skymap=str(identifiers.skymap), tract=int(identifiers.tract), bbox=tract_bbox)
    stitched = legacy.stitch()
    image = Image.from_legacy(stitched.image, unit=unit)
    projection = Projection.from_legacy(legacy.wcs, frame, pixel_bounds=image.bbox)
    mask = Mask.from_legacy(stitched.mask, plane_map=plane_map or get_legacy_deep_coadd_mask_planes())
    variance = Image.from_legacy(stitched.variance, unit=unit**2)
    fractions = getattr(stitched, "mask_fractions", None)
    mask_fractions = {"rejected": Image.from_legacy(fractions)} if fractions is not None else None
    noise = [Image.from_legacy(n, unit=unit) for n in (getattr(stitched, "noise_realizations", None) or ())]
    grid = CellGrid.from_legacy(legacy.grid)
    psf = cell_psf_from_legacy(stitched.psf, _block_bounds(grid, _cells_of(legacy.cells), None))
    patch_index = identifiers.patch
    if hasattr(tract_info, "getSequentialPatchIndexFromPair"):
        patch_id = int(tract_info.getSequentialPatchIndexFromPair(patch_index))
    else:
        patch_id = int(patch_index.y) * int(tract_info.getNumPatches().getX()) + int(patch_index.x)
    patch = PatchDefinition(
        id=patch_id,
        index=YX(int(patch_index.y), int(patch_index.x)),
        inner_bbox=Box.from_legacy(legacy.inner_bbox),
        cells=grid,
    )
    return CellCoadd(
        image,
        mask=mask,
        variance=variance,
        mask_fractions=mask_fractions,
        noise_realizations=noise,
        sky_projection=projection,
        band=getattr(identifiers, "band", None),
        psf=psf,
        aperture_corrections=aperture_corrections_from_legacy(legacy, psf.bounds) or None,
        patch=patch,
        provenance=provenance_from_legacy(legacy),
    )
