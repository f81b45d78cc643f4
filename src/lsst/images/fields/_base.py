"""Abstract base class shared by every bounded 2-d field."""

from __future__ import annotations

__all__ = ("BaseField",)

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from .._geom import XY, YX
from ..serialization._units import UnitText, resolved_unit

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds, Box
    from .._image import Image
else:
    from .._lazy import astropy_units as u

if TYPE_CHECKING:
    Factor = float | u.Quantity | u.UnitBase
else:
    Factor = object  # Names astropy classes only for type checkers: importing them costs ~0.2 s.


def split_factor(factor: Factor) -> tuple[float, u.UnitBase | None]:
    """Split a multiplicative factor into a plain scale and an optional unit.

    Fields accept floats, scalar quantities and bare units as factors; every
    concrete ``multiply_constant`` implementation needs the same two pieces
    (what to multiply the numbers by, and what to multiply the unit by), so
    the decomposition lives here once.
    """
    if isinstance(factor, u.Quantity):
        if not factor.isscalar:
            raise TypeError(f"Field factors must be scalar quantities; got shape {factor.shape}.")
        return float(factor.value), factor.unit
    if isinstance(factor, u.UnitBase):
        return 1.0, factor
    try:
        return float(factor), None
    except (TypeError, ValueError):
        raise TypeError(
            f"Field factors must be floats, scalar Quantities or units; got {type(factor).__name__}."
        ) from None


def invert_factor(factor: Factor) -> Factor:
    """Return the reciprocal of a factor (used by ``field / factor``)."""
    if isinstance(factor, u.UnitBase):
        return factor**-1
    return 1.0 / factor


def multiply_units(a: u.UnitBase | None, b: u.UnitBase | None) -> u.UnitBase | None:
    """Multiply two optional units, treating `None` as "no unit" rather than dimensionless."""
    if a is None:
        return b
    if b is None:
        return a
    return a * b


def as_coordinate_arrays(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert evaluation coordinates to float64 arrays broadcast against each other."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    return tuple(np.broadcast_arrays(xa, ya))  # type: ignore[return-value]


class BaseField(ABC):
    """A bounded 2-d function of pixel coordinates, with an optional unit.

    Fields are immutable: scaling (``multiply_constant``, ``*``, ``/``)
    returns a new field of the same kind, so fields can be shared freely
    between images, copies and subimages.

    Notes
    -----
    Evaluation does not check ``bounds``: the bounds record where the field
    is *valid*, which callers may use to mask results, but evaluating slightly
    outside (e.g. on a padded stamp) is legitimate and cheap to allow.
    """

    def _repr_html_(self) -> str:
        """Notebook display: a summary table (and a small thumbnail where there are pixels)."""
        from ..display._html import repr_html

        return repr_html(self)

    @property
    @abstractmethod
    def bounds(self) -> Bounds:
        """Validity region of this field (a `Bounds`)."""
        raise NotImplementedError()

    @property
    @abstractmethod
    def unit(self) -> u.UnitBase | None:
        """Unit of the values (an astropy unit), or `None` for plain numbers."""
        raise NotImplementedError()

    @abstractmethod
    def evaluate(self, *, x: np.ndarray, y: np.ndarray, quantity: bool = False) -> np.ndarray | u.Quantity:
        """Evaluate the field at arbitrary points.

        Parameters
        ----------
        x, y
            Column and row coordinates (absolute pixel coordinates); they are
            broadcast against each other.
        quantity
            If `True`, return an `u.Quantity` in the field's unit
            (dimensionless when the field has no unit).

        Returns
        -------
        numpy.ndarray | u.Quantity
            Values with the broadcast shape of ``x`` and ``y``.
        """
        raise NotImplementedError()

    @abstractmethod
    def multiply_constant(self, factor: Factor) -> Self:
        """Return a new field of the same kind scaled by ``factor``.

        Parameters
        ----------
        factor
            A float, a scalar `u.Quantity` or an astropy unit; any
            unit is multiplied into the field's unit.
        """
        raise NotImplementedError()

    def render(self, bbox: Box | None = None, *, dtype: np.typing.DTypeLike | None = None) -> Image:
        """Evaluate the field on every pixel of a box.

        Parameters
        ----------
        bbox
            Pixels to evaluate (absolute coordinates); defaults to
            ``self.bounds.bbox``.
        dtype
            Pixel type of the result (default float64).

        Returns
        -------
        Image
            Image with the field's unit and the requested bbox.
        """
        from .._image import Image

        if bbox is None:
            bbox = self.bounds.bbox
        array = self._render_array(bbox)
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return Image(array, bbox=bbox, unit=self.unit)

    def _render_array(self, bbox: Box) -> np.ndarray:
        """Return the float64 values on every pixel of ``bbox``.

        The default evaluates every pixel centre; subclasses override this to
        exploit the structure of their model (separability, grids).
        """
        ys = np.arange(bbox.y.start, bbox.y.stop, dtype=np.float64)
        xs = np.arange(bbox.x.start, bbox.x.stop, dtype=np.float64)
        return np.asarray(self.evaluate(x=xs[np.newaxis, :], y=ys[:, np.newaxis], quantity=False))

    def _finish(self, values: Any, quantity: bool) -> np.ndarray | u.Quantity:
        """Attach the field's unit to computed values when a quantity was requested."""
        if quantity:
            unit = self.unit if self.unit is not None else u.dimensionless_unscaled
            return u.Quantity(np.asarray(values), unit, copy=False)
        return values

    def __call__(
        self,
        point: XY[Any] | YX[Any] | None = None,
        /,
        *,
        x: Any = None,
        y: Any = None,
        quantity: bool = False,
    ) -> float | np.ndarray | u.Quantity:
        """Evaluate the field: `evaluate` with the 4300 calling conventions added.

        Parameters
        ----------
        point
            An `XY` or `YX` of coordinates (scalars or arrays), instead of ``x``/``y``.
        x, y
            Column and row coordinates (absolute pixel coordinates).
        quantity
            Whether to return an `u.Quantity`.

        Returns
        -------
        float | numpy.ndarray | u.Quantity
            A `float` (or scalar quantity) for scalar coordinates, else an array.

        Raises
        ------
        TypeError
            If both or neither of ``point`` and the ``x``/``y`` pair are given.
        """
        if point is not None:
            if x is not None or y is not None:
                raise TypeError("Pass either a point or x= and y=, not both.")
            if isinstance(point, YX):
                y, x = point
            elif isinstance(point, XY):
                x, y = point
            else:
                raise TypeError(f"point must be an XY or a YX, not {type(point).__name__}.")
        if x is None or y is None:
            raise TypeError("Both x= and y= (or a point) are needed to evaluate a field.")
        values = self.evaluate(x=x, y=y, quantity=quantity)
        if np.ndim(values) == 0 and not quantity:
            return float(values)
        return values

    def __mul__(self, factor: Factor) -> Self:
        if isinstance(factor, BaseField):
            return NotImplemented
        return self.multiply_constant(factor)

    def __rmul__(self, factor: Factor) -> Self:
        if isinstance(factor, BaseField):
            return NotImplemented
        return self.multiply_constant(factor)

    def __truediv__(self, factor: Factor) -> Self:
        if isinstance(factor, BaseField):
            return NotImplemented
        return self.multiply_constant(invert_factor(factor))


class StoredUnitMixin:
    """The ``unit`` of a field that keeps it as a `stored_unit` in ``_unit``.

    A unit read from a file stays validated text (`~lsst.images.serialization.UnitText`)
    until somebody asks for it, so reading a field never imports astropy; asking gives
    the astropy unit (parsed once, then kept).  Listed before `BaseField` in the bases.
    """

    _unit: u.UnitBase | UnitText | None

    @property
    def unit(self) -> u.UnitBase | None:
        """Unit of the values (an astropy unit), or `None` for plain numbers."""
        self._unit = resolved_unit(self._unit)
        return self._unit
