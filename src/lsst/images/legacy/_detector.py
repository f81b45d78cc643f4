"""afw ``Detector`` and ``TransformMap`` archive objects, and their conversion to `lsst.images.cameras`.

An Exposure's Detector carries its amplifiers and the *whole camera's*
TransformMap (a graph of AST mappings between camera coordinate systems).
Only the part of the graph this detector needs is kept when converting: the
focal plane (mm), the field angle (radians, when reachable) and the
detector's own pixel frame (``ActualPixels`` if the camera defines it, else
``Pixels``), assembled into the AST FrameSet layout `CameraFrameSet` expects.
"""

from __future__ import annotations

__all__ = (
    "LegacyAmplifier",
    "LegacyDetector",
    "LegacyTransformMap",
    "camera_frame_set_ast",
    "decode_detector",
    "decode_transform_map",
    "to_detector",
)

import dataclasses
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import LegacyFormatError

if TYPE_CHECKING:
    from ._archive import Catalog, LegacyArchive

#: afw DetectorType enum values, in order.
DETECTOR_TYPES = ("SCIENCE", "FOCUS", "GUIDER", "WAVEFRONT")
#: afw ReadoutCorner enum values, in order.
READOUT_CORNERS = ("LL", "LR", "UR", "UL")

Box4 = tuple[int, int, int, int]
CameraSys = tuple[str, str]


@dataclasses.dataclass
class LegacyAmplifier:
    """One row of an afw Detector amplifier catalog (boxes are inclusive ``(min_x, min_y, max_x, max_y)``)."""

    name: str
    bbox: Box4
    gain: float
    read_noise: float
    saturation: float
    suspect_level: float
    readout_corner: int
    linearity_coeffs: np.ndarray
    linearity_type: str
    has_raw_info: bool
    raw_bbox: Box4
    raw_data_bbox: Box4
    raw_flip_x: bool
    raw_flip_y: bool
    raw_xy_offset: tuple[int, int]
    raw_horizontal_overscan_bbox: Box4
    raw_vertical_overscan_bbox: Box4
    raw_prescan_bbox: Box4


@dataclasses.dataclass
class LegacyTransformMap:
    """A camera's transform graph: ``(from system, to system) → AST mapping``.

    Systems are ``(name, detector name)`` pairs, with an empty detector name
    for camera-wide systems such as ``FocalPlane`` and ``FieldAngle``.
    """

    edges: dict[tuple[CameraSys, CameraSys], Any]

    @staticmethod
    def _resolve(edge: Any) -> Any:
        return edge() if isinstance(edge, _LazyTransform) else edge

    @property
    def systems(self) -> set[CameraSys]:
        """Every coordinate system that appears in the graph."""
        return {s for edge in self.edges for s in edge}

    def mapping(self, source: CameraSys, target: CameraSys) -> Any | None:
        """Compose the AST mapping from ``source`` to ``target`` (edges usable both ways), or None."""
        from starlink import Ast

        if source == target:
            return Ast.UnitMap(2)
        neighbours: dict[CameraSys, list[tuple[CameraSys, Any, bool]]] = {}
        for (a, b), mapping in self.edges.items():
            neighbours.setdefault(a, []).append((b, mapping, False))
            neighbours.setdefault(b, []).append((a, mapping, True))
        previous: dict[CameraSys, tuple[CameraSys, Any, bool]] = {}
        queue = deque([source])
        seen = {source}
        while queue:
            node = queue.popleft()
            if node == target:
                break
            for other, mapping, inverted in neighbours.get(node, []):
                if other not in seen:
                    seen.add(other)
                    previous[other] = (node, mapping, inverted)
                    queue.append(other)
        if target not in seen:
            return None
        steps = []
        node = target
        while node != source:
            parent, mapping, inverted = previous[node]
            step = self._resolve(mapping).copy()
            if inverted:
                step.invert()
            steps.append(step)
            node = parent
        result = steps.pop()
        while steps:
            result = Ast.CmpMap(result, steps.pop(), True)
        return result.simplify()


@dataclasses.dataclass
class LegacyDetector:
    """A decoded afw ``Detector`` (format versions 0-2)."""

    version: int
    name: str
    id: int
    type: int
    serial: str
    bbox: Box4
    pixel_size: tuple[float, float]
    fp_position: tuple[float, float, float]
    ref_point: tuple[float, float]
    yaw: float
    pitch: float
    roll: float
    crosstalk: np.ndarray
    physical_type: str
    amplifiers: list[LegacyAmplifier]
    transform_map: LegacyTransformMap | None


@dataclasses.dataclass
class _LazyTransform:
    """An archive Transform decoded on first use (a camera map holds hundreds; few are needed)."""

    archive: Any
    object_id: int

    def __call__(self) -> Any:
        return _mapping_of(self.archive.get(self.object_id))


def _mapping_of(obj: Any) -> Any:
    from starlink import Ast

    if isinstance(obj, Ast.FrameSet):
        return obj.getmapping(Ast.BASE, Ast.CURRENT)
    return obj


def decode_transform_map(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyTransformMap:
    """Archive factory for ``TransformMap`` (new one-catalog and old two-catalog forms)."""
    edges: dict[tuple[CameraSys, CameraSys], Any] = {}
    first = catalogs[0]
    if first.has("fromSysName"):
        ids = first.column("transform")
        for row in range(len(first)):
            source = (first.string("fromSysName", row), first.string("fromSysDetectorName", row))
            target = (first.string("toSysName", row), first.string("toSysDetectorName", row))
            edges[(source, target)] = _LazyTransform(archive, int(ids[row]))
        return LegacyTransformMap(edges)
    if len(catalogs) < 2:
        raise LegacyFormatError("Old-style TransformMap needs a systems catalog and a connections catalog.")
    systems_catalog, connections = catalogs[0], catalogs[1]
    system_ids = systems_catalog.column("id")
    systems = {
        int(system_ids[row]): (
            systems_catalog.string("sysName", row),
            systems_catalog.string("detectorName", row),
        )
        for row in range(len(systems_catalog))
    }
    sources, targets, transforms = (connections.column(c) for c in ("from", "to", "transform"))
    for row in range(len(connections)):
        edges[(systems[int(sources[row])], systems[int(targets[row])])] = _LazyTransform(
            archive, int(transforms[row])
        )
    return LegacyTransformMap(edges)


def _decode_amplifier(catalog: Catalog, row: int) -> LegacyAmplifier:
    def box(prefix: str) -> Box4:
        return catalog.box(prefix, row) if catalog.has(f"{prefix}_min_x") else (0, 0, -1, -1)

    offset = catalog.point("raw_xyoffset", row) if catalog.has("raw_xyoffset_x") else (0, 0)
    coeffs = catalog.array("linearity_coeffs", row) if catalog.has("linearity_coeffs") else np.zeros(0)
    return LegacyAmplifier(
        name=catalog.string("name", row),
        bbox=box("bbox"),
        gain=float(catalog.scalar("gain", row)),
        read_noise=float(catalog.scalar("readnoise", row)),
        saturation=float(catalog.scalar("saturation", row)),
        suspect_level=float(catalog.scalar("suspectlevel", row, default=float("nan"))),
        readout_corner=int(catalog.scalar("readoutcorner", row)),
        linearity_coeffs=np.asarray(coeffs, dtype=np.float64).ravel(),
        linearity_type=catalog.string("linearity_type", row) if catalog.has("linearity_type") else "",
        has_raw_info=catalog.flag("hasrawinfo", row, default=False),
        raw_bbox=box("raw_bbox"),
        raw_data_bbox=box("raw_databbox"),
        raw_flip_x=catalog.flag("raw_flip_x", row, default=False),
        raw_flip_y=catalog.flag("raw_flip_y", row, default=False),
        raw_xy_offset=(int(offset[0]), int(offset[1])),
        raw_horizontal_overscan_bbox=box("raw_horizontaloverscanbbox"),
        raw_vertical_overscan_bbox=box("raw_verticaloverscanbbox"),
        raw_prescan_bbox=box("raw_prescanbbox"),
    )


def decode_detector(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyDetector:
    """Archive factory for ``Detector``.

    The format version is the ``version`` column if present, else 1 when a
    ``physicalType`` column exists, else 0.
    """
    main = catalogs[0]
    if main.has("version"):
        version = int(main.scalar("version"))
    else:
        version = 1 if main.has("physicalType") else 0
    if version > 2:
        raise LegacyFormatError(f"Detector archive version {version} is newer than this reader supports.")
    amplifiers = []
    if len(catalogs) > 1:
        amplifiers = [_decode_amplifier(catalogs[1], row) for row in range(len(catalogs[1]))]
    transform_map_id = int(main.scalar("transformMap", default=0))
    fp_z = float(main.scalar("fpPosition_z")) if main.has("fpPosition_z") else 0.0
    return LegacyDetector(
        version=version,
        name=main.string("name"),
        id=int(main.scalar("id")),
        type=int(main.scalar("type")),
        serial=main.string("serial"),
        bbox=main.box("bbox"),
        pixel_size=main.point("pixelSize"),
        fp_position=(*main.point("fpPosition"), fp_z),
        ref_point=main.point("refPoint"),
        yaw=float(main.scalar("yaw")),
        pitch=float(main.scalar("pitch")),
        roll=float(main.scalar("roll")),
        crosstalk=main.array("crosstalk").astype(np.float64).ravel()
        if main.has("crosstalk")
        else np.zeros(0),
        physical_type=main.string("physicalType") if main.has("physicalType") else "",
        amplifiers=amplifiers,
        transform_map=archive.get(transform_map_id) if transform_map_id else None,
    )


# -- conversion to lsst.images.cameras ---------------------------------------------


def camera_frame_set_ast(detector: LegacyDetector) -> Any:
    """Build the AST FrameSet `CameraFrameSet` expects for one detector.

    Frames (by ``Ident``): ``FOCAL_PLANE`` (base, mm), ``FIELD_ANGLE``
    (radians; only when the transform map reaches it) and ``DETECTOR_nnn``
    (pixels, with the detector bbox as the axes' inclusive Bottom/Top).
    """
    from starlink import Ast

    if detector.transform_map is None:
        raise LegacyFormatError(f"Detector {detector.name!r} has no TransformMap.")
    tmap = detector.transform_map
    focal_plane: CameraSys = ("FocalPlane", "")
    pixels: CameraSys = ("ActualPixels", detector.name)
    if pixels not in tmap.systems:
        pixels = ("Pixels", detector.name)
    fp_to_pixels = tmap.mapping(focal_plane, pixels)
    if fp_to_pixels is None:
        raise LegacyFormatError(
            f"TransformMap has no path from FocalPlane to the pixels of {detector.name!r}."
        )
    fp_frame = Ast.Frame(2, "Ident=FOCAL_PLANE,Domain=FOCAL_PLANE,Title=Focal Plane Coordinates")
    fp_frame.set("Label(1)=x,Label(2)=y,Unit(1)=mm,Unit(2)=mm")
    frame_set = Ast.FrameSet(fp_frame)
    fp_to_field_angle = tmap.mapping(focal_plane, ("FieldAngle", ""))
    if fp_to_field_angle is not None:
        fa_frame = Ast.Frame(2, "Ident=FIELD_ANGLE,Domain=FIELD_ANGLE,Title=Field Angle Coordinates")
        fa_frame.set("Label(1)=x,Label(2)=y,Unit(1)=rad,Unit(2)=rad")
        frame_set.addframe(1, fp_to_field_angle, fa_frame)
    min_x, min_y, max_x, max_y = detector.bbox
    det_frame = Ast.Frame(2, f"Ident=DETECTOR_{detector.id:03d},Domain=PIXELS")
    det_frame.set(f"Title=Pixel Coordinates (Detector {detector.id}),Label(1)=x,Label(2)=y")
    det_frame.set("Unit(1)=pix,Unit(2)=pix")
    det_frame.set(f"Bottom(1)={min_x},Top(1)={max_x},Bottom(2)={min_y},Top(2)={max_y}")
    frame_set.addframe(1, fp_to_pixels, det_frame)
    frame_set.Base = 1
    frame_set.Current = frame_set.Nframe
    return frame_set


def _box(bbox: Box4) -> Any:
    from .._geom import Box

    min_x, min_y, max_x, max_y = bbox
    return Box.factory[min_y : max_y + 1, min_x : max_x + 1]


def _is_empty(bbox: Box4) -> bool:
    return bbox[2] < bbox[0] or bbox[3] < bbox[1]


def _raw_geometry(amp: LegacyAmplifier) -> Any:
    from ..cameras import AmplifierRawGeometry, ReadoutCorner

    required = (
        amp.raw_bbox,
        amp.raw_data_bbox,
        amp.raw_horizontal_overscan_bbox,
        amp.raw_vertical_overscan_bbox,
    )
    # Modern afw writes ``hasrawinfo = False`` even though the raw boxes are filled in, so the
    # geometry is kept whenever the boxes it needs are non-empty.
    if any(_is_empty(b) for b in required):
        return None
    return AmplifierRawGeometry(
        bbox=_box(amp.raw_bbox),
        data_bbox=_box(amp.raw_data_bbox),
        flip_x=amp.raw_flip_x,
        flip_y=amp.raw_flip_y,
        x_offset=amp.raw_xy_offset[0],
        y_offset=amp.raw_xy_offset[1],
        serial_overscan_bbox=_box(amp.raw_horizontal_overscan_bbox),
        parallel_overscan_bbox=_box(amp.raw_vertical_overscan_bbox),
        prescan_bbox=None if _is_empty(amp.raw_prescan_bbox) else _box(amp.raw_prescan_bbox),
        readout_corner=ReadoutCorner(READOUT_CORNERS[amp.readout_corner]),
    )


def to_amplifier(amp: LegacyAmplifier) -> Any:
    """Convert one decoded amplifier (raw geometry taken as the assembled raw layout)."""
    from ..cameras import Amplifier, AmplifierCalibrations, ReadoutCorner

    corner = ReadoutCorner(READOUT_CORNERS[amp.readout_corner]).apply_flips(
        y=amp.raw_flip_y, x=amp.raw_flip_x
    )
    return Amplifier(
        name=amp.name,
        bbox=_box(amp.bbox),
        readout_corner=corner,
        assembled_raw_geometry=_raw_geometry(amp),
        unassembled_raw_geometry=None,
        nominal_calibrations=AmplifierCalibrations(
            gain=amp.gain,
            read_noise=amp.read_noise,
            saturation=amp.saturation,
            suspect_level=amp.suspect_level,
            linearity_coefficients=amp.linearity_coeffs,
            linearity_type=amp.linearity_type,
        ),
    )


def to_detector(detector: LegacyDetector, *, instrument: str, visit: int | None = None) -> Any:
    """Convert a decoded afw Detector into an `lsst.images.cameras.Detector`."""
    import astropy.units as u

    from .._transforms import CameraFrameSet
    from ..cameras import Detector, DetectorAttributes, DetectorType, Orientation

    attributes = DetectorAttributes(
        name=detector.name,
        id=detector.id,
        type=DetectorType(DETECTOR_TYPES[detector.type]),
        serial=detector.serial,
        bbox=_box(detector.bbox),
        orientation=Orientation(
            focal_plane_x=detector.fp_position[0],
            focal_plane_y=detector.fp_position[1],
            focal_plane_z=detector.fp_position[2],
            pixel_reference_x=detector.ref_point[0],
            pixel_reference_y=detector.ref_point[1],
            yaw=detector.yaw * u.rad,
            pitch=detector.pitch * u.rad,
            roll=detector.roll * u.rad,
        ),
        pixel_size=detector.pixel_size[0],
        physical_type=detector.physical_type,
    )
    amplifiers = [to_amplifier(amp) for amp in detector.amplifiers]
    frames = CameraFrameSet(instrument, camera_frame_set_ast(detector))
    return Detector(attributes, amplifiers, frames, visit=visit)
