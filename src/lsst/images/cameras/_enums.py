"""String enumerations used by the camera-geometry structs."""

from __future__ import annotations

__all__ = ("DetectorType", "ReadoutCorner")

import enum
from typing import Any

from .._geom import YX


def _require_afw_camera_geom() -> Any:
    """Import ``lsst.afw.cameraGeom`` lazily, failing with a clear message when the legacy stack is absent."""
    try:
        from lsst.afw import cameraGeom  # type: ignore[import-not-found]
    except ImportError as err:  # pragma: no cover - depends on the optional legacy stack
        raise ImportError(
            "Converting camera geometry from/to the legacy LSST stack requires lsst.afw.cameraGeom, "
            "which is not installed."
        ) from err
    return cameraGeom


class DetectorType(enum.StrEnum):
    """The role a detector plays in the camera."""

    SCIENCE = "SCIENCE"
    FOCUS = "FOCUS"
    GUIDER = "GUIDER"
    WAVEFRONT = "WAVEFRONT"

    @classmethod
    def from_legacy(cls, legacy_detector_type: Any) -> DetectorType:
        """Convert an ``lsst.afw.cameraGeom.DetectorType`` value (matched by name)."""
        return cls(legacy_detector_type.name)

    def to_legacy(self) -> Any:
        """Convert to the equivalent ``lsst.afw.cameraGeom.DetectorType`` value."""
        return getattr(_require_afw_camera_geom().DetectorType, self.value)


class ReadoutCorner(enum.StrEnum):
    """The corner of an amplifier's data region that is read out first.

    The first letter is the row side (lower or upper, with y increasing upwards) and the second the
    column side (left or right, with x increasing to the right).  Flipping an amplifier along an
    axis moves its readout corner to the other side of that axis; that is what `apply_flips`,
    `as_flips` and `from_flips` encode.
    """

    LL = "LL"
    LR = "LR"
    UR = "UR"
    UL = "UL"

    @property
    def _is_upper(self) -> bool:
        return self.value[0] == "U"

    @property
    def _is_right(self) -> bool:
        return self.value[1] == "R"

    @classmethod
    def from_flips(cls, *, y: bool, x: bool) -> ReadoutCorner:
        """Return the corner that needs the given flips to be brought to the lower-left corner."""
        return cls(("U" if y else "L") + ("R" if x else "L"))

    def as_flips(self) -> YX[bool]:
        """Return the flips (as a `YX` of booleans) that bring this corner to the lower-left corner."""
        return YX(self._is_upper, self._is_right)

    def apply_flips(self, *, y: bool, x: bool) -> ReadoutCorner:
        """Return the corner this one becomes after flipping the amplifier in y and/or x."""
        return ReadoutCorner.from_flips(y=self._is_upper != bool(y), x=self._is_right != bool(x))

    @classmethod
    def from_legacy(cls, legacy_readout_corner: Any) -> ReadoutCorner:
        """Convert an ``lsst.afw.cameraGeom.ReadoutCorner`` value (matched by name)."""
        return cls(legacy_readout_corner.name)

    def to_legacy(self) -> Any:
        """Convert to the equivalent ``lsst.afw.cameraGeom.ReadoutCorner`` value."""
        return getattr(_require_afw_camera_geom().ReadoutCorner, self.value)
