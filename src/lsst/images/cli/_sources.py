"""What every image-reading command opens: an lsst.images archive or an afw-written file.

`open_source` looks at a file once and returns a `Source` that knows the
file's layout (``"2100"``, ``"4300"`` or ``"legacy"``), the class it holds and
its full bbox, without decoding pixels.  `Source.read` then reads the whole
object or just a box of it: for lsst.images archives only the tiles the box
touches are decoded, for afw files only the rows (or tiles) inside it are
read.  Commands therefore treat both kinds of file the same way.
"""

from __future__ import annotations

__all__ = ("Source", "check_exists", "check_fits_complete", "open_source", "sky_box")

import dataclasses
import os
import warnings
from typing import Any

from ._errors import UsageError

_NOT_AN_ARCHIVE = "not an lsst.images FITS archive"


@dataclasses.dataclass
class Source:
    """An opened-and-identified image file.

    Attributes
    ----------
    path
        The path or URL as given.
    layout
        ``"2100"`` or ``"4300"`` (lsst.images archives) or ``"legacy"`` (afw).
    cls
        The `lsst.images` class the file is read as.
    bbox
        Full bbox of the stored object.
    image_hdu
        Index of the pixel HDU of an afw-written single `Image`.
    """

    path: str
    layout: str
    cls: type
    bbox: Any
    image_hdu: int = 1

    @property
    def is_legacy(self) -> bool:
        """Whether the file was written by ``lsst.afw``."""
        return self.layout == "legacy"

    def read(self, bbox: Any = None, *, visit: int | None = None, instrument: str | None = None) -> Any:
        """Read the object, or only ``bbox`` of it (absolute coordinates, inside `bbox`).

        ``visit`` and ``instrument`` supply what an afw Exposure may lack to
        become a `VisitImage` (the ``--visit`` / ``--instrument`` options).
        """
        if bbox is not None:
            check_inside(bbox, self.bbox, self.path)
        if not self.is_legacy:
            from .. import fits

            return fits.read(self.cls, self.path, bbox=bbox).deserialized
        from ..legacy import read_image, read_masked_image, read_visit_image

        if self.cls.__name__ == "VisitImage":
            return read_visit_image(self.path, visit=visit, instrument=instrument, bbox=bbox)
        if self.cls.__name__ == "Image":
            return read_image(self.path, ext=self.image_hdu, bbox=bbox)
        return read_masked_image(self.path, bbox=bbox)

    def projection(self, *, visit: int | None = None, instrument: str | None = None) -> Any:
        """The object's projection (`None` if it has none), read without decoding the pixels."""
        if self.is_legacy:
            if self.cls.__name__ != "VisitImage":
                return None
            from ..legacy import read_visit_image

            return read_visit_image(self.path, visit=visit, instrument=instrument, component="projection")
        # A one-pixel read is the cheapest way to get the projection of any stored class.
        from .._geom import Box, Interval

        y0, x0 = self.bbox.y.start, self.bbox.x.start
        corner = Box(Interval(y0, y0 + 1), Interval(x0, x0 + 1))
        return getattr(self.read(corner), "projection", None)


def check_inside(bbox: Any, full: Any, path: str) -> None:
    """Raise a `UsageError` unless ``bbox`` lies inside ``full``."""
    from .._geom import NoOverlapError

    try:
        inside = full.intersection(bbox) == bbox
    except NoOverlapError:
        inside = False
    if not inside:
        raise UsageError(f"the box {bbox} is not inside the image bbox {full} of {path}")


def open_source(path: str) -> Source:
    """Identify a file: layout, stored class and full bbox, from its headers and JSON tree only.

    Raises
    ------
    FileNotFoundError
        If a local file does not exist.
    ArchiveReadError
        If the file is not FITS, is truncated, or holds nothing readable as an image.
    """
    from ..fits import FitsInputArchive, InvalidFitsArchiveError

    check_exists(path)
    try:
        with FitsInputArchive.open(path) as archive:
            tree = archive.get_tree_dict()
            layout = archive.layout
    except InvalidFitsArchiveError as err:
        if _NOT_AN_ARCHIVE not in str(err):
            raise
        return _open_legacy(path)
    return _archive_source(path, layout, tree)


def check_exists(path: str) -> None:
    """Raise an `OSError` naming ``path`` if it is a missing local file or a folder (URLs pass)."""
    local = path[len("file://") :] if path.startswith("file://") else path
    if "://" not in local and not os.path.exists(local):
        raise FileNotFoundError(2, "no such file", path)
    if "://" not in local and os.path.isdir(local):
        raise IsADirectoryError(21, "is a folder, not a FITS file", path)


def _archive_source(path: str, layout: str, tree: dict[str, Any]) -> Source:
    import lsst.images as li

    from .._geom import Box, Interval
    from ..fits._layout import to_internal
    from ._info import guess_class

    if layout == "4300":
        tree = to_internal(tree)
    name = guess_class(tree)
    if name == "CellCoadd":
        from ..cells import CellCoadd

        cls: Any = CellCoadd
    else:
        cls = getattr(li, name, None)
    if cls is None:
        raise TypeError(f"{path}: holds a {name!r} object, which this command cannot read")
    node = (
        tree.get("image", {})
        if name in ("MaskedImage", "VisitImage", "CellCoadd", "DifferenceImage")
        else tree
    )
    data = node.get("data")
    ref = data[0] if isinstance(data, list) else data.get("value", data) if isinstance(data, dict) else {}
    (y0, x0), (height, width) = node.get("start", [0, 0]), ref.get("shape", [0, 0])[:2]
    return Source(path, layout, cls, Box(Interval(y0, y0 + height), Interval(x0, x0 + width)))


def check_fits_complete(path: str) -> None:
    """Raise an `ArchiveReadError` if a plain FITS file is truncated (astropy only warns)."""
    from astropy.io import fits

    from ..serialization import ArchiveReadError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with fits.open(path, lazy_load_hdus=False, memmap=False):
                pass
        except OSError as err:
            raise ArchiveReadError(f"{path}: cannot be read as FITS: {err}") from None
    for warning in caught:
        if "truncated" in str(warning.message):
            raise ArchiveReadError(f"{path}: file is truncated ({warning.message})")


def _open_legacy(path: str) -> Source:
    """Identify an afw-written Exposure / MaskedImage file from its headers."""
    import lsst.images as li

    from ..legacy._reader import _LegacyImageFile, _open
    from ..serialization import ArchiveReadError
    from ._convert import _has_visit_components

    check_fits_complete(path)
    with _open(path) as lf:
        if not lf.has_plane("IMAGE"):
            raise ArchiveReadError(
                f"{path}: neither an lsst.images archive nor an afw Exposure, MaskedImage or Image file "
                "(it has no image HDU)"
            )
        bbox = _LegacyImageFile(lf).bbox("IMAGE")
        if not (lf.has_plane("MASK") and lf.has_plane("VARIANCE")):
            return Source(path, "legacy", li.Image, bbox, image_hdu=lf.find_plane("IMAGE"))
    cls = li.VisitImage if _has_visit_components(path) else li.MaskedImage
    return Source(path, "legacy", cls, bbox)


def sky_box(source: Source, ra: float, dec: float, radius_arcsec: float, **legacy_ids: Any) -> Any:
    """Return the part of the image bbox covering a sky circle (`UsageError` if it misses the image)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from .._geom import Box, NoOverlapError

    if radius_arcsec <= 0:
        raise UsageError("--radius must be positive")
    projection = source.projection(**legacy_ids)
    if projection is None:
        raise UsageError(f"{source.path}: the image has no projection, so --ra/--dec cannot be used")
    centre = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    try:
        return source.bbox.intersection(Box.from_sky_circle(centre, radius_arcsec * u.arcsec, projection))
    except NoOverlapError:
        raise UsageError(
            f"the circle of {radius_arcsec} arcsec around RA={ra}, Dec={dec} is off the image {source.bbox}"
        ) from None
