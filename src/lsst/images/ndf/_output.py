"""`NdfOutputArchive`: writes an object as an NDF (HDS-on-HDF5) file."""

from __future__ import annotations

__all__ = ("NdfOutputArchive",)

import contextlib
import os
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import h5py
import numpy as np

from ..serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    NestedOutputArchive,
    NumberType,
    OutputArchive,
    TableColumnModel,
    TableModel,
    dump_tree_json,
    format_unit,
    no_header_updates,
)
from ._common import (
    DEFAULT_LSST_PATH,
    SOURCE_PREFIX,
    HdsNameShrinker,
    NdfPointerModel,
    archive_path_to_hdf5_path_components,
)
from ._hds import (
    create_structure,
    require_structure,
    set_class,
    write_chars,
    write_logical,
    write_primitive,
)
from ._wcs import image_frame_set, mask_frame_set, write_wcs

if TYPE_CHECKING:
    from typing import Self

    import astropy.io.fits
    import astropy.table
    import astropy.units

    from .._geom import Box
    from .._transforms import FrameSet, Projection

T = TypeVar("T")

#: h5py ``create_dataset`` keywords accepted as ``compression_options``.
_DATASET_OPTIONS = frozenset(
    {"compression", "compression_opts", "shuffle", "chunks", "fletcher32", "scaleoffset"}
)


class NdfOutputArchive(OutputArchive[NdfPointerModel]):
    """`OutputArchive` that lays an object out as a Starlink NDF in an HDF5 file.

    Arrays go to NDF ``ARRAY`` structures: those named in ``direct_ndf_array_paths``
    (``image`` → ``/DATA_ARRAY``, ...) where Starlink expects them, every other one
    to a sub-NDF under ``lsst_path`` named after its upper-cased archive path.
    `add_tree` finishes the file: the JSON tree, ORIGINs, ``UNITS``, ``WCS``,
    ``QUALITY`` and the FITS cards.

    Parameters
    ----------
    file
        Writable h5py file.
    compression_options
        h5py ``create_dataset`` keywords for the array datasets, e.g.
        ``{"compression": "gzip", "compression_opts": 4, "shuffle": True}``.
    opaque_metadata
        `~lsst.images.fits.FitsOpaqueMetadata` whose primary-header cards are kept
        as the NDF's ``MORE.FITS`` extension.
    root
        HDS type of the root structure (``"NDF"``; ``"EXT"`` for a container of NDFs).
    lsst_path
        Structure for the JSON tree and the hoisted arrays.
    direct_ndf_array_paths
        Archive path → HDF5 path of the ``ARRAY`` structure that holds it.
    wcs_ndf_paths
        NDFs that get a ``WCS`` component for the projection given to `add_tree`.
    """

    def __init__(
        self,
        file: h5py.File,
        compression_options: Mapping[str, Any] | None = None,
        opaque_metadata: Any = None,
        root: str | None = None,
        lsst_path: str = DEFAULT_LSST_PATH,
        direct_ndf_array_paths: Mapping[str, str] | None = None,
        wcs_ndf_paths: Sequence[str] = ("/",),
    ) -> None:
        unknown = set(compression_options or {}) - _DATASET_OPTIONS
        if unknown:
            raise ValueError(
                f"Unknown NDF compression options {sorted(unknown)}; expected h5py dataset keywords "
                f"from {sorted(_DATASET_OPTIONS)}."
            )
        self._file = file
        self._dataset_options = dict(compression_options or {})
        self._opaque = opaque_metadata
        self._lsst_path = "/" + lsst_path.strip("/")
        self._direct = dict(direct_ndf_array_paths or {})
        self._wcs_paths = tuple(wcs_ndf_paths)
        self._shrinker = HdsNameShrinker()
        self._classes = {"/MORE": "EXT", self._lsst_path: "LSST"}
        self._pointers: dict[Hashable, NdfPointerModel] = {}
        self._frame_sets: list[tuple[FrameSet, NdfPointerModel]] = []
        self._direct_arrays: list[tuple[str, int]] = []  # (ARRAY structure path, ndim) for ORIGINs
        self._quality: np.ndarray | None = None
        self._mask_ndf: str | None = None
        set_class(file, root or "NDF")
        require_structure(file, self._lsst_path, self._classes)

    @classmethod
    @contextlib.contextmanager
    def open(cls, filename: str | os.PathLike[str] | None, **kwargs: Any) -> Iterator[Self]:
        """Yield an archive writing to ``filename``; the file appears only once the block succeeds.

        The HDF5 file is built in a temporary file of the target folder that replaces
        ``filename`` (if it exists) at the end, durably (`lsst.images._atomic.atomic_output`,
        the write path of every format); on any error ``filename`` is left as it was.
        ``filename=None`` writes to memory only.  Keywords go to the constructor.
        """
        if filename is None:
            with h5py.File(f"in-memory-{id(kwargs)}.sdf", "w", driver="core", backing_store=False) as file:
                yield cls(file, **kwargs)
            return
        from .._atomic import atomic_output

        path = os.fspath(filename)
        if path.startswith("file://"):
            path = path[len("file://") :]
        with atomic_output(path) as stream, h5py.File(stream, "w") as file:
            yield cls(file, **kwargs)

    # ------------------------------------------------------------------ paths

    def _hoisted_path(self, name: str, leaf: str) -> str:
        """A free HDF5 path under ``lsst_path`` for ``name`` (``leaf`` must not exist in it yet).

        A repeated name gets a ``_2``, ``_3``, ... suffix on its last component, so
        two arrays with one name never overwrite each other.
        """
        components = archive_path_to_hdf5_path_components(name, self._shrinker)
        if not components:
            raise ValueError("NDF archives need a non-empty name for every array and pointer.")
        parent = "/".join([self._lsst_path, *components[:-1]])
        version = 1
        while True:
            path = f"{parent}/{self._shrinker.shrink_versioned(components[-1], version)}"
            if path == f"{self._lsst_path}/JSON" or f"{path}/{leaf}" in self._file:
                version += 1
                continue
            return path

    def _array_structure(self, name: str | None) -> tuple[str, bool]:
        """HDF5 path of the ARRAY structure for archive path ``name`` and whether it is direct."""
        if name is None:
            raise ValueError("NDF archives need a name (archive path) for every array.")
        if name in self._direct:
            return "/" + self._direct[name].strip("/"), True
        return f"{self._hoisted_path(name, 'DATA_ARRAY')}/DATA_ARRAY", False

    def _write_array_structure(self, path: str, data: np.ndarray, logical_bad_pixel: bool = False) -> None:
        """Create the ARRAY structure ``path`` with ``DATA`` and a zero ``ORIGIN``."""
        parent_path, name = path.rsplit("/", 1)
        parent = require_structure(self._file, parent_path, self._classes)
        if parent_path:
            set_class(parent, "NDF")
        if name in parent:
            raise ValueError(f"NDF archive already has an array at {path!r}.")
        structure = create_structure(parent, name, "ARRAY")
        write_primitive(structure, "DATA", data, self._dataset_options)
        write_primitive(structure, "ORIGIN", np.zeros(data.ndim, dtype=np.int64))
        if logical_bad_pixel:
            write_logical(structure, "BAD_PIXEL", False)

    # ------------------------------------------------------------------ OutputArchive

    def add_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel:
        """Store an array in an NDF ARRAY structure; ``update_header`` (FITS-only) is ignored."""
        array = np.asarray(array)
        path, direct = self._array_structure(name)
        self._write_array_structure(path, array)
        if direct:
            self._direct_arrays.append((path, array.ndim))
        return ArrayReferenceModel(
            source=f"{SOURCE_PREFIX}{path}/DATA",
            shape=list(array.shape),
            datatype=NumberType.from_numpy(array.dtype),
        )

    def add_native_mask(self, array: np.ndarray, *, name: str | None = None) -> ArrayReferenceModel:
        """Store a 3-d ``(y, x, mask_size)`` mask as a sub-NDF with HDS axes ``(x, y, mask element)``.

        The top-level mask (one named in ``direct_ndf_array_paths``) also becomes the
        NDF's ``QUALITY``: the mask byte itself when a pixel's mask fits one byte,
        else 1 wherever any mask bit is set.
        """
        path, direct = self._array_structure(name)
        stored = np.empty((array.shape[2], array.shape[0], array.shape[1]), dtype=array.dtype)
        for k in range(array.shape[2]):  # per element: far faster than one transposing copy
            stored[k] = array[:, :, k]
        self._write_array_structure(path, stored, logical_bad_pixel=True)
        if direct:
            self._direct_arrays.append((path, 3))
            self._mask_ndf = path.rsplit("/", 1)[0]
            if array.shape[-1] * array.dtype.itemsize == 1:
                self._quality = array[:, :, 0].view(np.uint8)
            else:
                self._quality = np.any(array != 0, axis=-1).astype(np.uint8)
        return ArrayReferenceModel(
            source=f"{SOURCE_PREFIX}{path}/DATA",
            shape=list(array.shape),
            datatype=NumberType.from_numpy(array.dtype),
        )

    def add_structured_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        units: Mapping[str, astropy.units.UnitBase] | None = None,
        descriptions: Mapping[str, str] | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        """Store each column as a sub-NDF (``name/column``; a single column at ``name`` itself)."""
        if name is None:
            raise ValueError("NDF archives need a name (archive path) for every table.")
        columns = TableColumnModel.from_record_dtype(array.dtype)
        for column in columns:
            column_name = name if len(columns) == 1 else f"{name}/{column.name}"
            reference = self.add_array(np.asarray(array[column.name]), name=column_name)
            # Column references record the cell shape; the row count is the stored array's.
            column.data = ArrayReferenceModel(
                source=reference.source, shape=column.data.shape, datatype=column.data.datatype
            )
            if units and column.name in units:
                column.unit = units[column.name]
            if descriptions and column.name in descriptions:
                column.description = descriptions[column.name]
        return TableModel(columns=columns)

    def add_table(
        self,
        table: astropy.table.Table,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        """Embed the table in the JSON tree (as the reference does; columns may hold strings)."""
        from ..json._output import inline_table_model

        return inline_table_model(table)

    def serialize_direct(self, name: str, serializer: Callable[[OutputArchive[NdfPointerModel]], T]) -> T:
        """Serialize a component inline, its arrays named under ``name``."""
        return serializer(NestedOutputArchive(name, self))

    def serialize_pointer(
        self, name: str, serializer: Callable[[OutputArchive[NdfPointerModel]], T], key: Hashable
    ) -> NdfPointerModel:
        """Store the subtree once per ``key`` as JSON at ``<lsst_path>/<NAME>/JSON`` and point to it."""
        if (pointer := self._pointers.get(key)) is not None:
            return pointer
        model = serializer(NestedOutputArchive(name, self))
        path = self._hoisted_path(name, "JSON")
        group = require_structure(self._file, path, self._classes)
        _write_json(group, dump_tree_json(model))
        pointer = NdfPointerModel(path=f"{path}/JSON")
        self._pointers[key] = pointer
        return pointer

    def serialize_frame_set(
        self,
        name: str,
        frame_set: FrameSet,
        serializer: Callable[[OutputArchive[NdfPointerModel]], T],
        key: Hashable,
    ) -> NdfPointerModel:
        """Like `serialize_pointer`, also recording the frame set for `iter_frame_sets`."""
        known = key in self._pointers
        pointer = self.serialize_pointer(name, serializer, key)
        if not known:
            self._frame_sets.append((frame_set, pointer))
        return pointer

    def iter_frame_sets(self) -> Iterator[tuple[FrameSet, NdfPointerModel]]:
        """Iterate over the ``(frame_set, pointer)`` pairs stored so far."""
        return iter(list(self._frame_sets))

    # ------------------------------------------------------------------ finishing

    def set_array_origin(self, struct_path: str, origin: tuple[int, ...]) -> None:
        """Overwrite the ``ORIGIN`` (HDS order: x first) of the ARRAY structure at ``struct_path``."""
        structure = self._file[struct_path]
        del structure["ORIGIN"]
        write_primitive(structure, "ORIGIN", np.asarray(origin, dtype=np.int64))

    def add_tree(
        self,
        tree: ArchiveTree,
        *,
        projection: Projection[Any] | None = None,
        bbox: Box | None = None,
        unit: astropy.units.UnitBase | None = None,
        root_name: str | None = None,
    ) -> None:
        """Finish the file: JSON tree, ORIGINs, ``UNITS``, ``WCS``, ``QUALITY`` and FITS cards.

        Parameters
        ----------
        tree
            The tree ``serialize`` returned (metadata and butler info already merged).
        projection
            Projection of the top-level image; each NDF in ``wcs_ndf_paths`` (and the
            native mask) gets a ``WCS`` for it.  Needs ``bbox``.
        bbox
            Bounding box of the top-level image: the ORIGIN of the direct arrays.
        unit
            Pixel unit, stored as the root NDF's ``UNITS``.
        root_name
            ``HDS_ROOT_NAME`` of the file.
        """
        _write_json(self._file[self._lsst_path], dump_tree_json(tree))
        if root_name is not None:
            self._file.attrs.create("HDS_ROOT_NAME", np.bytes_(root_name.encode("ascii")))
        if bbox is not None:
            for path, ndim in self._direct_arrays:
                self.set_array_origin(path, (bbox.x.start, bbox.y.start, 0)[:ndim])
        if unit is not None and "/" in self._wcs_paths:
            write_chars(self._file, "UNITS", format_unit(unit))
        if projection is not None and bbox is not None:
            for path in self._wcs_paths:
                write_wcs(self._file[path], image_frame_set(projection, bbox))
            if self._mask_ndf is not None:
                write_wcs(self._file[self._mask_ndf], mask_frame_set(projection, bbox))
        if self._quality is not None:
            self._write_quality(bbox)
        self._write_fits_cards()

    def _write_quality(self, bbox: Box | None) -> None:
        assert self._quality is not None
        quality = create_structure(self._file, "QUALITY", "QUALITY")
        write_primitive(quality, "BADBITS", np.uint8(255))
        array = create_structure(quality, "QUALITY", "ARRAY")
        write_primitive(array, "DATA", self._quality, self._dataset_options)
        origin = (0, 0) if bbox is None else (bbox.x.start, bbox.y.start)
        write_primitive(array, "ORIGIN", np.asarray(origin, dtype=np.int32))
        write_logical(array, "BAD_PIXEL", False)

    def _write_fits_cards(self) -> None:
        """Keep the opaque primary-header cards as the ``FITS`` extension (80-character records)."""
        headers = getattr(self._opaque, "headers", None)
        if not headers:
            return
        from ..fits import ExtensionKey

        header = headers.get(ExtensionKey())
        if header is None or len(header) == 0:
            return
        images = []
        for card in header.cards:
            image = card.image
            images.extend(image[i : i + 80] for i in range(0, len(image), 80))
        extension = self._lsst_path.rsplit("/", 1)[0] or "/"
        write_chars(self._file[extension], "FITS", images, width=80)


def _write_json(group: h5py.Group, data: bytes) -> None:
    """Store JSON bytes as the one-element ``_CHAR*N`` array ``JSON`` of ``group``."""
    group.create_dataset("JSON", data=np.array([data], dtype=f"S{max(len(data), 1)}"))
