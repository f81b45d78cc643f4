"""Bit-packed masks: the `Mask` image type (its planes and schema are in `._mask_schema`).

A mask is stored as a 3-d integer array of shape ``(height, width,
mask_size)``.  The schema assigns each plane (or ``None`` placeholder, which
just reserves a bit) a sequential slot ``n``; slot ``n`` lives in element
``n // B`` of the last axis at bit ``n % B``, where ``B`` is the number of
usable bits per element (all bits for unsigned dtypes, all but the sign bit for
signed ones).  Using extra elements instead of wider integers means the
number of planes is unbounded while each element stays a cheap small integer.
"""

from __future__ import annotations

__all__ = ("Mask", "MaskPlane", "MaskPlaneBit", "MaskSchema", "MaskSerializationModel")

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from types import EllipsisType
from typing import TYPE_CHECKING, Any, ClassVar, Generic

import numpy as np
import numpy.typing as npt
import pydantic

from ._aliases import either
from ._generalized_image import ArrayImage
from ._geom import YX, Box, NoOverlapError
from ._image import (
    _apply_slices_if_needed,
    _make_header_stripper,
    _make_header_updater,
    _resolve_shape_and_bbox,
    _subset_slices,
)
from ._mask_schema import MaskPlane, MaskPlaneBit, MaskSchema
from ._transforms._models import ProjectionSerializationModel
from .fits._options import FitsCompressionOptions
from .serialization import (
    ArchiveReadError,
    ArchiveTree,
    ArrayReferenceModel,
    InlineArrayModel,
    InputArchive,
    IntegerType,
    InvalidParameterError,
    NumberType,
    OutputArchive,
    no_header_updates,
    parametrized,
)
from .serialization._archive import ArrayRequest, P  # one shared TypeVar: ``Model[P]`` is ``Model`` itself
from .utils import is_none

if TYPE_CHECKING:
    import astropy.io.fits

    from ._transforms import Projection
    from .serialization import MetadataValue


class Mask(ArrayImage):
    """A bit-packed mask image interpreted through a `MaskSchema`.

    Parameters
    ----------
    array_or_fill
        A 3-d ``(y, x, mask_size)`` array (converted to ``schema.dtype``) or a
        scalar fill value for every element.
    schema
        Mask schema (required).
    bbox
        2-d bounding box; must match the first two array dimensions.
    start
        ``(y, x)`` origin when no ``bbox`` is given.
    shape
        2-d shape for fill values; must agree with the array/bbox.
    projection
        Optional pixel-to-sky projection.
    metadata
        Initial metadata dictionary.
    yx0, sky_projection
        The 4300 spellings of ``start`` and ``projection``.

    Raises
    ------
    TypeError
        If no array, ``bbox`` or ``shape`` is given.
    ValueError
        If the array is not 3-d, its last axis is not ``schema.mask_size``, or
        the placement arguments disagree.
    """

    def __init__(
        self,
        array_or_fill: np.ndarray | int = 0,
        /,
        *,
        schema: MaskSchema,
        bbox: Box | None = None,
        start: Sequence[int] | None = None,
        shape: Sequence[int] | None = None,
        projection: Projection[Any] | None = None,
        metadata: dict[str, MetadataValue] | None = None,
        yx0: Sequence[int] | None = None,
        sky_projection: Projection[Any] | None = None,
    ):
        super().__init__(metadata)
        start = either("start", start, "yx0", yx0)
        projection = either("projection", projection, "sky_projection", sky_projection)
        if not isinstance(schema, MaskSchema):
            raise TypeError(f"schema must be a MaskSchema; got {type(schema).__name__}.")
        if np.ndim(array_or_fill) == 0:
            bbox = _resolve_shape_and_bbox(None, bbox=bbox, start=start, shape=shape)
            array = np.full(tuple(bbox.shape) + (schema.mask_size,), array_or_fill, dtype=schema.dtype)
        else:
            array = np.asarray(array_or_fill)
            if array.ndim != 3:
                raise ValueError(f"Mask array must be 3-d; got shape {array.shape}.")
            if array.shape[2] != schema.mask_size:
                raise ValueError(
                    f"Mask array with shape {array.shape} does not match schema with "
                    f"mask_size={schema.mask_size}."
                )
            array = array.astype(schema.dtype, copy=False)
            bbox = _resolve_shape_and_bbox(
                array.shape[:2], bbox=bbox, start=start, shape=shape, what="mask array"
            )
        self._array = array
        self._bbox = bbox
        self._schema = schema
        self._projection = projection

    @classmethod
    def _from_parts(
        cls, array: np.ndarray, bbox: Box, schema: MaskSchema, projection: Projection[Any] | None
    ) -> Mask:
        """Build a Mask without validation; callers set the shared state."""
        result = cls.__new__(cls)
        result._array = array
        result._bbox = bbox
        result._schema = schema
        result._projection = projection
        return result

    # -- properties --------------------------------------------------------

    @property
    def array(self) -> np.ndarray:
        """The 3-d ``(y, x, mask_size)`` array; assignment writes in place."""
        return self._array

    @array.setter
    def array(self, value: npt.ArrayLike) -> None:
        self._array[...] = value

    @property
    def schema(self) -> MaskSchema:
        """The schema describing the bits."""
        return self._schema

    # -- bit access --------------------------------------------------------

    def get(self, plane: str) -> np.ndarray:
        """Return a 2-d boolean array that is `True` where ``plane`` is set."""
        bit = self._schema.bit(plane)
        return (self._array[..., bit.index] & bit.mask) != 0

    def set(self, plane: str, boolean_mask: np.ndarray | EllipsisType = ...) -> None:
        """Set ``plane``'s bit everywhere, or where ``boolean_mask`` is `True` (never clears)."""
        bit = self._schema.bit(plane)
        self._array[..., bit.index][boolean_mask] |= bit.mask

    def clear(self, plane: str | None = None, boolean_mask: np.ndarray | EllipsisType = ...) -> None:
        """Clear ``plane`` (all planes if `None`) everywhere or where ``boolean_mask`` is `True`."""
        if plane is None:
            self._array[boolean_mask] = 0
            return
        bit = self._schema.bit(plane)
        self._array[..., bit.index][boolean_mask] &= ~bit.mask

    def update(self, other: Mask) -> None:
        """OR every plane shared with ``other`` into this mask, over the bbox overlap.

        Planes are matched by name, so the two schemas may differ; nothing
        happens if the boxes do not overlap.
        """
        try:
            overlap = self._bbox.intersection(other.bbox)
        except NoOverlapError:
            return
        assert isinstance(overlap, Box)
        mine = self[overlap]
        theirs = other[overlap]
        for name in other.schema.names:
            if name in self._schema.names:
                mine.set(name, theirs.get(name))

    # -- storage layout ----------------------------------------------------

    def _to_storage_arrays(self) -> list[tuple[MaskSchema, np.ndarray]]:
        """Re-pack the named planes into 2-d ``int32`` arrays of at most 31 planes each.

        This is the on-disk layout (FORMAT.md section 3.4): placeholders are
        dropped and bit ``k`` of array ``i`` is the ``k``-th named plane of
        chunk ``i``.  Returns ``(chunk_schema, array)`` pairs; there is always
        at least one pair, even for a schema without named planes.
        """
        height = self._array.shape[0]
        return [(chunk, self._pack_rows(chunk, 0, height)) for chunk in self._schema.split(np.int32)]

    def _pack_rows(self, chunk: MaskSchema, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the packed ``int32`` storage array of ``chunk``."""
        source = self._array[start:stop]
        word = self._whole_word(chunk)
        if word is not None:
            view, bits = word
            return (source.view(view).reshape(source.shape[:2]) & bits).astype(np.int32)
        packed = np.zeros(source.shape[:2], dtype=np.int32)
        for index, delta, element_mask in self._bit_groups(chunk):
            lane = self._packed_lanes(packed, delta)
            if lane is not None:
                lane |= source[:, :, index] & element_mask
                continue
            for rows in _row_blocks(packed.shape):
                moved = (source[rows, :, index] & element_mask).astype(np.uint64)
                moved = moved >> np.uint64(delta) if delta >= 0 else moved << np.uint64(-delta)
                packed[rows] |= moved.astype(np.int32)
        return packed

    def _set_from_storage_array(self, chunk: MaskSchema, packed: np.ndarray, row_start: int = 0) -> None:
        """OR the planes stored in one packed 2-d array (see `_to_storage_arrays`) into this mask.

        ``packed`` may be a band of rows only, starting at row ``row_start`` of this mask,
        so that a mask can be filled band by band as its storage is decoded.
        """
        dtype = self._schema.dtype
        target = self._array[row_start : row_start + packed.shape[0]]
        word = self._whole_word(chunk)
        if word is not None:
            view, bits = word
            target.view(view).reshape(target.shape[:2])[...] |= (packed & bits).astype(view)
            return
        for index, delta, element_mask in self._bit_groups(chunk):
            lane = self._packed_lanes(packed, delta)
            if lane is not None:
                target[:, :, index] |= lane & element_mask
                continue
            packed_mask = np.uint64(element_mask >> delta if delta >= 0 else element_mask << -delta)
            for rows in _row_blocks(packed.shape):
                moved = packed[rows].astype(np.uint64) & packed_mask
                moved = moved << np.uint64(delta) if delta >= 0 else moved >> np.uint64(-delta)
                target[rows, :, index] |= moved.astype(dtype)

    def _whole_word(self, chunk: MaskSchema) -> tuple[np.dtype, int] | None:
        """``(word dtype, bit mask)`` when this mask's elements, read as one little-endian
        word per pixel, *are* the storage integer of ``chunk`` (up to unused bits).

        That holds for the usual mask -- at most 31 planes in unsigned elements, no
        placeholders -- and then packing or unpacking is one vectorized conversion
        between the two integer types instead of moving bits group by group.
        """
        dtype = self._schema.dtype
        nbytes = dtype.itemsize * self._schema.mask_size
        if (
            sys.byteorder != "little"
            or dtype.kind != "u"
            or nbytes not in (1, 2, 4)
            or not self._array.flags.c_contiguous
        ):
            return None
        width = 8 * dtype.itemsize
        bits = 0
        for index, delta, element_mask in self._bit_groups(chunk):
            if delta != -width * index:
                return None
            bits |= element_mask << (width * index)
        return np.dtype(f"<u{nbytes}"), bits

    def _packed_lanes(self, packed: np.ndarray, delta: int) -> np.ndarray | None:
        """A view of the lane of ``packed`` that a byte-aligned bit group maps onto, if any.

        When a group's shift is a whole number of mask elements (``-delta`` a multiple
        of the element width, as for every plane of a mask whose planes fill elements in
        order), its bits are exactly one lane of the little-endian ``int32`` storage
        word, so they move with one strided copy instead of widening, shifting and
        narrowing the whole array.  Returns None when no such lane exists.
        """
        dtype = self._schema.dtype
        width = 8 * dtype.itemsize
        if (
            sys.byteorder != "little"
            or packed.dtype != np.int32
            or not packed.flags.c_contiguous
            or delta > 0
            or (-delta) % width
            or (-delta) // 8 + dtype.itemsize > 4
        ):
            return None
        lanes = packed.view(dtype).reshape(packed.shape[0], packed.shape[1], 4 // dtype.itemsize)
        return lanes[:, :, (-delta) // width]

    def _bit_groups(self, chunk: MaskSchema) -> list[tuple[int, int, int]]:
        """Group the planes of a storage chunk that move together between layouts.

        Plane ``k`` of ``chunk`` sits at bit ``b`` of element ``index`` in this
        mask; planes sharing ``(index, delta = b - k)`` can be moved with one
        mask-and-shift.  Returns ``(index, delta, element_bit_mask)`` triples.
        """
        groups: dict[tuple[int, int], int] = {}
        for k, plane in enumerate(chunk):
            if plane is None:
                continue
            bit = self._schema.bit(plane.name)
            b = int(bit.mask).bit_length() - 1
            key = (bit.index, b - k)
            groups[key] = groups.get(key, 0) | (1 << b)
        return [(index, delta, mask) for (index, delta), mask in groups.items()]

    # -- subsets and views -------------------------------------------------

    def _with_array(self, array: np.ndarray, bbox: Box) -> Mask:
        return Mask._from_parts(array, bbox, self._schema, self._projection)

    def __setitem__(self, bbox: Box | EllipsisType, value: Mask) -> None:
        target = self[bbox]
        if not isinstance(value, Mask):
            raise TypeError(f"Only Mask objects can be assigned into a Mask; got {type(value).__name__}.")
        if tuple(value.bbox.shape) != tuple(target.bbox.shape):
            raise ValueError(f"Cannot assign a mask with bbox {value.bbox} into {target.bbox}.")
        if value.schema != self._schema:
            raise ValueError(
                "Cannot assign a mask with a different schema; use Mask.update to merge planes by name."
            )
        target._array[...] = value._array

    def add_plane(self, name: str, description: str) -> Mask:
        """A copy of this mask with one more (empty) plane (Rubin 4300; `ValueError` if it exists)."""
        from ._mask_editing import with_planes

        return with_planes(self, [MaskPlane(name, description)])

    def add_planes(self, planes: Iterable[MaskPlane | None], *, drop: Iterable[str] = ()) -> Mask:
        """A copy with ``planes`` appended and the ``drop`` planes turned into placeholders (Rubin 4300)."""
        from ._mask_editing import with_planes

        return with_planes(self, planes, drop)

    def compare(self, other: Mask) -> dict[str, tuple[int, int]]:
        """Per common plane that differs: ``(set only here, set only in other)`` pixel counts (4300)."""
        from ._mask_editing import compare

        return compare(self, other)

    def view(
        self,
        *,
        schema: MaskSchema | EllipsisType = ...,
        projection: Projection[Any] | None | EllipsisType = ...,
        start: Sequence[int] | EllipsisType = ...,
        sky_projection: Projection[Any] | None | EllipsisType = ...,
        yx0: Sequence[int] | EllipsisType = ...,
    ) -> Mask:
        """Return a new Mask sharing this one's array (and metadata).

        A replacement ``schema`` must have the same dtype and ``mask_size``,
        since the bits are reinterpreted, not moved.  ``sky_projection`` and
        ``yx0`` are the 4300 spellings of ``projection`` and ``start``.
        """
        projection = either("projection", projection, "sky_projection", sky_projection, unset=...)
        start = either("start", start, "yx0", yx0, unset=...)
        if schema is not ...:
            if schema.dtype != self._schema.dtype or schema.mask_size != self._schema.mask_size:
                raise ValueError(
                    f"Replacement schema (dtype={schema.dtype}, mask_size={schema.mask_size}) is not "
                    f"compatible with dtype={self._schema.dtype}, mask_size={self._schema.mask_size}."
                )
        bbox = self._bbox if start is ... else Box.from_shape(self._bbox.shape, start=start)
        result = Mask._from_parts(
            self._array,
            bbox,
            self._schema if schema is ... else schema,
            self._projection if projection is ... else projection,
        )
        result._init_view_state(self)
        return result

    # -- comparisons and display -------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mask):
            return NotImplemented
        return (
            self._bbox == other._bbox
            and self._schema == other._schema
            and bool(np.array_equal(self._array, other._array))
        )

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"Mask({self._bbox}, {list(self._schema.names)})"

    def __repr__(self) -> str:
        return f"Mask(..., bbox={self._bbox!r}, schema={self._schema!r})"

    # -- serialization -----------------------------------------------------

    _archive_default_name: ClassVar[str] = "mask"

    def serialize(
        self,
        archive: OutputArchive[P],
        *,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
        save_projection: bool = True,
        add_offset_wcs: str | None = "A",
    ) -> MaskSerializationModel[P]:
        """Add the mask to ``archive`` as 2-d ``int32`` arrays and return its model.

        The named planes are packed 31 to an array (FORMAT.md section 3.4);
        each array's header gets ``MSKNnnnn``/``MSKMnnnn``/``MSKDnnnn`` cards
        describing its bits, then the caller's cards and the WCS cards.  In
        FITS, several arrays share the ``MASK`` EXTNAME with increasing EXTVER.
        Archives that keep masks whole (NDF; see `OutputArchive.add_native_mask`)
        get the native 3-d array instead.
        """
        # (An archive written against the specified interface has no add_native_mask.)
        native = getattr(archive, "add_native_mask", None)
        reference = native(self._array) if native is not None else None
        data = [] if reference is None else [reference]
        for chunk in self._schema.split(np.int32) if reference is None else ():

            def describe(header: astropy.io.fits.Header, chunk: MaskSchema = chunk) -> None:
                chunk.update_header(header)
                update_header(header)

            def pack(start: int, stop: int, chunk: MaskSchema = chunk) -> np.ndarray:
                return self._pack_rows(chunk, start, stop)

            updater = _make_header_updater(
                self, unit=None, update_header=describe, add_offset_wcs=add_offset_wcs
            )
            shape = (self._array.shape[0], self._array.shape[1])
            # (An archive written against the specified interface only gets the default.)
            add_rows = getattr(archive, "add_array_rows", None) or partial(
                OutputArchive.add_array_rows, archive
            )
            data.append(add_rows(shape, np.dtype(np.int32), pack, update_header=updater))
        projection = None
        if save_projection and self._projection is not None:
            projection = archive.serialize_direct("projection", self._projection.serialize)
        return MaskSerializationModel(
            metadata=dict(self.metadata),
            data=data,
            start=list(self._bbox.start),
            planes=list(self._schema),
            dtype=NumberType.from_numpy(self._schema.dtype),
            projection=projection,
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[MaskSerializationModel[Any]]:
        """Return the model class to parse for a Mask stored with ``pointer_type`` pointers."""
        return parametrized(MaskSerializationModel, pointer_type)

    @staticmethod
    def read_fits(url: Any, *, bbox: Box | None = None) -> Mask:
        """Read a Mask written by `write_fits` / ``fits.write``, optionally only ``bbox``."""
        from . import fits

        return fits.read(Mask, url, bbox=bbox).deserialized

    def write_fits(
        self, filename: str, *, compression: FitsCompressionOptions | None = FitsCompressionOptions.DEFAULT
    ) -> None:
        """Write to a FITS file (default: lossless GZIP_2; `None` for no compression)."""
        from . import fits

        options = {"mask": compression}
        fits.write(self, filename, compression_options=options)

    # -- legacy conversion -------------------------------------------------

    @staticmethod
    def read_legacy(
        uri: Any,
        *,
        plane_map: Mapping[str, MaskPlane] | None = None,
        ext: str | int = 1,
        fits_wcs_frame: Any = None,
    ) -> Mask:
        """Read an afw-written mask HDU (see `lsst.images.legacy.read_mask`).

        Legacy plane names are translated through ``plane_map`` (default: keep
        every legacy plane under its own name).
        """
        from .legacy import read_mask

        return read_mask(uri, plane_map=plane_map, ext=ext, fits_wcs_frame=fits_wcs_frame)

    @staticmethod
    def from_legacy(legacy: Any, plane_map: Mapping[str, MaskPlane] | None = None) -> Mask:
        """Convert an ``lsst.afw.image.Mask`` into a `Mask`, copying bits plane by plane.

        Parameters
        ----------
        legacy
            The afw mask (``getArray()``, ``getXY0()``, ``getMaskPlaneDict()``).
        plane_map
            Mapping from legacy plane name to new `MaskPlane`; legacy planes not
            in the map are dropped.  Default: keep every legacy plane, in bit
            order, with an empty description.
        """
        legacy_bits: dict[str, int] = dict(legacy.getMaskPlaneDict())
        if plane_map is None:
            plane_map = {
                name: MaskPlane(name, "") for name, _ in sorted(legacy_bits.items(), key=lambda kv: kv[1])
            }
        schema = MaskSchema(plane_map.values())
        legacy_array = np.asarray(legacy.getArray())
        xy0 = legacy.getXY0()
        result = Mask(schema=schema, shape=legacy_array.shape, start=YX(xy0.getY(), xy0.getX()))
        for legacy_name, plane in plane_map.items():
            if legacy_name in legacy_bits:
                result.set(plane.name, (legacy_array & (1 << legacy_bits[legacy_name])) != 0)
        return result

    def to_legacy(self, plane_map: Mapping[str, MaskPlane] | None = None) -> Any:
        """Convert to an ``lsst.afw.image.Mask``.

        Parameters
        ----------
        plane_map
            Mapping from legacy plane name to `MaskPlane`; default uses each
            plane's own name.
        """
        from ._image import _import_legacy_image

        afw_image, _ = _import_legacy_image()
        legacy = afw_image.Mask(self._bbox.to_legacy())
        if plane_map is None:
            plane_map = {name: MaskPlane(name, desc) for name, desc in self._schema.descriptions.items()}
        out = np.zeros(tuple(self._bbox.shape), dtype=np.int64)
        for legacy_name, plane in plane_map.items():
            if plane.name not in self._schema.names:
                continue
            bit = legacy.addMaskPlane(legacy_name)
            out[self.get(plane.name)] |= 1 << bit
        legacy.getArray()[...] = out.astype(legacy.getArray().dtype)
        return legacy


class MaskSerializationModel(ArchiveTree, Generic[P]):
    """Serialized form of a `Mask` (FORMAT.md section 7.2).

    ``data`` holds one reference per packed ``int32`` array; ``planes`` and
    ``dtype`` record the in-memory schema (placeholders included) so the 3-d
    array can be rebuilt exactly.
    """

    data: list[ArrayReferenceModel | InlineArrayModel]
    start: list[int]
    planes: list[MaskPlane | None]
    dtype: IntegerType
    projection: ProjectionSerializationModel[P] | None = pydantic.Field(default=None, exclude_if=is_none)

    @property
    def bbox(self) -> Box:
        """Bounding box from ``start`` and the stored array shape."""
        shape = tuple(self.data[0].shape)
        # A single 3-d reference (NDF's native mask) describes the in-memory (height, width,
        # mask_size) array; the archive returns it in its stored (mask_size, height, width) order.
        return Box.from_shape(shape[:2] if len(shape) == 3 else shape, start=self.start)

    @property
    def yx0(self) -> YX[int]:
        """The 4300 name of ``start``, as a `YX`."""
        return YX(*self.start)

    @property
    def sky_projection(self) -> ProjectionSerializationModel[P] | None:
        """The 4300 name of ``projection``."""
        return self.projection

    @property
    def schema(self) -> MaskSchema:
        """The in-memory mask schema."""
        return MaskSchema(self.planes, dtype=NumberType(self.dtype).to_numpy())

    def deserialize(
        self,
        archive: InputArchive[Any],
        *,
        bbox: Box | None = None,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
        **kwargs: Any,
    ) -> Mask:
        """Read the mask back (optionally only ``bbox``), re-packing bits into the schema layout."""
        if kwargs:
            raise InvalidParameterError(f"Unrecognized parameters for reading a Mask: {sorted(kwargs)}.")
        schema = self.schema
        full = self.bbox
        bbox, slices = _subset_slices(full, bbox)
        projection = self.projection.deserialize(archive) if self.projection is not None else None
        mask = Mask(schema=schema, bbox=bbox, projection=projection, metadata=dict(self.metadata))
        if len(self.data) == 1 and len(self.data[0].shape) == 3:
            stored = archive.get_array(
                self.data[0],
                slices=... if slices is ... else (slice(None),) + slices,
                strip_header=_make_header_stripper(strip_header),
            )
            stored = _apply_slices_if_needed(stored, full, bbox, slices)
            if stored.shape[0] != mask.array.shape[2]:
                raise ArchiveReadError(
                    f"Stored mask has {stored.shape[0]} elements per pixel; "
                    f"the schema needs {mask.array.shape[2]}."
                )
            for k in range(stored.shape[0]):  # per element: far faster than one transposing copy
                mask.array[:, :, k] = stored[k]
            return mask
        chunks = schema.split(np.int32)
        if len(chunks) != len(self.data):
            raise ArchiveReadError(
                f"Mask has {len(self.data)} stored arrays but its {len(schema.names)} planes "
                f"need {len(chunks)}."
            )
        for chunk, reference in zip(chunks, self.data, strict=True):

            def strip(header: astropy.io.fits.Header, chunk: MaskSchema = chunk) -> None:
                chunk.strip_header(header)
                strip_header(header)

            def unpack(start: int, stop: int, packed: np.ndarray, chunk: MaskSchema = chunk) -> None:
                if (start, stop) == (0, full.shape[0]):
                    # An archive that returned the full array despite a subset request.
                    packed = _apply_slices_if_needed(packed, full, bbox, slices)
                mask._set_from_storage_array(chunk, packed, start)

            # (An archive written against the specified interface only gets the default.)
            get_rows = getattr(archive, "get_array_rows", None) or partial(
                InputArchive.get_array_rows, archive
            )
            get_rows(reference, unpack, slices=slices, strip_header=_make_header_stripper(strip))
        return mask

    def array_requests(self, *, bbox: Box | None = None) -> list[ArrayRequest]:
        """The arrays (and slices) `deserialize` loads for ``bbox``: for `InputArchive.prefetch_arrays`."""
        _, slices = _subset_slices(self.bbox, bbox)
        if len(self.data) == 1 and len(self.data[0].shape) == 3:
            return [(self.data[0], ... if slices is ... else (slice(None),) + tuple(slices))]
        return [(reference, slices) for reference in self.data]

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read one component: ``bbox`` and ``projection`` (4300: ``sky_projection``) need no pixels."""
        match component:
            case "bbox":
                return self.bbox
            case "projection" | "sky_projection":
                return self.projection.deserialize(archive) if self.projection is not None else None
        return super().deserialize_component(component, archive, **kwargs)


def _row_blocks(shape: tuple[int, ...], target: int = 1 << 18) -> list[slice]:
    """Split the rows of a 2-d shape into blocks of about ``target`` pixels.

    Working block by block keeps the temporaries of the bit shuffling in
    cache, which makes packing/unpacking large masks several times faster.
    """
    height, width = shape[0], max(shape[1], 1)
    step = max(1, target // width)
    return [slice(start, min(start + step, height)) for start in range(0, height, step)]
