"""Fields interpolating a regular grid of samples with Akima splines."""

from __future__ import annotations

__all__ = ("SplineField",)

from typing import TYPE_CHECKING, Any

import numpy as np

from ..serialization._units import stored_unit
from ._base import BaseField, Factor, StoredUnitMixin, as_coordinate_arrays, multiply_units, split_factor

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds, Box
    from ..serialization import OutputArchive
    from ._models import SplineFieldSerializationModel
else:
    from .._lazy import astropy_units as u


#: Number of distinct rows whose x splines `SplineField.evaluate` builds at once.
_CHUNK = 1 << 16


class _ColumnSplines:
    """The y-direction Akima splines of every grid column that has data.

    Columns are grouped by their pattern of finite samples, so the common case
    (no missing values) needs a single vector-valued SciPy interpolator
    instead of one per column; the per-column arithmetic is identical either
    way.
    """

    def __init__(self, data: np.ndarray, y: np.ndarray, x: np.ndarray):
        from scipy.interpolate import Akima1DInterpolator

        finite = np.isfinite(data)
        counts = finite.sum(axis=0)
        # Columns without any sample carry no information and are skipped in
        # the x direction too (treated as missing).
        used = np.flatnonzero(counts > 0)
        lonely = used[counts[used] < 2]
        if lonely.size:
            raise ValueError(
                f"Spline grid column(s) {lonely.tolist()} have a single finite value; "
                "at least two are needed to interpolate along y."
            )
        if used.size < 2:
            raise ValueError(
                f"Spline grid has {used.size} column(s) with data; at least two are needed along x."
            )
        self.x = x[used]
        self.groups: list[tuple[np.ndarray, Any]] = []
        patterns, inverse = np.unique(finite[:, used].T, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        for index, pattern in enumerate(patterns):
            members = np.flatnonzero(inverse == index)  # positions within `used`
            rows = np.flatnonzero(pattern)
            interpolator = Akima1DInterpolator(
                y[rows], data[np.ix_(rows, used[members])], axis=0, extrapolate=True
            )
            self.groups.append((members, interpolator))
        self.n_used = used.size

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """Return the column splines at 1-d ``y``: shape ``(len(y), n_used)``."""
        result = np.empty((y.size, self.n_used), dtype=np.float64)
        for members, interpolator in self.groups:
            result[:, members] = interpolator(y)
        return result


def _evaluate_rows(nodes: np.ndarray, rows: np.ndarray, row_index: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Evaluate per-point Akima splines along x.

    Point ``i`` is interpolated through ``(nodes, rows[row_index[i]])`` at
    ``x[i]``.  SciPy builds one vector-valued spline over all the distinct
    rows at once; each point then uses the cubic of its own row and of the
    interval containing its ``x`` (the same arithmetic SciPy's evaluation
    performs, so results are identical to evaluating each row's spline).
    """
    from scipy.interpolate import Akima1DInterpolator

    spline = Akima1DInterpolator(nodes, rows.T, axis=0, extrapolate=True)
    coefficients = spline.c  # (4, n_intervals, n_rows)
    breaks = spline.x
    interval = np.clip(np.searchsorted(breaks, x, side="right") - 1, 0, breaks.size - 2)
    s = x - breaks[interval]
    result = np.zeros(x.size, dtype=np.float64)
    power = np.ones(x.size, dtype=np.float64)
    degree = coefficients.shape[0] - 1
    for k in range(degree + 1):
        result += coefficients[degree - k, interval, row_index] * power
        power *= s
    return result


class SplineField(StoredUnitMixin, BaseField):
    """A 2-d Akima spline through values given on a regular grid.

    Parameters
    ----------
    bounds
        Validity region.
    data
        Grid values with shape ``(len(y), len(x))``; NaN marks a missing
        sample.
    y
        Strictly increasing row coordinates of the grid.
    x
        Strictly increasing column coordinates of the grid.
    unit
        Unit of the values, or `None`.

    Notes
    -----
    The value at ``(x, y)`` is obtained by interpolating every grid column
    along y with a 1-d Akima spline through its finite samples (columns with
    no finite sample are dropped), then interpolating those column values
    along x with another Akima spline.  Both splines extrapolate with their
    end cubics outside the grid.
    """

    def __init__(
        self,
        bounds: Bounds,
        data: np.ndarray,
        *,
        y: np.ndarray,
        x: np.ndarray,
        unit: u.UnitBase | None = None,
    ):
        data = np.asarray(data)
        y = np.asarray(y)
        x = np.asarray(x)
        if y.ndim != 1 or x.ndim != 1:
            raise ValueError(f"Spline grid coordinates must be 1-d; got y {y.shape} and x {x.shape}.")
        if data.shape != (y.size, x.size):
            raise ValueError(
                f"Spline data shape {data.shape} does not match the grid (len(y), len(x)) = "
                f"{(y.size, x.size)}."
            )
        for name, axis in (("y", y), ("x", x)):
            if axis.size > 1 and not np.all(np.diff(axis) > 0):
                raise ValueError(f"Spline grid coordinates {name} must be strictly increasing.")
        self._bounds = bounds
        self._data = data
        self._y = y
        self._x = x
        self._unit = stored_unit(unit)
        self._columns: _ColumnSplines | None = None

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @property
    def data(self) -> np.ndarray:
        """Grid values with shape ``(len(y), len(x))``."""
        return self._data

    @property
    def y(self) -> np.ndarray:
        """Grid row coordinates (first data axis)."""
        return self._y

    @property
    def x(self) -> np.ndarray:
        """Grid column coordinates (second data axis)."""
        return self._x

    def __getstate__(self) -> dict[str, Any]:
        # The spline setup is a cache; rebuild it after unpickling.
        state = self.__dict__.copy()
        state["_columns"] = None
        return state

    def _column_splines(self) -> _ColumnSplines:
        # Built lazily: constructing a field (e.g. when reading a file) should
        # not pay for SciPy or the spline setup until it is evaluated.
        if self._columns is None:
            self._columns = _ColumnSplines(
                np.asarray(self._data, dtype=np.float64),
                np.asarray(self._y, dtype=np.float64),
                np.asarray(self._x, dtype=np.float64),
            )
        return self._columns

    def evaluate(self, *, x: np.ndarray, y: np.ndarray, quantity: bool = False) -> np.ndarray | u.Quantity:
        xa, ya = as_coordinate_arrays(x, y)
        shape = xa.shape
        columns = self._column_splines()
        flat_x = xa.ravel()
        flat_y = ya.ravel()
        values = np.empty(flat_x.size, dtype=np.float64)
        # Splines are built once per distinct y (grids share rows), in chunks
        # of rows to bound the memory of the coefficient arrays.
        unique_y, inverse = np.unique(flat_y, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(0, unique_y.size + _CHUNK, _CHUNK))
        for chunk, (first, last) in enumerate(zip(bounds[:-1], bounds[1:], strict=False)):
            if first == last:
                continue
            points = order[first:last]
            rows = columns(unique_y[chunk * _CHUNK : (chunk + 1) * _CHUNK])
            values[points] = _evaluate_rows(columns.x, rows, inverse[points] - chunk * _CHUNK, flat_x[points])
        return self._finish(values.reshape(shape), quantity)

    def _render_array(self, bbox: Box) -> np.ndarray:
        from scipy.interpolate import Akima1DInterpolator

        columns = self._column_splines()
        ys = np.arange(bbox.y.start, bbox.y.stop, dtype=np.float64)
        xs = np.arange(bbox.x.start, bbox.x.stop, dtype=np.float64)
        at_rows = columns(ys)  # (n_rows, n_used)
        # One vector-valued spline along x per row, evaluated on all columns.
        along_x = Akima1DInterpolator(columns.x, at_rows.T, axis=0, extrapolate=True)
        return np.ascontiguousarray(along_x(xs).T)

    def multiply_constant(self, factor: Factor) -> SplineField:
        scale, unit = split_factor(factor)
        return SplineField(
            self._bounds, self._data * scale, y=self._y, x=self._x, unit=multiply_units(self.unit, unit)
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[SplineFieldSerializationModel]:
        """Return the model to parse for a spline field stored on its own (any pointer type)."""
        from ._models import SplineFieldSerializationModel

        return SplineFieldSerializationModel

    def serialize(self, archive: OutputArchive[Any]) -> SplineFieldSerializationModel:
        """Store the grid values as an archive array named ``data`` and return the model."""
        from ._models import SplineFieldSerializationModel

        data_ref = archive.add_array(np.asarray(self._data, dtype=np.float64), name="data")
        return SplineFieldSerializationModel(
            bounds=self._bounds.serialize(),
            data=data_ref,
            y=np.asarray(self._y, dtype=np.float64),
            x=np.asarray(self._x, dtype=np.float64),
            unit=self._unit,
        )

    @staticmethod
    def from_legacy_background(
        legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
    ) -> SplineField:
        """Convert an afw ``BackgroundMI`` that used spline interpolation (needs the legacy stack)."""
        from ._legacy import spline_from_legacy_background

        return spline_from_legacy_background(legacy_background, bounds=bounds, unit=unit)

    def __repr__(self) -> str:
        return (
            f"SplineField({self._bounds!r}, <data {self._data.shape}>, y={self._y.tolist()!r}, "
            f"x={self._x.tolist()!r}, unit={self.unit!r})"
        )
