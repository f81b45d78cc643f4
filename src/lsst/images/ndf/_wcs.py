"""The NDF ``WCS`` component: AST FrameSets for images and masks, and projections read back.

An NDF's ``WCS`` structure holds a ``DATA`` array of ``_CHAR*32`` records with the AST
native dump of a FrameSet whose base frame is ``GRID`` (1-based pixel centres of the
stored array).  Starlink tools use it; this package's own reader takes the projection
from the JSON tree instead, and only turns a ``WCS`` into a `Projection` for foreign
(Starlink-written) files.

Frame sets written here:

* images: ``PIXEL`` (the lsst pixel frame, absolute coordinates, ``Ident`` naming the
  detector or tract), the ICRS ``SkyFrame`` (current) and ``GRID`` (base), with
  ``GRID = PIXEL - start + 1``;
* the native mask sub-NDF (HDS axes x, y, mask byte): ``GRID`` (base, 3 axes),
  ``PIXEL`` (x, y, mask-byte) and a current ``CmpFrame`` of the sky and a ``MASK``
  axis.  GRID (1, 1, 1) is PIXEL ``(x0, y0, 0)``: the reference (30.2026.2100) stores
  the PIXEL→GRID shift on the GRID→PIXEL link and so puts the mask ``x0 - 1`` pixels
  off; here the same numbers sit on an inverted ShiftMap, which is the right direction.
"""

from __future__ import annotations

__all__ = (
    "image_frame_set",
    "mask_frame_set",
    "pixel_frame_ident",
    "projection_from_frame_set",
    "read_wcs",
    "write_wcs",
)

from typing import TYPE_CHECKING, Any

import h5py
from starlink import Ast

from .._transforms._ast_check import check_ast_text
from ._hds import (
    WCS_RECORD_WIDTH,
    create_structure,
    decode_records,
    encode_records,
    read_chars,
    write_chars,
)

if TYPE_CHECKING:
    from .._geom import Box
    from .._transforms import Projection


def pixel_frame_ident(frame: Any) -> str:
    """The ``Ident`` of the PIXEL frame for an lsst pixel frame (what the reference writes).

    ``LSSTCam@2025052000177/DETECTOR_085`` for a visit's detector, ``HSC/DETECTOR_005``
    without a visit, ``lsst_cells_v2@9813`` for a tract, else the frame type (``GENERAL``).
    """
    frame_type = getattr(frame, "frame_type", None)
    if frame_type == "DETECTOR":
        visit = f"@{frame.visit}" if frame.visit is not None else ""
        return f"{frame.instrument}{visit}/DETECTOR_{frame.detector:03d}"
    if frame_type == "TRACT":
        return f"{frame.skymap}@{frame.tract}"
    return str(frame_type or type(frame).__name__)


def _pixel_to_sky_mapping(projection: Projection[Any]) -> Ast.Mapping:
    mapping = projection.pixel_to_sky_transform._ast
    if isinstance(mapping, Ast.FrameSet):
        mapping = mapping.getmapping(Ast.BASE, Ast.CURRENT)
    return mapping


def image_frame_set(projection: Projection[Any], bbox: Box) -> Ast.FrameSet:
    """The 2-d FrameSet of an image's ``WCS``: PIXEL, SKY (current), GRID (base)."""
    unit = projection.pixel_frame.unit.to_string()  # "pix", as the reference writes it
    pixel = Ast.Frame(2, "Domain=PIXEL,Label(1)=x,Label(2)=y")
    pixel.set(f"Unit(1)={unit},Unit(2)={unit}")
    pixel.Ident = pixel_frame_ident(projection.pixel_frame)
    frame_set = Ast.FrameSet(pixel)
    frame_set.addframe(Ast.BASE, _pixel_to_sky_mapping(projection), Ast.SkyFrame())
    shift = Ast.ShiftMap([1.0 - bbox.x.start, 1.0 - bbox.y.start])
    frame_set.addframe(1, shift, Ast.Frame(2, "Domain=GRID"))
    frame_set.Base = 3
    frame_set.Current = 2
    return frame_set


def mask_frame_set(projection: Projection[Any], bbox: Box) -> Ast.FrameSet:
    """The 3-d FrameSet of the native mask sub-NDF: GRID (base), PIXEL, SKY × MASK (current)."""
    frame_set = Ast.FrameSet(Ast.Frame(3, "Domain=GRID"))
    # PIXEL -> GRID is a shift by (1 - x0, 1 - y0, 1); the link is GRID -> PIXEL, so invert it.
    shift = Ast.ShiftMap([1.0 - bbox.x.start, 1.0 - bbox.y.start, 1.0])
    shift.Invert = True
    frame_set.addframe(1, shift, Ast.Frame(3, "Domain=PIXEL,Label(1)=x,Label(2)=y,Label(3)=mask-byte"))
    current = Ast.CmpFrame(Ast.SkyFrame(), Ast.Frame(1, "Domain=MASK,Label(1)=mask-byte"))
    frame_set.addframe(2, Ast.CmpMap(_pixel_to_sky_mapping(projection), Ast.UnitMap(1), False), current)
    return frame_set


class _Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def astsink(self, line: str) -> None:
        self.lines.append(line)


class _Source:
    def __init__(self, lines: list[str]) -> None:
        self._lines = iter(lines)

    def astsource(self) -> str | None:
        return next(self._lines, None)


def write_wcs(parent: h5py.Group, frame_set: Ast.FrameSet) -> None:
    """Add a ``WCS`` structure holding ``frame_set`` to the NDF ``parent``.

    The dump is AST's minimal one (``Full = -1``, no comments), as NDF stores it.
    """
    sink = _Sink()
    channel = Ast.Channel(None, sink)
    channel.Comment = False
    channel.Full = -1
    if channel.write(frame_set) != 1:
        raise RuntimeError("AST could not write the NDF WCS frame set.")
    wcs = create_structure(parent, "WCS", "WCS")
    write_chars(wcs, "DATA", encode_records(sink.lines), width=WCS_RECORD_WIDTH)


def read_wcs(ndf: h5py.Group) -> Ast.FrameSet | None:
    """Read the FrameSet of an NDF's ``WCS`` component (`None` if there is none).

    Raises
    ------
    ValueError
        If the component exists but does not hold an AST FrameSet.
    """
    node = ndf.get("WCS")
    if node is None:
        return None
    data = node.get("DATA") if isinstance(node, h5py.Group) else node
    if not isinstance(data, h5py.Dataset):
        raise ValueError(f"{node.name} has no DATA records.")
    width = data.dtype.itemsize
    records = decode_records(read_chars(data), width)
    try:
        check_ast_text(records)
    except ValueError as err:
        raise ValueError(f"{data.name} does not hold a valid AST dump: {err}") from err
    try:
        obj = Ast.Channel(_Source(records)).read()
    except Ast.AstError as err:
        raise ValueError(f"{data.name} does not hold a valid AST dump: {err}") from err
    if not isinstance(obj, Ast.FrameSet):
        raise ValueError(f"{data.name} holds a {getattr(obj, 'Class', 'nothing')}, not an AST FrameSet.")
    return obj


def projection_from_frame_set(frame_set: Ast.FrameSet, bbox: Box) -> Projection[Any] | None:
    """Turn a foreign NDF's WCS into a Projection on lsst (absolute) pixel coordinates.

    The base frame must be the 2-d GRID of the array whose first pixel is
    ``bbox.start``; the sky frame is the current frame if it is celestial, else the
    first celestial frame, converted to ICRS.  The pixel frame is a
    ``GeneralFrame`` in pixels.  Returns `None` when there is no celestial frame.
    """
    import astropy.units as u

    from .._transforms import GeneralFrame, Projection
    from .._transforms._fits import _ensure_icrs_current

    frame_set = frame_set.copy()
    if frame_set.getframe(Ast.BASE).Naxes != 2:
        return None
    sky_index = None
    for index in [frame_set.Current, *range(1, frame_set.Nframe + 1)]:
        frame = frame_set.getframe(index)
        if isinstance(frame, Ast.SkyFrame) and frame.Naxes == 2:
            sky_index = index
            break
    if sky_index is None:
        return None
    frame_set.Current = sky_index
    _ensure_icrs_current(frame_set)
    sky_index = frame_set.Current
    # GRID (base) -> absolute lsst pixels: the first pixel is GRID (1, 1).
    shift = Ast.ShiftMap([bbox.x.start - 1.0, bbox.y.start - 1.0])
    frame_set.addframe(Ast.BASE, shift, Ast.Frame(2, "Domain=LSST_PIXEL"))
    frame_set.Base = frame_set.Current
    frame_set.Current = sky_index
    return Projection.from_ast_frame_set(frame_set, GeneralFrame(unit=u.pix), pixel_bounds=bbox)
