"""Format-agnostic archive interfaces used by ``serialize``/``deserialize`` methods."""

from __future__ import annotations

__all__ = (
    "InputArchive",
    "NestedOutputArchive",
    "OpaqueArchiveMetadata",
    "OutputArchive",
    "ReadResult",
    "no_header_updates",
)

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from ._errors import ArchiveReadError
from ._models import ArrayReferenceModel, ButlerInfo, InlineArrayModel, MetadataValue
from ._tables import TableModel

if TYPE_CHECKING:
    from typing import Self

    import astropy.io.fits
    import astropy.table
    import astropy.units
    import numpy as np

    from .._geom import Box
    from .._transforms import FrameSet

P = TypeVar("P")
T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")


ArrayRequest = tuple["ArrayReferenceModel | InlineArrayModel", "tuple[slice, ...] | EllipsisType"]
"""An array model and the slices of it to load (``...`` for all), as announced to `prefetch_arrays`."""


def no_header_updates(header: astropy.io.fits.Header) -> None:
    """Header callback that changes nothing (the default ``update_header``/``strip_header``)."""
    return None


class ReadResult(NamedTuple, Generic[T]):
    """What the archive ``read`` functions return."""

    deserialized: T
    """The rebuilt object."""

    metadata: dict[str, MetadataValue]
    """The top-level tree's metadata."""

    butler_info: ButlerInfo | None
    """Butler information stored in the tree, if any."""


class OpaqueArchiveMetadata(Protocol):
    """Format-specific metadata an object carries from a read to the next write.

    Archives attach it (e.g. FITS header cards that the library does not
    interpret) so that a read-modify-write cycle preserves it; objects ask it
    what to carry along when they are copied or subset.
    """

    def copy(self) -> Self | None:
        """Return what a copy of the object should carry (a copy, ``self``, or `None`)."""
        ...

    def subset(self, bbox: Box) -> Self | None:
        """Return what a sub-image for ``bbox`` should carry (a copy, ``self``, or `None`)."""
        ...


class OutputArchive(ABC, Generic[P]):
    """Abstract writer that ``serialize`` methods store their data through.

    ``P`` is the archive's pointer model type (e.g. `JsonRef` for JSON).
    Names passed to the methods are ``/``-separated paths describing where
    the data sits in the object; formats may use them (FITS EXTNAMEs) or
    ignore them (JSON).
    """

    @abstractmethod
    def add_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel | InlineArrayModel:
        """Store an array and return the model that references (or inlines) it.

        Parameters
        ----------
        array
            Array to store.
        name
            Path-like name of the array (`None`: the archive's current root).
        update_header
            Callback that may add cards to the FITS header of the array's HDU;
            ignored by non-FITS formats.
        """
        raise NotImplementedError()

    def add_array_rows(
        self,
        shape: tuple[int, int],
        dtype: np.dtype,
        rows: Callable[[int, int], np.ndarray],
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel | InlineArrayModel:
        """Store a 2-d array that ``rows(start, stop)`` produces band by band.

        Archives that compress piecewise (FITS with whole-row tiles) ask for bands as
        they go, possibly from worker threads, so an array derived from another one
        (packed mask planes) is never held in full; this default asks for all rows
        at once and calls `add_array`.
        """
        return self.add_array(rows(0, int(shape[0])), name=name, update_header=update_header)

    def add_native_mask(
        self, array: np.ndarray, *, name: str | None = None
    ) -> ArrayReferenceModel | InlineArrayModel | None:
        """Store a mask's native 3-d ``(y, x, mask_size)`` array in one piece, if this format does.

        Formats whose files keep masks as one 3-d array (NDF) store it and return
        the reference, whose ``shape`` is the array's; `get_array` later returns the
        stored ``(mask_size, y, x)`` layout.  This default returns `None`: the mask
        then stores its planes packed into 2-d ``int32`` arrays (FITS, JSON).
        """
        return None

    @abstractmethod
    def add_structured_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        units: Mapping[str, astropy.units.UnitBase] | None = None,
        descriptions: Mapping[str, str] | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        """Store a numpy structured array as a table with optional per-column units/descriptions."""
        raise NotImplementedError()

    @abstractmethod
    def add_table(
        self,
        table: astropy.table.Table,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        """Store an astropy table and return the model describing it."""
        raise NotImplementedError()

    @abstractmethod
    def serialize_direct(self, name: str, serializer: Callable[[OutputArchive[P]], T]) -> T:
        """Run ``serializer`` with names prefixed by ``name``; its model is embedded inline."""
        raise NotImplementedError()

    @abstractmethod
    def serialize_pointer(
        self, name: str, serializer: Callable[[OutputArchive[P]], T], key: Hashable
    ) -> T | P:
        """Serialize out of line once per ``key`` and return a pointer to it.

        Repeated calls with an equal ``key`` return the same pointer without
        calling ``serializer`` again, so shared components (a PSF used by many
        images) are stored once.  Formats without out-of-line storage may
        return the model itself.
        """
        raise NotImplementedError()

    @abstractmethod
    def serialize_frame_set(
        self, name: str, frame_set: FrameSet, serializer: Callable[[OutputArchive[P]], T], key: Hashable
    ) -> T | P:
        """Like `serialize_pointer`, also registering ``frame_set`` for `iter_frame_sets`."""
        raise NotImplementedError()

    @abstractmethod
    def iter_frame_sets(self) -> Iterator[tuple[FrameSet, P]]:
        """Iterate over the ``(frame_set, pointer)`` pairs registered so far.

        Transforms use this to reference a mapping inside an already-stored
        frame set instead of storing it again.
        """
        raise NotImplementedError()


class NestedOutputArchive(OutputArchive[P]):
    """Output archive that prefixes ``root`` onto every name and forwards to ``parent``.

    A name ``n`` becomes ``"{root}/{n}"``; a missing name becomes ``root``
    itself, so a component serialized "at" ``image`` stores its array as
    ``image``.
    """

    def __init__(self, root: str, parent: OutputArchive[P]):
        self._root = root
        self._parent = parent

    def _join(self, name: str | None) -> str:
        return self._root if name is None else f"{self._root}/{name}"

    def add_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel | InlineArrayModel:
        return self._parent.add_array(array, name=self._join(name), update_header=update_header)

    def add_array_rows(
        self,
        shape: tuple[int, int],
        dtype: np.dtype,
        rows: Callable[[int, int], np.ndarray],
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel | InlineArrayModel:
        return self._parent.add_array_rows(
            shape, dtype, rows, name=self._join(name), update_header=update_header
        )

    def add_native_mask(
        self, array: np.ndarray, *, name: str | None = None
    ) -> ArrayReferenceModel | InlineArrayModel | None:
        return self._parent.add_native_mask(array, name=self._join(name))

    def add_structured_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        units: Mapping[str, astropy.units.UnitBase] | None = None,
        descriptions: Mapping[str, str] | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        return self._parent.add_structured_array(
            array, name=self._join(name), units=units, descriptions=descriptions, update_header=update_header
        )

    def add_table(
        self,
        table: astropy.table.Table,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        return self._parent.add_table(table, name=self._join(name), update_header=update_header)

    def serialize_direct(self, name: str, serializer: Callable[[OutputArchive[P]], T]) -> T:
        return self._parent.serialize_direct(self._join(name), serializer)

    def serialize_pointer(
        self, name: str, serializer: Callable[[OutputArchive[P]], T], key: Hashable
    ) -> T | P:
        return self._parent.serialize_pointer(self._join(name), serializer, key)

    def serialize_frame_set(
        self, name: str, frame_set: FrameSet, serializer: Callable[[OutputArchive[P]], T], key: Hashable
    ) -> T | P:
        return self._parent.serialize_frame_set(self._join(name), frame_set, serializer, key)

    def iter_frame_sets(self) -> Iterator[tuple[FrameSet, P]]:
        return self._parent.iter_frame_sets()


class InputArchive(ABC, Generic[P]):
    """Abstract reader that ``deserialize`` methods load their data through.

    ``P`` is the archive's pointer model type.
    """

    @abstractmethod
    def deserialize_pointer(
        self, pointer: P, model_type: type[U], deserializer: Callable[[U, InputArchive[P]], V]
    ) -> V:
        """Load the model a pointer refers to and deserialize it, caching per pointer.

        Caching means a component stored once and referenced many times is
        also rebuilt once, so the in-memory objects stay shared.
        """
        raise NotImplementedError()

    @abstractmethod
    def get_array(
        self,
        model: ArrayReferenceModel | InlineArrayModel,
        *,
        slices: tuple[slice, ...] | EllipsisType = ...,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> np.ndarray:
        """Load an array referenced (or inlined) by ``model``, optionally only ``slices`` of it.

        ``strip_header`` may remove cards the caller interprets itself from a
        FITS header before the rest is kept as opaque metadata.
        """
        raise NotImplementedError()

    def get_array_rows(
        self,
        model: ArrayReferenceModel | InlineArrayModel,
        consume: Callable[[int, int, np.ndarray], None],
        *,
        slices: tuple[slice, ...] | EllipsisType = ...,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> None:
        """Load a 2-d array like `get_array`, handing it over in bands of rows.

        ``consume(row_start, row_stop, block)`` receives rows ``row_start:row_stop``
        of the requested (sliced) array.  Archives that decode piecewise call it many
        times, possibly from worker threads and in any order, for disjoint bands; a
        caller that converts the pixels into another layout (packed mask planes into a
        3-d mask) then never needs the whole stored array in memory.  This default
        loads everything and calls ``consume`` once.
        """
        array = self.get_array(model, slices=slices, strip_header=strip_header)
        if array.ndim != 2:
            raise ArchiveReadError(f"expected a 2-d array, got shape {array.shape}")
        if array.shape[0] > 0:
            consume(0, array.shape[0], array)

    def prefetch_arrays(self, requests: Sequence[ArrayRequest]) -> None:
        """Announce arrays (and the slices of them) that are about to be loaded.

        An archive may start loading them concurrently, so that later `get_array` /
        `get_array_rows` calls with the same model and slices find them ready; remote
        files then need a few round trips in all instead of a few per array.  Purely a
        hint: this default does nothing, and a request never made is simply dropped.
        """

    @abstractmethod
    def get_structured_array(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> np.ndarray:
        """Load a table as a numpy structured array."""
        raise NotImplementedError()

    @abstractmethod
    def get_table(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> astropy.table.Table:
        """Load a table as an astropy table (units and descriptions applied)."""
        raise NotImplementedError()

    @abstractmethod
    def get_frame_set(self, ref: P) -> FrameSet:
        """Return the frame set already deserialized for pointer ``ref``."""
        raise NotImplementedError()

    def get_opaque_metadata(self) -> OpaqueArchiveMetadata | None:
        """Return format-specific metadata to attach to the read object (default: none)."""
        return None


def serialize_top_level(
    obj: Any,
    archive: OutputArchive[Any],
    *,
    metadata: Mapping[str, MetadataValue] | None = None,
    butler_info: ButlerInfo | None = None,
) -> Any:
    """Serialize the object a file is written for, and attach the caller's metadata to its tree.

    Written alone, an `Image` or `Mask` stores its array "at" its default name (``IMAGE``,
    ``MASK``), so that the file matches one where it is a component; every writer (FITS,
    NDF) starts from the tree this returns.
    """
    default_name = getattr(obj, "_archive_default_name", None)
    tree = obj.serialize(NestedOutputArchive(default_name, archive) if default_name else archive)
    if metadata:
        # A new dict: the tree's metadata may be the object's own dict.
        tree.metadata = {**tree.metadata, **metadata}
    if butler_info is not None:
        tree.butler_info = butler_info
    return tree
