"""`MaskedImage`: an image plane with a mask and a variance plane on one grid."""

from __future__ import annotations

__all__ = ("MaskedImage", "MaskedImageSerializationModel")

from collections.abc import Mapping
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Generic, Literal

import numpy as np
import pydantic

from ._aliases import either
from ._generalized_image import GeneralizedImage
from ._geom import Box
from ._image import Image, ImageSerializationModel
from ._mask import Mask, MaskPlane, MaskSchema, MaskSerializationModel
from ._transforms._models import ProjectionSerializationModel
from .fits._options import FitsCompressionOptions
from .serialization import ArchiveTree, InputArchive, InvalidParameterError, OutputArchive, parametrized
from .serialization._archive import ArrayRequest, P  # one shared TypeVar: ``Model[P]`` is ``Model`` itself
from .serialization._units import squared_unit, units_equal
from .utils import is_none

if TYPE_CHECKING:
    import astropy.units as u

    from ._transforms import Projection
    from .serialization import MetadataValue
else:
    from ._lazy import astropy_units as u


class MaskedImage(GeneralizedImage):
    """An `Image` with a `Mask` and a variance `Image` sharing one bbox and projection.

    Parameters
    ----------
    image
        The main image plane; its projection is used unless ``projection`` is
        given.
    mask
        Mask with the same bbox; mutually exclusive with ``mask_schema``.
    variance
        Variance image with the same bbox.  Its unit must be the square of the
        image unit, or `None` (then it is set to that).  Default: a ``float32``
        array of ones.
    mask_schema
        Schema for a new all-zero mask; required when ``mask`` is not given.
    projection
        Projection to attach to all three planes (overrides the image's).
    metadata
        Initial metadata dictionary.
    sky_projection
        The 4300 spelling of ``projection``.

    Raises
    ------
    TypeError
        If both or neither of ``mask`` and ``mask_schema`` are given.
    ValueError
        If the plane bboxes disagree or the variance unit is inconsistent.
    """

    def __init__(
        self,
        image: Image,
        *,
        mask: Mask | None = None,
        variance: Image | None = None,
        mask_schema: MaskSchema | None = None,
        projection: Projection[Any] | None = None,
        metadata: dict[str, MetadataValue] | None = None,
        sky_projection: Projection[Any] | None = None,
    ):
        super().__init__(metadata)
        projection = either("projection", projection, "sky_projection", sky_projection)
        if not isinstance(image, Image):
            raise TypeError(f"image must be an Image; got {type(image).__name__}.")
        if projection is not None and image.projection is not projection:
            image = image.view(projection=projection)
        projection = image.projection
        if mask is None:
            if mask_schema is None:
                raise TypeError("'mask_schema' must be provided if 'mask' is not.")
            mask = Mask(schema=mask_schema, bbox=image.bbox, projection=projection)
        else:
            if mask_schema is not None:
                raise TypeError("'mask_schema' may not be provided if 'mask' is.")
            if mask.bbox != image.bbox:
                raise ValueError(f"Image ({image.bbox}) and mask ({mask.bbox}) bboxes do not agree.")
            if mask.projection is not projection:
                mask = mask.view(projection=projection)
        # Stored units (text for planes read from a file): compared without importing astropy.
        expected_unit = None if image._unit is None else squared_unit(image._unit)
        if variance is None:
            variance = Image(
                1.0, bbox=image.bbox, dtype=np.float32, unit=expected_unit, projection=projection
            )
        else:
            if variance.bbox != image.bbox:
                raise ValueError(f"Image ({image.bbox}) and variance ({variance.bbox}) bboxes do not agree.")
            if variance._unit is None:
                if expected_unit is not None:
                    variance = variance.view(unit=expected_unit)
            elif image._unit is None:
                raise ValueError(f"Image has no units but variance does ({variance.unit}).")
            elif not units_equal(variance._unit, expected_unit):
                raise ValueError(
                    f"Variance unit ({variance.unit}) should be the square of the image unit ({image.unit})."
                )
            if variance.projection is not projection:
                variance = variance.view(projection=projection)
        self._image = image
        self._mask = mask
        self._variance = variance

    @classmethod
    def _from_planes(cls, image: Image, mask: Mask, variance: Image) -> MaskedImage:
        """Build from consistent planes without validation; callers set the shared state.

        Always builds a plain `MaskedImage`: subclasses with extra components
        override ``__getitem__``/``copy`` themselves.
        """
        result = MaskedImage.__new__(MaskedImage)
        result._image = image
        result._mask = mask
        result._variance = variance
        return result

    # -- properties --------------------------------------------------------

    @property
    def image(self) -> Image:
        """The main image plane."""
        return self._image

    @property
    def mask(self) -> Mask:
        """The mask plane."""
        return self._mask

    @property
    def variance(self) -> Image:
        """The variance plane (unit = image unit squared)."""
        return self._variance

    @property
    def bbox(self) -> Box:
        """The bounding box shared by all planes."""
        return self._image.bbox

    @property
    def unit(self) -> u.UnitBase | None:
        """Unit of the image plane, or `None`."""
        return self._image.unit

    @property
    def projection(self) -> Projection[Any] | None:
        """Projection shared by all planes."""
        return self._image.projection

    # -- subsets and copies ------------------------------------------------

    def __getitem__(self, bbox: Box | EllipsisType) -> MaskedImage:
        if bbox is Ellipsis:
            return self
        self._check_subset_key(bbox)
        result = MaskedImage._from_planes(self._image[bbox], self._mask[bbox], self._variance[bbox])
        result._init_subset_state(self, bbox)
        return result

    def __setitem__(self, bbox: Box | EllipsisType, value: MaskedImage) -> None:
        if not isinstance(value, MaskedImage):
            raise TypeError(
                f"Only MaskedImage objects can be assigned into a MaskedImage; got {type(value).__name__}."
            )
        self._image[bbox] = value.image
        self._mask[bbox] = value.mask
        self._variance[bbox] = value.variance

    def copy(self) -> MaskedImage:
        """Return a deep copy of all three planes and the metadata."""
        result = MaskedImage._from_planes(self._image.copy(), self._mask.copy(), self._variance.copy())
        result._init_copy_state(self)
        return result

    # -- display -------------------------------------------------------------

    def __str__(self) -> str:
        return f"{type(self).__name__}({self._image}, {list(self._mask.schema.names)})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._image!r}, mask_schema={self._mask.schema!r})"

    # -- serialization -----------------------------------------------------

    def serialize(self, archive: OutputArchive[Any]) -> MaskedImageSerializationModel[Any]:
        """Store the three planes (``image``, ``mask``, ``variance``) and the projection once."""
        image = archive.serialize_direct("image", lambda a: self._image.serialize(a, save_projection=False))
        mask = archive.serialize_direct("mask", lambda a: self._mask.serialize(a, save_projection=False))
        variance = archive.serialize_direct(
            "variance", lambda a: self._variance.serialize(a, save_projection=False)
        )
        projection = None
        if self.projection is not None:
            projection = archive.serialize_direct("projection", self.projection.serialize)
        return MaskedImageSerializationModel(
            metadata=dict(self.metadata), image=image, mask=mask, variance=variance, projection=projection
        )

    @classmethod
    def _get_archive_tree_type(cls, pointer_type: type[Any]) -> type[MaskedImageSerializationModel[Any]]:
        """Return the model class to parse for a MaskedImage stored with ``pointer_type`` pointers."""
        return parametrized(MaskedImageSerializationModel, pointer_type)

    @classmethod
    def read_fits(cls, url: Any, *, bbox: Box | None = None) -> Any:
        """Read a file written by `write_fits` / ``fits.write`` (works for subclasses too)."""
        from . import fits

        return fits.read(cls, url, bbox=bbox).deserialized

    def write_fits(
        self,
        filename: str,
        *,
        image_compression: FitsCompressionOptions | None = FitsCompressionOptions.DEFAULT,
        mask_compression: FitsCompressionOptions | None = FitsCompressionOptions.DEFAULT,
        variance_compression: FitsCompressionOptions | None = FitsCompressionOptions.DEFAULT,
        compression_seed: int | None = None,
    ) -> None:
        """Write IMAGE, MASK and VARIANCE HDUs with per-plane compression options.

        Each option is a ``fits.FitsCompressionOptions``, `None` for no
        compression; the default is lossless GZIP_2 with one tile per row.
        """
        from . import fits

        options = {"image": image_compression, "mask": mask_compression, "variance": variance_compression}
        fits.write(self, filename, compression_options=options, compression_seed=compression_seed)

    # -- legacy conversion -------------------------------------------------

    @staticmethod
    def read_legacy(
        uri: Any,
        *,
        preserve_quantization: bool = False,
        plane_map: Mapping[str, MaskPlane] | None = None,
        component: Literal["image", "mask", "variance"] | None = None,
        fits_wcs_frame: Any = None,
    ) -> Any:
        """Read an afw MaskedImage/Exposure FITS file (see `lsst.images.legacy.read_masked_image`).

        With ``component`` only that plane is read and returned.
        """
        from .legacy import read_masked_image

        return read_masked_image(
            uri,
            preserve_quantization=preserve_quantization,
            plane_map=plane_map,
            component=component,
            fits_wcs_frame=fits_wcs_frame,
        )

    @staticmethod
    def from_legacy(
        legacy: Any,
        *,
        unit: u.UnitBase | None = None,
        plane_map: Mapping[str, MaskPlane] | None = None,
    ) -> MaskedImage:
        """Convert an ``lsst.afw.image.MaskedImage`` (image/variance share memory)."""
        image = Image.from_legacy(legacy.getImage(), unit=unit)
        mask = Mask.from_legacy(legacy.getMask(), plane_map=plane_map)
        variance = Image.from_legacy(legacy.getVariance(), unit=None if unit is None else unit**2)
        return MaskedImage(image, mask=mask, variance=variance)

    def to_legacy(self, *, copy: bool | None = None, plane_map: Mapping[str, MaskPlane] | None = None) -> Any:
        """Convert to an ``lsst.afw.image.MaskedImage``."""
        from ._image import _import_legacy_image

        afw_image, _ = _import_legacy_image()
        return afw_image.MaskedImage(
            self._image.to_legacy(copy=copy),
            self._mask.to_legacy(plane_map=plane_map),
            self._variance.to_legacy(copy=copy),
        )


class MaskedImageSerializationModel(ArchiveTree, Generic[P]):
    """Serialized form of a `MaskedImage` (FORMAT.md section 7.3)."""

    image: ImageSerializationModel[P]
    mask: MaskSerializationModel[P]
    variance: ImageSerializationModel[P]
    projection: ProjectionSerializationModel[P] | None = pydantic.Field(default=None, exclude_if=is_none)

    @property
    def bbox(self) -> Box:
        """Bounding box of the stored image."""
        return self.image.bbox

    @property
    def sky_projection(self) -> ProjectionSerializationModel[P] | None:
        """The 4300 name of ``projection``."""
        return self.projection

    @property
    def unit(self) -> u.UnitBase | None:
        """Unit of the stored image plane (no pixels are read)."""
        return self.image.unit

    def _deserialize_projection(self, archive: InputArchive[Any]) -> Any:
        return self.projection.deserialize(archive) if self.projection is not None else None

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, **kwargs: Any
    ) -> MaskedImage:
        """Read all three planes back (optionally only ``bbox``) and reattach the projection."""
        if kwargs:
            raise InvalidParameterError(
                f"Unrecognized parameters for reading a MaskedImage: {sorted(kwargs)}."
            )
        return MaskedImage(
            self.image.deserialize(archive, bbox=bbox),
            mask=self.mask.deserialize(archive, bbox=bbox),
            variance=self.variance.deserialize(archive, bbox=bbox),
            projection=self._deserialize_projection(archive),
            metadata=dict(self.metadata),
        )

    def array_requests(self, *, bbox: Box | None = None) -> list[ArrayRequest]:
        """The arrays (and slices) of the three planes `deserialize` loads for ``bbox``."""
        return [
            *self.image.array_requests(bbox=bbox),
            *self.mask.array_requests(bbox=bbox),
            *self.variance.array_requests(bbox=bbox),
        ]

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read one component without decoding the other planes.

        ``image``, ``mask`` and ``variance`` accept ``bbox``; ``projection`` (4300:
        ``sky_projection``), ``bbox`` and ``unit`` read no pixels at all.
        """
        match component:
            case "image" | "mask" | "variance":
                plane = getattr(self, component).deserialize(archive, **kwargs)
                projection = self._deserialize_projection(archive)
                return plane if projection is None else plane.view(projection=projection)
            case "projection" | "sky_projection":
                return self._deserialize_projection(archive)
            case "bbox":
                return self.bbox
            case "unit":
                return self.unit
        return super().deserialize_component(component, archive, **kwargs)
