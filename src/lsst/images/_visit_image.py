"""`VisitImage`: a calibrated single-visit, single-detector image with everything needed to measure it."""

from __future__ import annotations

__all__ = ("VisitImage",)

from collections.abc import Mapping
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._aliases import either
from ._backgrounds import BackgroundMap
from ._deferred_obs_info import DeferredObservationInfo
from ._geom import Box
from ._image import Image
from ._mask import Mask, MaskPlane, MaskSchema
from ._masked_image import MaskedImage
from ._observation_summary_stats import ObservationSummaryStats
from ._transforms import DetectorFrame, Projection
from .aperture_corrections import ApertureCorrectionMap, ApertureCorrectionMapSerializationModel
from .cameras import Detector
from .fields import BaseField
from .psfs import GaussianPointSpreadFunction, PointSpreadFunction
from .serialization import ArchiveReadError, MetadataValue, OutputArchive, parametrized
from .serialization._units import has_unit

if TYPE_CHECKING:
    import astropy.units as u

    # astro_metadata_translator pulls in astropy.coordinates and astropy.io.fits, so it is only
    # imported (by the serialization model) when a visit image is actually written or read.
    from astro_metadata_translator import ObservationInfo

    from ._geom import Bounds
    from ._transforms import ProjectionAstropyView
    from ._visit_image_model import VisitImageSerializationModel
else:
    from ._lazy import astropy_units as u


def __getattr__(name: str) -> Any:
    # The serialization model needs ObservationInfo at class-definition time; load it on first use.
    if name == "VisitImageSerializationModel":
        from ._visit_image_model import VisitImageSerializationModel

        return VisitImageSerializationModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class VisitImage(MaskedImage):
    """A calibrated single-visit, single-detector image.

    Parameters
    ----------
    image
        The main image plane; it must have a unit.  Its projection is used for all planes unless
        ``projection`` is given.
    mask
        Bitmask plane with the same bounding box as ``image``; exclusive with ``mask_schema``.
    variance
        Variance plane with the same bounding box as ``image``; its unit must be ``image.unit**2`` (or
        `None`, in which case it is set).  Defaults to an array of ones.
    mask_schema
        Schema of a new, all-zero mask; required if and only if ``mask`` is not given.
    projection
        Pixel-to-sky projection whose pixel frame is a `DetectorFrame`; required unless ``image`` has
        one.
    bounds
        Region where the pixels and other components are valid; defaults to the bounding box, and is
        intersected with the bounding box when it extends beyond it.
    obs_info
        Standardized information about the observation (required).
    summary_stats
        Summary statistics of the visit; defaults to an all-NaN instance.
    photometric_scaling
        Field (with units) that multiplies post-ISR pixel values into calibrated ones.  Whether it has
        already been applied is determined by comparing units (see `convert_unit`).
    psf
        Point-spread function model, or the `ArchiveReadError` explaining why it could not be read; the
        error is raised when `psf` is accessed, so that the rest of the image stays usable.
    detector
        Geometry and electronic description of the detector.
    aperture_corrections
        Mapping from photometry algorithm name to aperture-correction field.
    backgrounds
        Background models associated with the image.
    metadata
        Arbitrary flexible metadata.
    sky_projection
        The 4300 spelling of ``projection``.
    band
        Name of the filter band (e.g. ``"r"``).  Required by Rubin's 4300 release and
        unknown to 2100: when it is not given, `band` is derived from
        ``obs_info.physical_filter`` (the part before the first ``_`` or ``~``), so
        code written for either release works.  It is not checked against
        ``obs_info``.
    """

    # No ``_archive_default_name``: like a MaskedImage, the planes are stored at the archive's root
    # (HDUs IMAGE, MASK, VARIANCE, PSF/..., not VISIT_IMAGE/IMAGE).

    def __init__(
        self,
        image: Image,
        *,
        mask: Mask | None = None,
        variance: Image | None = None,
        mask_schema: MaskSchema | None = None,
        projection: Projection[DetectorFrame] | None = None,
        bounds: Bounds | None = None,
        obs_info: ObservationInfo | None = None,
        summary_stats: ObservationSummaryStats | None = None,
        photometric_scaling: BaseField | None = None,
        psf: PointSpreadFunction | ArchiveReadError,
        detector: Detector,
        aperture_corrections: ApertureCorrectionMap | None = None,
        backgrounds: BackgroundMap | None = None,
        metadata: dict[str, MetadataValue] | None = None,
        sky_projection: Projection[DetectorFrame] | None = None,
        band: str | None = None,
    ) -> None:
        projection = either("projection", projection, "sky_projection", sky_projection)
        if band is not None and not isinstance(band, str):
            raise TypeError(f"band must be a str, not {type(band).__name__}.")
        if not isinstance(image, Image):
            raise TypeError(f"image must be an Image, not {type(image).__name__}.")
        if not has_unit(image):
            raise TypeError("A VisitImage's image plane must have a unit.")
        if projection is None:
            projection = image.projection
            if projection is None:
                raise TypeError("A VisitImage needs a projection, passed directly or attached to its image.")
        if not isinstance(projection.pixel_frame, DetectorFrame):
            raise TypeError(
                "A VisitImage's projection must have a DetectorFrame pixel frame, not "
                f"{projection.pixel_frame!r}."
            )
        if obs_info is None:
            raise TypeError("A VisitImage requires an ObservationInfo (obs_info).")
        # psf and detector are duck-typed (as in the reference implementation), so test doubles and
        # PSF implementations outside lsst.images.psfs can be attached.
        super().__init__(
            image,
            mask=mask,
            variance=variance,
            mask_schema=mask_schema,
            projection=projection,
            metadata=metadata,
        )
        self._bounds: Bounds = _clip_bounds(bounds, self.bbox)
        self._obs_info = obs_info
        self._summary_stats = summary_stats if summary_stats is not None else ObservationSummaryStats()
        self._photometric_scaling: BaseField | None = None
        self.photometric_scaling = photometric_scaling
        self._psf = psf
        self._detector = detector
        self._aperture_corrections: ApertureCorrectionMap = (
            aperture_corrections if aperture_corrections is not None else {}
        )
        self._backgrounds = backgrounds if backgrounds is not None else BackgroundMap()
        self._band = band

    # --- component accessors -------------------------------------------------------

    @property
    def unit(self) -> u.UnitBase:
        """The units of the image plane (never `None` for a visit image)."""
        unit = self.image.unit
        assert unit is not None, "checked at construction"
        return unit

    @property
    def projection(self) -> Projection[DetectorFrame]:
        """The projection that maps the (absolute) pixel grid to the sky."""
        projection = self.image.projection
        assert projection is not None, "checked at construction"
        return projection

    @property
    def astropy_wcs(self) -> ProjectionAstropyView:
        """An Astropy APE-14 WCS view of the projection, in local (array) pixel coordinates."""
        return self.projection.as_astropy(self.bbox)

    @property
    def band(self) -> str | None:
        """Name of the filter band: as given, else derived from ``obs_info.physical_filter``.

        `None` only when neither was recorded.
        """
        if self._band is not None:
            return self._band
        return band_from_physical_filter(self.physical_filter)

    @property
    def physical_filter(self) -> str | None:
        """Name of the physical filter, from ``obs_info`` (`None` if it records none)."""
        obs = self._obs_info
        if isinstance(obs, DeferredObservationInfo) and obs.resolved is None:
            value = obs.raw.get("physical_filter")  # no need to build the ObservationInfo
        else:
            value = getattr(self.obs_info, "physical_filter", None)
        return value if isinstance(value, str) and value else None

    @property
    def bounds(self) -> Bounds:
        """The region where pixels are valid (the bounding box unless something smaller was given)."""
        return self._bounds

    @property
    def obs_info(self) -> ObservationInfo:
        """Standardized information about this observation.

        For an image read from a file it is built from the stored values on first access
        (`ArchiveReadError` if they are not a valid `ObservationInfo`).
        """
        obs = self._obs_info
        if isinstance(obs, DeferredObservationInfo):
            obs = self._obs_info = obs.resolve()
        return obs

    @property
    def summary_stats(self) -> ObservationSummaryStats:
        """Summary statistics for this observation."""
        return self._summary_stats

    @property
    def photometric_scaling(self) -> BaseField | None:
        """Field that multiplies a post-ISR image to yield the calibrated image, or `None`."""
        return self._photometric_scaling

    @photometric_scaling.setter
    def photometric_scaling(self, value: BaseField | None) -> None:
        if value is not None and not has_unit(value):
            raise TypeError("photometric_scaling must have units (e.g. nJy / electron).")
        self._photometric_scaling = value

    @property
    def psf(self) -> PointSpreadFunction:
        """The point-spread function model.

        Raises
        ------
        ArchiveReadError
            If the PSF could not be read when this image was read.
        """
        if isinstance(self._psf, ArchiveReadError):
            raise self._psf
        return self._psf

    @property
    def detector(self) -> Detector:
        """Geometry and electronic information about the detector."""
        return self._detector

    @property
    def aperture_corrections(self) -> ApertureCorrectionMap:
        """Mapping from photometry algorithm name to aperture-correction field."""
        return self._aperture_corrections

    @property
    def backgrounds(self) -> BackgroundMap:
        """Background models associated with this image."""
        return self._backgrounds

    # --- construction helpers -------------------------------------------------------

    def _components(self) -> dict[str, Any]:
        """Return the non-pixel constructor arguments of this image (shared, not copied)."""
        return dict(
            projection=self.projection,
            bounds=self._bounds,
            obs_info=self._obs_info,
            summary_stats=self._summary_stats,
            photometric_scaling=self._photometric_scaling,
            psf=self._psf,
            detector=self._detector,
            aperture_corrections=self._aperture_corrections,
            backgrounds=self._backgrounds,
            band=self._band,
        )

    def _copied_components(self, copy_detector: bool) -> dict[str, Any]:
        """Return the non-pixel constructor arguments with the mutable ones copied.

        The projection, PSF, observation info, bounds and photometric scaling are immutable and
        shared; summary statistics, the aperture-correction dict, the background map and (optionally)
        the detector are copied.
        """
        components = self._components()
        components.update(
            summary_stats=self._summary_stats.model_copy(deep=True),
            aperture_corrections=dict(self._aperture_corrections),
            backgrounds=self._backgrounds.copy(),
            detector=self._detector.copy() if copy_detector else self._detector,
        )
        return components

    # --- copies, subimages and unit conversion --------------------------------------------

    def copy(self, *, copy_detector: bool = False) -> VisitImage:
        """Deep-copy the visit image.

        Pixel planes, metadata, summary statistics, the aperture-correction dict and the background
        map are copied; immutable components (projection, PSF, observation info, bounds, photometric
        scaling) are shared.

        Parameters
        ----------
        copy_detector
            Whether to deep-copy the detector too (its camera frame set is always shared).
        """
        result = VisitImage(
            self.image.copy(),
            mask=self.mask.copy(),
            variance=self.variance.copy(),
            **self._copied_components(copy_detector),
        )
        result._init_copy_state(self)
        return result

    def __getitem__(self, bbox: Box | EllipsisType) -> VisitImage:
        if bbox is ...:
            return self
        self._check_subset_key(bbox)
        result = VisitImage(
            self.image[bbox],
            mask=self.mask[bbox],
            variance=self.variance[bbox],
            **self._components(),
        )
        # Subimages share (not copy) the metadata dict and opaque metadata of their parent.
        result._init_subset_state(self, bbox)
        return result

    def convert_unit(
        self,
        unit: u.UnitBase | str = "nJy",
        copy: Literal["as-needed"] | bool = True,
        copy_detector: bool = False,
    ) -> VisitImage:
        """Return an equivalent image with different pixel units.

        Parameters
        ----------
        unit
            The unit to transform to.  It may be directly convertible from the current unit (the image
            is scaled by the conversion factor ``f`` and the variance by ``f**2``), convertible from the
            product of the current unit and `photometric_scaling` (the image is multiplied by the
            scaling rendered on the bounding box, e.g. to calibrate an instrumental image), or
            convertible from their quotient (to revert a calibrated image to instrumental units).
        copy
            `True` to always deep-copy pixels and other components (as `copy` does); `False` to return
            this image unchanged, raising if a conversion is needed; ``'as-needed'`` to share
            everything except the converted image and variance planes.
        copy_detector
            Whether to deep-copy the detector.

        Returns
        -------
        VisitImage
            An image with the given units.

        Raises
        ------
        astropy.units.UnitConversionError
            If no conversion path exists, or one is needed but ``copy`` is `False`.
        """
        if copy not in (True, False, "as-needed"):
            raise ValueError(f"copy must be True, False or 'as-needed', not {copy!r}.")
        scale = self._conversion_scale(u.Unit(unit))
        if scale is None:
            if copy is True:
                return self.copy(copy_detector=copy_detector)
            if copy_detector:
                result = VisitImage(
                    self.image,
                    mask=self.mask,
                    variance=self.variance,
                    **(self._components() | {"detector": self._detector.copy()}),
                )
                result._init_view_state(self)
                return result
            return self
        if copy is False:
            raise u.UnitConversionError(f"Units must be converted ({self.unit} -> {unit}), but copy=False.")
        unit = u.Unit(unit)
        dtype = np.result_type(self.image.array.dtype, np.float32)
        variance_dtype = np.result_type(self.variance.array.dtype, np.float32)
        image = Image(
            (self.image.array * scale).astype(dtype, copy=False),
            bbox=self.bbox,
            unit=unit,
            projection=self.projection,
        )
        variance = Image(
            (self.variance.array * np.square(scale)).astype(variance_dtype, copy=False),
            bbox=self.bbox,
            unit=unit**2,
            projection=self.projection,
        )
        if copy is True:
            components = self._copied_components(copy_detector)
            mask = self.mask.copy()
        else:
            components = self._components()
            if copy_detector:
                components["detector"] = self._detector.copy()
            mask = self.mask
        result = VisitImage(image, mask=mask, variance=variance, **components)
        if copy is True:
            result._init_copy_state(self)
        else:
            result._init_view_state(self)
        return result

    def _conversion_scale(self, unit: u.UnitBase) -> float | np.ndarray | None:
        """Return the factor (scalar or per-pixel array) converting pixel values to ``unit``.

        `None` means no conversion is needed at all (a factor of exactly one).
        """
        current = self.unit
        if current.is_equivalent(unit):
            factor = current.to(unit)
            return None if factor == 1.0 else float(factor)
        scaling = self._photometric_scaling
        if scaling is None:
            raise u.UnitConversionError(
                f"Cannot convert {current} to {unit}: the units are not convertible and there is no "
                "photometric_scaling."
            )
        assert scaling.unit is not None, "checked by the photometric_scaling setter"
        if (current * scaling.unit).is_equivalent(unit):
            factor = (current * scaling.unit).to(unit)
            return scaling.render(self.bbox, dtype=np.float64).array * factor
        if (current / scaling.unit).is_equivalent(unit):
            factor = (current / scaling.unit).to(unit)
            return factor / scaling.render(self.bbox, dtype=np.float64).array
        raise u.UnitConversionError(
            f"photometric_scaling with units {scaling.unit} does not provide a path from {current} to {unit}."
        )

    # --- serialization -----------------------------------------------------------------

    def serialize(self, archive: OutputArchive[Any]) -> VisitImageSerializationModel:
        """Serialize the visit image to an output archive.

        Parameters
        ----------
        archive
            Archive to write to.

        Raises
        ------
        TypeError
            If the PSF is not one of the serializable kinds (Piff, PSFEx or Gaussian).
        ArchiveReadError
            If the PSF could not be read originally (there is nothing to save).
        """
        from ._visit_image_model import VisitImageSerializationModel

        psf = self.psf
        if not _is_serializable_psf(psf):
            raise TypeError(
                f"Cannot serialize a VisitImage whose PSF is a {type(psf).__name__}; only Piff, PSFEx and "
                "Gaussian PSFs can be saved."
            )
        planes = super().serialize(archive)
        psf_model = archive.serialize_direct("psf", psf.serialize)
        scaling_model = (
            archive.serialize_direct("photometric_scaling", self._photometric_scaling.serialize)
            if self._photometric_scaling is not None
            else None
        )
        detector_model = archive.serialize_direct("detector", self._detector.serialize)
        apcorr_model = archive.serialize_direct(
            "aperture_corrections",
            lambda nested: ApertureCorrectionMapSerializationModel.serialize(
                self._aperture_corrections, nested
            ),
        )
        backgrounds_model = archive.serialize_direct("backgrounds", self._backgrounds.serialize)
        bounds = self._bounds
        bounds_model = None if isinstance(bounds, Box) and bounds == self.bbox else bounds.serialize()
        return VisitImageSerializationModel(
            metadata=planes.metadata,
            image=planes.image,
            mask=planes.mask,
            variance=planes.variance,
            projection=planes.projection,
            psf=psf_model,
            obs_info=self._obs_info,
            photometric_scaling=scaling_model,
            summary_stats=self._summary_stats,
            detector=detector_model,
            aperture_corrections=apcorr_model,
            bounds=bounds_model,
            backgrounds=backgrounds_model,
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[VisitImageSerializationModel[Any]]:
        """Return the pydantic model used to read a visit image from an archive with this pointer type."""
        from ._visit_image_model import VisitImageSerializationModel

        return parametrized(VisitImageSerializationModel, pointer_type)

    # --- legacy conversions ------------------------------------------------------------------

    @staticmethod
    def read_legacy(
        filename: str,
        *,
        preserve_quantization: bool = False,
        plane_map: Mapping[str, MaskPlane] | None = None,
        instrument: str | None = None,
        visit: int | None = None,
        component: str | None = None,
    ) -> Any:
        """Read a FITS file written by ``lsst.afw.image.Exposure.writeFits``.

        Parameters
        ----------
        filename
            Full name of the file.
        preserve_quantization
            If `True`, keep the quantized compressed pixel values so that writing the image back out
            preserves them exactly (the image and variance arrays are then read-only).
        plane_map
            Mapping from legacy mask plane name to new `MaskPlane`; defaults to
            `get_legacy_visit_image_mask_planes`.
        instrument
            Name of the instrument; read from the primary header if not provided.
        visit
            ID of the visit; read from the primary header if not provided.
        component
            A component to read instead of the full image (``'bbox'``, ``'image'``, ``'mask'``,
            ``'variance'``, ``'projection'``, ``'psf'``, ``'detector'``, ``'photometric_scaling'``,
            ``'obs_info'``, ``'summary_stats'`` or ``'aperture_corrections'``).
        """
        from .legacy import read_visit_image

        return read_visit_image(
            filename,
            preserve_quantization=preserve_quantization,
            plane_map=plane_map,
            instrument=instrument,
            visit=visit,
            component=component,
        )

    @staticmethod
    def from_legacy(
        legacy: Any,
        *,
        unit: u.UnitBase | None = None,
        plane_map: Mapping[str, MaskPlane] | None = None,
        instrument: str | None = None,
        visit: int | None = None,
    ) -> VisitImage:
        """Convert from an ``lsst.afw.image.Exposure`` instance (requires the legacy stack).

        Parameters
        ----------
        legacy
            The afw exposure; image and variance pixels are shared, the mask is translated.
        unit
            Units of the image; the ``BUNIT`` metadata key is used if not provided.
        plane_map
            Mapping from legacy mask plane name to new `MaskPlane`; defaults to
            `get_legacy_visit_image_mask_planes`.
        instrument
            Name of the instrument; extracted from the metadata if not provided.
        visit
            ID of the visit; extracted from the metadata if not provided.
        """
        from .legacy import visit_image_from_legacy

        return visit_image_from_legacy(
            legacy, unit=unit, plane_map=plane_map, instrument=instrument, visit=visit
        )

    def to_legacy(self, *, copy: bool | None = None, plane_map: Mapping[str, MaskPlane] | None = None) -> Any:
        """Convert to an ``lsst.afw.image.Exposure`` (requires the legacy stack).

        Parameters
        ----------
        copy
            `True` to always copy the image and variance pixels, `False` to share them (raising
            `TypeError` if they are read-only), `None` to copy only read-only arrays.
        plane_map
            Mapping from legacy mask plane name to new `MaskPlane`; defaults to
            `get_legacy_visit_image_mask_planes`.
        """
        from .legacy import visit_image_to_legacy

        return visit_image_to_legacy(self, copy=copy, plane_map=plane_map)


def band_from_physical_filter(physical_filter: str | None) -> str | None:
    """Band name of a physical filter: its part before the first ``_`` or ``~`` (``"r_57"`` -> ``"r"``)."""
    if not physical_filter:
        return None
    return physical_filter.split("_")[0].split("~")[0] or None


def _clip_bounds(bounds: Bounds | None, bbox: Box) -> Bounds:
    """Return the validity region for an image with bounding box ``bbox``.

    Bounds that already fit inside the box are kept as given; larger ones are intersected with it
    (which turns a polygon covering the whole box back into the box itself).
    """
    if bounds is None:
        return bbox
    if bbox.contains(bounds.bbox):
        return bounds
    return bounds.intersection(bbox)


def _is_serializable_psf(psf: PointSpreadFunction) -> bool:
    """Whether ``psf`` is one of the PSF kinds the visit-image model can store."""
    if isinstance(psf, GaussianPointSpreadFunction):
        return True
    from . import psfs

    serializable = tuple(
        cls for name in ("PiffWrapper", "PSFExWrapper") if (cls := getattr(psfs, name, None)) is not None
    )
    return isinstance(psf, serializable)
