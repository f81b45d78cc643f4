"""`CellField`: a field that is constant within each cell (per-cell aperture corrections)."""

from __future__ import annotations

__all__ = ("CellField",)

from typing import TYPE_CHECKING, Any, Self

import numpy as np

from .._geom import BoundsError, Box
from ..fields import BaseField
from ..fields._base import Factor, StoredUnitMixin, as_coordinate_arrays, multiply_units, split_factor
from ..serialization._units import stored_unit, units_equal
from ._cell_ij import CellIJ
from ._grid import CellGridBounds

if TYPE_CHECKING:
    import astropy.units as u

    from ..serialization import OutputArchive
else:
    from .._lazy import astropy_units as u


class CellField(StoredUnitMixin, BaseField):
    """A `BaseField` with one value per cell of a `CellGridBounds`.

    Evaluating it at a point gives the value of the cell holding the point, and NaN
    outside ``bounds`` (outside its bbox or in a missing cell).

    Parameters
    ----------
    bounds
        The cells (with the missing ones) the values belong to.
    array
        ``bounds.subgrid_size`` values (NaN for missing cells); stored as read-only
        float64.
    unit
        Unit of the values, or `None`.

    Raises
    ------
    ValueError
        If the array shape differs from the subgrid size.

    Notes
    -----
    Cell fields cannot be serialized one by one: only a mapping of them that shares
    one cell grid (a coadd's aperture corrections) is stored, as a table.
    """

    def __init__(self, bounds: CellGridBounds, array: Any, unit: u.UnitBase | None = None) -> None:
        values = np.array(array, dtype=np.float64)
        size = bounds.subgrid_size
        if values.shape != (size.i, size.j):
            raise ValueError(f"Array shape ({values.shape}) differs from subgrid size ({size}).")
        values.flags.writeable = False
        self._bounds = bounds
        self._array = values
        self._unit = stored_unit(unit)

    # -- properties ---------------------------------------------------------------

    @property
    def bounds(self) -> CellGridBounds:
        """The cells the values belong to."""
        return self._bounds

    @property
    def array(self) -> np.ndarray:
        """The read-only ``(n_i, n_j)`` values."""
        return self._array

    @property
    def is_constant(self) -> bool:
        """Whether every present cell holds the same value."""
        values = self._array[self._bounds.present]
        return bool(values.size and np.all(values == values[0]))

    # -- per-cell access --------------------------------------------------------------

    def value_in_cell(self, cell: CellIJ) -> float:
        """Return the value of one cell.

        Raises
        ------
        BoundsError
            If the cell is missing or not in the bounds.
        """
        bounds = self._bounds
        start, stop = bounds.subgrid_start, bounds.subgrid_stop
        if not (start.i <= cell.i < stop.i and start.j <= cell.j < stop.j):
            raise BoundsError(f"Cell {cell!r} is out of bounds for this field.")
        if cell in bounds.missing:
            raise BoundsError(f"Cell {cell!r} is missing for this field.")
        return float(self._array[cell.i - start.i, cell.j - start.j])

    def quantity_in_cell(self, cell: CellIJ) -> u.Quantity:
        """Return the value of one cell with the field's unit (dimensionless without one)."""
        unit = self.unit if self._unit is not None else u.dimensionless_unscaled
        return u.Quantity(self.value_in_cell(cell), unit)

    def __getitem__(self, box: Box) -> CellField:
        """Return the field of just the cells that overlap ``box`` (snapped outward).

        Raises
        ------
        ValueError
            If ``box`` is not inside ``bounds.bbox``.
        """
        sub = self._bounds[box]
        return self.restricted(sub)

    def restricted(self, sub: CellGridBounds) -> CellField:
        """Return the field on a block of cells inside `bounds` (missing cells taken from ``sub``)."""
        if sub == self._bounds:
            return self
        si, sj = self._bounds.cells_slices(sub)
        return CellField(sub, self._array[si, sj], unit=self._unit)

    # -- BaseField interface --------------------------------------------------------------

    def evaluate(self, *, x: Any, y: Any, quantity: bool = False) -> Any:
        """Return the value of the cell holding each point, NaN outside the present cells.

        Scalar coordinates give a float (or scalar quantity), arrays an array of their
        broadcast shape.
        """
        xa, ya = as_coordinate_arrays(x, y)
        inside = np.asarray(self._bounds.contains(x=xa, y=ya), dtype=bool)
        cell = self._bounds.grid.index_of(
            y=np.floor(ya + 0.5).astype(np.int64), x=np.floor(xa + 0.5).astype(np.int64)
        )
        start, size = self._bounds.subgrid_start, self._bounds.subgrid_size
        di = np.clip(np.asarray(cell.i) - start.i, 0, size.i - 1)
        dj = np.clip(np.asarray(cell.j) - start.j, 0, size.j - 1)
        values = np.where(inside, self._array[di, dj], np.nan)
        if values.ndim == 0:
            values = float(values)
        return self._finish(values, quantity)

    def _render_array(self, bbox: Box) -> np.ndarray:
        ys = np.arange(bbox.y.start, bbox.y.stop)
        xs = np.arange(bbox.x.start, bbox.x.stop)
        return np.asarray(self.evaluate(x=xs[np.newaxis, :], y=ys[:, np.newaxis]))

    def multiply_constant(self, factor: Factor) -> Self:
        """Return the field scaled by a float, a scalar quantity or a unit."""
        scale, unit = split_factor(factor)
        return type(self)(self._bounds, self._array * scale, unit=multiply_units(self.unit, unit))

    @staticmethod
    def from_legacy_aperture_correction(legacy: Any, bounds: CellGridBounds) -> CellField:
        """A `CellField` from a legacy per-cell container of one value per cell (``Index2D`` keys)."""
        from ._legacy import cell_field_from_legacy

        return cell_field_from_legacy(legacy, bounds)

    def serialize(self, archive: OutputArchive[Any]) -> Any:
        """Not supported: see the class notes."""
        raise TypeError(
            "A CellField cannot be serialized on its own; store it in a CellCoadd's aperture_corrections."
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellField):
            return NotImplemented
        return (
            self._bounds == other._bounds
            and units_equal(self._unit, other._unit)
            and np.array_equal(self._array, other._array, equal_nan=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<CellField over {self._bounds}>"
