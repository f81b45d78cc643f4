"""In-memory behaviour of lsst.images.cells: indices, grids, bounds, per-cell PSFs and fields, provenance."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest

from lsst.images import XY, YX, BoundsError, Box, NoOverlapError
from lsst.images.cells import (
    CellField,
    CellGrid,
    CellGridBounds,
    CellIJ,
    CellPointSpreadFunction,
    CoaddProvenance,
    PatchDefinition,
)
from lsst.images.tests import make_test_cell_coadd

B = Box.factory
GRID = CellGrid(bbox=B[10:160, 20:220], cell_shape=YX(50, 50))
BOUNDS = CellGridBounds(grid=GRID, bbox=B[60:160, 70:220], missing=frozenset({CellIJ(1, 2), CellIJ(2, 1)}))


def test_cell_ij_arithmetic_order_and_no_sequence() -> None:
    assert CellIJ(1, 2) + CellIJ(3, 4) == CellIJ(4, 6)
    assert CellIJ(3, 4) - CellIJ(1, 2) == CellIJ(2, 2)
    assert sorted([CellIJ(1, 0), CellIJ(0, 5), CellIJ(0, 1)]) == [CellIJ(0, 1), CellIJ(0, 5), CellIJ(1, 0)]
    assert CellIJ(1, 2).as_tuple() == (1, 2)
    assert CellIJ(1, 2) != (1, 2)
    assert {CellIJ(1, 2), CellIJ(1, 2)} == {CellIJ(1, 2)}
    with pytest.raises(TypeError):
        iter(CellIJ(1, 2))
    assert str(CellIJ(1, 2)) == "(i=1, j=2)"


def test_grid_geometry() -> None:
    assert GRID.grid_size == GRID.grid_shape == CellIJ(3, 4)
    assert GRID.index_of(y=10, x=20) == CellIJ(0, 0)
    assert GRID.index_of(y=9, x=219) == CellIJ(-1, 3)  # no bounds check
    assert GRID.bbox_of(CellIJ(2, 3)) == B[110:160, 170:220]
    cells = GRID.index_of(y=np.array([10, 70, 159]), x=np.array([20, 90, 219]))
    np.testing.assert_array_equal(cells.i, [0, 1, 2])
    np.testing.assert_array_equal(cells.j, [0, 1, 3])
    assert str(GRID) == "[y=10:160, x=20:220], cell_shape=(y=50, x=50)"
    with pytest.raises(ValueError, match="whole number"):
        CellGrid(bbox=B[0:100, 0:95], cell_shape=YX(50, 50))
    with pytest.raises(ValueError, match="positive"):
        CellGrid(bbox=B[0:100, 0:100], cell_shape=YX(0, 50))
    # Serialized as {bbox, cell_shape: [y, x]}; 4300's {y, x} spelling is accepted too.
    dumped = GRID.model_dump(mode="json")
    assert dumped["cell_shape"] == [50, 50]
    assert CellGrid.model_validate({**dumped, "cell_shape": {"y": 50, "x": 50}}) == GRID


def test_bounds_block_and_cells() -> None:
    assert (BOUNDS.subgrid_start, BOUNDS.subgrid_stop, BOUNDS.subgrid_size) == (
        CellIJ(1, 1),
        CellIJ(3, 4),
        CellIJ(2, 3),
    )
    assert (BOUNDS.grid_start, BOUNDS.grid_stop) == (BOUNDS.subgrid_start, BOUNDS.subgrid_stop)
    assert list(BOUNDS.cell_indices()) == [CellIJ(1, 1), CellIJ(1, 3), CellIJ(2, 2), CellIJ(2, 3)]
    assert list(BOUNDS.missing_boxes()) == [B[60:110, 120:170], B[110:160, 70:120]]
    assert BOUNDS.contains_cell(CellIJ(1, 1)) and not BOUNDS.contains_cell(CellIJ(1, 2))
    assert not BOUNDS.contains_cell(CellIJ(0, 0))
    assert BOUNDS.serialize() is BOUNDS and BOUNDS.deserialize() is BOUNDS
    assert str(BOUNDS).endswith("missing={(i=1, j=2), (i=2, j=1)}")
    with pytest.raises(ValueError, match="outside"):
        CellGridBounds(grid=GRID, bbox=B[60:110, 70:120], missing=frozenset({CellIJ(2, 2)}))
    with pytest.raises(ValueError, match="not inside the grid"):
        CellGridBounds(grid=GRID, bbox=B[0:60, 70:120])


def test_bounds_contains() -> None:
    assert BOUNDS.contains(x=100, y=100)
    assert not BOUNDS.contains(x=130, y=80)  # missing cell (1, 2)
    assert not BOUNDS.contains(x=30, y=80)  # outside the bbox
    assert BOUNDS.contains(XY(100, 100)) and BOUNDS.contains(YX(100, 100))
    # The cell of a point is the one of the pixel it lies in: x=119.6 is in pixel 120.
    assert BOUNDS.contains(x=119.4, y=80) and not BOUNDS.contains(x=119.6, y=80)
    inside = BOUNDS.contains(x=np.array([[100, 130], [90, 200]]), y=np.array([[100, 80], [130, 130]]))
    np.testing.assert_array_equal(inside, [[True, False], [False, True]])
    with pytest.raises(TypeError):
        BOUNDS.contains(x=1)


def test_bounds_subset_and_intersection() -> None:
    sub = BOUNDS[B[70:80, 75:125]]
    assert sub.bbox == B[60:110, 70:170]  # snapped outward to whole cells
    assert sub.missing == {CellIJ(1, 2)}
    with pytest.raises(ValueError, match="does not contain"):
        BOUNDS[B[0:80, 75:125]]
    other = CellGridBounds(grid=GRID, bbox=B[10:110, 20:120], missing=frozenset({CellIJ(1, 1)}))
    common = BOUNDS.intersection(other)
    assert common == CellGridBounds(grid=GRID, bbox=B[60:110, 70:120], missing=frozenset({CellIJ(1, 1)}))
    with pytest.raises(NoOverlapError):
        BOUNDS.intersection(CellGridBounds(grid=GRID, bbox=B[10:60, 20:70]))
    lazy = BOUNDS.intersection(B[70:80, 75:135])
    assert lazy.contains(x=100, y=75) and not lazy.contains(x=130, y=75) and not lazy.contains(x=100, y=90)


def _psf() -> CellPointSpreadFunction:
    array = np.random.default_rng(3).random((2, 3, 5, 7))
    array[0, 1] = np.nan  # (1, 2) is missing
    array[1, 0] = np.nan  # (2, 1) is missing
    return CellPointSpreadFunction(array, BOUNDS)


def test_psf_cells_and_errors() -> None:
    psf = _psf()
    assert psf.kernel_bbox == B[-2:3, -3:4]
    assert psf.grid == GRID and psf.bounds == BOUNDS
    image = psf[CellIJ(2, 3)]
    assert image.bbox == psf.kernel_bbox
    np.testing.assert_array_equal(image.array, psf.array[1, 2])
    with pytest.raises(BoundsError, match="missing"):
        psf[CellIJ(1, 2)]
    with pytest.raises(BoundsError, match="out of bounds"):
        psf[CellIJ(0, 0)]
    with pytest.raises(ValueError, match="4-d"):
        CellPointSpreadFunction(np.zeros((2, 3, 5)), BOUNDS)
    with pytest.raises(ValueError, match="cells"):
        CellPointSpreadFunction(np.zeros((2, 2, 5, 5)), BOUNDS)
    assert not psf.array.flags.writeable


def test_psf_at_a_position() -> None:
    psf = _psf()
    np.testing.assert_array_equal(psf.compute_kernel_image(x=200.4, y=70.0).array, psf.array[0, 2])
    with pytest.raises(BoundsError) as info:
        psf.compute_kernel_image(x=130.0, y=70.0)
    assert info.value.__notes__ == ["Evaluating cell PSF at x=130.0, y=70.0."]
    with pytest.raises(BoundsError, match="out of bounds"):
        psf.compute_kernel_image(x=0, y=0)


def test_psf_stellar_image_is_shifted_kernel() -> None:
    # A kernel that is a sampled Gaussian, shifted by half a pixel with Lanczos-5, is the
    # Gaussian sampled half a pixel off (to the accuracy of the interpolation).
    yy, xx = np.mgrid[-7:8, -7:8]
    gauss = np.exp(-0.5 * (xx**2 + yy**2) / 2.0**2)
    array = np.broadcast_to(gauss / gauss.sum(), (2, 3, 15, 15)).copy()
    psf = CellPointSpreadFunction(array, CellGridBounds(grid=GRID, bbox=B[60:160, 70:220]))
    image = psf.compute_stellar_image(x=100.5, y=80.0)
    assert image.bbox == psf.compute_stellar_bbox(x=100.5, y=80.0) == B[73:88, 94:109]
    # x = 100.5 lies in pixel 101 (the box's centre), half a pixel to its left.
    shifted = np.exp(-0.5 * ((xx + 0.5) ** 2 + yy**2) / 2.0**2)
    np.testing.assert_allclose(image.array, shifted / shifted.sum(), atol=2e-4)
    assert np.isclose(image.array.sum(), 1.0)
    np.testing.assert_allclose(psf.compute_stellar_image(x=100.0, y=80.0).array, array[0, 0], atol=1e-15)


def test_psf_restricted_to_a_box() -> None:
    psf = _psf()
    sub = psf[B[70:80, 75:125]]
    assert sub.bounds == BOUNDS[B[70:80, 75:125]]
    np.testing.assert_array_equal(sub.array, psf.array[0:1, 0:2])
    assert psf[BOUNDS.bbox] is psf


def test_cell_field() -> None:
    values = np.arange(6.0).reshape(2, 3)
    field = CellField(BOUNDS, values)
    assert field.value_in_cell(CellIJ(2, 3)) == 5.0
    assert field.quantity_in_cell(CellIJ(2, 3)) == 5.0 * u.dimensionless_unscaled
    with pytest.raises(BoundsError, match="missing"):
        field.value_in_cell(CellIJ(2, 1))
    with pytest.raises(BoundsError, match="out of bounds"):
        field.value_in_cell(CellIJ(0, 0))
    got = field(x=np.array([75.0, 130.0, 0.0, 200.0]), y=np.array([65.0, 65.0, 0.0, 130.0]))
    np.testing.assert_array_equal(got, [0.0, np.nan, np.nan, 5.0])
    assert field(x=75.0, y=65.0) == 0.0 and isinstance(field(x=75.0, y=65.0), float)
    rendered = field.render(B[100:112, 110:115]).array
    np.testing.assert_array_equal(rendered[:10], 0.0)
    assert np.isnan(rendered[10:]).all()  # rows 110, 111 are in missing cell (2, 1)
    assert field.render(dtype=np.float32).array.dtype == np.float32
    assert not field.is_constant
    assert CellField(BOUNDS, np.full((2, 3), 2.0)).is_constant
    scaled = field * 2.0 * u.nJy
    assert scaled.unit == u.nJy and scaled.value_in_cell(CellIJ(2, 3)) == 10.0
    assert (field / 2).value_in_cell(CellIJ(2, 3)) == 2.5
    assert field[B[120:130, 180:190]].value_in_cell(CellIJ(2, 3)) == 5.0
    with pytest.raises(ValueError, match="subgrid size"):
        CellField(BOUNDS, np.zeros((3, 3)))
    with pytest.raises(TypeError):
        hash(field)
    with pytest.raises(TypeError, match="cannot be serialized"):
        field.serialize(None)


def test_patch_definition() -> None:
    patch = PatchDefinition(id=3, index=YX(1, 2), inner_bbox=B[35:135, 45:195], cells=GRID)
    assert patch.outer_bbox == GRID.bbox
    assert PatchDefinition.model_validate({**patch.model_dump(), "index": {"y": 1, "x": 2}}) == patch


def test_provenance_tables_and_subsets() -> None:
    provenance = make_test_cell_coadd(missing=[(0, 1)]).provenance
    inputs, contributions = provenance.inputs, provenance.contributions
    assert inputs.colnames == ["instrument", "visit", "detector", "physical_filter", "day_obs", "polygon"]
    assert contributions["psf_shape_xx"].unit == u.pix**2
    assert inputs["visit"].dtype == np.uint64 and contributions["cell_i"].dtype == np.uint16
    sub = provenance.subset([CellIJ(1, 2), CellIJ(0, 0)])
    keys = list(zip(sub.contributions["cell_i"], sub.contributions["cell_j"], strict=True))
    assert keys == sorted(keys) and set(keys) == {(0, 0), (1, 2)}
    expected = np.isin(contributions["cell_i"] * 10 + contributions["cell_j"], [0, 12]).sum()
    assert len(sub.contributions) == expected
    # One input row per kept contribution (as lsst-images 4300 gives), sorted by visit.
    assert len(sub.inputs) == len(sub.contributions)
    assert list(sub.inputs["visit"]) == sorted(sub.contributions["visit"])
    assert provenance[CellIJ(0, 1)] is None  # missing cell: no contribution
    assert provenance.subset([]) is None
    with pytest.raises(ValueError, match="at least one input"):
        CoaddProvenance(CoaddProvenance.make_empty_input_table(0), contributions)
    assert repr(provenance) == "<CoaddProvenance(3 input images)>"
    assert provenance.copy() == provenance and provenance.copy().inputs is not inputs


def test_provenance_layout_columns() -> None:
    provenance = make_test_cell_coadd().provenance
    old = provenance.for_layout("2100")
    assert "unmasked_fraction" not in old.contributions.colnames
    assert provenance.for_layout("4300") is provenance
    again = old.for_layout("4300")
    names = again.contributions.colnames
    assert names.index("unmasked_fraction") == names.index("overlap_fraction") + 1
    assert np.isnan(again.contributions["unmasked_fraction"]).all()
