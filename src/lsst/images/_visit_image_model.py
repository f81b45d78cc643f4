"""`VisitImageSerializationModel`: the JSON-tree form of a `VisitImage`.

Kept apart from `VisitImage` itself (and imported on first use) so that ``import
lsst.images`` stays fast.  Its ``obs_info`` field keeps the stored values as they are until
they are used, so that reading pixels does not import ``astro_metadata_translator`` (which
imports astropy.coordinates and astropy.time).
"""

from __future__ import annotations

__all__ = ("VisitImageSerializationModel",)

from collections.abc import Mapping
from typing import Annotated, Any, Generic

import pydantic

from ._backgrounds import BackgroundMapSerializationModel
from ._deferred_obs_info import DeferredObservationInfo
from ._geom import Box
from ._lazy import is_instance_if_loaded
from ._masked_image import MaskedImageSerializationModel
from ._observation_summary_stats import ObservationSummaryStats
from ._polygon import SerializableBounds
from ._transforms import ProjectionSerializationModel
from ._visit_image import VisitImage
from .aperture_corrections import ApertureCorrectionMapSerializationModel
from .cameras import DetectorSerializationModel
from .fields import FieldSerializationModel
from .psfs import (
    GaussianPSFSerializationModel,
    PiffSerializationModel,
    PointSpreadFunction,
    PSFExSerializationModel,
)
from .serialization import (
    ArchiveReadError,
    ArchiveTree,
    InputArchive,
    InvalidComponentError,
    InvalidParameterError,
)
from .serialization._archive import P  # one shared TypeVar: ``Model[P]`` is ``Model`` itself
from .utils import is_none


def _accept_obs_info(value: Any) -> Any:
    """Validate the ``obs_info`` field: stored mappings stay unvalidated until first use."""
    if isinstance(value, DeferredObservationInfo):
        return value
    if isinstance(value, Mapping):
        return DeferredObservationInfo(value)
    if is_instance_if_loaded(value, "astro_metadata_translator", "ObservationInfo"):
        return value
    raise ValueError(
        f"obs_info must be an ObservationInfo or a mapping of its values, not {type(value).__name__}"
    )


def _dump_obs_info(value: Any, handler: pydantic.SerializerFunctionWrapHandler) -> Any:
    """Serialize an `ObservationInfo`, or the stored values of one never looked at."""
    if isinstance(value, DeferredObservationInfo):
        value = value.raw if value.resolved is None else value.resolved
    return handler(value)


#: ``obs_info`` as stored in trees: an `ObservationInfo`, or (when read) its stored values
#: wrapped so that ``astro_metadata_translator`` is only imported when they are used.
ObservationInfoField = Annotated[
    Any,
    pydantic.PlainValidator(_accept_obs_info),
    pydantic.WrapSerializer(_dump_obs_info),
    pydantic.WithJsonSchema({"type": "object", "description": "astro_metadata_translator ObservationInfo"}),
]


#: Components of a `VisitImage` that are not pixel planes (and so take no ``bbox``).
_NON_PIXEL_COMPONENTS = (
    "projection",
    "sky_projection",
    "unit",
    "psf",
    "obs_info",
    "photometric_scaling",
    "summary_stats",
    "detector",
    "aperture_corrections",
    "bounds",
    "backgrounds",
)


class VisitImageSerializationModel(MaskedImageSerializationModel[P], Generic[P]):
    """Serialized form of a `VisitImage` (the JSON tree of a visit-image file).

    The PSF is an untagged union resolved left to right (Piff, PSFEx, Gaussian); anything else is
    kept as raw data so that the rest of the image can still be read, with the error deferred to
    `VisitImage.psf`.
    """

    projection: ProjectionSerializationModel[P]
    psf: PiffSerializationModel | PSFExSerializationModel | GaussianPSFSerializationModel | Any = (
        pydantic.Field(union_mode="left_to_right")
    )
    obs_info: ObservationInfoField
    photometric_scaling: FieldSerializationModel | None = None
    summary_stats: ObservationSummaryStats
    detector: DetectorSerializationModel
    aperture_corrections: ApertureCorrectionMapSerializationModel = pydantic.Field(
        default_factory=ApertureCorrectionMapSerializationModel
    )
    bounds: SerializableBounds | None = pydantic.Field(default=None, exclude_if=is_none)
    backgrounds: BackgroundMapSerializationModel = pydantic.Field(
        default_factory=BackgroundMapSerializationModel
    )
    #: The band recorded by 4300-layout trees (required there).  2100 trees have no such
    #: field (and 2100 readers refuse unknown ones), so it is never dumped here: the 4300
    #: layout writer adds it from `VisitImage.band`.
    band: str | None = pydantic.Field(default=None, exclude=True)

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, **kwargs: Any
    ) -> VisitImage:
        """Rebuild the `VisitImage`, optionally just the subimage within ``bbox``.

        A PSF that cannot be rebuilt does not prevent reading: the `ArchiveReadError` is stored and
        raised when `VisitImage.psf` is accessed.
        """
        if kwargs:
            raise InvalidParameterError(
                f"Unrecognized parameters for reading a VisitImage: {sorted(kwargs)}."
            )
        image = self.image.deserialize(archive, bbox=bbox)
        mask = self.mask.deserialize(archive, bbox=bbox)
        variance = self.variance.deserialize(archive, bbox=bbox)
        try:
            psf: PointSpreadFunction | ArchiveReadError = self._deserialize_psf(archive)
        except ArchiveReadError as err:
            psf = err
        return VisitImage(
            image,
            mask=mask,
            variance=variance,
            projection=self.projection.deserialize(archive),
            bounds=self.bounds.deserialize() if self.bounds is not None else None,
            obs_info=self.obs_info,
            summary_stats=self.summary_stats,
            photometric_scaling=(
                self.photometric_scaling.deserialize(archive)
                if self.photometric_scaling is not None
                else None
            ),
            psf=psf,
            detector=self.detector.deserialize(archive),
            aperture_corrections=self.aperture_corrections.deserialize(archive),
            backgrounds=self.backgrounds.deserialize(archive),
            metadata=dict(self.metadata),
            band=self.band,
        )

    def _deserialize_psf(self, archive: InputArchive[Any]) -> PointSpreadFunction:
        """Rebuild the PSF, turning every failure into an `ArchiveReadError`."""
        if not isinstance(self.psf, ArchiveTree):
            raise ArchiveReadError(
                "The PSF in this archive is not a recognized model (Piff, PSFEx or Gaussian); keys: "
                f"{sorted(self.psf) if isinstance(self.psf, Mapping) else type(self.psf).__name__}."
            )
        try:
            return self.psf.deserialize(archive)
        except ArchiveReadError:
            raise
        except Exception as err:
            raise ArchiveReadError(f"Could not read the PSF ({type(err).__name__}: {err}).") from err

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read a single component by name.

        Pixel planes (``'image'``, ``'mask'``, ``'variance'``), ``'masked_image'`` (the three
        planes as a `MaskedImage`) and ``'bbox'`` behave as for a masked image (the planes accept
        ``bbox=``); the other components (4300 names ``'sky_projection'`` and ``'unit'``
        included) accept no keyword arguments and read no pixels.
        """
        if component not in _NON_PIXEL_COMPONENTS:
            if component in ("image", "mask", "variance", "bbox"):
                return super().deserialize_component(component, archive, **kwargs)
            if component == "masked_image":
                return MaskedImageSerializationModel.deserialize(self, archive, **kwargs)
            raise InvalidComponentError(f"VisitImage has no component {component!r}.")
        if kwargs:
            raise InvalidParameterError(
                f"Component {component!r} of a VisitImage takes no parameters (got {sorted(kwargs)})."
            )
        match component:
            case "projection" | "sky_projection" | "unit":
                return super().deserialize_component(component, archive)
            case "psf":
                return self._deserialize_psf(archive)
            case "bounds":
                return self.bounds.deserialize() if self.bounds is not None else self.bbox
            case "obs_info":
                obs = self.obs_info
                return obs.resolve() if isinstance(obs, DeferredObservationInfo) else obs
            case "summary_stats":
                return self.summary_stats
            case "photometric_scaling":
                return self.photometric_scaling.deserialize(archive) if self.photometric_scaling else None
            case _:
                return getattr(self, component).deserialize(archive)
