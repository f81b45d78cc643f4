"""A camera's frames (detector pixels, focal plane, field angle) held in one AST FrameSet."""

from __future__ import annotations

__all__ = ("CameraFrameSet",)

from typing import TYPE_CHECKING, Any, TypeVar

from starlink import Ast

from .._geom import Box, Interval
from . import _ast_utils
from ._frame_set import FrameLookupError, FrameSet
from ._frames import DetectorFrame, FieldAngleFrame, FocalPlaneFrame, Frame
from ._transform import Transform

if TYPE_CHECKING:
    import astropy.units as u

    from ..serialization import OutputArchive
    from ._models import CameraFrameSetSerializationModel
else:
    from .._lazy import astropy_units as u

I = TypeVar("I", bound=Frame)  # noqa: E741
O = TypeVar("O", bound=Frame)  # noqa: E741

_FOCAL_PLANE = "FOCAL_PLANE"
_FIELD_ANGLE = "FIELD_ANGLE"


def _detector_ident(detector: int) -> str:
    return f"DETECTOR_{detector:03d}"


def _make_frame(ident: str, title: str, unit: str) -> Ast.Frame:
    """A 2-d AST frame with the camera-frame-set conventions (Ident, Title, x/y labels, unit)."""
    frame = Ast.Frame(2)
    frame.set(f"Ident={ident},Title={title},Label(1)=x,Label(2)=y,Unit(1)={unit},Unit(2)={unit}")
    return frame


class CameraFrameSet(FrameSet):
    """Transforms between the frames of one camera.

    Parameters
    ----------
    instrument
        Instrument name; frames of other instruments are not in this set.
    ast
        AST FrameSet whose frames carry the ``Ident`` values ``FOCAL_PLANE``
        (mm), ``FIELD_ANGLE`` (radians) and ``DETECTOR_nnn`` (pixels, with
        the detector bbox in the axes' Bottom/Top attributes).

    Notes
    -----
    Frames returned by `detector`, `focal_plane` and `field_angle` may be
    tagged with a visit; the camera geometry does not depend on it, so any
    visit is accepted when looking up transforms.
    """

    def __init__(self, instrument: str, ast: Ast.FrameSet):
        self._instrument = instrument
        self._ast = ast
        self._index: dict[str, int] = {}
        for i in range(1, ast.Nframe + 1):
            ident = ast.getframe(i).Ident
            if ident:
                self._index[ident] = i

    @classmethod
    def from_legacy(cls, camera: Any) -> CameraFrameSet:
        """Build from an afw ``Camera`` (or anything with its iteration/``getTransformMap`` API).

        The AST mappings are copied through their text form, so no afw or
        astshim import is needed; the instrument name comes from
        ``camera.getName()`` when available.
        """
        transform_map = camera.getTransformMap()
        systems = {(s.getSysName(), s.getDetectorName()): s for s in transform_map}
        focal_plane = systems.get(("FocalPlane", ""))
        if focal_plane is None:
            raise FrameLookupError("The legacy camera's transform map has no FocalPlane system.")

        def mapping_to(target: Any) -> Ast.Mapping:
            legacy = transform_map.getTransform(focal_plane, target).getMapping()
            return _ast_utils.ast_from_text(legacy.show())

        frame_set = Ast.FrameSet(_make_frame(_FOCAL_PLANE, "Focal Plane Coordinates", "mm"))
        field_angle = systems.get(("FieldAngle", ""))
        if field_angle is not None:
            frame_set.addframe(
                1, mapping_to(field_angle), _make_frame(_FIELD_ANGLE, "Field Angle Coordinates", "rad")
            )
        for detector in camera:
            name = detector.getName()
            pixels = systems.get(("ActualPixels", name)) or systems.get(("Pixels", name))
            if pixels is None:
                raise FrameLookupError(f"The legacy camera's transform map has no pixel system for {name!r}.")
            frame = _make_frame(
                _detector_ident(detector.getId()), f"Pixel Coordinates (Detector {detector.getId()})", "pix"
            )
            bbox = detector.getBBox()
            frame.set(
                f"Bottom(1)={bbox.getMinX()},Top(1)={bbox.getMaxX()},"
                f"Bottom(2)={bbox.getMinY()},Top(2)={bbox.getMaxY()}"
            )
            frame_set.addframe(1, mapping_to(pixels), frame)
        frame_set.Base = 1
        name_getter = getattr(camera, "getName", None)
        return cls(name_getter() if name_getter is not None else "", frame_set)

    @property
    def instrument(self) -> str:
        """Instrument name."""
        return self._instrument

    @property
    def ast(self) -> Ast.FrameSet:
        """The underlying AST FrameSet (do not modify it)."""
        return self._ast

    def detector(self, detector: int, *, visit: int | None = None) -> DetectorFrame:
        """Return the pixel frame of a detector (bbox read from the AST frame)."""
        index = self._index.get(_detector_ident(detector))
        if index is None:
            raise FrameLookupError(f"Detector {detector} is not in the {self._instrument} camera frame set.")
        frame = self._ast.getframe(index)

        def axis_interval(axis: int) -> Interval:
            return Interval(
                round(float(frame.get(f"Bottom({axis})"))), round(float(frame.get(f"Top({axis})"))) + 1
            )

        bbox = Box(axis_interval(2), axis_interval(1))
        return DetectorFrame(instrument=self._instrument, visit=visit, detector=detector, bbox=bbox)

    def focal_plane(self, visit: int | None = None) -> FocalPlaneFrame:
        """Return the focal-plane frame (unit read from the AST frame, usually mm)."""
        index = self._index.get(_FOCAL_PLANE)
        if index is None:
            raise FrameLookupError(f"The {self._instrument} camera frame set has no focal plane frame.")
        unit = u.Unit(self._ast.getframe(index).get("Unit(1)") or "mm")
        return FocalPlaneFrame(instrument=self._instrument, visit=visit, unit=unit)

    def field_angle(self, visit: int | None = None) -> FieldAngleFrame:
        """Return the field-angle frame."""
        if _FIELD_ANGLE not in self._index:
            raise FrameLookupError(f"The {self._instrument} camera frame set has no field angle frame.")
        return FieldAngleFrame(instrument=self._instrument, visit=visit)

    def _find(self, frame: Frame) -> int:
        """Return the AST frame index of a frame, or raise `FrameLookupError`."""
        if getattr(frame, "instrument", None) == self._instrument:
            match frame:
                case DetectorFrame():
                    index = self._index.get(_detector_ident(frame.detector))
                    if index is not None and self.detector(frame.detector, visit=frame.visit) == frame:
                        return index
                case FocalPlaneFrame():
                    index = self._index.get(_FOCAL_PLANE)
                    if index is not None:
                        return index
                case FieldAngleFrame():
                    index = self._index.get(_FIELD_ANGLE)
                    if index is not None:
                        return index
        raise FrameLookupError(f"Frame {frame!r} is not in the {self._instrument} camera frame set.")

    def __contains__(self, frame: Frame) -> bool:
        try:
            self._find(frame)
        except FrameLookupError:
            return False
        return True

    def __getitem__(self, key: tuple[I, O]) -> Transform[I, O]:
        in_frame, out_frame = key
        in_index = self._find(in_frame)
        out_index = self._find(out_frame)
        mapping = self._ast.getmapping(in_index, out_index).simplify()
        return Transform(
            in_frame,
            out_frame,
            mapping,
            in_bounds=getattr(in_frame, "bbox", None),
            out_bounds=getattr(out_frame, "bbox", None),
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[CameraFrameSetSerializationModel]:
        """Return the model to parse for a camera frame set stored on its own (any pointer type)."""
        from ._models import CameraFrameSetSerializationModel

        return CameraFrameSetSerializationModel

    def serialize(self, archive: OutputArchive[Any]) -> CameraFrameSetSerializationModel:
        """Store the instrument name and AST text."""
        from ._models import CameraFrameSetSerializationModel

        return CameraFrameSetSerializationModel(
            instrument=self._instrument, ast=_ast_utils.ast_to_text(self._ast, comments=True)
        )

    def __repr__(self) -> str:
        return f"CameraFrameSet({self._instrument!r}, <{self._ast.Nframe} AST frames>)"
