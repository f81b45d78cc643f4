"""The `Detector` class and its serialization model."""

from __future__ import annotations

__all__ = ("Detector", "DetectorSerializationModel")

from collections.abc import Iterable
from typing import Annotated, Any

import pydantic

from .._geom import Box
from .._transforms import (
    CameraFrameSet,
    CameraFrameSetSerializationModel,
    DetectorFrame,
    FieldAngleFrame,
    FocalPlaneFrame,
    Transform,
)
from ..serialization import ArchiveReadError, ArchiveTree, InputArchive, InvalidParameterError, OutputArchive
from ._enums import DetectorType, _require_afw_camera_geom
from ._structs import Amplifier, DetectorAttributes, DetectorAttributesRecord, Orientation, OrientationRecord


class Detector:
    """Geometry and electronic description of one detector of a camera.

    Parameters
    ----------
    attributes
        Plain attributes (name, id, type, serial, bounding box, orientation, ...).
    amplifiers
        The detector's amplifiers, in readout order.
    frames
        The camera's frame set; it must contain this detector's pixel frame, which is how the
        transforms to the focal plane and field angle are obtained.
    visit
        Visit the detector is tied to, if any; it is attached to every frame this object hands out, so
        that frames of different visits are never confused.

    Notes
    -----
    The frame set is usually shared by all detectors of a camera, so `copy` and subimages share it.
    """

    def _repr_html_(self) -> str:
        """Notebook display: a summary table (and a small thumbnail where there are pixels)."""
        from ..display._html import repr_html

        return repr_html(self)

    def __init__(
        self,
        attributes: DetectorAttributes,
        amplifiers: Iterable[Amplifier],
        frames: CameraFrameSet,
        visit: int | None = None,
    ) -> None:
        self._attributes = attributes
        self._amplifiers = list(amplifiers)
        self._frames = frames
        self._visit = visit
        # Looked up eagerly so a frame set that does not know this detector fails at construction.
        self._frame = frames.detector(attributes.id, visit=visit)

    # --- plain attributes -----------------------------------------------------

    @property
    def name(self) -> str:
        """Detector name, unique within the camera (e.g. ``'R21_S11'``)."""
        return self._attributes.name

    @property
    def id(self) -> int:
        """Integer detector ID, unique within the camera."""
        return self._attributes.id

    @property
    def type(self) -> DetectorType:
        """The role of the detector in the camera."""
        return self._attributes.type

    @property
    def serial(self) -> str:
        """Manufacturer serial number."""
        return self._attributes.serial

    @property
    def bbox(self) -> Box:
        """Bounding box of the assembled, trimmed detector image."""
        return self._attributes.bbox

    @property
    def orientation(self) -> Orientation:
        """Nominal position and rotation of the detector in the focal plane."""
        orientation = self._attributes.orientation
        if isinstance(orientation, OrientationRecord):
            # Read from a file without importing astropy; its angles are built on first use.
            self._attributes = self._attributes.to_attributes()  # type: ignore[attr-defined]
            orientation = self._attributes.orientation
        return orientation

    @property
    def pixel_size(self) -> float:
        """Nominal pixel size, in focal-plane units."""
        return self._attributes.pixel_size

    @property
    def physical_type(self) -> str:
        """Vendor or technology of the detector (e.g. ``'E2V'``)."""
        return self._attributes.physical_type

    @property
    def amplifiers(self) -> list[Amplifier]:
        """The detector's amplifiers."""
        return self._amplifiers

    @property
    def visit(self) -> int | None:
        """The visit this detector description is tied to, or `None`."""
        return self._visit

    @property
    def instrument(self) -> str:
        """Name of the instrument (from the camera frame set)."""
        return self._frames.instrument

    # --- coordinate frames ------------------------------------------------------

    @property
    def frame(self) -> DetectorFrame:
        """The pixel coordinate frame of this detector (with the visit, when set)."""
        return self._frame

    @property
    def to_focal_plane(self) -> Transform[DetectorFrame, FocalPlaneFrame]:
        """Transform from detector pixels to focal-plane coordinates."""
        return self._frames[self._frame, self._frames.focal_plane(self._visit)]

    @property
    def to_field_angle(self) -> Transform[DetectorFrame, FieldAngleFrame]:
        """Transform from detector pixels to field angle (radians about the boresight)."""
        return self._frames[self._frame, self._frames.field_angle(self._visit)]

    # --- copies and serialization ----------------------------------------------

    def copy(self) -> Detector:
        """Return a deep copy of the attributes and amplifiers that shares the (immutable) frame set."""
        return Detector(
            self._attributes.model_copy(deep=True),
            [amp.model_copy(deep=True) for amp in self._amplifiers],
            self._frames,
            visit=self._visit,
        )

    def __repr__(self) -> str:
        return (
            f"Detector(name={self.name!r}, id={self.id}, instrument={self.instrument!r}, "
            f"visit={self._visit}, bbox={self.bbox}, amplifiers={len(self._amplifiers)})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # AST objects cannot be pickled directly; the frame set travels as its serialized (text) model.
        frames_model = self._frames.serialize(None)  # type: ignore[arg-type]  # stores no arrays
        return (_unpickle_detector, (self._attributes, self._amplifiers, frames_model, self._visit))

    def serialize(self, archive: OutputArchive[Any], save_frames: bool = True) -> DetectorSerializationModel:
        """Serialize the detector.

        Parameters
        ----------
        archive
            Archive to write to.
        save_frames
            Whether to store the camera frame set too; pass `False` when the frame set is saved once
            elsewhere (e.g. by a camera holding many detectors) and will be passed to
            `DetectorSerializationModel.deserialize`.
        """
        frames = archive.serialize_direct("frames", self._frames.serialize) if save_frames else None
        return DetectorSerializationModel(
            attributes=self._attributes,
            amplifiers=list(self._amplifiers),
            frames=frames,
            visit=self._visit,
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[DetectorSerializationModel]:
        """Return the model used to (de)serialize a detector, whatever the archive's pointer type."""
        return DetectorSerializationModel

    # --- legacy conversions -------------------------------------------------------

    @staticmethod
    def from_legacy(
        legacy_detector: Any,
        *,
        instrument: str,
        visit: int | None = None,
        is_raw_assembled: bool | None = None,
    ) -> Detector:
        """Convert an ``lsst.afw.cameraGeom.Detector``.

        Parameters
        ----------
        legacy_detector
            The afw detector.
        instrument
            Instrument name to attach to the frames.
        visit
            Visit to tie the detector to.
        is_raw_assembled
            Whether the afw amplifiers' raw geometry describes an assembled raw image.  `None` guesses
            from the geometry: an assembled raw image has raw boxes that do not all start at the origin.
        """
        legacy_amps = list(legacy_detector.getAmplifiers())
        if is_raw_assembled is None:
            is_raw_assembled = any(
                (amp.getRawBBox().getMinX(), amp.getRawBBox().getMinY()) != (0, 0) for amp in legacy_amps
            )
        attributes = detector_attributes_from_legacy(legacy_detector)
        amplifiers = [Amplifier.from_legacy(amp, is_raw_assembled) for amp in legacy_amps]
        frames = CameraFrameSet.from_legacy(_LegacySingleDetectorCamera(legacy_detector, instrument))
        return Detector(attributes, amplifiers, frames, visit=visit)

    def to_legacy(self, *, is_raw_assembled: bool | None = None) -> Any:
        """Convert to an ``lsst.afw.cameraGeom.Detector`` (requires the legacy stack).

        Parameters
        ----------
        is_raw_assembled
            Whether to describe the amplifiers' assembled raw geometry (default: when available).
        """
        camera_geom = _require_afw_camera_geom()
        import lsst.geom as geom  # type: ignore[import-not-found]

        if is_raw_assembled is None:
            is_raw_assembled = all(amp.assembled_raw_geometry is not None for amp in self._amplifiers)
        camera_builder = camera_geom.Camera.Builder(self.instrument)
        builder = camera_builder.add(self.name, self.id)
        builder.setType(self.type.to_legacy())
        builder.setSerial(self.serial)
        builder.setBBox(self.bbox.to_legacy())
        builder.setOrientation(self.orientation.to_legacy())
        builder.setPixelSize(geom.Extent2D(self.pixel_size, self.pixel_size))
        builder.setPhysicalType(self.physical_type)
        for amp in self._amplifiers:
            builder.append(amp.to_legacy_builder(is_raw_assembled))
        return camera_builder.finish()[self.name]


def _unpickle_detector(
    attributes: DetectorAttributes,
    amplifiers: list[Amplifier],
    frames: CameraFrameSetSerializationModel,
    visit: int | None,
) -> Detector:
    """Rebuild a pickled `Detector`."""
    return Detector(attributes, amplifiers, frames.deserialize(None), visit=visit)  # type: ignore[arg-type]


class _LegacySingleDetectorCamera:
    """Adapter giving an afw detector the small part of the afw Camera interface used to build frames.

    An afw detector shares its camera's transform map, but only this detector's pixel frame is needed.
    """

    def __init__(self, legacy_detector: Any, instrument: str) -> None:
        self._detector = legacy_detector
        self._instrument = instrument

    def getName(self) -> str:  # noqa: N802 - mimics the afw API
        return self._instrument

    def __iter__(self) -> Any:
        return iter([self._detector])

    def getTransformMap(self) -> Any:  # noqa: N802 - mimics the afw API
        return self._detector.getTransformMap()


class DetectorSerializationModel(ArchiveTree):
    """Serialized form of a `Detector`.

    This is also the layout of a stand-alone detector description file (``json.read(Detector, path)``)
    and of the ``detector`` entry of every visit-image tree.
    """

    # A record first: what a file holds validates into one without importing astropy.
    attributes: Annotated[
        DetectorAttributesRecord | DetectorAttributes, pydantic.Field(union_mode="left_to_right")
    ]
    amplifiers: list[Amplifier] = []
    frames: CameraFrameSetSerializationModel | None = None
    visit: int | None

    def deserialize(
        self, archive: InputArchive[Any], frames: CameraFrameSet | None = None, **kwargs: Any
    ) -> Detector:
        """Rebuild the `Detector`.

        Parameters
        ----------
        archive
            Archive the tree was read from.
        frames
            Camera frame set to use instead of the stored one (e.g. one shared by a whole camera).
        **kwargs
            Not supported; any extra keyword raises `InvalidParameterError`.
        """
        if kwargs:
            raise InvalidParameterError(f"Unsupported parameters for reading a detector: {sorted(kwargs)}.")
        if frames is None:
            if self.frames is None:
                raise ArchiveReadError(
                    f"Detector {self.attributes.name!r} was saved without its camera frame set and none "
                    "was provided."
                )
            frames = self.frames.deserialize(archive)
        return Detector(self.attributes, self.amplifiers, frames, visit=self.visit)


def detector_attributes_from_legacy(legacy_detector: Any) -> DetectorAttributes:
    """Read the scalar description of an ``lsst.afw.cameraGeom.Detector`` (name, id, geometry...)."""
    return DetectorAttributes(
        name=legacy_detector.getName(),
        id=legacy_detector.getId(),
        type=DetectorType.from_legacy(legacy_detector.getType()),
        serial=legacy_detector.getSerial(),
        bbox=Box.from_legacy(legacy_detector.getBBox()),
        orientation=Orientation.from_legacy(legacy_detector.getOrientation()),
        pixel_size=legacy_detector.getPixelSize().getX(),
        physical_type=legacy_detector.getPhysicalType(),
    )
