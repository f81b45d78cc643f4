"""Plain-data pydantic structs describing detectors and amplifiers.

These carry no behaviour beyond validation, equality and conversion from/to the legacy
``lsst.afw.cameraGeom`` objects; `Detector` ties them to a camera frame set.
"""

from __future__ import annotations

__all__ = (
    "Amplifier",
    "AmplifierCalibrations",
    "AmplifierRawGeometry",
    "DetectorAttributes",
    "DetectorAttributesRecord",
    "Orientation",
    "OrientationRecord",
)

from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic

from .._geom import Box
from ..serialization import InlineArray, Quantity, QuantityModel
from ._enums import DetectorType, ReadoutCorner, _require_afw_camera_geom

if TYPE_CHECKING:
    import astropy.units as u
else:
    from .._lazy import astropy_units as u


def _zero_radians() -> u.Quantity:
    return 0.0 * u.rad


def _legacy_geom() -> Any:
    """Import ``lsst.geom`` lazily (only needed for legacy conversions)."""
    try:
        import lsst.geom as geom  # type: ignore[import-not-found]
    except ImportError as err:  # pragma: no cover - depends on the optional legacy stack
        raise ImportError("Converting camera geometry to the legacy LSST stack requires lsst.geom.") from err
    return geom


class _Position(pydantic.BaseModel):
    """The position fields `Orientation` and `OrientationRecord` share (in this field order)."""

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    focal_plane_x: float
    focal_plane_y: float
    focal_plane_z: float
    pixel_reference_x: float = 0.5
    pixel_reference_y: float = 0.5


class Orientation(_Position):
    """Nominal position and rotation of a detector in the focal plane.

    The detector's pixel reference point (``pixel_reference_x/y``, in pixels) sits at the focal-plane
    position ``focal_plane_x/y/z`` (focal-plane units, usually mm), and the detector is rotated by the
    yaw (about z), then pitch (about the rotated y) and roll (about the rotated x) angles.
    """

    yaw: Quantity = pydantic.Field(default_factory=_zero_radians)
    pitch: Quantity = pydantic.Field(default_factory=_zero_radians)
    roll: Quantity = pydantic.Field(default_factory=_zero_radians)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Orientation):
            return NotImplemented
        return (
            self.focal_plane_x == other.focal_plane_x
            and self.focal_plane_y == other.focal_plane_y
            and self.focal_plane_z == other.focal_plane_z
            and self.pixel_reference_x == other.pixel_reference_x
            and self.pixel_reference_y == other.pixel_reference_y
            and all(
                getattr(self, name).to_value(u.rad) == getattr(other, name).to_value(u.rad)
                for name in ("yaw", "pitch", "roll")
            )
        )

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def from_legacy(legacy_orientation: Any) -> Orientation:
        """Convert an ``lsst.afw.cameraGeom.Orientation``."""
        fp = legacy_orientation.getFpPosition3()
        ref = legacy_orientation.getReferencePoint()
        return Orientation(
            focal_plane_x=fp.getX(),
            focal_plane_y=fp.getY(),
            focal_plane_z=fp.getZ(),
            pixel_reference_x=ref.getX(),
            pixel_reference_y=ref.getY(),
            yaw=legacy_orientation.getYaw().asRadians() * u.rad,
            pitch=legacy_orientation.getPitch().asRadians() * u.rad,
            roll=legacy_orientation.getRoll().asRadians() * u.rad,
        )

    def to_legacy(self) -> Any:
        """Convert to an ``lsst.afw.cameraGeom.Orientation``."""
        camera_geom = _require_afw_camera_geom()
        geom = _legacy_geom()
        return camera_geom.Orientation(
            geom.Point3D(self.focal_plane_x, self.focal_plane_y, self.focal_plane_z),
            geom.Point2D(self.pixel_reference_x, self.pixel_reference_y),
            geom.Angle(self.yaw.to_value(u.rad), geom.radians),
            geom.Angle(self.pitch.to_value(u.rad), geom.radians),
            geom.Angle(self.roll.to_value(u.rad), geom.radians),
        )


def _zero_radians_record() -> QuantityModel:
    return QuantityModel(value=0.0, unit="rad")


class OrientationRecord(_Position):
    """An `Orientation` as files store it, with its angles kept as validated ``{value, unit}``.

    Reading a detector must not import astropy (a fifth of a second; see
    `lsst.images._lazy`), and the angles are the only astropy objects in it.  The record
    validates exactly what an `Orientation` would (float values, readable units) and
    serializes to the same tree; `to_orientation` builds the real thing when asked.
    """

    yaw: QuantityModel = pydantic.Field(default_factory=_zero_radians_record)
    pitch: QuantityModel = pydantic.Field(default_factory=_zero_radians_record)
    roll: QuantityModel = pydantic.Field(default_factory=_zero_radians_record)

    def to_orientation(self) -> Orientation:
        """The `Orientation` this record describes (imports astropy.units)."""
        return Orientation.model_validate(self.model_dump())


class AmplifierCalibrations(pydantic.BaseModel):
    """Nominal electronic properties of an amplifier.

    These are the values the camera description ships with; dedicated calibration products usually
    supersede them, which is why they are optional on `Amplifier`.
    """

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    gain: float
    read_noise: float
    saturation: float
    suspect_level: float
    linearity_coefficients: InlineArray
    linearity_type: str

    def __eq__(self, other: object) -> bool:
        # pydantic's default equality compares the numpy array with ``==`` and fails; NaN levels (a
        # common "not set" value) must also compare equal to themselves.
        if not isinstance(other, AmplifierCalibrations):
            return NotImplemented
        return (
            _float_eq(self.gain, other.gain)
            and _float_eq(self.read_noise, other.read_noise)
            and _float_eq(self.saturation, other.saturation)
            and _float_eq(self.suspect_level, other.suspect_level)
            and self.linearity_type == other.linearity_type
            and np.array_equal(
                np.asarray(self.linearity_coefficients),
                np.asarray(other.linearity_coefficients),
                equal_nan=True,
            )
        )

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def from_legacy_amplifier(legacy_amplifier: Any) -> AmplifierCalibrations:
        """Extract the nominal calibrations of an ``lsst.afw.cameraGeom.Amplifier``."""
        return AmplifierCalibrations(
            gain=legacy_amplifier.getGain(),
            read_noise=legacy_amplifier.getReadNoise(),
            saturation=legacy_amplifier.getSaturation(),
            suspect_level=legacy_amplifier.getSuspectLevel(),
            linearity_coefficients=np.array(legacy_amplifier.getLinearityCoeffs(), dtype=np.float64),
            linearity_type=legacy_amplifier.getLinearityType(),
        )


def _float_eq(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


class AmplifierRawGeometry(pydantic.BaseModel):
    """Where an amplifier's pixels sit in a raw (untrimmed) image and how to assemble them.

    The same struct describes both the assembled raw image (all amplifiers of the detector, overscans
    included) and the per-amplifier unassembled raw image; `Amplifier` holds one of each (or neither).
    """

    bbox: Box
    data_bbox: Box
    flip_x: bool = False
    flip_y: bool = False
    x_offset: int = 0
    y_offset: int = 0
    serial_overscan_bbox: Box
    parallel_overscan_bbox: Box
    # Required, but nullable: later versions of the format allow amplifiers without a prescan region.
    prescan_bbox: Box | None
    readout_corner: ReadoutCorner

    @property
    def horizontal_overscan_bbox(self) -> Box:
        """Alias of `serial_overscan_bbox` (the overscan along rows)."""
        return self.serial_overscan_bbox

    @horizontal_overscan_bbox.setter
    def horizontal_overscan_bbox(self, value: Box) -> None:
        self.serial_overscan_bbox = value

    @property
    def vertical_overscan_bbox(self) -> Box:
        """Alias of `parallel_overscan_bbox` (the overscan along columns)."""
        return self.parallel_overscan_bbox

    @vertical_overscan_bbox.setter
    def vertical_overscan_bbox(self, value: Box) -> None:
        self.parallel_overscan_bbox = value

    @property
    def horizontal_prescan_bbox(self) -> Box | None:
        """Alias of `prescan_bbox`."""
        return self.prescan_bbox

    @horizontal_prescan_bbox.setter
    def horizontal_prescan_bbox(self, value: Box | None) -> None:
        self.prescan_bbox = value

    @property
    def serial_prescan_bbox(self) -> Box | None:
        """Alias of `prescan_bbox`."""
        return self.prescan_bbox

    @serial_prescan_bbox.setter
    def serial_prescan_bbox(self, value: Box | None) -> None:
        self.prescan_bbox = value

    @staticmethod
    def from_legacy_amplifier(legacy_amplifier: Any) -> AmplifierRawGeometry:
        """Extract the raw geometry of an ``lsst.afw.cameraGeom.Amplifier``."""
        offset = legacy_amplifier.getRawXYOffset()
        return AmplifierRawGeometry(
            bbox=Box.from_legacy(legacy_amplifier.getRawBBox()),
            data_bbox=Box.from_legacy(legacy_amplifier.getRawDataBBox()),
            flip_x=legacy_amplifier.getRawFlipX(),
            flip_y=legacy_amplifier.getRawFlipY(),
            x_offset=offset.getX(),
            y_offset=offset.getY(),
            serial_overscan_bbox=Box.from_legacy(legacy_amplifier.getRawSerialOverscanBBox()),
            parallel_overscan_bbox=Box.from_legacy(legacy_amplifier.getRawParallelOverscanBBox()),
            prescan_bbox=Box.from_legacy(legacy_amplifier.getRawSerialPrescanBBox()),
            readout_corner=ReadoutCorner.from_legacy(legacy_amplifier.getReadoutCorner()),
        )


class Amplifier(pydantic.BaseModel):
    """One amplifier of a detector.

    ``bbox`` and ``readout_corner`` refer to the trimmed, assembled image (the pixel grid of a
    `VisitImage`); the optional raw geometries describe the untrimmed raw layouts.
    """

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    name: str
    bbox: Box
    readout_corner: ReadoutCorner
    assembled_raw_geometry: AmplifierRawGeometry | None = None
    unassembled_raw_geometry: AmplifierRawGeometry | None = None
    nominal_calibrations: AmplifierCalibrations | None = None

    @staticmethod
    def from_legacy(legacy_amplifier: Any, is_raw_assembled: bool) -> Amplifier:
        """Convert an ``lsst.afw.cameraGeom.Amplifier``.

        Parameters
        ----------
        legacy_amplifier
            The afw amplifier.
        is_raw_assembled
            Whether the afw amplifier's raw geometry describes an assembled raw image (all amplifiers of
            the detector in one array) rather than a per-amplifier raw image.
        """
        raw = AmplifierRawGeometry.from_legacy_amplifier(legacy_amplifier)
        return Amplifier(
            name=legacy_amplifier.getName(),
            bbox=Box.from_legacy(legacy_amplifier.getBBox()),
            readout_corner=raw.readout_corner.apply_flips(y=raw.flip_y, x=raw.flip_x),
            assembled_raw_geometry=raw if is_raw_assembled else None,
            unassembled_raw_geometry=None if is_raw_assembled else raw,
            nominal_calibrations=AmplifierCalibrations.from_legacy_amplifier(legacy_amplifier),
        )

    def to_legacy_builder(self, is_raw_assembled: bool) -> Any:
        """Convert to an ``lsst.afw.cameraGeom.Amplifier.Builder``.

        Parameters
        ----------
        is_raw_assembled
            Whether to describe the raw geometry of an assembled raw image (else the unassembled one).
        """
        camera_geom = _require_afw_camera_geom()
        geom = _legacy_geom()
        raw = self.assembled_raw_geometry if is_raw_assembled else self.unassembled_raw_geometry
        builder = camera_geom.Amplifier.Builder()
        builder.setName(self.name)
        builder.setBBox(self.bbox.to_legacy())
        builder.setReadoutCorner(self.readout_corner.to_legacy())
        if raw is not None:
            builder.setRawBBox(raw.bbox.to_legacy())
            builder.setRawDataBBox(raw.data_bbox.to_legacy())
            builder.setRawFlipX(raw.flip_x)
            builder.setRawFlipY(raw.flip_y)
            builder.setRawXYOffset(geom.Extent2I(raw.x_offset, raw.y_offset))
            builder.setRawSerialOverscanBBox(raw.serial_overscan_bbox.to_legacy())
            builder.setRawParallelOverscanBBox(raw.parallel_overscan_bbox.to_legacy())
            if raw.prescan_bbox is not None:
                builder.setRawSerialPrescanBBox(raw.prescan_bbox.to_legacy())
            builder.setReadoutCorner(raw.readout_corner.to_legacy())
        if (cal := self.nominal_calibrations) is not None:
            builder.setGain(cal.gain)
            builder.setReadNoise(cal.read_noise)
            builder.setSaturation(cal.saturation)
            builder.setSuspectLevel(cal.suspect_level)
            builder.setLinearityCoeffs(np.asarray(cal.linearity_coefficients, dtype=np.float64))
            builder.setLinearityType(cal.linearity_type)
        return builder


class DetectorAttributes(pydantic.BaseModel):
    """The plain attributes of a detector (everything except amplifiers and coordinate frames)."""

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    name: str
    id: int
    type: DetectorType
    serial: str
    bbox: Box
    orientation: Orientation
    pixel_size: float
    physical_type: str


class DetectorAttributesRecord(DetectorAttributes):
    """`DetectorAttributes` as read from a file: the orientation stays an `OrientationRecord`.

    `Detector` converts it to `DetectorAttributes` the first time its orientation is asked for.
    """

    orientation: OrientationRecord  # type: ignore[assignment]

    def to_attributes(self) -> DetectorAttributes:
        """The `DetectorAttributes` this record describes (imports astropy.units)."""
        return DetectorAttributes.model_validate(
            dict(self) | {"orientation": self.orientation.to_orientation()}
        )
