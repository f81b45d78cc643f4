"""Cell coadds from the legacy stack (``lsst.cell_coadds``), against a faithful stand-in.

``lsst.cell_coadds`` is not installable here, so the legacy side is a stand-in offering
its documented Python interface: a ``MultipleCellCoadd`` with a mapping of ``Index2D`` to
``SingleCellCoadd`` (inputs mapped to ``CoaddInputs``, per-cell aperture corrections), a
``UniformGrid``, identifiers, units, a ``SkyWcs`` and ``stitch()``, whose ``StitchedPsf``
behaves as an afw PSF (refusing points in cells without a kernel).  The stand-in is
built from plain arrays and tables, not from our objects' methods, so converting it and
comparing it back (also with `compare_cell_coadd_to_legacy`) checks the conversion.
"""

from __future__ import annotations

import collections
import math
import unittest

import numpy as np
import pytest

import afw_standins as afw
from lsst.images import Box
from lsst.images.cells import CellCoadd, CellField, CellIJ, CellPointSpreadFunction, CoaddProvenance
from lsst.images.psfs import PointSpreadFunction
from lsst.images.tests import compare_cell_coadd_to_legacy, make_test_cell_coadd

TC = unittest.TestCase()
Index2D = collections.namedtuple("Index2D", ["x", "y"])

MISSING = (CellIJ(0, 1),)


class UniformGrid:
    def __init__(self, bbox: Box, cell_shape):
        self.bbox = afw.box2i(bbox)
        self.cell_size = afw.Extent2I(cell_shape[1], cell_shape[0])


class StitchedPsf:
    """A per-cell kernel PSF with afw's Psf methods; points in cells without a kernel raise."""

    def __init__(self, images: dict, grid: UniformGrid, origin: tuple[int, int], cell_shape):
        self.images, self.grid = images, grid
        self._origin, self._cell = origin, cell_shape

    def _kernel(self, point):
        x, y = math.floor(point.getX() + 0.5), math.floor(point.getY() + 0.5)
        index = Index2D((x - self._origin[1]) // self._cell[1], (y - self._origin[0]) // self._cell[0])
        if index not in self.images:
            raise afw.InvalidPsfError(f"no PSF kernel for the cell of ({point.getX()}, {point.getY()})")
        return self.images[index].getArray()

    def computeKernelBBox(self, point):  # noqa: N802
        h, w = self._kernel(point).shape
        return afw.Box2I(-(w // 2), -(h // 2), w // 2, h // 2)

    def computeKernelImage(self, point):  # noqa: N802
        kernel = self._kernel(point)
        h, w = kernel.shape
        return afw.Image(kernel, -(w // 2), -(h // 2))

    def computeImageBBox(self, point):  # noqa: N802
        k = self.computeKernelBBox(point)
        dx, dy = math.floor(point.getX() + 0.5), math.floor(point.getY() + 0.5)
        return afw.Box2I(k.getMinX() + dx, k.getMinY() + dy, k.getMaxX() + dx, k.getMaxY() + dy)

    def computeImage(self, point):  # noqa: N802
        # Only whole-pixel positions are used here: the star image is the kernel, moved.
        assert point.getX() == round(point.getX()) and point.getY() == round(point.getY())
        b = self.computeImageBBox(point)
        return afw.Image(self._kernel(point), b.getMinX(), b.getMinY())


class FrameDict:
    def __init__(self, text: str):
        self._text = text

    def show(self) -> str:
        return self._text


class SkyWcs(afw.SkyWcs):
    def __init__(self, frame_set, text: str):
        super().__init__(frame_set)
        self._text = text

    def getFrameDict(self):  # noqa: N802
        return FrameDict(self._text)


Observation = collections.namedtuple("Observation", "instrument visit detector physical_filter day_obs")
Quadrupole = collections.namedtuple("Quadrupole", "ixx iyy ixy")


class Shape(Quadrupole):
    def getIxx(self):  # noqa: N802
        return self.ixx

    def getIyy(self):  # noqa: N802
        return self.iyy

    def getIxy(self):  # noqa: N802
        return self.ixy


CoaddInputs = collections.namedtuple(
    "CoaddInputs", "overlaps_center overlap_fraction weight psf_shape psf_shape_flag"
)


class SingleCellCoadd:
    def __init__(self, inputs: dict, aperture_correction_map: dict):
        self.inputs, self.aperture_correction_map = inputs, aperture_correction_map


class Stitched:
    pass


class MultipleCellCoadd:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def stitch(self):
        return self._stitched


class TractInfo:
    def __init__(self, bbox: Box, n_patches_x: int):
        self._bbox, self._n = afw.box2i(bbox), n_patches_x

    def getBBox(self):  # noqa: N802
        return self._bbox

    def getNumPatches(self):  # noqa: N802
        return afw.Extent2I(self._n, 3)


TRACT_BOX = Box.factory[0:1000, 0:1200]


@pytest.fixture(scope="module")
def original() -> CellCoadd:
    return make_test_cell_coadd(4, cells=(2, 3), missing=[c.as_tuple() for c in MISSING], n_inputs=3)


def _legacy(original: CellCoadd) -> MultipleCellCoadd:
    """A legacy-interface coadd holding the same data as ``original`` (built from arrays)."""
    from starlink import Ast

    grid = original.grid
    start, (cy, cx) = grid.bbox.start, grid.cell_shape
    x0, y0 = original.bbox.x.start, original.bbox.y.start
    planes = {plane.name: bit for bit, plane in enumerate(original.mask.schema) if plane is not None}
    packed = np.zeros(original.bbox.shape, dtype=np.int32)
    for name, bit in planes.items():
        packed |= original.mask.get(name).astype(np.int32) << bit
    stitched = Stitched()
    stitched.image = afw.Image(original.image.array.copy(), x0, y0)
    stitched.variance = afw.Image(original.variance.array.copy(), x0, y0)
    stitched.mask = afw.Mask(packed, planes, x0, y0)
    stitched.mask_fractions = afw.Image(original.mask_fractions["rejected"].array.copy(), x0, y0)
    stitched.noise_realizations = [afw.Image(n.array.copy(), x0, y0) for n in original.noise_realizations]
    kernels = {}
    psf_array = original.psf.array
    sub = original.psf.bounds.subgrid_start
    for i in range(psf_array.shape[0]):
        for j in range(psf_array.shape[1]):
            if np.isfinite(psf_array[i, j]).all():
                kernels[Index2D(j + sub.j, i + sub.i)] = afw.Image(psf_array[i, j].copy())
    legacy_grid = UniformGrid(grid.bbox, (cy, cx))
    stitched.psf = StitchedPsf(kernels, legacy_grid, (start.y, start.x), (cy, cx))
    contributions = original.provenance.contributions
    inputs = {
        tuple(row[k] for k in ("instrument", "visit", "detector")): row for row in original.provenance.inputs
    }
    cells = {}
    for index in kernels:
        cell = CellIJ(index.y, index.x)
        rows = contributions[(contributions["cell_i"] == cell.i) & (contributions["cell_j"] == cell.j)]
        cell_inputs = {}
        for row in rows:
            obs_row = inputs[(row["instrument"], row["visit"], row["detector"])]
            obs = Observation(
                row["instrument"],
                int(row["visit"]),
                int(row["detector"]),
                obs_row["physical_filter"],
                int(obs_row["day_obs"]),
            )
            cell_inputs[obs] = CoaddInputs(
                bool(row["overlaps_center"]),
                float(row["overlap_fraction"]),
                float(row["weight"]),
                Shape(row["psf_shape_xx"], row["psf_shape_yy"], row["psf_shape_xy"]),
                bool(row["psf_shape_flag"]),
            )
        apcorr = {}
        for name, field in original.aperture_corrections.items():
            if field.bounds.contains_cell(cell):
                apcorr[name] = field.value_in_cell(cell)
        cells[index] = SingleCellCoadd(cell_inputs, apcorr)
    text = original.projection.show(comments=True)
    identifiers = collections.namedtuple("PatchIdentifiers", "skymap tract patch band")(
        original.skymap,
        original.tract,
        Index2D(original.patch.index.x, original.patch.index.y),
        original.band,
    )
    return MultipleCellCoadd(
        cells=cells,
        grid=legacy_grid,
        inner_bbox=afw.box2i(original.patch.inner_bbox),
        identifiers=identifiers,
        units=collections.namedtuple("CoaddUnits", "name")("nJy"),
        wcs=SkyWcs(Ast.Channel(_Source(text)).read(), text),
        _stitched=stitched,
    )


class _Source:
    def __init__(self, text: str):
        self._lines = iter(text.splitlines())

    def astsource(self):
        return next(self._lines, None)


def test_cell_coadd_from_legacy(original, monkeypatch):
    afw.install_geom(monkeypatch)  # the PSF comparison builds lsst.geom points
    legacy = _legacy(original)
    n_x = 7
    tract_info = TractInfo(TRACT_BOX, n_patches_x=n_x)
    coadd = CellCoadd.from_legacy(legacy, plane_map=dict(_plane_map(original)), tract_info=tract_info)
    assert coadd.bbox == original.bbox and coadd.unit == original.unit and coadd.band == original.band
    for plane in ("image", "variance"):
        np.testing.assert_array_equal(getattr(coadd, plane).array, getattr(original, plane).array)
    for name in [p.name for p in original.mask.schema if p is not None]:
        np.testing.assert_array_equal(coadd.mask.get(name), original.mask.get(name))
    np.testing.assert_array_equal(
        coadd.mask_fractions["rejected"].array, original.mask_fractions["rejected"].array
    )
    assert len(coadd.noise_realizations) == len(original.noise_realizations)
    # The PSF: same kernels, and the cells without one are missing.
    assert coadd.psf.bounds.missing == frozenset(MISSING)
    np.testing.assert_array_equal(coadd.psf.array, original.psf.array)
    assert coadd.psf == original.psf
    # Aperture corrections: one field per name, NaN where the legacy cell has no value.
    assert sorted(coadd.aperture_corrections) == sorted(original.aperture_corrections)
    for name, field in original.aperture_corrections.items():
        np.testing.assert_array_equal(coadd.aperture_corrections[name].array, field.array)
    # Patch and identifiers.
    index = original.patch.index
    assert coadd.patch.id == index.y * n_x + index.x and tuple(coadd.patch.index) == tuple(index)
    assert coadd.patch.inner_bbox == original.patch.inner_bbox and coadd.patch.cells == original.grid
    assert coadd.sky_projection.pixel_frame.bbox == TRACT_BOX
    xs, ys = np.array([210.0, 400.0]), np.array([105.0, 130.0])
    np.testing.assert_allclose(
        coadd.sky_projection.pixel_to_sky(x=xs, y=ys).ra.deg,
        original.projection.pixel_to_sky(x=xs, y=ys).ra.deg,
        rtol=0,
        atol=1e-12,
    )
    # Provenance: the same observations and per-cell rows (no unmasked_fraction in legacy inputs).
    ours, theirs = coadd.provenance, original.provenance
    for column in ("instrument", "visit", "detector", "physical_filter", "day_obs"):
        assert list(ours.inputs[column]) == list(theirs.inputs[column]), column
    assert all(p is None for p in ours.inputs["polygon"])
    keys = ("cell_i", "cell_j", "instrument", "visit", "detector")
    theirs_rows = sorted(
        (tuple(r[k] for k in keys), r)
        for r in theirs.contributions
        if CellIJ(r["cell_i"], r["cell_j"]) not in MISSING
    )
    ours_rows = sorted((tuple(r[k] for k in keys), r) for r in ours.contributions)
    assert [k for k, _ in ours_rows] == [k for k, _ in theirs_rows]
    for (_, a), (_, b) in zip(ours_rows, theirs_rows, strict=True):
        for column in (
            "overlaps_center",
            "overlap_fraction",
            "weight",
            "psf_shape_xx",
            "psf_shape_yy",
            "psf_shape_xy",
            "psf_shape_flag",
        ):
            assert a[column] == b[column], column
        assert math.isnan(a["unmasked_fraction"])
    # ... and the test helper agrees (PSF at whole-pixel points in present cells).
    points = afw.Point2D(np.array([215.0, 275.0, 215.0]), np.array([105.0, 105.0, 125.0]))
    compare_cell_coadd_to_legacy(
        TC,
        coadd,
        legacy,
        tract_bbox=TRACT_BOX,
        plane_map=dict(_plane_map(original)),
        psf_points=_xy(points),
    )


def _xy(points):
    from lsst.images import XY

    return XY(points.x, points.y)


def _plane_map(original: CellCoadd):
    return [(p.name, p) for p in original.mask.schema if p is not None]


def test_psf_and_field_and_provenance_entry_points(original):
    legacy = _legacy(original)
    psf = CellPointSpreadFunction.from_legacy(legacy.stitch().psf)
    assert psf == original.psf
    # PointSpreadFunction.from_legacy picks the cell PSF for a StitchedPsf.
    assert PointSpreadFunction.from_legacy(legacy.stitch().psf, psf.bounds) == original.psf
    name = sorted(original.aperture_corrections)[0]
    values = {
        i: c.aperture_correction_map[name]
        for i, c in legacy.cells.items()
        if name in c.aperture_correction_map
    }
    field = CellField.from_legacy_aperture_correction(values, original.aperture_corrections[name].bounds)
    np.testing.assert_array_equal(field.array, original.aperture_corrections[name].array)
    provenance = CoaddProvenance.from_legacy(legacy)
    assert len(provenance.inputs) == len(original.provenance.inputs)
    with pytest.raises(afw.InvalidPsfError):
        legacy.stitch().psf.computeKernelImage(afw.Point2D(245.0, 105.0))  # the missing cell (0, 1)
    with pytest.raises(Exception, match="cell"):
        psf.compute_kernel_image(x=245.0, y=105.0)


def test_to_legacy_needs_the_stack(original):
    with pytest.raises(ImportError, match=r"lsst\.cell_coadds"):
        original.to_legacy()
    with pytest.raises(ImportError, match=r"lsst\.cell_coadds"):
        original.to_legacy_cell_coadd()
