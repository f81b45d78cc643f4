"""`DifferenceImage`: a visit image minus a PSF-matched template, with the kernel and templates used.

Difference imaging subtracts a coadd template, warped to the science image's pixel
grid and convolved with a PSF-matching kernel, from the science image.  The result
has everything a `VisitImage` has (it lives on the same detector pixels) plus the
matching `kernel` and the list of template coadds (`templates`).  The same type also
holds a stitched template.
"""

from __future__ import annotations

__all__ = ("DifferenceImage", "DifferenceImageTemplateInfo")

import uuid
from collections.abc import Iterable
from types import EllipsisType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pydantic

from ._geom import Box
from ._polygon import Polygon, RegionSerializationModel
from ._visit_image import VisitImage
from .serialization import parametrized

if TYPE_CHECKING:
    import astropy.units as u

    from ._backgrounds import BackgroundMap
    from ._difference_image_model import DifferenceImageSerializationModel
    from ._geom import Bounds
    from ._image import Image
    from ._mask import Mask, MaskSchema
    from ._transforms import DetectorFrame, Projection
    from .aperture_corrections import ApertureCorrectionMap
    from .cameras import Detector
    from .convolution_kernels import ConvolutionKernel
    from .fields import BaseField
    from .psfs import PointSpreadFunction
    from .serialization import ArchiveReadError, MetadataValue, OutputArchive
else:
    from ._lazy import astropy_units as u


def _to_polygon(value: Any) -> Polygon:
    if isinstance(value, Polygon):
        return value
    region = RegionSerializationModel.model_validate(value).deserialize()
    if not isinstance(region, Polygon):
        raise ValueError("template bounds must be a single polygon")
    return region


#: A `Polygon` stored as GeoJSON (``{"type": "Polygon", "coordinates": [closed ring]}``).
PolygonField = Annotated[
    Polygon,
    pydantic.PlainValidator(_to_polygon),
    pydantic.PlainSerializer(lambda p: p.serialize().model_dump(mode="json")),
    pydantic.WithJsonSchema(RegionSerializationModel.model_json_schema()),
]


class DifferenceImageTemplateInfo(pydantic.BaseModel):
    """One template coadd used to make a difference image.

    ``bounds`` is the region of the science image (its pixel coordinates) the
    template covers; stored as a closed GeoJSON ring, it reads back with the first
    vertex repeated.
    """

    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True, ser_json_inf_nan="constants")

    skymap: str
    tract: int
    patch: int
    dataset_id: uuid.UUID
    dataset_run: str
    bounds: PolygonField
    psf_shape_xx: float
    psf_shape_yy: float
    psf_shape_xy: float
    psf_shape_flag: bool
    instrument: str = "UNKNOWN"


class DifferenceImage(VisitImage):
    """A difference (or stitched template) image on a detector's pixel grid.

    Parameters
    ----------
    image, mask, variance, mask_schema, bounds, obs_info, summary_stats
        As for `VisitImage`.
    sky_projection, projection
        The projection (4300 and 2100 spellings); its pixel frame is a `DetectorFrame`.
    photometric_scaling, psf, detector, aperture_corrections, backgrounds, metadata
        As for `VisitImage`.
    band
        Band name; taken from ``obs_info.physical_filter`` (``"r_57"`` → ``"r"``) when
        not given.
    kernel
        The PSF-matching kernel, or `None`.
    templates
        The template coadds used, or `None` (unknown).

    Raises
    ------
    TypeError
        As for `VisitImage`, or if no band is given or derivable.
    """

    #: FITS layout written by default: difference images exist in the 4300 (DP2) layout only.
    _fits_default_layout: ClassVar[str] = "4300"

    def __init__(
        self,
        image: Image,
        *,
        mask: Mask | None = None,
        variance: Image | None = None,
        mask_schema: MaskSchema | None = None,
        sky_projection: Projection[DetectorFrame] | None = None,
        projection: Projection[DetectorFrame] | None = None,
        bounds: Bounds | None = None,
        obs_info: Any = None,
        summary_stats: Any = None,
        photometric_scaling: BaseField | None = None,
        psf: PointSpreadFunction | ArchiveReadError,
        detector: Detector,
        aperture_corrections: ApertureCorrectionMap | None = None,
        backgrounds: BackgroundMap | None = None,
        band: str | None = None,
        kernel: ConvolutionKernel | None = None,
        templates: Iterable[DifferenceImageTemplateInfo] | None = None,
        metadata: dict[str, MetadataValue] | None = None,
    ) -> None:
        super().__init__(
            image,
            mask=mask,
            variance=variance,
            mask_schema=mask_schema,
            projection=projection,
            sky_projection=sky_projection,
            bounds=bounds,
            obs_info=obs_info,
            summary_stats=summary_stats,
            photometric_scaling=photometric_scaling,
            psf=psf,
            detector=detector,
            aperture_corrections=aperture_corrections,
            backgrounds=backgrounds,
            metadata=metadata,
            band=band,
        )
        if self.band is None:
            raise TypeError(
                "A DifferenceImage needs a band (pass band=, or an obs_info with a physical_filter)."
            )
        self._kernel = kernel
        self._templates = None if templates is None else list(templates)

    # -- components -----------------------------------------------------------------

    @property
    def kernel(self) -> ConvolutionKernel:
        """The PSF-matching kernel (`AttributeError` when there is none); settable and deletable."""
        if self._kernel is None:
            raise AttributeError("This difference image does not have a kernel attached.")
        return self._kernel

    @kernel.setter
    def kernel(self, value: ConvolutionKernel | None) -> None:
        self._kernel = value

    @kernel.deleter
    def kernel(self) -> None:
        self._kernel = None

    @property
    def templates(self) -> list[DifferenceImageTemplateInfo]:
        """The template coadds used (`AttributeError` when unknown); settable and deletable."""
        if self._templates is None:
            raise AttributeError("This difference image does not have any template information attached.")
        return self._templates

    @templates.setter
    def templates(self, value: Iterable[DifferenceImageTemplateInfo] | None) -> None:
        self._templates = None if value is None else list(value)

    @templates.deleter
    def templates(self) -> None:
        self._templates = None

    # -- copies, cut-outs, unit conversion ------------------------------------------------

    def _adopt(self, visit: VisitImage, *, copy_templates: bool) -> DifferenceImage:
        """Turn a `VisitImage` made from this image (a copy, cut-out...) into a `DifferenceImage`."""
        if visit is self:
            return self
        result = DifferenceImage.__new__(DifferenceImage)
        result.__dict__.update(visit.__dict__)
        result._kernel = self._kernel
        templates = self._templates
        result._templates = (
            None
            if templates is None
            else ([t.model_copy() for t in templates] if copy_templates else templates)
        )
        return result

    def __getitem__(self, bbox: Box | EllipsisType) -> DifferenceImage:
        return self._adopt(super().__getitem__(bbox), copy_templates=False)

    def copy(self, *, copy_detector: bool = False) -> DifferenceImage:
        """Deep-copy the image as `VisitImage.copy` does; the kernel is shared, the templates copied."""
        return self._adopt(super().copy(copy_detector=copy_detector), copy_templates=True)

    def convert_unit(
        self,
        unit: u.UnitBase | str = "nJy",
        copy: Literal["as-needed"] | bool = True,
        copy_detector: bool = False,
    ) -> DifferenceImage:
        """Return an equivalent image in other units (see `VisitImage.convert_unit`)."""
        result = super().convert_unit(unit, copy=copy, copy_detector=copy_detector)
        return self._adopt(result, copy_templates=copy is True)

    # -- serialization ----------------------------------------------------------------------

    def serialize(self, archive: OutputArchive[Any]) -> DifferenceImageSerializationModel:
        """Serialize as a `VisitImage`, plus the band, the kernel (``KERNEL/BASIS`` HDU) and the templates."""
        from ._difference_image_model import DifferenceImageSerializationModel

        visit = super().serialize(archive)
        kernel = (
            archive.serialize_direct("kernel", self._kernel.serialize) if self._kernel is not None else None
        )
        return DifferenceImageSerializationModel(
            **(dict(visit) | {"band": self.band}), kernel=kernel, templates=self._templates
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[DifferenceImageSerializationModel[Any]]:
        from ._difference_image_model import DifferenceImageSerializationModel

        return parametrized(DifferenceImageSerializationModel, pointer_type)

    # -- legacy ------------------------------------------------------------------------------

    @staticmethod
    def from_legacy(legacy: Any, *, band: str | None = None, **kwargs: Any) -> DifferenceImage:
        """Convert an ``lsst.afw.image.Exposure`` difference image (needs the legacy stack).

        The conversion is `VisitImage.from_legacy`'s with the difference-image mask
        planes; legacy exposures have no kernel or templates.
        """
        visit = VisitImage.from_legacy(legacy, **kwargs)
        return _from_visit(visit, band)

    @staticmethod
    def read_legacy(filename: str, *, band: str | None = None, **kwargs: Any) -> DifferenceImage:
        """Read a FITS file written by ``lsst.afw`` for a difference image (see `from_legacy`)."""
        visit = VisitImage.read_legacy(filename, **kwargs)
        return _from_visit(visit, band)


def _from_visit(visit: VisitImage, band: str | None) -> DifferenceImage:
    components = visit._components()
    if band is not None:
        components["band"] = band
    result = DifferenceImage(visit.image, mask=visit.mask, variance=visit.variance, **components)
    result._init_view_state(visit)
    return result
