"""Reading afw ``Exposure`` FITS files (``calexp``, ``visit_image``) as `VisitImage` objects.

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

__all__ = ("VISIT_IMAGE_COMPONENTS", "read_visit_image", "resolve_instrument_visit")

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..serialization._guard import mark_caller_error
from ._errors import ArchiveReadError, LegacyFormatError
from ._fits import LegacyFitsFile
from ._reader import (
    _attach_opaque,
    _instrumental_unit,
    _LegacyImageFile,
    _open,
    _plane_unit,
    _projection,
)

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
