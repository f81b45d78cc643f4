"""`Interval`: a half-open integer range ``[start, stop)`` of pixel-centre coordinates.

A `~lsst.images.Box` is the product of two of them (``y`` rows, ``x`` columns; see
`._geom`).  Containment of float points has a half-pixel margin, because the pixel with
integer centre ``i`` covers ``[i - 0.5, i + 0.5]``.
"""

from __future__ import annotations

__all__ = ("Interval", "IntervalSliceFactory", "NoOverlapError")

import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic
from pydantic_core import core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler


class NoOverlapError(ValueError):
    """Raised when intervals, boxes or regions that must overlap do not."""


def _as_int(value: Any, what: str) -> int:
    """Convert an integer-like value (including integral floats) to `int`."""
    try:
        return int(value.__index__())
    except (AttributeError, TypeError):
        pass
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    raise TypeError(f"{what} must be an integer; got {value!r}.")


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


# The serialized form of Interval: a pydantic model rather than a plain dict schema, so the
# JSON schema gets a stable, named definition.
class _SerializedInterval(pydantic.BaseModel):
    start: int
    stop: int


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
