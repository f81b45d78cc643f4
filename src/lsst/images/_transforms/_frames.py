"""Coordinate-system descriptions ("frames") used as the endpoints of transforms.

A frame says *what* a pair of coordinates means (which detector's pixels, which
instrument's focal plane, the sky), not how to get there; the mapping between
two frames lives in a `Transform`.  Frames are small immutable values that
compare by content, so two transforms can be checked for compatibility
(``a.out_frame == b.in_frame``) without looking at their mappings.

Every frame serializes to itself: the pydantic frames are their own JSON
models (discriminated by ``frame_type``) and the sky frame is the bare string
``"ICRS"``.
"""

from __future__ import annotations

__all__ = (
    "DetectorFrame",
    "FieldAngleFrame",
    "FocalPlaneFrame",
    "Frame",
    "GeneralFrame",
    "ICRS",
    "SerializableFrame",
    "SkyFrame",
    "TractFrame",
)

import enum
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np
import pydantic

from .._geom import Box
from ..serialization._units import ResolvedUnit

if TYPE_CHECKING:
    import astropy.units as u
else:
    from .._lazy import astropy_units as u

T = TypeVar("T")

_TWO_PI = 2.0 * math.pi


def _wrap_zero_to_two_pi(values: T) -> T:
    """Wrap angles in radians into ``[0, 2π)`` keeping scalars scalar."""
    wrapped = np.mod(values, _TWO_PI)
    return float(wrapped) if np.ndim(wrapped) == 0 and not isinstance(values, np.ndarray) else wrapped


def _wrap_symmetric(values: T) -> T:
    """Wrap angles in radians into ``[-π, π)`` keeping scalars scalar."""
    wrapped = np.mod(np.add(values, math.pi), _TWO_PI) - math.pi
    return float(wrapped) if np.ndim(wrapped) == 0 and not isinstance(values, np.ndarray) else wrapped


@runtime_checkable
class Frame(Protocol):
    """Protocol for coordinate-system descriptions.

    A frame knows the unit of its coordinates, how to put coordinates into a
    canonical range (angles wrap, Euclidean coordinates do not) and how to
    serialize itself as one of the `SerializableFrame` forms.
    """

    @property
    def unit(self) -> u.UnitBase:
        """Unit of the frame's coordinates."""
        ...

    def standardize_x(self, x: T) -> T:
        """Return x coordinates coerced into this frame's canonical range."""
        ...

    def standardize_y(self, y: T) -> T:
        """Return y coordinates coerced into this frame's canonical range."""
        ...

    def serialize(self) -> SerializableFrame:
        """Return the pydantic-serializable form of this frame."""
        ...


class SkyFrame(enum.StrEnum):
    """The celestial sphere in ICRS, with coordinates (longitude, latitude) in radians.

    There is only one member: every `Projection` maps to ICRS, and other
    celestial systems are converted when a projection is built.
    """

    ICRS = "ICRS"

    @property
    def unit(self) -> u.UnitBase:
        """Radians: the unit AST uses internally for sky coordinates."""
        return u.rad

    def standardize_x(self, x: T) -> T:
        """Wrap longitudes into ``[0, 2π)``."""
        return _wrap_zero_to_two_pi(x)

    def standardize_y(self, y: T) -> T:
        """Wrap latitude-like values into ``[-π, π)`` (true latitudes are unchanged)."""
        return _wrap_symmetric(y)

    def serialize(self) -> SkyFrame:
        """Return self (the enum serializes as its string value)."""
        return self

    def deserialize(self) -> SkyFrame:
        """Return self."""
        return self


#: Alias for `SkyFrame.ICRS`.
ICRS = SkyFrame.ICRS


class _EuclideanFrameMixin:
    """Shared behaviour of frames whose coordinates need no wrapping."""

    def standardize_x(self, x: T) -> T:
        """Return x unchanged (Euclidean and pixel coordinates have no canonical range)."""
        return x

    def standardize_y(self, y: T) -> T:
        """Return y unchanged (Euclidean and pixel coordinates have no canonical range)."""
        return y

    def serialize(self) -> Any:
        """Return self: pydantic frames are their own serialized form."""
        return self

    def deserialize(self) -> Any:
        """Return self: pydantic frames are their own in-memory form."""
        return self


def _exclude_none(value: Any) -> bool:
    return value is None


_FROZEN = pydantic.ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)


class DetectorFrame(_EuclideanFrameMixin, pydantic.BaseModel):
    """The pixel grid of one detector, optionally for one visit.

    Two detector frames are equal when all fields are equal, so a frame tagged
    with a visit is different from the untagged camera-geometry frame.
    """

    model_config = _FROZEN

    instrument: str
    visit: Annotated[int | None, pydantic.Field(exclude_if=_exclude_none)] = None
    detector: int
    bbox: Box
    frame_type: Literal["DETECTOR"] = "DETECTOR"

    @property
    def unit(self) -> u.UnitBase:
        """Pixels."""
        return u.pix

    def __hash__(self) -> int:
        return hash((self.frame_type, self.instrument, self.visit, self.detector, repr(self.bbox)))


class TractFrame(_EuclideanFrameMixin, pydantic.BaseModel):
    """The pixel grid of one skymap tract."""

    model_config = _FROZEN

    skymap: str
    tract: int
    bbox: Box
    frame_type: Literal["TRACT"] = "TRACT"

    @property
    def unit(self) -> u.UnitBase:
        """Pixels."""
        return u.pix

    def __hash__(self) -> int:
        return hash((self.frame_type, self.skymap, self.tract, repr(self.bbox)))


class FocalPlaneFrame(_EuclideanFrameMixin, pydantic.BaseModel):
    """Euclidean coordinates on an instrument's focal plane (e.g. millimetres)."""

    model_config = _FROZEN

    instrument: str
    visit: Annotated[int | None, pydantic.Field(exclude_if=_exclude_none)] = None
    unit: ResolvedUnit
    frame_type: Literal["FOCAL_PLANE"] = "FOCAL_PLANE"

    def __hash__(self) -> int:
        return hash((self.frame_type, self.instrument, self.visit, self.unit.to_string()))


class FieldAngleFrame(pydantic.BaseModel):
    """Angles (radians) from an instrument's boresight, before any pointing is applied."""

    model_config = _FROZEN

    instrument: str
    visit: Annotated[int | None, pydantic.Field(exclude_if=_exclude_none)] = None
    frame_type: Literal["FIELD_ANGLE"] = "FIELD_ANGLE"

    @property
    def unit(self) -> u.UnitBase:
        """Radians."""
        return u.rad

    def standardize_x(self, x: T) -> T:
        """Wrap angles into ``[-π, π)``."""
        return _wrap_symmetric(x)

    def standardize_y(self, y: T) -> T:
        """Wrap angles into ``[-π, π)``."""
        return _wrap_symmetric(y)

    def serialize(self) -> FieldAngleFrame:
        """Return self: pydantic frames are their own serialized form."""
        return self

    def deserialize(self) -> FieldAngleFrame:
        """Return self: pydantic frames are their own in-memory form."""
        return self

    def __hash__(self) -> int:
        return hash((self.frame_type, self.instrument, self.visit))


class GeneralFrame(_EuclideanFrameMixin, pydantic.BaseModel):
    """An arbitrary Euclidean frame that is identified only by its unit."""

    model_config = _FROZEN

    unit: ResolvedUnit
    frame_type: Literal["GENERAL"] = "GENERAL"

    def __hash__(self) -> int:
        return hash((self.frame_type, self.unit.to_string()))


#: Any frame in its serializable form: the sky frame string or one of the
#: pydantic frame models, told apart by their ``frame_type`` field.
SerializableFrame = (
    SkyFrame
    | Annotated[
        DetectorFrame | TractFrame | FocalPlaneFrame | FieldAngleFrame | GeneralFrame,
        pydantic.Field(discriminator="frame_type"),
    ]
)
