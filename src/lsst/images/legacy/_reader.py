"""Reading afw ``MaskedImage`` / ``Image`` / ``Mask`` FITS files as `lsst.images` objects.

The shared pieces of every afw read live here too: opening the file, plane units
(``BUNIT``, else the instrumental unit), the header cards carried to the next write.
Whole ``Exposure`` files are read by `._visit_reader.read_visit_image`.
"""

from __future__ import annotations

__all__ = ("read_image", "read_mask", "read_masked_image")

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import LegacyFormatError
from ._fits import LegacyFitsFile, LegacyPlane
from ._masks import map_legacy_mask, read_mask_plane_cards, strip_mask_plane_cards

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.units

#: Compression cards kept with a precompressed plane (LEGACY.md §7).
_COMPRESSION_CARD_PREFIXES = ("ZTILE", "ZNAME", "ZVAL", "ZNAXIS")
_COMPRESSION_CARDS = {
    "ZIMAGE",
    "ZCMPTYPE",
    "ZBITPIX",
    "ZMASKCMP",
    "ZQUANTIZ",
    "ZDITHER0",
    "ZCHECKSUM",
    "ZDATASUM",
}


@contextlib.contextmanager
def _open(uri: Any) -> Iterator[LegacyFitsFile]:
    """Open a local path, `pathlib.Path`, ``file://`` URI or any `lsst.resources` URI.

    Remote files are first fetched to a temporary local copy (afw files are
    read whole, so ranged reads would not help).
    """
    from ..serialization._guard import content_errors

    text = uri.geturl() if hasattr(uri, "geturl") else os.fspath(uri) if not isinstance(uri, str) else uri
    # Every problem with the file's content names the file (LegacyFormatError, which also
    # keeps a documented original type such as ValueError as a base class).  astropy's
    # per-card warnings are silenced: a damaged header makes thousands of them, which
    # took astropy tens of seconds to emit, and the errors raised here say what is wrong.
    with content_errors(text, LegacyFormatError), warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"astropy\.io\.fits\.(card|header|verify)")
        if "://" in text and not text.startswith("file://"):
            from lsst.resources import ResourcePath

            with ResourcePath(text).as_local() as local, LegacyFitsFile(local.ospath) as lf:
                lf.filename = text
                yield lf
            return
        with LegacyFitsFile(text[len("file://") :] if text.startswith("file://") else text) as lf:
            yield lf


# -- units and headers ------------------------------------------------------------------


def _parse_unit(value: Any) -> astropy.units.UnitBase | None:
    import astropy.units as u

    if not isinstance(value, str) or not value.strip():
        return None
    for fmt in ("fits", None):
        try:
            return u.Unit(value.strip(), format=fmt)
        except ValueError:
            continue
    return u.Unit(value.strip(), parse_strict="silent")


def _instrumental_unit(primary: astropy.io.fits.Header) -> astropy.units.UnitBase:
    import astropy.units as u

    value = primary.get("LSST ISR UNITS")
    parsed = _parse_unit(value) if value is not None else None
    return parsed if parsed is not None else u.electron


def _plane_unit(
    header: astropy.io.fits.Header, instrumental: astropy.units.UnitBase | None
) -> astropy.units.UnitBase | None:
    """Unit of a plane from ``BUNIT``, with DP2's ``adu`` → ``electron`` fix when ISR units are electrons."""
    import astropy.units as u

    unit = _parse_unit(header.get("BUNIT"))
    if unit is not None and instrumental == u.electron:
        if unit == u.adu:
            unit = u.electron
        elif unit == u.adu**2:
            unit = u.electron**2
    return unit


def _opaque_plane_header(header: astropy.io.fits.Header) -> astropy.io.fits.Header:
    """The cards of a plane header that are not structural, WCS, mask-plane or afw bookkeeping."""
    from ..fits._headers import strip_structural_cards, strip_wcs_cards
    from ..fits._opaque import strip_legacy_exposure_cards

    header = header.copy()
    strip_structural_cards(header)
    strip_wcs_cards(header)
    strip_legacy_exposure_cards(header)
    strip_mask_plane_cards(header)
    for key in ("BUNIT", "UZSCALE", "EXTTYPE", "INHERIT"):
        header.remove(key, ignore_missing=True, remove_all=True)
    return header


def _precompressed(lf: LegacyFitsFile, plane: LegacyPlane) -> Any:
    """Capture the raw compressed BINTABLE of a plane so a rewrite reproduces its quantized values."""
    from astropy.io import fits

    from ..fits._opaque import PrecompressedImage

    raw = lf.raw_compressed_table(plane.hdu_index)
    if raw is None:
        return None
    raw_header, data = raw
    header = fits.Header()
    for card in raw_header.cards:
        key = card.keyword
        if key in _COMPRESSION_CARDS or key.startswith(_COMPRESSION_CARD_PREFIXES):
            value = "RICE_1" if key == "ZCMPTYPE" and str(card.value).strip() == "RICE_ONE" else card.value
            header[key] = (value, card.comment)
    return PrecompressedImage(header=header, data=data)


class _LegacyImageFile:
    """Plane-level reading shared by every reader: images, masks, headers and opaque metadata."""

    def __init__(self, lf: LegacyFitsFile, preserve_quantization: bool = False):
        self.lf = lf
        self.preserve_quantization = preserve_quantization
        from ..fits._opaque import FitsOpaqueMetadata

        self.opaque = FitsOpaqueMetadata()

    def bbox(self, kind: str | int = "IMAGE") -> Any:
        from .._geom import Box

        plane_header = self.lf.header(self.lf.find_plane(kind) if isinstance(kind, str) else kind)
        from ._fits import read_xy0

        x0, y0 = read_xy0(plane_header)
        height, width = self.lf.plane_shape(kind)
        if height == 0 or width == 0:
            raise LegacyFormatError(f"The {kind} plane of {self.lf.filename!r} is empty ({height}x{width}).")
        return Box.factory[y0 : y0 + height, x0 : x0 + width]

    def _record(self, plane: LegacyPlane, name: str) -> None:
        self.opaque.add_header(_opaque_plane_header(plane.header), name=name)
        if self.preserve_quantization and plane.compressed and name in ("IMAGE", "VARIANCE"):
            pre = _precompressed(self.lf, plane)
            if pre is not None:
                self.opaque.precompressed[name] = pre

    def image(
        self,
        kind: str | int,
        *,
        unit: astropy.units.UnitBase | None = None,
        projection: Any = None,
        name: str = "IMAGE",
    ) -> Any:
        from .._geom import YX
        from .._image import Image

        plane = self.lf.read_plane(kind)
        array = plane.array
        if array.size == 0:
            raise LegacyFormatError(
                f"HDU {plane.hdu_index} of {self.lf.filename!r} has an empty (0x0) image."
            )
        if self.preserve_quantization and plane.compressed:
            array.flags.writeable = False
        self._record(plane, name)
        return Image(array, start=YX(plane.y0, plane.x0), unit=unit, projection=projection)

    def mask(
        self,
        kind: str | int,
        *,
        plane_map: Mapping[str, Any] | None,
        projection: Any = None,
        name: str = "MASK",
    ) -> Any:
        from .._geom import YX
        from .._mask import Mask, MaskPlane, MaskSchema

        plane = self.lf.read_plane(kind)
        if plane.array.size == 0:
            raise LegacyFormatError(f"HDU {plane.hdu_index} of {self.lf.filename!r} has an empty (0x0) mask.")
        legacy_planes = read_mask_plane_cards(plane.header)
        mapped = map_legacy_mask(plane.array, legacy_planes, plane_map, filename=self.lf.filename)
        schema = MaskSchema([MaskPlane(n, d) for n, d in mapped.planes])
        array = mapped.array[..., : schema.mask_size]
        self._record(plane, name)
        return Mask(array, schema=schema, start=YX(plane.y0, plane.x0), projection=projection)

    def header_projection(self, kind: str | int, pixel_frame: Any) -> Any:
        """Projection from the FITS WCS in a plane header (None when there is none)."""
        from ._skywcs import sky_wcs_from_header

        index = self.lf.find_plane(kind) if isinstance(kind, str) else kind
        header = self.lf.header(index)
        from ._fits import read_xy0

        x0, y0 = read_xy0(header)
        wcs = sky_wcs_from_header(header, x0, y0)
        return None if wcs is None else _projection(wcs, pixel_frame)


def _projection(sky_wcs: Any, pixel_frame: Any) -> Any:
    """Wrap a decoded `LegacySkyWcs` as a `Projection` in ``pixel_frame`` (keeping its approximation)."""
    from .._transforms import ICRS, Projection, Transform

    projection = Projection.from_ast_frame_set(sky_wcs.frame_set, pixel_frame)
    if sky_wcs.fits_approximation is None:
        return projection
    approximation = Transform(
        pixel_frame,
        ICRS,
        sky_wcs.fits_approximation.frame_set,
        in_bounds=projection.pixel_to_sky_transform.in_bounds,
    )
    return Projection(projection.pixel_to_sky_transform, approximation)


def _resolve_ext(lf: LegacyFitsFile, ext: str | int) -> int:
    if isinstance(ext, int):
        if not 0 <= ext < len(lf):
            raise LegacyFormatError(f"{lf.filename!r} has no HDU {ext} (it has {len(lf)}).")
        return ext
    wanted = ext.strip().upper()
    for key in ("EXTNAME", "EXTTYPE"):
        for index in range(len(lf)):
            value = lf.header(index).get(key)
            if isinstance(value, str) and value.strip().upper() == wanted:
                return index
    raise LegacyFormatError(f"{lf.filename!r} has no HDU with EXTNAME or EXTTYPE {ext!r}.")


# -- public single-plane readers ---------------------------------------------------------


def read_image(
    uri: Any,
    *,
    preserve_quantization: bool = False,
    ext: str | int = 1,
    fits_wcs_frame: Any = None,
    bbox: Any = None,
) -> Any:
    """Read one image HDU of an afw-written FITS file as an `Image`.

    Parameters
    ----------
    uri
        Local path (or ``file://`` URI) of the file.
    preserve_quantization
        Keep the compressed bytes of a tile-compressed HDU and make the array read-only.
    ext
        HDU index, or EXTNAME/EXTTYPE.  afw ``Image.writeFits`` files keep the
        pixels in the primary HDU (``ext=0``).
    fits_wcs_frame
        If given, attach a projection built from the HDU's FITS WCS in this pixel frame.
    bbox
        Read only this absolute box (only its rows or tiles are read).
    """
    with _open(uri) as lf:
        lf.region = bbox
        reader = _LegacyImageFile(lf, preserve_quantization)
        index = _resolve_ext(lf, ext)
        header = lf.header(index)
        projection = None if fits_wcs_frame is None else reader.header_projection(index, fits_wcs_frame)
        image = reader.image(index, unit=_plane_unit(header, None), projection=projection)
        _attach_opaque(image, reader, lf)
        return image


def read_mask(
    uri: Any,
    *,
    plane_map: Mapping[str, Any] | None = None,
    ext: str | int = 1,
    fits_wcs_frame: Any = None,
) -> Any:
    """Read one afw mask HDU as a `Mask`, translating planes through ``plane_map``.

    With ``plane_map=None`` every legacy plane is kept under its legacy name.
    """
    with _open(uri) as lf:
        reader = _LegacyImageFile(lf)
        index = _resolve_ext(lf, ext)
        projection = None if fits_wcs_frame is None else reader.header_projection(index, fits_wcs_frame)
        mask = reader.mask(index, plane_map=plane_map, projection=projection)
        _attach_opaque(mask, reader, lf)
        return mask


def read_masked_image(
    uri: Any,
    *,
    preserve_quantization: bool = False,
    plane_map: Mapping[str, Any] | None = None,
    component: str | None = None,
    fits_wcs_frame: Any = None,
    bbox: Any = None,
) -> Any:
    """Read an afw MaskedImage or Exposure file (three plane HDUs) as a `MaskedImage`.

    Parameters
    ----------
    uri
        Local path (or ``file://`` URI) of the file.
    preserve_quantization
        Keep the compressed bytes of tile-compressed image/variance HDUs.
    plane_map
        Legacy plane name → `MaskPlane`; None keeps the legacy names.
    component
        ``'image'``, ``'mask'`` or ``'variance'`` to read only that plane.
    fits_wcs_frame
        If given, attach a projection built from the image HDU's FITS WCS in this frame.
    bbox
        Read only this absolute box of each plane (only its rows or tiles are read).
    """
    from .._masked_image import MaskedImage

    if component not in (None, "image", "mask", "variance"):
        raise ValueError(f"Unknown MaskedImage component {component!r}.")
    with _open(uri) as lf:
        lf.region = bbox
        reader = _LegacyImageFile(lf, preserve_quantization)
        projection = None if fits_wcs_frame is None else reader.header_projection("IMAGE", fits_wcs_frame)
        image_unit = _plane_unit(lf.header(lf.find_plane("IMAGE")), None)
        if component == "mask":
            result = reader.mask("MASK", plane_map=plane_map, projection=projection)
        elif component in ("image", "variance"):
            kind = component.upper()
            unit = _plane_unit(lf.header(lf.find_plane(kind)), None)
            result = reader.image(kind, unit=unit, projection=projection, name=kind)
        else:
            image = reader.image("IMAGE", unit=image_unit, projection=projection)
            mask = reader.mask("MASK", plane_map=plane_map, projection=projection)
            variance_unit = _plane_unit(lf.header(lf.find_plane("VARIANCE")), None)
            if variance_unit is None and image_unit is not None:
                variance_unit = image_unit**2
            variance = reader.image("VARIANCE", unit=variance_unit, projection=projection, name="VARIANCE")
            result = MaskedImage(image, mask=mask, variance=variance, projection=projection)
        reader.opaque.extract_legacy_primary_header(lf.primary_header)
        _attach_opaque(result, reader, lf)
        return result


#: afw component keys whose archive ids are meaningless once the archive is gone.
_COMPONENT_KEYS = (
    "SKYWCS",
    "WCS",
    "PSF",
    "PHOTOCALIB",
    "DETECTOR",
    "VALID_POLYGON",
    "AP_CORR_MAP",
    "COADD_INPUTS",
    "TRANSMISSION_CURVE",
    "FILTER",
    "SUMMARY_STATS",
    "VISIT_INFO",
)


def _strip_archive_ids(header: astropy.io.fits.Header) -> None:
    """Remove ``AR_HDU`` and every ``<KEY>_ID`` / ``ARCHIVE_ID_<KEY>`` card (they index the old archive)."""
    header.remove("AR_HDU", ignore_missing=True, remove_all=True)
    for key in list(header.keys()):
        upper = key.upper()
        if upper.startswith("ARCHIVE_ID_") or (upper.endswith("_ID") and upper[:-3] in _COMPONENT_KEYS):
            header.remove(key, ignore_missing=True, remove_all=True)


def _attach_opaque(obj: Any, reader: _LegacyImageFile, lf: LegacyFitsFile) -> None:
    from ..fits._opaque import ExtensionKey

    if ExtensionKey() not in reader.opaque.headers:
        reader.opaque.extract_legacy_primary_header(lf.primary_header)
    _strip_archive_ids(reader.opaque.headers[ExtensionKey()])
    obj._opaque_metadata = reader.opaque


# -- VisitImage ----------------------------------------------------------------------------
