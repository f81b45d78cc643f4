"""2-d Chebyshev polynomial fields."""

from __future__ import annotations

__all__ = ("ChebyshevField",)

from typing import TYPE_CHECKING, Any

import numpy as np

from ..serialization._units import stored_unit
from ._base import BaseField, Factor, StoredUnitMixin, as_coordinate_arrays, multiply_units, split_factor

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds, Box
    from ..serialization import OutputArchive
    from ._models import ChebyshevFieldSerializationModel
else:
    from .._lazy import astropy_units as u


def _remap(coord: np.ndarray, start: int, size: int) -> np.ndarray:
    """Map pixel coordinates onto [-1, 1] over ``[start - 0.5, start + size - 0.5]``.

    The interval is the box grown by half a pixel, so the outer pixel *edges*
    (not the outer pixel centres) land on ±1.  The exact floating-point form
    ``(c - centre) * (2 / size)`` matters: it is what makes our values
    bit-identical with files written by the reference implementation.
    """
    return (coord - (start + size / 2 - 0.5)) * (2 / size)


def _clenshaw_rows_then_columns(coefficients: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Evaluate ``chebval2d`` on the outer-product grid of ``v`` (rows) and ``u`` (columns).

    A full-grid ``chebval2d`` runs Clenshaw's recurrence along the y order on
    every pixel, although those values depend on the row only.  We run that
    first recurrence once per row (1-d), then the x recurrence over the grid.
    The arithmetic per pixel is exactly the one numpy performs, so results are
    bit-identical, at a fraction of the cost.
    """
    # Sums over p for each q, one value per row: shape (n_x, n_rows).
    from numpy.polynomial import chebyshev  # (imported on first use: keeps import lsst.images light)

    per_row = chebyshev.chebval(v, coefficients)
    rows = [r[:, np.newaxis] for r in per_row]
    x = u[np.newaxis, :]
    shape = (v.size, u.size)
    n = len(rows)
    if n == 1:
        return np.broadcast_to(rows[0], shape).copy()
    if n == 2:
        return rows[0] + rows[1] * x
    x2 = 2 * x
    c0 = rows[-2]
    c1 = rows[-1]
    for i in range(3, n + 1):
        previous = c0
        c0 = rows[-i] - c1
        c1 = c1 * x2
        c1 += previous
    result = c1 * x
    result += c0
    return result


class ChebyshevField(StoredUnitMixin, BaseField):
    """A 2-d Chebyshev polynomial (first kind) over a rectangle.

    Parameters
    ----------
    bounds
        Validity region; its bbox (grown by half a pixel) is mapped onto
        [-1, 1] in both directions.
    coefficients
        2-d array: ``coefficients[p, q]`` multiplies ``T_p(y') T_q(x')``
        (rows are the y order, columns the x order).  A 1-d array of length
        ``n`` is one row, ``T_0(y') T_q(x')`` for ``q < n`` (so shape ``(1,)``
        is a constant); it keeps its shape, also through serialization.  The
        array is stored read-only, without a copy when it is already float64.
    unit
        Unit of the values, or `None`.

    Notes
    -----
    Rubin's implementation accepts 1-d coefficients too (its tests build
    constant aperture corrections as ``ChebyshevField(bbox, np.array([0.75]))``)
    but evaluates them as if they were 2-d, which gives values that depend on
    the number of points; here they are the single row described above.
    """

    def __init__(self, bounds: Bounds, coefficients: np.ndarray, *, unit: u.UnitBase | None = None):
        coefficients = np.asarray(coefficients, dtype=np.float64).view()
        if coefficients.ndim not in (1, 2) or coefficients.size == 0:
            raise ValueError(
                "Chebyshev coefficients must be a non-empty 1-d or 2-d array; "
                f"got shape {coefficients.shape}."
            )
        coefficients.flags.writeable = False
        self._bounds = bounds
        self._coefficients = coefficients
        # The 2-d matrix every evaluation uses (a view: a 1-d array is its single row).
        self._matrix = coefficients.reshape(1, -1) if coefficients.ndim == 1 else coefficients
        self._unit = stored_unit(unit)

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @property
    def coefficients(self) -> np.ndarray:
        """Read-only coefficients as given: 2-d (rows = y order, columns = x order) or one 1-d row."""
        return self._coefficients

    @property
    def x_order(self) -> int:
        """Highest polynomial order in x (number of columns - 1)."""
        return self._matrix.shape[1] - 1

    @property
    def y_order(self) -> int:
        """Highest polynomial order in y (number of rows - 1; 0 for 1-d coefficients)."""
        return self._matrix.shape[0] - 1

    @property
    def order(self) -> int:
        """Maximum of `x_order` and `y_order`."""
        return max(self.x_order, self.y_order)

    def _map_x(self, x: np.ndarray) -> np.ndarray:
        bbox = self._bounds.bbox
        return _remap(x, bbox.x.start, bbox.x.size)

    def _map_y(self, y: np.ndarray) -> np.ndarray:
        bbox = self._bounds.bbox
        return _remap(y, bbox.y.start, bbox.y.size)

    def evaluate(self, *, x: np.ndarray, y: np.ndarray, quantity: bool = False) -> np.ndarray | u.Quantity:
        xa, ya = as_coordinate_arrays(x, y)
        from numpy.polynomial import chebyshev

        values = chebyshev.chebval2d(self._map_y(ya), self._map_x(xa), self._matrix)
        return self._finish(values, quantity)

    def _render_array(self, bbox: Box) -> np.ndarray:
        v = self._map_y(np.arange(bbox.y.start, bbox.y.stop, dtype=np.float64))
        u = self._map_x(np.arange(bbox.x.start, bbox.x.stop, dtype=np.float64))
        return _clenshaw_rows_then_columns(self._matrix, v, u)

    def multiply_constant(self, factor: Factor) -> ChebyshevField:
        scale, unit = split_factor(factor)
        return ChebyshevField(self._bounds, self._coefficients * scale, unit=multiply_units(self.unit, unit))

    @staticmethod
    def fit(
        bounds: Bounds,
        data: np.ndarray | u.Quantity,
        order: int | None = None,
        *,
        y: np.ndarray,
        x: np.ndarray,
        weight: np.ndarray | None = None,
        y_order: int | None = None,
        x_order: int | None = None,
        triangular: bool = True,
        unit: u.UnitBase | None = None,
    ) -> ChebyshevField:
        """Fit a Chebyshev field to data by weighted linear least squares.

        Parameters
        ----------
        bounds
            Validity region of the result (its bbox defines the coordinate
            mapping).
        data
            Values to fit: either a 2-d grid of shape ``(len(y), len(x))``
            with 1-d ``x``/``y`` axes, or per-point values with ``x``/``y`` of
            the same shape.  A `~astropy.units.Quantity` sets the unit.
        order
            Maximum order in both directions (exclusive with ``x_order`` /
            ``y_order``, which must then both be given).
        y, x
            Coordinates of the data (absolute pixel coordinates).
        weight
            Optional per-point weights multiplying each residual (i.e.
            inverse standard deviations, not inverse variances),
            broadcastable to ``data``.
        y_order, x_order
            Separate maximum orders.
        triangular
            If `True`, only keep terms with ``p + q <= max(x_order, y_order)``.
        unit
            Unit of the result when ``data`` is a plain array.

        Returns
        -------
        ChebyshevField
            The fitted field.  Points where the data, coordinates or weights
            are not finite are ignored.
        """
        if order is not None:
            if x_order is not None or y_order is not None:
                raise TypeError("Either 'order' (only) or both 'x_order' and 'y_order' must be provided.")
            x_order = y_order = int(order)
        elif x_order is None or y_order is None:
            raise TypeError("Either 'order' (only) or both 'x_order' and 'y_order' must be provided.")
        if x_order < 0 or y_order < 0:
            raise ValueError(
                f"Chebyshev orders must be non-negative; got x_order={x_order}, y_order={y_order}."
            )
        if isinstance(data, u.Quantity):
            if unit is not None:
                raise TypeError("If 'data' is a Quantity, 'unit' cannot be provided separately.")
            unit = data.unit
            data = data.value
        points = _fit_points(
            np.asarray(data, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
            np.asarray(x, dtype=np.float64),
            weight,
        )
        d, ya, xa, w = points
        bbox = bounds.bbox
        v = _remap(ya, bbox.y.start, bbox.y.size)
        u_x = _remap(xa, bbox.x.start, bbox.x.size)
        from numpy.polynomial import chebyshev

        vy = chebyshev.chebvander(v, y_order)  # (n, y_order + 1)
        vx = chebyshev.chebvander(u_x, x_order)  # (n, x_order + 1)
        p_index, q_index = np.meshgrid(np.arange(y_order + 1), np.arange(x_order + 1), indexing="ij")
        keep = np.ones(p_index.shape, dtype=bool)
        if triangular:
            keep = (p_index + q_index) <= max(x_order, y_order)
        ps = p_index[keep]
        qs = q_index[keep]
        design = vy[:, ps] * vx[:, qs]
        if d.size < len(ps):
            raise ValueError(f"Not enough finite data points ({d.size}) to fit {len(ps)} Chebyshev terms.")
        solution, *_ = np.linalg.lstsq(design * w[:, np.newaxis], d * w, rcond=None)
        coefficients = np.zeros((y_order + 1, x_order + 1), dtype=np.float64)
        coefficients[ps, qs] = solution
        return ChebyshevField(bounds, coefficients, unit=unit)

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[ChebyshevFieldSerializationModel]:
        """Return the model to parse for a Chebyshev field stored on its own (any pointer type)."""
        from ._models import ChebyshevFieldSerializationModel

        return ChebyshevFieldSerializationModel

    def serialize(self, archive: OutputArchive[Any]) -> ChebyshevFieldSerializationModel:
        """Return the pydantic model describing this field (coefficients are stored inline)."""
        from ._models import ChebyshevFieldSerializationModel

        return ChebyshevFieldSerializationModel(
            bounds=self._bounds.serialize(), coefficients=self._coefficients, unit=self._unit
        )

    @staticmethod
    def from_legacy(
        legacy: Any, unit: u.UnitBase | None = None, bounds: Bounds | None = None
    ) -> ChebyshevField:
        """Convert an afw ``ChebyshevBoundedField`` (needs the legacy stack at run time)."""
        from ._legacy import chebyshev_from_legacy

        return chebyshev_from_legacy(legacy, unit=unit, bounds=bounds)

    @staticmethod
    def from_legacy_background(
        legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
    ) -> ChebyshevField:
        """Convert an afw ``BackgroundMI`` that used a Chebyshev approximation."""
        from ._legacy import chebyshev_from_legacy_background

        return chebyshev_from_legacy_background(legacy_background, bounds=bounds, unit=unit)

    def to_legacy(self) -> Any:
        """Convert to an afw ``ChebyshevBoundedField`` (needs the legacy stack at run time)."""
        from ._legacy import chebyshev_to_legacy

        return chebyshev_to_legacy(self)

    def __repr__(self) -> str:
        return f"ChebyshevField({self._bounds!r}, {self._coefficients.tolist()!r}, unit={self.unit!r})"


def _fit_points(
    data: np.ndarray, y: np.ndarray, x: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flatten fit inputs to 1-d finite points ``(data, y, x, weight)``.

    Gridded data (2-d data with 1-d axes whose lengths match its shape) are
    expanded to one point per grid cell; anything else is broadcast point by
    point.
    """
    if data.ndim == 2 and x.ndim == 1 and y.ndim == 1 and data.shape == (y.size, x.size):
        y, x = np.meshgrid(y, x, indexing="ij")
    try:
        if weight is None:
            data, y, x = np.broadcast_arrays(data, y, x)
            w = np.ones(data.shape, dtype=np.float64)
        else:
            data, y, x, w = np.broadcast_arrays(data, y, x, np.asarray(weight, dtype=np.float64))
    except ValueError:
        raise ValueError(
            f"Cannot match fit data of shape {data.shape} with x {x.shape}, y {y.shape}"
            + ("" if weight is None else f" and weight {np.shape(weight)}")
            + "."
        ) from None
    data, y, x, w = (a.ravel() for a in (data, y, x, w))
    good = np.isfinite(data) & np.isfinite(y) & np.isfinite(x) & np.isfinite(w)
    return data[good], y[good], x[good], w[good]
