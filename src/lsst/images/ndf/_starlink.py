"""Reading plain Starlink NDFs (no lsst.images JSON tree) as an `Image` or `MaskedImage`.

A file written by Starlink software has no schema, so instead of a JSON tree the
standard NDF components are interpreted directly:

* ``DATA_ARRAY`` (a primitive array, or an ``ARRAY`` structure with ``DATA`` and
  ``ORIGIN``): the pixels, with the bbox starting at ``ORIGIN`` (x first; NDF's
  default origin is 1).  Floating-point pixels equal to Starlink's bad value
  (``VAL__BADR``/``VAL__BADD``, the most negative finite number) become NaN unless
  the array's ``BAD_PIXEL`` flag is false.
* ``UNITS``: the unit (e.g. ``count`` → ``ct``); an unparsable string is dropped.
* ``WCS``: a `Projection` with a pixels ``GeneralFrame``, when it has a sky frame.
* ``MORE.FITS``: FITS cards, kept as primary-header opaque metadata.
* for a `MaskedImage`: ``VARIANCE`` (default: ones of the pixel type) and ``QUALITY`` (structure or bare
  array) as an 8-plane ``uint8`` mask ``MASK0``…``MASK7``; without QUALITY a
  zero mask with the single plane ``BAD``.

Other components are ignored (logged at debug level).
"""

from __future__ import annotations

__all__ = ("from_starlink", "read_starlink")

import logging
from typing import TYPE_CHECKING, Any, TypeVar

import h5py
import numpy as np

from ._hds import hds_type, read_chars, structure_class
from ._input import NdfInputArchive
from ._wcs import projection_from_frame_set, read_wcs

if TYPE_CHECKING:
    from lsst.resources import ResourcePathExpression

    from .._geom import Box
    from .._mask import Mask

T = TypeVar("T")

_log = logging.getLogger(__name__)

#: Components this reader interprets (everything else is reported and skipped).
_KNOWN = frozenset({"DATA_ARRAY", "VARIANCE", "QUALITY", "UNITS", "WCS", "MORE", "TITLE", "LABEL"})


def read_starlink(cls_: type[T], path: ResourcePathExpression) -> T:
    """Read a Starlink-written NDF (one without an lsst.images JSON tree) as ``cls_``.

    Parameters
    ----------
    cls_
        `~lsst.images.Image` or `~lsst.images.MaskedImage`.
    path
        Local path or URI of the file.

    Raises
    ------
    ArchiveReadError
        If the file has an lsst.images tree (use `lsst.images.ndf.read`), has no
        ``DATA_ARRAY``, or ``cls_`` is another type.
    """
    with NdfInputArchive.open(path) as archive:
        if archive.has_tree:
            raise archive._error("has an lsst.images JSON tree; read it with lsst.images.ndf.read")
        return from_starlink(cls_, archive)


def from_starlink(cls_: type[T], archive: NdfInputArchive) -> T:
    """Build ``cls_`` from the standard components of the open plain NDF ``archive``."""
    from .._image import Image
    from .._masked_image import MaskedImage

    if cls_ not in (Image, MaskedImage):
        raise archive._error(
            f"has no lsst.images JSON tree, and a plain NDF can only be read as an Image or a "
            f"MaskedImage, not a {getattr(cls_, '__name__', cls_)}"
        )
    root = archive.file
    for name in root:
        if name not in _KNOWN:
            _log.debug("%s: ignoring NDF component %s.", archive.name, name)
    if "DATA_ARRAY" not in root:
        raise archive._error("is a plain NDF without a DATA_ARRAY component")
    pixels, bbox = _read_array(archive, root["DATA_ARRAY"])
    shape = tuple(bbox.shape)
    image = Image(pixels, bbox=bbox, unit=_read_unit(archive), projection=_read_projection(archive, bbox))
    result: Any = image
    if cls_ is MaskedImage:
        if "VARIANCE" in root:
            values, _ = _read_array(archive, root["VARIANCE"])
            if values.shape != shape:
                raise archive._error(f"VARIANCE has shape {values.shape}, DATA_ARRAY {shape}")
        else:
            values = np.ones(shape, dtype=pixels.dtype)
        variance = Image(values, bbox=bbox, unit=None if image.unit is None else image.unit**2)
        result = MaskedImage(image, mask=_read_quality(archive, bbox), variance=variance)
    opaque = archive.get_opaque_metadata()
    if opaque is not None:
        result._opaque_metadata = opaque
    return result


def _read_array(archive: NdfInputArchive, node: h5py.Group | h5py.Dataset) -> tuple[np.ndarray, Box]:
    """Pixels and bbox of an NDF array component (simple primitive or ARRAY structure).

    Every component of an NDF spans the same pixels, so callers compare only the
    shapes of VARIANCE and QUALITY with DATA_ARRAY (a bare primitive has no ORIGIN).
    """
    from .._geom import Box

    origin: list[int] = [1, 1]
    bad_pixel = True
    if isinstance(node, h5py.Group):
        data = node.get("DATA")
        if not isinstance(data, h5py.Dataset):
            raise archive._error(f"{node.name} ({structure_class(node)}) has no DATA array")
        if isinstance(node.get("ORIGIN"), h5py.Dataset):
            origin = [int(v) for v in np.ravel(node["ORIGIN"][()])]
        if isinstance(node.get("BAD_PIXEL"), h5py.Dataset):
            bad_pixel = bool(node["BAD_PIXEL"][()])
    else:
        data = node
    if data.dtype.kind not in "iufb":
        raise archive._error(f"{data.name} is not a numeric array (HDS type {hds_type(data)})")
    pixels = np.asarray(data[()])
    if pixels.ndim == 3 and pixels.shape[0] == 1:  # HDS (x, y, 1)
        pixels = pixels[0]
    if pixels.ndim != 2 or len(origin) < 2:
        raise archive._error(f"{data.name} has HDS shape {pixels.shape[::-1]}; only 2-d NDFs can be read")
    pixels = pixels.astype(pixels.dtype.newbyteorder("="), copy=False)
    if bad_pixel and pixels.dtype.kind == "f":
        bad = np.finfo(pixels.dtype).min
        if np.any(pixels == bad):
            pixels = np.where(pixels == bad, np.nan, pixels).astype(pixels.dtype)
    return pixels, Box.from_shape(pixels.shape, start=(origin[1], origin[0]))


def _read_unit(archive: NdfInputArchive) -> Any:
    node = archive.file.get("UNITS")
    if not isinstance(node, h5py.Dataset) or node.dtype.kind != "S":
        return None
    from ..serialization import parse_unit

    text = read_chars(node)[0].strip()
    try:
        return parse_unit(text) if text else None
    except ValueError:
        _log.warning("%s: ignoring the unparsable NDF UNITS %r.", archive.name, text)
        return None


def _read_projection(archive: NdfInputArchive, bbox: Box) -> Any:
    try:
        frame_set = read_wcs(archive.file)
        return None if frame_set is None else projection_from_frame_set(frame_set, bbox)
    except (ValueError, RuntimeError) as err:
        _log.warning("%s: ignoring an NDF WCS that cannot be used: %s", archive.name, err)
        return None


def _read_quality(archive: NdfInputArchive, bbox: Box) -> Mask:
    """QUALITY as an 8-plane mask (``MASK0``…``MASK7``), or an empty ``BAD`` mask without one."""
    from .._mask import Mask, MaskPlane, MaskSchema

    node = archive.file.get("QUALITY")
    if node is None:
        return Mask(schema=MaskSchema([MaskPlane("BAD", "Bad pixel.")]), bbox=bbox)
    badbits = 0
    if isinstance(node, h5py.Group):
        if isinstance(node.get("BADBITS"), h5py.Dataset):
            badbits = int(node["BADBITS"][()])
        if "QUALITY" not in node:
            raise archive._error(f"{node.name} has no QUALITY array")
        node = node["QUALITY"]
    values, _ = _read_array(archive, node)
    if values.shape != tuple(bbox.shape):
        raise archive._error(f"QUALITY has shape {values.shape}, DATA_ARRAY {tuple(bbox.shape)}")
    planes = []
    for bit in range(8):
        description = f"NDF QUALITY bit {bit}."
        if badbits & (1 << bit):
            description += " Selected by BADBITS."
        planes.append(MaskPlane(f"MASK{bit}", description))
    mask = Mask(schema=MaskSchema(planes, dtype=np.uint8), bbox=bbox)
    mask.array[:, :, 0] = values.astype(np.uint8)
    return mask
