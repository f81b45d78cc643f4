"""Integer pixel geometry: intervals, boxes, coordinate pairs and slicing helpers.

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
from pydantic_core import core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

T = TypeVar("T")
U = TypeVar("U")
_P = TypeVar("_P")


class NoOverlapError(ValueError):
    """Raised when intervals, boxes or regions that must overlap do not."""


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


def _as_int(value: Any, what: str) -> int:
    """Convert an integer-like value (including integral floats) to `int`."""
    try:
        return int(value.__index__())
    except (AttributeError, TypeError):
        pass
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    raise TypeError(f"{what} must be an integer; got {value!r}.")


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


class IntervalSliceFactory:
    """Turn ``[a:b]`` slice syntax into `Interval` objects.

    Parameters
    ----------
    parent
        Interval the slices are interpreted relative to, or `None` for the free
        factory (``Interval.factory``) where the slice bounds are the interval.
    is_local
        If `True`, indices are relative to ``parent.start`` with Python
        sequence semantics; otherwise they are absolute coordinates that must
        lie within ``parent``.
    """

    def __init__(self, parent: Interval | None = None, is_local: bool = False):
        self._parent = parent
        self._is_local = is_local

    def __getitem__(self, s: slice) -> Interval:
        if not isinstance(s, slice):
            raise TypeError(f"Interval slicing requires a single slice; got {s!r}.")
        if s.step is not None and s.step != 1:
            raise ValueError(f"Slice {s!r} has non-unit step.")
        parent = self._parent
        if parent is None:
            if s.stop is None:
                raise IndexError("An Interval cannot have an empty upper bound.")
            start = 0 if s.start is None else _as_int(s.start, "slice start")
            return Interval(start, _as_int(s.stop, "slice stop"))
        if self._is_local:
            start, stop, _ = slice(s.start, s.stop).indices(parent.size)
            return Interval(parent.start + start, parent.start + stop)
        start = parent.start if s.start is None else _as_int(s.start, "slice start")
        stop = parent.stop if s.stop is None else _as_int(s.stop, "slice stop")
        if start < parent.start:
            raise IndexError(f"Absolute start {start} (passed as {s.start}) is < {parent.start}.")
        if stop > parent.stop:
            raise IndexError(f"Absolute stop {stop} (passed as {s.stop}) is > {parent.stop}.")
        return Interval(start, stop)


_FREE_INTERVAL_FACTORY = IntervalSliceFactory()


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


class Interval:
    """Immutable half-open integer range ``[start, stop)`` with positive size.

    Parameters
    ----------
    start
        First integer in the interval (inclusive).
    stop
        One past the last integer (exclusive); must exceed ``start``.

    Raises
    ------
    IndexError
        If ``stop <= start``; empty intervals are never allowed so that every
        interval has well-defined ``min``/``max``.
    """

    __slots__ = ("_start", "_stop")

    factory: IntervalSliceFactory = IntervalSliceFactory()
    """Free slice factory: ``Interval.factory[a:b]`` is ``Interval(a, b)``."""

    def __init__(self, start: int, stop: int):
        start = _as_int(start, "Interval start")
        stop = _as_int(stop, "Interval stop")
        if stop <= start:
            raise IndexError(f"Interval must have positive size; got [{start}, {stop})")
        object.__setattr__(self, "_start", start)
        object.__setattr__(self, "_stop", stop)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Interval is immutable; cannot set {name!r}.")

    @classmethod
    def from_size(cls, size: int, start: int = 0) -> Interval:
        """Build an interval from its size and (optional) first value."""
        start = _as_int(start, "start")
        return cls(start, start + _as_int(size, "size"))

    @classmethod
    def hull(cls, first: int | Interval, *args: int | Interval) -> Interval:
        """Return the smallest interval containing all given integers and intervals."""
        lo: int | None = None
        hi: int | None = None
        for item in (first, *args):
            if isinstance(item, Interval):
                a, b = item.start, item.stop
            else:
                a = _as_int(item, "hull argument")
                b = a + 1
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
        assert lo is not None and hi is not None
        return cls(lo, hi)

    @classmethod
    def from_legacy(cls, legacy: Any) -> Interval:
        """Build from an ``lsst.geom.IntervalI`` (inclusive min/max)."""
        return cls(legacy.getMin(), legacy.getMax() + 1)

    def to_legacy(self) -> Any:
        """Convert to an ``lsst.geom.IntervalI``; requires the legacy stack."""
        geom = _import_legacy_geom()
        return geom.IntervalI.fromMinMax(self.min, self.max)

    @property
    def start(self) -> int:
        """Inclusive first value."""
        return self._start

    @property
    def stop(self) -> int:
        """Exclusive end value."""
        return self._stop

    @property
    def min(self) -> int:
        """Inclusive minimum (same as ``start``)."""
        return self._start

    @property
    def max(self) -> int:
        """Inclusive maximum (``stop - 1``)."""
        return self._stop - 1

    @property
    def size(self) -> int:
        """Number of integers in the interval."""
        return self._stop - self._start

    @property
    def center(self) -> float:
        """Midpoint of ``min`` and ``max``."""
        return 0.5 * (self.min + self.max)

    @property
    def range(self) -> range:
        """Python `range` over the interval's integers."""
        return range(self._start, self._stop)

    @property
    def arange(self) -> np.ndarray:
        """Integer numpy array of every value in the interval."""
        return np.arange(self._start, self._stop)

    @property
    def absolute(self) -> IntervalSliceFactory:
        """Slice factory taking absolute coordinates that must lie inside this interval."""
        return IntervalSliceFactory(self, is_local=False)

    @property
    def local(self) -> IntervalSliceFactory:
        """Slice factory taking indices relative to ``start`` (sequence semantics)."""
        return IntervalSliceFactory(self, is_local=True)

    def linspace(self, n: int | None = None, *, step: float | None = None) -> np.ndarray:
        """Return floats spanning ``min`` to ``max`` inclusive.

        Parameters
        ----------
        n
            Number of evenly-spaced points; default is one per integer.
        step
            Approximate spacing; the number of points is ``ceil(size / step)``.

        Raises
        ------
        TypeError
            If both ``n`` and ``step`` are given.
        """
        if n is not None and step is not None:
            raise TypeError("'n' and 'step' cannot both be provided.")
        if step is not None:
            n = max(1, math.ceil(self.size / step))
        if n is None:
            return np.arange(self._start, self._stop, dtype=np.float64)
        return np.linspace(self.min, self.max, int(n), dtype=np.float64)

    def contains(self, other: Interval | int | float | np.ndarray) -> bool | np.ndarray:
        """Test containment of an interval or of points.

        An `Interval` argument must lie entirely within this one.  Scalars and
        arrays are treated as points and tested with a half-pixel margin added
        to both ends of ``[start, stop)``, i.e. ``start - 0.5 <= v < stop + 0.5``
        (the reference implementation's convention, kept for compatibility),
        returning a `bool` or a boolean array of the same shape.
        """
        if isinstance(other, Interval):
            return self._start <= other._start and other._stop <= self._stop
        lo = self._start - 0.5
        hi = self._stop + 0.5
        if np.ndim(other) == 0:
            return bool(lo <= other < hi)
        arr = np.asarray(other)
        return (arr >= lo) & (arr < hi)

    def intersection(self, other: Interval) -> Interval:
        """Return the overlap of two intervals (`NoOverlapError` if disjoint)."""
        start = max(self._start, other._start)
        stop = min(self._stop, other._stop)
        if stop <= start:
            raise NoOverlapError(f"No overlap between {self} and {other}.")
        return Interval(start, stop)

    def dilated_by(self, padding: int) -> Interval:
        """Return a new interval grown by ``padding`` at both ends."""
        return Interval(self._start - padding, self._stop + padding)

    def padded(self, padding: int) -> Interval:
        """Return a new interval grown by ``padding`` at both ends (negative shrinks)."""
        return self.dilated_by(padding)

    def slice_within(self, other: Interval) -> slice:
        """Return the slice selecting this interval from a container indexed by ``other``.

        Raises
        ------
        IndexError
            If ``other`` does not contain this interval.
        """
        if not other.contains(self):
            raise IndexError(
                f"Can not calculate a slice of {other} within {self} since the given interval "
                "does not contain this one."
            )
        return slice(self._start - other._start, self._stop - other._start)

    def __add__(self, other: int) -> Interval:
        if isinstance(other, Interval) or not isinstance(other, numbers.Integral):
            return NotImplemented
        return Interval(self._start + int(other), self._stop + int(other))

    def __sub__(self, other: int) -> Interval:
        if isinstance(other, Interval) or not isinstance(other, numbers.Integral):
            return NotImplemented
        return Interval(self._start - int(other), self._stop - int(other))

    def __contains__(self, x: int) -> bool:
        return bool(self._start <= x < self._stop)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return False
        return self._start == other._start and self._stop == other._stop

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Interval, (self._start, self._stop))

    def __copy__(self) -> Interval:
        return self

    def __deepcopy__(self, memo: Any) -> Interval:
        return self

    def __str__(self) -> str:
        return f"{self._start}:{self._stop}"

    def __repr__(self) -> str:
        return f"Interval(start={self._start}, stop={self._stop})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return _value_type_schema(
            handler, Interval, _SerializedInterval, lambda m: Interval(m.start, m.stop), _serialize_interval
        )


# Serialized forms of Interval and Box.  They are pydantic models (rather than
# plain dict schemas) so the JSON schema gets stable, named definitions.
class _SerializedInterval(pydantic.BaseModel):
    start: int
    stop: int


class _SerializedBox(pydantic.BaseModel):
    y: _SerializedInterval
    x: _SerializedInterval


def _value_type_schema(
    handler: GetCoreSchemaHandler,
    value_type: type,
    model: type[pydantic.BaseModel],
    from_model: Callable[[Any], Any],
    to_model: Callable[[Any], pydantic.BaseModel],
) -> Any:
    """Pydantic core schema of an immutable value type stored as a small model.

    Python input accepts instances as they are (or anything the model
    validates, converted with ``from_model``); JSON input always goes through
    the model; output is always the model's form (``to_model``).
    """
    model_schema = handler.generate_schema(model)
    validated = core_schema.no_info_after_validator_function(from_model, model_schema)
    return core_schema.json_or_python_schema(
        json_schema=validated,
        python_schema=core_schema.union_schema([core_schema.is_instance_schema(value_type), validated]),
        serialization=core_schema.plain_serializer_function_ser_schema(to_model, return_schema=model_schema),
    )


def _serialize_interval(interval: Interval) -> _SerializedInterval:
    return _SerializedInterval(start=interval.start, stop=interval.stop)


def _serialize_box(box: Box) -> _SerializedBox:
    return _SerializedBox(y=_serialize_interval(box.y), x=_serialize_interval(box.x))


def _import_legacy_geom() -> Any:
    """Import ``lsst.geom`` or raise an informative ImportError."""
    try:
        import lsst.geom as geom  # type: ignore[import-not-found]
    except ImportError as err:
        raise ImportError(
            "Conversion to legacy LSST objects requires the LSST science pipelines (lsst.geom), "
            "which are not installed."
        ) from err
    return geom


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
