"""Integer pixel geometry: boxes, coordinate pairs and slicing helpers (`Interval` is in `._interval`).

Everything in this module works in *pixel-centre* integer coordinates.  An
`Interval` is a half-open range ``[start, stop)`` and a `Box` is the product of
a row (``y``) interval and a column (``x``) interval, always given in ``(y, x)``
order to match numpy's array indexing.  Points given as floats are tested for
containment with a half-pixel margin, because a pixel with integer centre ``i``
covers ``[i - 0.5, i + 0.5]``.

Two flavours of slicing are offered so that callers never have to mentally
subtract origins:

* ``absolute`` slices use the same coordinates as the box itself (a negative
  number is simply a negative coordinate);
* ``local`` slices are relative to ``start`` and behave like Python sequence
  indexing (negative numbers count from the end, out-of-range stops are
  clipped).
"""

from __future__ import annotations

__all__ = (
    "AbsoluteSliceProxy",
    "Bounds",
    "BoundsError",
    "Box",
    "BoxSliceFactory",
    "Interval",
    "IntervalSliceFactory",
    "LocalSliceProxy",
    "NoOverlapError",
    "XY",
    "YX",
)

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar, runtime_checkable

import numpy as np
import pydantic

from ._interval import (
    _FREE_INTERVAL_FACTORY,
    Interval,
    IntervalSliceFactory,
    NoOverlapError,
    _as_int,
    _import_legacy_geom,
    _serialize_interval,
    _SerializedInterval,
    _value_type_schema,
)

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

T = TypeVar("T")
U = TypeVar("U")
_P = TypeVar("_P")


class BoundsError(ValueError):
    """Raised when something is evaluated outside the region where it is valid."""


class XY(NamedTuple, Generic[T]):
    """A pair of values in ``(x, y)`` order.

    Named tuples make the axis order explicit at call sites, which matters
    because this package otherwise uses ``(y, x)`` ordering everywhere.
    """

    x: T
    y: T

    def map(self, func: Callable[[T], U]) -> XY[U]:
        """Apply ``func`` to both elements and return a new `XY`."""
        return XY(func(self.x), func(self.y))

    @property
    def yx(self) -> YX[T]:
        """The same values in ``(y, x)`` order."""
        return YX(self.y, self.x)


class YX(NamedTuple, Generic[T]):
    """A pair of values in ``(y, x)`` order (numpy's axis order)."""

    y: T
    x: T

    def map(self, func: Callable[[T], U]) -> YX[U]:
        """Apply ``func`` to both elements and return a new `YX`."""
        return YX(func(self.y), func(self.x))

    @property
    def xy(self) -> XY[T]:
        """The same values in ``(x, y)`` order."""
        return XY(self.x, self.y)


def split_point(point: Any) -> tuple[Any, Any]:
    """Return ``(x, y)`` of an `XY` or `YX` point (the 4300 positional point arguments).

    Raises
    ------
    TypeError
        If ``point`` is neither.
    """
    if isinstance(point, YX):
        return point.x, point.y
    if isinstance(point, XY):
        return point.x, point.y
    raise TypeError(f"A point must be an XY or a YX, not {type(point).__name__}.")


def _as_yx_pair(value: Any, what: str) -> YX[int]:
    """Interpret a 2-element sequence as ``(y, x)``, honouring `XY`/`YX` types."""
    if isinstance(value, XY):
        return YX(_as_int(value.y, what), _as_int(value.x, what))
    if isinstance(value, YX):
        return YX(_as_int(value.y, what), _as_int(value.x, what))
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{what} must be a 2-element sequence; got {value!r}.")
    if len(value) != 2:
        raise ValueError(f"Invalid sequence for {what}: {tuple(value)!r}.")
    return YX(_as_int(value[0], what), _as_int(value[1], what))


@runtime_checkable
class Bounds(Protocol):
    """Validity region of a function in pixel coordinates.

    Implemented by `Box` and by region types; functions (fields, PSFs) use it to
    decide where they may be evaluated.
    """

    @property
    def bbox(self) -> Box:
        """Integer bounding box of the region."""
        ...

    def contains(self, *, x: Any, y: Any) -> Any:
        """Test whether points lie in the region."""
        ...

    def intersection(self, other: Bounds) -> Bounds:
        """Region common to both bounds."""
        ...

    def serialize(self) -> Any:
        """Return a pydantic-serializable representation."""
        ...


class BoxSliceFactory:
    """Turn ``[ys, xs]`` slice syntax into `Box` objects.

    Parameters
    ----------
    y
        Factory for the row axis.
    x
        Factory for the column axis.
    """

    def __init__(
        self,
        y: IntervalSliceFactory = _FREE_INTERVAL_FACTORY,
        x: IntervalSliceFactory = _FREE_INTERVAL_FACTORY,
    ):
        # The free factory is stateless, so sharing one default instance is safe.
        self._y = y
        self._x = x

    def __getitem__(self, key: tuple[slice, slice]) -> Box:
        if isinstance(key, XY):
            key_yx: tuple[Any, ...] = (key.y, key.x)
        elif isinstance(key, tuple):
            key_yx = key
        else:
            raise TypeError("Expected exactly two slices.")
        if len(key_yx) != 2:
            raise TypeError("Expected exactly two slices.")
        return Box(self._y[key_yx[0]], self._x[key_yx[1]])


# The serialized form of Box (see `._interval` for Interval's): a pydantic model rather than
# a plain dict schema, so the JSON schema gets a stable, named definition.
class _SerializedBox(pydantic.BaseModel):
    y: _SerializedInterval
    x: _SerializedInterval


def _serialize_box(box: Box) -> _SerializedBox:
    return _SerializedBox(y=_serialize_interval(box.y), x=_serialize_interval(box.x))


class Box:
    """Immutable axis-aligned integer rectangle: a ``y`` and an ``x`` `Interval`.

    Parameters
    ----------
    y
        Row interval.
    x
        Column interval.

    Notes
    -----
    A `Box` is its own `Bounds` implementation, and can be used directly as a
    pydantic field (serialized as ``{"y": {"start", "stop"}, "x": {...}}``).
    """

    __slots__ = ("_y", "_x")

    factory: BoxSliceFactory = BoxSliceFactory()
    """Free slice factory: ``Box.factory[y0:y1, x0:x1]``."""

    def __init__(self, y: Interval, x: Interval):
        object.__setattr__(self, "_y", y)
        object.__setattr__(self, "_x", x)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Box is immutable; cannot set {name!r}.")

    @classmethod
    def from_shape(cls, shape: Sequence[int], start: Sequence[int] | None = None) -> Box:
        """Build a box from a ``(y, x)`` shape and optional ``(y, x)`` start.

        `XY` and `YX` arguments are interpreted according to their type.

        Raises
        ------
        TypeError
            If ``shape`` or ``start`` is not a sequence.
        ValueError
            If either does not have exactly two elements.
        """
        size = _as_yx_pair(shape, "shape")
        origin = YX(0, 0) if start is None else _as_yx_pair(start, "start")
        return cls(Interval.from_size(size.y, origin.y), Interval.from_size(size.x, origin.x))

    @staticmethod
    def from_sky_circle(center: Any, radius: Any, projection: Any) -> Box:
        """Smallest box whose pixels cover a sky circle (SkyCoord centre, angular radius) in a projection.

        Rubin's 4300 release takes the projection first (``from_sky_circle(sky_projection,
        center, radius)``); that order is recognised too, since a projection is never a
        sky coordinate.
        """
        from ._transforms._sky_circle import box_from_sky_circle

        if hasattr(center, "sky_to_pixel") and not hasattr(projection, "sky_to_pixel"):
            center, radius, projection = radius, projection, center
        return box_from_sky_circle(center, radius, projection)

    @classmethod
    def from_float_bounds(cls, *, x_min: float, x_max: float, y_min: float, y_max: float) -> Box:
        """Smallest box whose pixels (unit squares centred on integers) cover a floating-point rectangle.

        Raises
        ------
        IndexError
            If the rectangle covers no pixel centre's square in some direction
            (e.g. ``x_min == x_max == 0.5``).
        """
        return cls(
            Interval(math.floor(y_min + 0.5), math.ceil(y_max + 0.5)),
            Interval(math.floor(x_min + 0.5), math.ceil(x_max + 0.5)),
        )

    @classmethod
    def from_legacy(cls, legacy: Any) -> Box:
        """Build from an ``lsst.geom.Box2I`` (inclusive maxima become exclusive stops)."""
        return cls(
            Interval(legacy.getMinY(), legacy.getMaxY() + 1),
            Interval(legacy.getMinX(), legacy.getMaxX() + 1),
        )

    def to_legacy(self) -> Any:
        """Convert to an ``lsst.geom.Box2I``; requires the legacy stack."""
        geom = _import_legacy_geom()
        return geom.Box2I(
            geom.Point2I(self._x.min, self._y.min),
            geom.Point2I(self._x.max, self._y.max),
        )

    @property
    def y(self) -> Interval:
        """Row interval."""
        return self._y

    @property
    def x(self) -> Interval:
        """Column interval."""
        return self._x

    @property
    def start(self) -> YX[int]:
        """First pixel ``(y, x)``."""
        return YX(self._y.start, self._x.start)

    @property
    def shape(self) -> YX[int]:
        """``(height, width)``."""
        return YX(self._y.size, self._x.size)

    @property
    def stop(self) -> YX[int]:
        """One past the last pixel ``(y, x)``."""
        return YX(self._y.stop, self._x.stop)

    @property
    def min(self) -> YX[int]:
        """First pixel ``(y, x)`` (inclusive; equal to `start`)."""
        return YX(self._y.min, self._x.min)

    @property
    def max(self) -> YX[int]:
        """Last pixel ``(y, x)`` (inclusive)."""
        return YX(self._y.max, self._x.max)

    @property
    def area(self) -> int:
        """Number of pixels."""
        return self._y.size * self._x.size

    def to_polygon(self) -> Any:
        """The `Polygon` covering this box's pixels (vertices on the half-integer pixel edges)."""
        from ._polygon import Polygon

        return Polygon.from_box(self)

    def transform(self, transform: Any) -> Any:
        """The `Polygon` that a transform maps this box's outline to (its four corners)."""
        return self.to_polygon().transform(transform)

    @property
    def bbox(self) -> Box:
        """The box itself (so `Box` satisfies the `Bounds` protocol)."""
        return self

    @property
    def absolute(self) -> BoxSliceFactory:
        """Slice factory in absolute coordinates; results must lie inside the box."""
        return BoxSliceFactory(self._y.absolute, self._x.absolute)

    @property
    def local(self) -> BoxSliceFactory:
        """Slice factory relative to ``start`` with sequence semantics on each axis."""
        return BoxSliceFactory(self._y.local, self._x.local)

    def contains(
        self,
        other: Box | None = None,
        *,
        y: int | np.ndarray | None = None,
        x: int | np.ndarray | None = None,
    ) -> bool | np.ndarray:
        """Test containment of another box or of points.

        Parameters
        ----------
        other
            Box that must lie entirely within this one, or (4300 style) an
            `XY`/`YX` point.
        y, x
            Point coordinates (scalars or broadcastable arrays), tested with a
            half-pixel margin.

        Raises
        ------
        TypeError
            If both or neither of ``other`` and the ``x``/``y`` pair are given.
        """
        if isinstance(other, XY | YX):
            if x is not None or y is not None:
                raise TypeError("Too many arguments to 'Box.contains'.")
            other, (x, y) = None, split_point(other)
        if other is not None:
            if x is not None or y is not None:
                raise TypeError("Too many arguments to 'Box.contains'.")
            return self._y.contains(other.y) and self._x.contains(other.x)
        if x is None or y is None:
            raise TypeError("Not enough arguments to 'Box.contains'.")
        result = np.logical_and(self._y.contains(y), self._x.contains(x))
        if np.ndim(result) == 0:
            return bool(result)
        return result

    def intersection(self, other: Bounds) -> Bounds:
        """Return the overlap with another `Bounds`.

        Two boxes give a `Box` (`NoOverlapError` if disjoint); other bounds types
        decide for themselves.
        """
        if isinstance(other, Box):
            return Box(self._y.intersection(other._y), self._x.intersection(other._x))
        return other.intersection(self)

    def dilated_by(self, padding: int) -> Box:
        """Return a new box grown by ``padding`` on all four sides."""
        return Box(self._y.dilated_by(padding), self._x.dilated_by(padding))

    def padded(self, padding: int) -> Box:
        """Return a new box grown by ``padding`` on all sides (negative shrinks)."""
        return self.dilated_by(padding)

    def slice_within(self, other: Box) -> YX[slice]:
        """Return ``(y, x)`` slices extracting this box from an array covering ``other``.

        Raises
        ------
        IndexError
            If ``other`` does not contain this box.
        """
        return YX(self._y.slice_within(other.y), self._x.slice_within(other.x))

    def boundary(self) -> Iterator[YX[int]]:
        """Iterate over the four corner pixels, going around the box."""
        yield YX(self._y.min, self._x.min)
        yield YX(self._y.min, self._x.max)
        yield YX(self._y.max, self._x.max)
        yield YX(self._y.max, self._x.min)

    def meshgrid(self, n: int | Sequence[int] | None = None, *, step: float | None = None) -> XY[np.ndarray]:
        """Return 2-d arrays of pixel-centre coordinates covering the box.

        Parameters
        ----------
        n
            Number of points per axis: an `int` for both, an `XY`/`YX`, or a
            plain 2-sequence interpreted as ``(x, y)``.  Default: every pixel.
        step
            Approximate spacing between points (see `Interval.linspace`).

        Returns
        -------
        XY[numpy.ndarray]
            ``x`` and ``y`` float arrays of shape ``(ny, nx)``.
        """
        if n is not None and step is not None:
            raise TypeError("'n' and 'step' cannot both be provided.")
        if n is None or isinstance(n, numbers.Integral):
            nx = ny = n
        elif isinstance(n, YX):
            ny, nx = n.y, n.x
        elif isinstance(n, XY):
            nx, ny = n.x, n.y
        else:
            nx, ny = n
        xs = self._x.linspace(nx, step=step)
        ys = self._y.linspace(ny, step=step)
        gx, gy = np.meshgrid(xs, ys)
        return XY(gx, gy)

    def serialize(self) -> Box:
        """Return the pydantic-serializable form (the box itself)."""
        return self

    def deserialize(self) -> Box:
        """Return the in-memory form (the box itself)."""
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Box):
            return False
        return self._y == other._y and self._x == other._x

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Box, YX(self._y, self._x))

    def __copy__(self) -> Box:
        return self

    def __deepcopy__(self, memo: Any) -> Box:
        return self

    def __str__(self) -> str:
        return f"[y={self._y}, x={self._x}]"

    def __repr__(self) -> str:
        return f"Box(y={self._y!r}, x={self._x!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return _value_type_schema(
            handler,
            Box,
            _SerializedBox,
            lambda m: Box(Interval(m.y.start, m.y.stop), Interval(m.x.start, m.x.stop)),
            _serialize_box,
        )


class AbsoluteSliceProxy(Generic[_P]):
    """Index an image-like parent with slices in absolute pixel coordinates.

    ``img.absolute[y0:y1, x0:x1]`` is ``img[Box.factory[y0:y1, x0:x1]]`` with
    omitted bounds defaulting to the parent's and a check that the result lies
    inside the parent (`IndexError` otherwise).
    """

    def __init__(self, parent: _P):
        self._parent = parent

    def __getitem__(self, slices: tuple[slice, slice]) -> _P:
        parent: Any = self._parent
        if slices is Ellipsis:
            return parent[...]
        return parent[parent.bbox.absolute[slices]]


class LocalSliceProxy(Generic[_P]):
    """Index an image-like parent with 0-based slices relative to its start.

    Negative indices count from the end and out-of-range stops are clipped,
    exactly like numpy array indexing (but only unit-step slices are allowed).
    """

    def __init__(self, parent: _P):
        self._parent = parent

    def __getitem__(self, slices: tuple[slice, slice]) -> _P:
        parent: Any = self._parent
        if slices is Ellipsis:
            return parent[...]
        return parent[parent.bbox.local[slices]]
