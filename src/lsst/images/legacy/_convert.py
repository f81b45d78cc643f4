"""Conversion between in-memory ``lsst.afw`` Exposures and `VisitImage`.

Everything here follows afw's documented Python interface and is duck-typed:
converting *from* afw only calls methods on the objects passed in (so stand-in
objects with the same method names work, which is how it is tested), and
converting *to* afw imports ``lsst.afw`` lazily, only then.

The pieces reuse the per-type conversions of the package (`MaskedImage.from_legacy`,
`Projection.from_legacy`, `Amplifier.from_legacy`, `PointSpreadFunction.from_legacy`,
`field_from_legacy_photo_calib`, ...), and the metadata path reuses the header
readers of this package: the afw ``VisitInfo`` is turned into the same FITS
cards afw writes, then translated by astro-metadata-translator exactly as when
reading a file.
"""

from __future__ import annotations

__all__ = ("detector_from_legacy", "visit_info_cards", "visit_image_from_legacy", "visit_image_to_legacy")

import importlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import ArchiveReadError

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.units


def _call(obj: Any, name: str, *args: Any) -> Any:
    """Call ``obj.name(*args)`` if the method exists, else return None."""
    method = getattr(obj, name, None)
    return None if method is None else method(*args)


def _degrees(angle: Any) -> float | None:
    if angle is None:
        return None
    value = angle.asDegrees() if hasattr(angle, "asDegrees") else float(angle)
    return None if value is None or math.isnan(value) else float(value)


def metadata_to_header(metadata: Any) -> astropy.io.fits.Header:
    """Turn an afw ``PropertyList`` (or any mapping) into an astropy header.

    Only scalar values are kept (the last value of multi-valued keys), as
    afw does when writing FITS headers.
    """
    from astropy.io import fits

    header = fits.Header()
    if metadata is None:
        return header
    if hasattr(metadata, "toDict"):
        items = metadata.toDict().items()
    elif isinstance(metadata, Mapping):
        items = metadata.items()
    else:
        names = metadata.getOrderedNames() if hasattr(metadata, "getOrderedNames") else metadata.names()
        items = ((name, metadata.get(name)) for name in names)
    for key, value in items:
        if isinstance(value, list | tuple):
            if not value:
                continue
            value = value[-1]
        if isinstance(value, bool | int | float | str):
            if isinstance(value, float) and math.isnan(value):
                continue
            header[key if len(key) <= 8 and " " not in key else f"HIERARCH {key}"] = value
    return header


def visit_info_cards(visit_info: Any) -> dict[str, Any]:
    """Return the FITS cards afw writes for a ``VisitInfo`` (LEGACY.md §2.1), from its getters.

    Undefined (NaN) values are omitted, as afw does.
    """
    cards: dict[str, Any] = {}
    if visit_info is None:
        return cards

    def put(key: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, float) and math.isnan(value):
            return
        cards[key] = value

    put("EXPTIME", _call(visit_info, "getExposureTime"))
    put("DARKTIME", _call(visit_info, "getDarkTime"))
    date = _call(visit_info, "getDate")
    if date is not None and (not hasattr(date, "isValid") or date.isValid()):
        from astropy.time import Time

        nsecs = int(date.nsecs())
        tai = Time(nsecs // 1_000_000_000, nsecs % 1_000_000_000 / 1e9, format="unix_tai", scale="tai")
        put("DATE-AVG", tai.isot)
        put("TIMESYS", "TAI")
    put("MJD-AVG-UT1", _call(visit_info, "getUt1"))
    put("AVG-ERA", _degrees(_call(visit_info, "getEra")))
    radec = _call(visit_info, "getBoresightRaDec")
    if radec is not None:
        put("BORE-RA", _degrees(radec.getRa()))
        put("BORE-DEC", _degrees(radec.getDec()))
    azalt = _call(visit_info, "getBoresightAzAlt")
    if azalt is not None:
        put("BORE-AZ", _degrees(azalt.getLongitude()))
        put("BORE-ALT", _degrees(azalt.getLatitude()))
    put("BORE-AIRMASS", _call(visit_info, "getBoresightAirmass"))
    put("BORE-ROTANG", _degrees(_call(visit_info, "getBoresightRotAngle")))
    rot_type = _call(visit_info, "getRotType")
    if rot_type is not None:
        put("ROTTYPE", getattr(rot_type, "name", str(rot_type)).split(".")[-1])
    observatory = _call(visit_info, "getObservatory")
    if observatory is not None:
        put("OBS-LONG", _degrees(observatory.getLongitude()))
        put("OBS-LAT", _degrees(observatory.getLatitude()))
        put("OBS-ELEV", observatory.getElevation())
    weather = _call(visit_info, "getWeather")
    if weather is not None:
        put("AIRTEMP", weather.getAirTemperature())
        put("AIRPRESS", weather.getAirPressure())
        put("HUMIDITY", weather.getHumidity())
    for key, getter in (
        ("INSTRUMENT", "getInstrumentLabel"),
        ("IDNUM", "getId"),
        ("FOCUSZ", "getFocusZ"),
        ("OBSTYPE", "getObservationType"),
        ("PROGRAM", "getScienceProgram"),
        ("REASON", "getObservationReason"),
        ("OBJECT", "getObject"),
        ("HAS-SIMULATED-CONTENT", "getHasSimulatedContent"),
    ):
        value = _call(visit_info, getter)
        if value not in (None, "", 0) or (key == "HAS-SIMULATED-CONTENT" and value is not None):
            put(key, value)
    return cards


class _DetectorIds:
    """The three detector values ObservationInfo takes from an afw Detector."""

    def __init__(self, legacy_detector: Any):
        self.id = legacy_detector.getId()
        self.serial = legacy_detector.getSerial()
        self.name = legacy_detector.getName()


def legacy_camera_systems(legacy_detector: Any) -> tuple[Any, Any, Any, Any]:
    """Find a detector's camera systems in its afw ``TransformMap`` (duck-typed).

    Returns
    -------
    tuple
        ``(transform_map, pixels, focal_plane, field_angle)``: the map and its
        ``CameraSys`` objects for the detector's ``ActualPixels`` (else
        ``Pixels``) system, ``FocalPlane`` and ``FieldAngle`` (`None` when
        absent).

    Raises
    ------
    ValueError
        If the map lacks the focal plane or the detector's pixel system.
    """
    name = legacy_detector.getName()
    transform_map = legacy_detector.getTransformMap()
    systems = {(s.getSysName(), s.getDetectorName()): s for s in transform_map}
    focal_plane = systems.get(("FocalPlane", ""))
    pixels = systems.get(("ActualPixels", name)) or systems.get(("Pixels", name))
    if focal_plane is None or pixels is None:
        raise ValueError(f"The TransformMap of detector {name!r} lacks FocalPlane or its Pixels system.")
    return transform_map, pixels, focal_plane, systems.get(("FieldAngle", ""))


class _FrameSource:
    """The parts of a decoded detector `camera_frame_set_ast` needs, taken from an afw Detector."""

    def __init__(self, legacy_detector: Any):
        from ._detector import LegacyTransformMap
        from ._skywcs import ast_from_text

        self.name = legacy_detector.getName()
        self.id = legacy_detector.getId()
        bbox = legacy_detector.getBBox()
        self.bbox = (bbox.getMinX(), bbox.getMinY(), bbox.getMaxX(), bbox.getMaxY())
        transform_map, pixels, focal_plane, field_angle = legacy_camera_systems(legacy_detector)
        edges = {}
        for target in (pixels, field_angle):
            if target is None:
                continue
            mapping = transform_map.getTransform(focal_plane, target).getMapping()
            key = ((focal_plane.getSysName(), ""), (target.getSysName(), target.getDetectorName()))
            edges[key] = ast_from_text(mapping.show())
        self.transform_map = LegacyTransformMap(edges)


def detector_from_legacy(legacy_detector: Any, *, instrument: str, visit: int | None = None) -> Any:
    """Convert an afw ``Detector`` (duck-typed) into a `cameras.Detector`.

    Amplifier raw geometry is taken as the assembled raw layout, as the
    reference does for Exposures.  The camera frames are rebuilt from the
    detector's TransformMap (focal plane, field angle and the detector's
    ``ActualPixels``/``Pixels`` system) through the AST text of each mapping.
    """
    from .._transforms import CameraFrameSet
    from ..cameras import Amplifier, Detector
    from ..cameras._detector import detector_attributes_from_legacy
    from ._detector import camera_frame_set_ast

    attributes = detector_attributes_from_legacy(legacy_detector)
    amplifiers = [Amplifier.from_legacy(amp, True) for amp in legacy_detector.getAmplifiers()]
    frames = CameraFrameSet(instrument, camera_frame_set_ast(_FrameSource(legacy_detector)))
    return Detector(attributes, amplifiers, frames, visit=visit)


def _filter_label(legacy_filter: Any) -> Any:
    from ._visit_info import LegacyFilterLabel

    if legacy_filter is None:
        return None
    band = legacy_filter.bandLabel if _call(legacy_filter, "hasBandLabel") else None
    physical = legacy_filter.physicalLabel if _call(legacy_filter, "hasPhysicalLabel") else None
    return LegacyFilterLabel(band=band, physical=physical)


def _resolve_unit(
    unit: astropy.units.UnitBase | None, header: astropy.io.fits.Header
) -> tuple[astropy.units.UnitBase, astropy.units.UnitBase]:
    """Return (image unit, instrumental unit), checking an explicit unit against ``BUNIT``."""
    from ._reader import _instrumental_unit, _plane_unit

    instrumental = _instrumental_unit(header)
    from_header = _plane_unit(header, instrumental)
    if unit is not None and from_header is not None and unit != from_header:
        raise ValueError(f"unit={unit} disagrees with BUNIT={header['BUNIT']!r} in the Exposure metadata.")
    return (unit or from_header or instrumental), instrumental


def visit_image_from_legacy(
    legacy: Any,
    *,
    unit: astropy.units.UnitBase | None = None,
    plane_map: Mapping[str, Any] | None = None,
    instrument: str | None = None,
    visit: int | None = None,
) -> Any:
    """Convert an afw ``Exposure`` into a `VisitImage`.

    Image and variance pixels are shared with the Exposure; the mask is
    translated through ``plane_map`` (default `get_legacy_visit_image_mask_planes`).
    The Exposure must have a WCS, a Detector and a PSF (`ValueError` otherwise).
    A PSF the conversion cannot represent is kept as a deferred `ArchiveReadError`.

    Raises
    ------
    ValueError
        If a required component is missing, or ``unit``/``instrument``/``visit``
        disagree with the Exposure's metadata.
    """
    from .._legacy_mask_planes import get_legacy_visit_image_mask_planes
    from .._masked_image import MaskedImage
    from .._observation_summary_stats import ObservationSummaryStats
    from .._polygon import Polygon
    from .._transforms import DetectorFrame, Projection
    from .._visit_image import VisitImage
    from ..aperture_corrections import aperture_corrections_from_legacy
    from ..fields import field_from_legacy_photo_calib
    from ..psfs import PointSpreadFunction
    from ._visit_info import observation_info_from_header
    from ._visit_reader import resolve_instrument_visit

    info = legacy.getInfo() if hasattr(legacy, "getInfo") else None
    header = metadata_to_header(_call(legacy, "getMetadata"))
    for key, value in visit_info_cards(_call(legacy, "getVisitInfo")).items():
        header[key if len(key) <= 8 else f"HIERARCH {key}"] = value
    legacy_detector = _call(legacy, "getDetector")
    if legacy_detector is None:
        raise ValueError("The Exposure has no Detector; it cannot be converted to a VisitImage.")
    sky_wcs = _call(legacy, "getWcs")
    if sky_wcs is None:
        raise ValueError("The Exposure has no WCS; it cannot be converted to a VisitImage.")
    legacy_psf = _call(legacy, "getPsf")
    if legacy_psf is None:
        raise ValueError("The Exposure has no PSF; it cannot be converted to a VisitImage.")
    image_unit, instrumental = _resolve_unit(unit, header)
    obs_info = observation_info_from_header(
        header, detector=_DetectorIds(legacy_detector), filter_label=_filter_label(_call(legacy, "getFilter"))
    )
    instrument, visit = resolve_instrument_visit(header, obs_info, instrument, visit, "<in-memory Exposure>")
    detector = detector_from_legacy(legacy_detector, instrument=instrument, visit=visit)
    frame = DetectorFrame(instrument=instrument, visit=visit, detector=detector.id, bbox=detector.bbox)
    projection = Projection.from_legacy(sky_wcs, frame)
    try:
        psf: Any = PointSpreadFunction.from_legacy(legacy_psf, detector.bbox)
    except (ImportError, NotImplementedError, TypeError, ValueError) as err:
        psf = ArchiveReadError(f"The Exposure's PSF could not be converted: {err}")
    masked = MaskedImage.from_legacy(
        legacy.getMaskedImage(),
        unit=image_unit,
        plane_map=plane_map if plane_map is not None else get_legacy_visit_image_mask_planes(),
    )
    photo_calib = _call(legacy, "getPhotoCalib")
    photometric_scaling = (
        None
        if photo_calib is None
        else field_from_legacy_photo_calib(photo_calib, detector.bbox, instrumental)
    )
    summary = _call(info, "getSummaryStats") if info is not None else None
    ap_corr = _call(info, "getApCorrMap") if info is not None else None
    polygon = _call(info, "getValidPolygon") if info is not None else None
    return VisitImage(
        masked.image,
        mask=masked.mask,
        variance=masked.variance,
        projection=projection,
        bounds=None if polygon is None else Polygon.from_legacy(polygon),
        obs_info=obs_info,
        summary_stats=None if summary is None else ObservationSummaryStats.from_legacy(summary),
        photometric_scaling=photometric_scaling,
        psf=psf,
        detector=detector,
        aperture_corrections={} if ap_corr is None else aperture_corrections_from_legacy(ap_corr),
    )


def _legacy_psf(psf: Any) -> Any:
    """Build the afw Psf for a PSF model (needs the matching legacy package)."""
    from ..psfs import GaussianPointSpreadFunction, LegacyPointSpreadFunction, PiffWrapper

    if isinstance(psf, LegacyPointSpreadFunction):
        return psf.legacy_psf
    if isinstance(psf, GaussianPointSpreadFunction):
        afw_detection = importlib.import_module("lsst.afw.detection")
        size = psf.kernel_bbox.x.size
        return afw_detection.GaussianPsf(size, size, psf.sigma)
    if isinstance(psf, PiffWrapper):
        piff_psf = importlib.import_module("lsst.meas.extensions.piff.piffPsf")
        size = psf.kernel_bbox.x.size
        return piff_psf.PiffPsf(size, size, psf.piff_psf)
    raise TypeError(f"Cannot convert a {type(psf).__name__} to an afw Psf.")


def visit_image_to_legacy(
    visit_image: Any, *, copy: bool | None = None, plane_map: Mapping[str, Any] | None = None
) -> Any:
    """Convert a `VisitImage` to an afw ``ExposureF``/``ExposureD`` (needs ``lsst.afw``).

    The image and variance arrays are shared unless ``copy`` asks otherwise;
    the mask is translated back through ``plane_map`` (default
    `get_legacy_visit_image_mask_planes`).  WCS, Detector, PSF (when
    representable), photometric calibration, summary statistics, aperture
    corrections and valid polygon are attached.
    """
    from .._legacy_mask_planes import get_legacy_visit_image_mask_planes
    from .._masked_image import MaskedImage
    from .._polygon import Polygon
    from ..aperture_corrections import aperture_corrections_to_legacy

    afw_image = importlib.import_module("lsst.afw.image")
    masked = MaskedImage.to_legacy(
        visit_image,
        copy=copy,
        plane_map=plane_map if plane_map is not None else get_legacy_visit_image_mask_planes(),
    )
    exposure = afw_image.makeExposure(masked)
    exposure.setWcs(visit_image.projection.to_legacy())
    exposure.setDetector(visit_image.detector.to_legacy(is_raw_assembled=True))
    try:
        exposure.setPsf(_legacy_psf(visit_image.psf))
    except (ArchiveReadError, ImportError, TypeError):
        pass  # no representable PSF: leave it unset, as afw allows
    scaling = visit_image.photometric_scaling
    if scaling is not None:
        coefficients = getattr(scaling, "coefficients", None)
        if coefficients is not None and coefficients.shape == (1, 1):
            exposure.setPhotoCalib(afw_image.PhotoCalib(float(coefficients[0, 0])))
        else:
            exposure.setPhotoCalib(afw_image.PhotoCalib(scaling.to_legacy()))
    info = exposure.getInfo()
    stats_type = getattr(afw_image, "ExposureSummaryStats", None)
    if stats_type is not None:
        info.setSummaryStats(stats_type(**visit_image.summary_stats.model_dump()))
    if visit_image.aperture_corrections:
        info.setApCorrMap(aperture_corrections_to_legacy(visit_image.aperture_corrections))
    if isinstance(visit_image.bounds, Polygon):
        info.setValidPolygon(visit_image.bounds.to_legacy())
    return exposure
