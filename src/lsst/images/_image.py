"""The `Image` type: a 2-d numpy array placed on the absolute pixel grid."""

from __future__ import annotations

__all__ = ("Image", "ImageSerializationModel")

import re
from collections.abc import Callable, Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, ClassVar, Generic

import numpy as np
import numpy.typing as npt
import pydantic

from ._aliases import either
from ._generalized_image import ArrayImage, GeneralizedImage
from ._geom import YX, Box, _as_yx_pair
from ._transforms._models import ProjectionSerializationModel
from .fits._options import FitsCompressionOptions
from .serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    ArrayReferenceQuantityModel,
    InlineArrayModel,
    InlineArrayQuantityModel,
    InputArchive,
    InvalidParameterError,
    OutputArchive,
    no_header_updates,
    parametrized,
)
from .serialization._archive import ArrayRequest, P  # one shared TypeVar: ``Model[P]`` is ``Model`` itself
from .serialization._units import UnitText, resolved_unit, stored_unit, units_equal
from .utils import is_none

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.units as u

    from ._transforms import Projection
    from .serialization import MetadataValue
else:
    from ._lazy import astropy_units as u


def _resolve_shape_and_bbox(
    array_shape: tuple[int, ...] | None,
    *,
    bbox: Box | None,
    start: Sequence[int] | None,
    shape: Sequence[int] | None,
    what: str = "array",
) -> Box:
    """Reconcile the placement arguments shared by image constructors.

    Parameters
    ----------
    array_shape
        The (2-d) shape of a given array, or `None` for fill values.
    bbox, start, shape
        Constructor arguments; any combination that disagrees raises
        `ValueError`, and a fill value with neither ``bbox`` nor ``shape``
        raises `TypeError`.
    what
        Name used for the array in error messages.

    Returns
    -------
    Box
        The bounding box of the new object.
    """
    shape_yx = None if shape is None else _as_yx_pair(shape, "shape")
    start_yx = None if start is None else _as_yx_pair(start, "start")
    if bbox is not None:
        if not isinstance(bbox, Box):
            raise TypeError(f"bbox must be a Box; got {type(bbox).__name__}.")
        if shape_yx is not None and tuple(shape_yx) != tuple(bbox.shape):
            raise ValueError(f"Explicit shape {tuple(shape_yx)} does not match bbox shape {bbox.shape}.")
        if start_yx is not None and tuple(start_yx) != tuple(bbox.start):
            raise ValueError(f"Explicit start {tuple(start_yx)} does not match bbox start {bbox.start}.")
        if array_shape is not None and tuple(array_shape) != tuple(bbox.shape):
            raise ValueError(
                f"Explicit bbox shape {bbox.shape} does not match {what} with shape {array_shape}."
            )
        return bbox
    if array_shape is not None:
        if shape_yx is not None and tuple(shape_yx) != tuple(array_shape):
            raise ValueError(
                f"Explicit shape {tuple(shape_yx)} does not match {what} with shape {array_shape}."
            )
        return Box.from_shape(array_shape, start=start_yx)
    if shape_yx is None:
        raise TypeError("No bbox, shape, or array provided.")
    return Box.from_shape(shape_yx, start=start_yx)


# Cards written by `_make_header_updater` (and therefore removed on read by
# `_make_header_stripper`): the primary WCS including SIP terms, and any
# single-letter alternate WCS such as the 'A' offset WCS.
_WCS_KEY_REGEX = re.compile(
    r"^(WCSAXES|CRPIX[12]|CRVAL[12]|CDELT[12]|CUNIT[12]|CTYPE[12]|CROTA[12]|PC[12]_[12]|CD[12]_[12]"
    r"|PV[12]_[0-9]+|LONPOLE|LATPOLE|RADESYS|EQUINOX|MJDREF|DATEREF|WCSNAME)[A-Z]?$"
    r"|^(A|B|AP|BP)_(ORDER|[0-9]+_[0-9]+)$"
)


def fits_unit_string(unit: u.UnitBase | None) -> str | None:
    """Return the FITS spelling of ``unit`` for BUNIT, or `None` if FITS cannot express it."""
    if unit is None:
        return None
    try:
        return unit.to_string(format="fits")
    except (ValueError, u.UnitsError):
        return None


def _make_header_updater(
    obj: GeneralizedImage,
    *,
    unit: u.UnitBase | None,
    update_header: Callable[[astropy.io.fits.Header], None],
    add_offset_wcs: str | None,
) -> Callable[[astropy.io.fits.Header], None]:
    """Build the header callback for one image-like HDU.

    The cards are added in the order the reference writes them: ``BUNIT``,
    the caller's cards (e.g. mask-plane descriptions), the FITS WCS of the
    projection for this array's pixel grid (when representable), and finally
    the linear offset WCS mapping FITS pixels to absolute pixel coordinates.
    """
    bunit = fits_unit_string(unit)
    bbox = obj.bbox

    def update(header: astropy.io.fits.Header) -> None:
        if bunit is not None:
            header["BUNIT"] = bunit
        update_header(header)
        wcs = obj.fits_wcs
        if wcs is not None:
            for card in wcs.to_header(relax=True).cards:
                header.append(card)
        if add_offset_wcs:
            key = add_offset_wcs
            header[f"CTYPE1{key}"] = "LINEAR"
            header[f"CTYPE2{key}"] = "LINEAR"
            header[f"CRPIX1{key}"] = 1.0
            header[f"CRPIX2{key}"] = 1.0
            header[f"CRVAL1{key}"] = float(bbox.x.start)
            header[f"CRVAL2{key}"] = float(bbox.y.start)
            header[f"CUNIT1{key}"] = "PIXEL"
            header[f"CUNIT2{key}"] = "PIXEL"

    return update


def _make_header_stripper(
    strip_header: Callable[[astropy.io.fits.Header], None],
) -> Callable[[astropy.io.fits.Header], None]:
    """Build a callback removing the cards `_make_header_updater` writes, then ``strip_header``'s."""

    def strip(header: astropy.io.fits.Header) -> None:
        from .fits._headers import remove_cards

        remove_cards(header, lambda key: key == "BUNIT" or _WCS_KEY_REGEX.match(key))
        strip_header(header)

    return strip


def _arrays_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Compare arrays elementwise, treating NaN as equal to NaN for inexact types."""
    if a.shape != b.shape:
        return False
    if np.issubdtype(a.dtype, np.inexact) and np.issubdtype(b.dtype, np.inexact):
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


class Image(ArrayImage):
    """A 2-d array of pixel values with a bounding box, unit and projection.

    Parameters
    ----------
    array_or_fill
        A 2-d array (used without copying unless ``dtype`` forces a
        conversion) or a scalar fill value (then ``bbox`` or ``shape`` is
        required; the default fill ``0`` gives an ``int64`` image).
    bbox
        Bounding box; must match the array shape.
    start
        ``(y, x)`` of the first pixel when no ``bbox`` is given (an `XY` is
        honoured); default ``(0, 0)``.
    shape
        ``(y, x)`` shape for fill values; must agree with the array/bbox.
    dtype
        Pixel type override.
    unit
        Astropy unit of the pixel values.
    projection
        Pixel-to-sky projection for absolute pixel coordinates.
    metadata
        Initial metadata dictionary.
    yx0, sky_projection
        The 4300 spellings of ``start`` and ``projection`` (either spelling
        may be used; giving both with different values is a `TypeError`).

    Raises
    ------
    TypeError
        If neither an array, a ``bbox`` nor a ``shape`` is given.
    ValueError
        If the array is not 2-d or the placement arguments disagree.
    """

    def __init__(
        self,
        array_or_fill: np.ndarray | int | float = 0,
        /,
        *,
        bbox: Box | None = None,
        start: Sequence[int] | None = None,
        shape: Sequence[int] | None = None,
        dtype: npt.DTypeLike | None = None,
        unit: u.UnitBase | None = None,
        projection: Projection[Any] | None = None,
        metadata: dict[str, MetadataValue] | None = None,
        yx0: Sequence[int] | None = None,
        sky_projection: Projection[Any] | None = None,
    ):
        super().__init__(metadata)
        start = either("start", start, "yx0", yx0)
        projection = either("projection", projection, "sky_projection", sky_projection)
        if np.ndim(array_or_fill) == 0:
            bbox = _resolve_shape_and_bbox(None, bbox=bbox, start=start, shape=shape)
            if dtype is None:
                dtype = np.asarray(array_or_fill).dtype
            array = np.full(tuple(bbox.shape), array_or_fill, dtype=dtype)
        else:
            array = np.asarray(array_or_fill, dtype=dtype)
            if array.ndim != 2:
                raise ValueError(f"Image array must be 2-d; got shape {array.shape}.")
            bbox = _resolve_shape_and_bbox(array.shape, bbox=bbox, start=start, shape=shape)
        self._array = array
        self._bbox = bbox
        self._unit = stored_unit(unit)
        self._projection = projection

    @classmethod
    def _from_parts(
        cls,
        array: np.ndarray,
        bbox: Box,
        unit: u.UnitBase | None,
        projection: Projection[Any] | None,
    ) -> Image:
        """Build an Image without validation; callers set the shared state."""
        result = cls.__new__(cls)
        result._array = array
        result._bbox = bbox
        result._unit = unit
        result._projection = projection
        return result

    # -- properties --------------------------------------------------------

    @property
    def array(self) -> np.ndarray:
        """The 2-d pixel array (local indexing); assignment writes in place."""
        return self._array

    @array.setter
    def array(self, value: npt.ArrayLike) -> None:
        self._array[...] = value

    @property
    def unit(self) -> u.UnitBase | None:
        """Astropy unit of the pixel values, or `None`."""
        unit = self._unit
        if type(unit) is UnitText:
            # Read from a file as validated text (see `~lsst.images.serialization.UnitText`).
            unit = self._unit = unit.to_unit()
        return unit

    @property
    def quantity(self) -> u.Quantity:
        """The array as an astropy Quantity sharing memory with the image.

        Images without a unit are treated as dimensionless.  Assigning a
        Quantity converts it to the image's unit and writes in place.
        """
        unit = self.unit
        return self._array << (unit if unit is not None else u.dimensionless_unscaled)

    @quantity.setter
    def quantity(self, value: u.Quantity | npt.ArrayLike) -> None:
        target = self.unit if self._unit is not None else u.dimensionless_unscaled
        self._array[...] = u.Quantity(value).to_value(target)

    # -- subsets and views -------------------------------------------------

    def _with_array(self, array: np.ndarray, bbox: Box) -> Image:
        return Image._from_parts(array, bbox, self._unit, self._projection)

    def __setitem__(self, bbox: Box | EllipsisType, value: Image) -> None:
        target = self[bbox]
        if not isinstance(value, Image):
            raise TypeError(f"Only Image objects can be assigned into an Image; got {type(value).__name__}.")
        if tuple(value.bbox.shape) != tuple(target.bbox.shape):
            raise ValueError(f"Cannot assign an image with bbox {value.bbox} into {target.bbox}.")
        if units_equal(target._unit, value._unit):
            # Same unit (or none): the values copy as they are, with no unit parsed or converted.
            target._array[...] = value._array
        else:
            target.quantity = value.quantity

    def view(
        self,
        *,
        unit: u.UnitBase | None | EllipsisType = ...,
        projection: Projection[Any] | None | EllipsisType = ...,
        start: Sequence[int] | EllipsisType = ...,
        sky_projection: Projection[Any] | None | EllipsisType = ...,
        yx0: Sequence[int] | EllipsisType = ...,
    ) -> Image:
        """Return a new Image sharing this one's array (and metadata).

        Parameters
        ----------
        unit
            Replacement unit (no conversion is done), or ``...`` to keep.
        projection
            Replacement projection, or ``...`` to keep.
        start
            Replacement ``(y, x)`` origin, or ``...`` to keep.
        sky_projection, yx0
            The 4300 spellings of ``projection`` and ``start``.
        """
        projection = either("projection", projection, "sky_projection", sky_projection, unset=...)
        start = either("start", start, "yx0", yx0, unset=...)
        bbox = self._bbox if start is ... else Box.from_shape(self._bbox.shape, start=start)
        result = Image._from_parts(
            self._array,
            bbox,
            self._unit if unit is ... else stored_unit(unit),
            self._projection if projection is ... else projection,
        )
        result._init_view_state(self)
        return result

    # -- comparisons and display -------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return (
            self._bbox == other._bbox
            and units_equal(self._unit, other._unit)
            and _arrays_equal(self._array, other._array)
        )

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"Image({self._bbox}, {self._array.dtype})"

    def __repr__(self) -> str:
        return f"Image(..., bbox={self._bbox!r}, dtype={self._array.dtype!r})"

    # -- serialization -----------------------------------------------------

    _archive_default_name: ClassVar[str] = "image"

    def serialize(
        self,
        archive: OutputArchive[P],
        *,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
        save_projection: bool = True,
        add_offset_wcs: str | None = "A",
    ) -> ImageSerializationModel[P]:
        """Add the array to ``archive`` and return the model describing it.

        Parameters
        ----------
        archive
            Archive to write to; the array is stored under the archive's
            current path (e.g. ``IMAGE`` in FITS).
        update_header
            Extra cards for the array's FITS header (added after ``BUNIT``).
        save_projection
            Whether to store the projection in the returned model (containers
            such as `MaskedImage` store it once at their own level instead).
            The FITS WCS cards are written either way.
        add_offset_wcs
            Key of the linear WCS mapping FITS pixels to absolute pixel
            coordinates, or `None` to omit it.
        """
        updater = _make_header_updater(
            self, unit=self.unit, update_header=update_header, add_offset_wcs=add_offset_wcs
        )
        reference = archive.add_array(self._array, update_header=updater)
        data = reference if self._unit is None else reference.with_units(self._unit)
        projection = None
        if save_projection and self._projection is not None:
            projection = archive.serialize_direct("projection", self._projection.serialize)
        return ImageSerializationModel(
            metadata=dict(self.metadata), data=data, start=list(self._bbox.start), projection=projection
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[ImageSerializationModel[Any]]:
        """Return the model class to parse for an Image stored with ``pointer_type`` pointers."""
        return parametrized(ImageSerializationModel, pointer_type)

    @staticmethod
    def read_fits(url: Any, *, bbox: Box | None = None) -> Image:
        """Read an Image written by `write_fits` / ``fits.write``, optionally only ``bbox``."""
        from . import fits

        return fits.read(Image, url, bbox=bbox).deserialized

    def write_fits(
        self,
        filename: str,
        *,
        compression: FitsCompressionOptions | None = FitsCompressionOptions.DEFAULT,
        compression_seed: int | None = None,
    ) -> None:
        """Write to a FITS file in the package's archive layout.

        Parameters
        ----------
        filename
            Path of the new file.
        compression
            ``fits.FitsCompressionOptions`` for the pixels, `None` for no
            compression; the default is lossless GZIP_2 with one tile per row.
        compression_seed
            Seed for dithered lossy compression.
        """
        from . import fits

        options = {"image": compression}
        fits.write(self, filename, compression_options=options, compression_seed=compression_seed)

    # -- legacy conversion -------------------------------------------------

    @staticmethod
    def read_legacy(
        uri: Any,
        *,
        preserve_quantization: bool = False,
        ext: str | int = 1,
        fits_wcs_frame: Any = None,
    ) -> Image:
        """Read one HDU of an afw-written FITS file (see `lsst.images.legacy.read_image`).

        Parameters
        ----------
        uri
            Path or URI of the file.
        preserve_quantization
            Keep the quantized compressed bytes so a rewrite is exact.
        ext
            HDU index or name.
        fits_wcs_frame
            Pixel frame for a projection built from the HDU's FITS WCS, if wanted.
        """
        from .legacy import read_image

        return read_image(
            uri, preserve_quantization=preserve_quantization, ext=ext, fits_wcs_frame=fits_wcs_frame
        )

    @staticmethod
    def from_legacy(legacy: Any, unit: u.UnitBase | None = None) -> Image:
        """Wrap an ``lsst.afw.image.Image`` (sharing memory) with an optional unit."""
        xy0 = legacy.getXY0()
        return Image(legacy.getArray(), start=YX(xy0.getY(), xy0.getX()), unit=unit)

    def to_legacy(self, *, copy: bool | None = None) -> Any:
        """Convert to an ``lsst.afw.image.Image``.

        Parameters
        ----------
        copy
            `True` to always copy, `False` to require sharing memory (raises
            `ValueError` if impossible), `None` to copy only when needed.
        """
        afw_image, geom = _import_legacy_image()
        array = self._array
        needs_copy = not (array.flags.c_contiguous and array.dtype.isnative)
        if copy is False and needs_copy:
            raise ValueError("Array is not contiguous native-endian; it cannot be shared with afw.")
        if copy or needs_copy:
            array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))
        return afw_image.Image(array, deep=False, xy0=geom.Point2I(self._bbox.x.start, self._bbox.y.start))


class ImageSerializationModel(ArchiveTree, Generic[P]):
    """Serialized form of an `Image`: an array reference (with unit) and the start.

    Field names and order follow the 2100 layout (FORMAT.md section 7.1).
    """

    data: ArrayReferenceQuantityModel | ArrayReferenceModel | InlineArrayModel | InlineArrayQuantityModel
    start: list[int]
    projection: ProjectionSerializationModel[P] | None = pydantic.Field(default=None, exclude_if=is_none)

    @property
    def bbox(self) -> Box:
        """Bounding box reconstructed from ``start`` and the stored array shape."""
        return Box.from_shape(_reference_shape(self.data)[-2:], start=self.start)

    @property
    def yx0(self) -> YX[int]:
        """The 4300 name of ``start``, as a `YX`."""
        return YX(*self.start)

    @property
    def sky_projection(self) -> ProjectionSerializationModel[P] | None:
        """The 4300 name of ``projection``."""
        return self.projection

    @property
    def unit(self) -> u.UnitBase | None:
        """Unit of the stored pixel values (no pixels are read)."""
        return resolved_unit(_split_quantity(self.data)[1])

    def deserialize(
        self,
        archive: InputArchive[Any],
        *,
        bbox: Box | None = None,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
        **kwargs: Any,
    ) -> Image:
        """Read the image back, optionally only the part inside ``bbox``.

        Raises
        ------
        IndexError
            If ``bbox`` is not contained in the stored image.
        InvalidParameterError
            If unknown keyword arguments are given.
        """
        if kwargs:
            raise InvalidParameterError(f"Unrecognized parameters for reading an Image: {sorted(kwargs)}.")
        full = self.bbox
        bbox, slices = _subset_slices(full, bbox)
        reference, unit = _split_quantity(self.data)
        array = archive.get_array(reference, slices=slices, strip_header=_make_header_stripper(strip_header))
        array = _apply_slices_if_needed(array, full, bbox, slices)
        projection = self.projection.deserialize(archive) if self.projection is not None else None
        return Image(array, bbox=bbox, unit=unit, projection=projection, metadata=dict(self.metadata))

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read one component: ``bbox``, ``projection`` (``sky_projection``) and ``unit`` read no pixels."""
        match component:
            case "bbox":
                return self.bbox
            case "projection" | "sky_projection":
                return self.projection.deserialize(archive) if self.projection is not None else None
            case "unit":
                return self.unit
        return super().deserialize_component(component, archive, **kwargs)

    def array_requests(self, *, bbox: Box | None = None) -> list[ArrayRequest]:
        """The array (and slices) `deserialize` loads for ``bbox``: for `InputArchive.prefetch_arrays`."""
        _, slices = _subset_slices(self.bbox, bbox)
        reference, _ = _split_quantity(self.data)
        return [(reference, slices)]


def _reference_shape(data: Any) -> tuple[int, ...]:
    """Shape of an array reference/inline model, unwrapping a quantity wrapper."""
    model = data.value if hasattr(data, "unit") and hasattr(data, "value") else data
    return tuple(model.shape)


def _split_quantity(data: Any) -> tuple[Any, u.UnitBase | None]:
    """Return ``(array model, unit)`` from a possibly unit-wrapped array model."""
    if isinstance(data, ArrayReferenceQuantityModel | InlineArrayQuantityModel):
        return data.value, data.unit
    return data, None


def _subset_slices(full: Box, bbox: Box | None) -> tuple[Box, tuple[slice, slice] | EllipsisType]:
    """Return the box to read and the slices selecting it (``...`` for everything)."""
    if bbox is None or bbox == full:
        return full, ...
    return bbox, tuple(bbox.slice_within(full))


def _apply_slices_if_needed(
    array: np.ndarray, full: Box, bbox: Box, slices: tuple[slice, ...] | EllipsisType
) -> np.ndarray:
    """Slice ``array`` if the archive returned the full array despite a subset request."""
    if slices is not ... and array.shape[-2:] == tuple(full.shape) and full != bbox:
        return array[(...,) + tuple(slices)]
    return array


def _import_legacy_image() -> tuple[Any, Any]:
    """Import ``lsst.afw.image`` and ``lsst.geom`` or raise an informative ImportError."""
    try:
        import lsst.afw.image as afw_image  # type: ignore[import-not-found]
        import lsst.geom as geom  # type: ignore[import-not-found]
    except ImportError as err:
        raise ImportError(
            "Conversion to legacy LSST objects requires the LSST science pipelines "
            "(lsst.afw.image, lsst.geom), which are not installed."
        ) from err
    return afw_image, geom
