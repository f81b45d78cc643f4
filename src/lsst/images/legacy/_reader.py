"""Reading afw ``Exposure`` / ``MaskedImage`` / ``Image`` / ``Mask`` FITS files as `lsst.images` objects.

The control flow of `read_visit_image` mirrors what Rubin's reference
implementation does with afw (LEGACY.md §6), but every component is decoded
from the file alone: nothing from ``lsst.afw`` is needed.  The order in which
components are checked matters because it decides which error a file that
lacks several components reports: bbox → detector → WCS → summary stats →
PSF → aperture corrections → obs_info → instrument/visit → photometric
scaling → detector → projection → pixels → valid polygon.

Decisions where afw-era files or the reference are ambiguous:

* a PSF that exists but cannot be decoded (unsupported class, forbidden
  pickle, missing ``piff`` extra) is stored as an `ArchiveReadError` and only
  raised when ``VisitImage.psf`` is accessed; a file with *no* PSF raises
  `ValueError`, as the reference does;
* an image plane without ``BUNIT`` takes the instrumental unit (``LSST ISR
  UNITS``, default electron) so that a `VisitImage` can be built;
* ``preserve_quantization=True`` is a no-op for planes that are not
  tile-compressed (the reference raises ``KeyError: 'ZCMPTYPE'`` there).
"""

from __future__ import annotations

__all__ = ("read_image", "read_mask", "read_masked_image", "read_visit_image")

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..serialization._guard import mark_caller_error
from ._errors import ArchiveReadError, LegacyFormatError
from ._fits import LegacyFitsFile, LegacyPlane
from ._masks import map_legacy_mask, read_mask_plane_cards, strip_mask_plane_cards

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.units

VISIT_IMAGE_COMPONENTS = (
    "bbox",
    "image",
    "mask",
    "variance",
    "projection",
    "psf",
    "detector",
    "photometric_scaling",
    "obs_info",
    "summary_stats",
    "aperture_corrections",
)

#: Components whose archive id afw looks up with the old ``<KEY>_ID`` spelling first.
_TRADITIONAL = {
    "PSF",
    "SKYWCS",
    "COADD_INPUTS",
    "AP_CORR_MAP",
    "VALID_POLYGON",
    "TRANSMISSION_CURVE",
    "DETECTOR",
    "PHOTOCALIB",
}

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


class _ExposureReader:
    """Decode the components of an afw Exposure file on demand (each at most once)."""

    def __init__(
        self, lf: LegacyFitsFile, *, preserve_quantization: bool, plane_map: Mapping[str, Any] | None
    ):
        self.lf = lf
        self.planes = _LegacyImageFile(lf, preserve_quantization)
        self.primary = lf.primary_header
        # Where VisitInfo, FILTER, FLUXMAG0 and butler cards live: the primary header, except in
        # very old files whose image HDU lacks INHERIT (LEGACY.md §2.1, metadata source rule).
        self.metadata = lf.metadata_header()
        self.archive = lf.archive
        if plane_map is None:
            from .._legacy_mask_planes import get_legacy_visit_image_mask_planes

            plane_map = get_legacy_visit_image_mask_planes()
        self.plane_map = plane_map
        self.version = int(self.primary.get("EXPINFO_V", 0))
        if self.version > 2:
            raise LegacyFormatError(
                f"{lf.filename!r} has ExposureInfo version {self.version}; only versions 0-2 are supported."
            )

    # -- archive components -------------------------------------------------------

    def component_id(self, key: str) -> int:
        """Archive id of a component (0 = none), using the key spelling afw uses for it."""
        old, new = f"{key}_ID", f"ARCHIVE_ID_{key}"
        order = (old, new) if key in _TRADITIONAL else (new, old)
        for card in order:
            value = self.primary.get(card)
            if value is not None:
                return int(value)
        return 0

    def get(self, key: str) -> Any:
        object_id = self.component_id(key)
        if not object_id or self.archive is None:
            return None
        return self.archive.get(object_id)

    def legacy_detector(self) -> Any:
        detector = self.get("DETECTOR")
        if detector is None:
            raise ValueError(f"{self.lf.filename!r} has no Detector; it cannot be read as a VisitImage.")
        return detector

    def sky_wcs(self) -> Any:
        from ._skywcs import sky_wcs_from_header

        wcs = self.get("SKYWCS")
        if wcs is not None:
            return wcs
        header = self.lf.header(self.lf.find_plane("IMAGE"))
        from ._fits import read_xy0

        x0, y0 = read_xy0(header)
        wcs = sky_wcs_from_header(header, x0, y0)
        if wcs is None:
            raise ValueError(f"{self.lf.filename!r} has no WCS (neither a SkyWcs nor FITS WCS cards).")
        return wcs

    def summary_stats(self) -> Any:
        from ._summary_stats import to_summary_stats

        values = self.get("SUMMARY_STATS")
        return None if values is None else to_summary_stats(values)

    def psf(self, bounds: Any) -> Any:
        """The PSF, or the `ArchiveReadError` explaining why it could not be decoded."""
        from ._psf import to_psf

        object_id = self.component_id("PSF")
        if not object_id or self.archive is None:
            raise ValueError(f"{self.lf.filename!r} has no PSF; it cannot be read as a VisitImage.")
        try:
            return to_psf(self.archive.get(object_id), bounds)
        except (ArchiveReadError, NotImplementedError, ImportError) as err:
            if isinstance(err, ArchiveReadError):
                return err
            deferred = ArchiveReadError(f"The PSF of {self.lf.filename!r} could not be read: {err}")
            deferred.__cause__ = err
            return deferred

    def aperture_corrections(self) -> dict[str, Any]:
        from ._apcorr import to_aperture_corrections

        ap_corr = self.get("AP_CORR_MAP")
        return {} if ap_corr is None else to_aperture_corrections(ap_corr)

    def filter_label(self) -> Any:
        from ._visit_info import filter_label_from_header

        if self.version >= 2:
            return self.get("FILTER")
        return filter_label_from_header(self.metadata)

    def obs_info(self, legacy_detector: Any) -> Any:
        from ._visit_info import observation_info_from_header

        return observation_info_from_header(
            self.metadata,
            filename=self.lf.filename,
            detector=legacy_detector,
            filter_label=self.filter_label(),
        )

    def photo_calib(self) -> Any:
        from ._photocalib import photo_calib_from_header

        if self.version == 0:
            return photo_calib_from_header(self.metadata)
        return self.get("PHOTOCALIB")

    def valid_polygon(self) -> Any:
        from ._apcorr import to_polygon

        polygon = self.get("VALID_POLYGON")
        return None if polygon is None else to_polygon(polygon)

    # -- instrument / visit ----------------------------------------------------------

    def resolve(self, obs_info: Any, instrument: str | None, visit: int | None) -> tuple[str, int]:
        return resolve_instrument_visit(self.metadata, obs_info, instrument, visit, self.lf.filename)


def resolve_instrument_visit(
    header: astropy.io.fits.Header,
    obs_info: Any,
    instrument: str | None,
    visit: int | None,
    filename: str,
) -> tuple[str, int]:
    """Decide the instrument name and visit id (LEGACY.md §6.5).

    The instrument comes from the argument, else ``obs_info.instrument``, else
    the butler provenance card; the visit from the argument, else the butler
    card only.  An argument that disagrees with the first available source,
    or a value that no source provides, is a `ValueError`.
    """
    butler_instrument = header.get("LSST BUTLER DATAID INSTRUMENT")
    butler_visit = header.get("LSST BUTLER DATAID VISIT")
    instrument = _resolve_value(
        "instrument",
        instrument,
        [
            ("ObservationInfo.instrument", obs_info.instrument),
            ("LSST BUTLER DATAID INSTRUMENT", butler_instrument),
        ],
        filename,
    )
    visit = _resolve_value(
        "visit",
        visit,
        [("LSST BUTLER DATAID VISIT", None if butler_visit is None else int(butler_visit))],
        filename,
    )
    return str(instrument), int(visit)


def _resolve_value(what: str, given: Any, sources: list[tuple[str, Any]], filename: str) -> Any:
    first = next(((name, value) for name, value in sources if value is not None), None)
    if given is not None:
        if first is not None and first[1] != given:
            raise mark_caller_error(
                ValueError(f"{what}={given!r} disagrees with {first[0]}={first[1]!r} in {filename!r}.")
            )
        return given
    if first is None:
        raise mark_caller_error(
            ValueError(f"No value found for {what} in {filename!r}; pass {what}= explicitly.")
        )
    return first[1]


def read_visit_image(
    filename: Any,
    *,
    preserve_quantization: bool = False,
    plane_map: Mapping[str, Any] | None = None,
    instrument: str | None = None,
    visit: int | None = None,
    component: str | None = None,
    bbox: Any = None,
) -> Any:
    """Read an afw ``Exposure`` FITS file as a `VisitImage`, or one of its components.

    Parameters
    ----------
    filename
        Local path (or ``file://`` URI).
    preserve_quantization
        Keep the compressed bytes of tile-compressed image/variance planes so a
        rewrite reproduces their quantized values exactly (those arrays become read-only).
    plane_map
        Legacy mask plane name → `MaskPlane`; default `get_legacy_visit_image_mask_planes`.
    instrument, visit
        Override or supply the instrument name and visit id (`ValueError` when
        they disagree with the file, or when the file has neither).
    component
        One of ``'bbox', 'image', 'mask', 'variance', 'projection', 'psf',
        'detector', 'photometric_scaling', 'obs_info', 'summary_stats',
        'aperture_corrections'``, or None for the full `VisitImage`.
    bbox
        Read only this absolute box of each pixel plane (only its rows or tiles are read).
    """
    if component is not None and component not in VISIT_IMAGE_COMPONENTS:
        raise ValueError(
            f"Unknown VisitImage component {component!r}; expected one of {VISIT_IMAGE_COMPONENTS}."
        )
    with _open(filename) as lf:
        lf.region = bbox
        reader = _ExposureReader(lf, preserve_quantization=preserve_quantization, plane_map=plane_map)
        return _read_visit_image(reader, instrument=instrument, visit=visit, component=component)


def _read_visit_image(
    reader: _ExposureReader, *, instrument: str | None, visit: int | None, component: str | None
) -> Any:
    from .._transforms import DetectorFrame
    from ._detector import to_detector
    from ._photocalib import to_photometric_scaling

    if component == "bbox":
        return reader.planes.bbox("IMAGE")
    legacy_detector = reader.legacy_detector()
    detector_bbox = _detector_box(legacy_detector)
    sky_wcs = reader.sky_wcs() if component in (None, "image", "mask", "variance", "projection") else None
    summary_stats = reader.summary_stats() if component in (None, "summary_stats") else None
    if component == "summary_stats":
        return summary_stats
    psf = reader.psf(detector_bbox) if component in (None, "psf") else None
    if component == "psf":
        if isinstance(psf, ArchiveReadError):
            raise psf
        return psf
    aperture_corrections = (
        reader.aperture_corrections() if component in (None, "aperture_corrections") else None
    )
    if component == "aperture_corrections":
        return aperture_corrections
    obs_info = reader.obs_info(legacy_detector)
    if component == "obs_info":
        return obs_info
    instrument, visit = reader.resolve(obs_info, instrument, visit)
    instrumental_unit = _instrumental_unit(reader.metadata)
    photometric_scaling = None
    if component in (None, "photometric_scaling"):
        photometric_scaling = to_photometric_scaling(reader.photo_calib(), detector_bbox, instrumental_unit)
        if component == "photometric_scaling":
            return photometric_scaling
    detector = to_detector(legacy_detector, instrument=instrument, visit=visit)
    if component == "detector":
        return detector
    pixel_frame = DetectorFrame(
        instrument=instrument, visit=visit, detector=legacy_detector.id, bbox=detector_bbox
    )
    projection = _projection(sky_wcs, pixel_frame)
    if component == "projection":
        return projection
    lf = reader.lf
    image_unit = _plane_unit(lf.header(lf.find_plane("IMAGE")), instrumental_unit) or instrumental_unit
    if component == "image":
        image = reader.planes.image("IMAGE", unit=image_unit, projection=projection)
        _attach_opaque(image, reader.planes, lf)
        return image
    if component == "mask":
        mask = reader.planes.mask("MASK", plane_map=reader.plane_map, projection=projection)
        _attach_opaque(mask, reader.planes, lf)
        return mask
    variance_unit = _plane_unit(lf.header(lf.find_plane("VARIANCE")), instrumental_unit) or image_unit**2
    if component == "variance":
        variance = reader.planes.image("VARIANCE", unit=variance_unit, projection=projection, name="VARIANCE")
        _attach_opaque(variance, reader.planes, lf)
        return variance
    from .._visit_image import VisitImage

    image = reader.planes.image("IMAGE", unit=image_unit, projection=projection)
    mask = reader.planes.mask("MASK", plane_map=reader.plane_map, projection=projection)
    variance = reader.planes.image("VARIANCE", unit=variance_unit, projection=projection, name="VARIANCE")
    result = VisitImage(
        image,
        mask=mask,
        variance=variance,
        projection=projection,
        bounds=reader.valid_polygon(),
        obs_info=obs_info,
        summary_stats=summary_stats,
        photometric_scaling=photometric_scaling,
        psf=psf,
        detector=detector,
        aperture_corrections=aperture_corrections,
    )
    _attach_opaque(result, reader.planes, lf)
    return result


def _detector_box(legacy_detector: Any) -> Any:
    from .._geom import Box

    min_x, min_y, max_x, max_y = legacy_detector.bbox
    return Box.factory[min_y : max_y + 1, min_x : max_x + 1]
