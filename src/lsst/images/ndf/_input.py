"""`NdfInputArchive`: reads the JSON tree and the ``ndf:`` arrays of an NDF (HDS-on-HDF5) file."""

from __future__ import annotations

__all__ = ("InvalidNdfArchiveError", "NdfInputArchive")

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from types import EllipsisType
from typing import TYPE_CHECKING, Any, TypeVar

import h5py
import numpy as np
import pydantic

from ..serialization import (
    ArchiveReadError,
    ArrayReferenceModel,
    InlineArrayModel,
    InputArchive,
    TableColumnModel,
    TableModel,
    no_header_updates,
)
from ._common import DEFAULT_LSST_PATH, SOURCE_PREFIX, NdfPointerModel
from ._hds import read_chars

if TYPE_CHECKING:
    from typing import Self

    import astropy.io.fits
    import astropy.table
    from lsst.resources import ResourcePathExpression

    from .._transforms import FrameSet
    from ..fits import FitsOpaqueMetadata

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")

#: Where files keep their JSON tree: under the top NDF's LSST extension, or (containers
#: of NDFs such as a ColorImage) directly under the root.
_TREE_PATHS = (f"{DEFAULT_LSST_PATH}/JSON", "/LSST/JSON")


class InvalidNdfArchiveError(ArchiveReadError):
    """An NDF file is unreadable or not what the reader expects; the message starts with the file name."""


class NdfInputArchive(InputArchive[NdfPointerModel]):
    """Input archive for NDF files written by `lsst.images.ndf.write` (or the reference library).

    Parameters
    ----------
    file
        Open (readable) h5py file.
    name
        Name used in error messages (default: the file's name).
    """

    def __init__(self, file: h5py.File, name: str | None = None) -> None:
        self._file = file
        self._name = name or str(file.filename)
        self._cache: dict[str, Any] = {}
        self._tree_path = next((p for p in _TREE_PATHS if isinstance(file.get(p), h5py.Dataset)), None)

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: ResourcePathExpression | io.IOBase) -> Iterator[Self]:
        """Open a local file, a URI (read whole through lsst.resources) or a binary stream.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        InvalidNdfArchiveError
            If it is not an HDF5 file.
        """
        from lsst.resources import ResourcePath

        source: Any
        if isinstance(path, io.IOBase):
            source, name = path, str(getattr(path, "name", "<stream>"))
        else:
            uri = ResourcePath(path, forceDirectory=False)
            name = uri.ospath if uri.isLocal else str(uri)
            if uri.isLocal:
                source = uri.ospath
            else:
                try:
                    source = io.BytesIO(uri.read())
                except FileNotFoundError:
                    raise
                except OSError as err:
                    raise InvalidNdfArchiveError(f"{name}: cannot read the file: {err}") from err
        if isinstance(source, str):
            if not os.path.exists(source):
                raise FileNotFoundError(f"No such NDF file: {source!r}")
        try:
            file = h5py.File(source, "r")
        except OSError as err:
            raise InvalidNdfArchiveError(f"{name}: not an NDF (HDF5/HDS) file: {err}") from err
        with file:
            yield cls(file, name)

    @property
    def name(self) -> str:
        """The file's name, as used in error messages."""
        return self._name

    @property
    def file(self) -> h5py.File:
        """The underlying h5py file."""
        return self._file

    @property
    def has_tree(self) -> bool:
        """Whether the file has an lsst.images JSON tree (else it is a plain Starlink NDF)."""
        return self._tree_path is not None

    def _error(self, problem: str) -> InvalidNdfArchiveError:
        return InvalidNdfArchiveError(f"{self._name}: {problem}")

    def _json(self, path: str) -> bytes:
        node = self._file.get(path)
        if not isinstance(node, h5py.Dataset) or node.dtype.kind != "S" or node.size < 1:
            raise self._error(f"no JSON character array at {path!r}")
        return bytes(np.ravel(node[()])[0]).rstrip(b"\0 ")

    # ------------------------------------------------------------------ trees

    def get_tree_bytes(self) -> bytes:
        """The raw JSON bytes of the file's main tree."""
        if self._tree_path is None:
            raise self._error(
                f"no lsst.images JSON tree (looked for {' and '.join(_TREE_PATHS)}); "
                "plain Starlink NDFs are read with lsst.images.ndf.read_starlink"
            )
        return self._json(self._tree_path)

    def get_tree_dict(self, row: int = 0) -> dict[str, Any]:
        """The main JSON tree as plain Python values (``row`` exists for FITS-archive parity; 0)."""
        import json

        if row != 0:
            raise self._error(f"an NDF file has one main tree; there is no tree {row}")
        try:
            value = json.loads(self.get_tree_bytes())
        except ValueError as err:
            raise self._error(f"the JSON at {self._tree_path!r} is not valid JSON: {err}") from err
        if not isinstance(value, dict):
            raise self._error(f"the JSON at {self._tree_path!r} is not a JSON object")
        return value

    def get_tree(self, model_type: type[T]) -> T:
        """Parse the main JSON tree into ``model_type``."""
        return self._validate(self.get_tree_bytes(), model_type, self._tree_path or "")

    def _validate(self, data: bytes, model_type: Any, where: str) -> Any:
        try:
            if isinstance(model_type, type) and issubclass(model_type, pydantic.BaseModel):
                return model_type.model_validate_json(data)
            return pydantic.TypeAdapter(model_type).validate_json(data)
        except pydantic.ValidationError as err:
            name = getattr(model_type, "__name__", str(model_type))
            raise self._error(f"the JSON at {where!r} is not a valid {name} tree: {err}") from err

    def deserialize_pointer(
        self,
        pointer: NdfPointerModel,
        model_type: type[U],
        deserializer: Callable[[U, InputArchive[NdfPointerModel]], V],
    ) -> V:
        """Parse the JSON a pointer names and deserialize it (once per pointer)."""
        if pointer.path in self._cache:
            return self._cache[pointer.path]
        model = self._validate(self._json(pointer.path), model_type, pointer.path)
        result = deserializer(model, self)
        self._cache[pointer.path] = result
        return result

    def get_frame_set(self, ref: NdfPointerModel) -> FrameSet:
        """Return the frame set already deserialized for pointer ``ref``."""
        try:
            return self._cache[ref.path]
        except KeyError:
            raise self._error(
                f"frame set {ref.path!r} is referenced before it was read; frame sets must be "
                "deserialized before the transforms that use them"
            ) from None

    # ------------------------------------------------------------------ arrays

    def _dataset(self, model: ArrayReferenceModel) -> h5py.Dataset:
        source = str(model.source)
        if not source.startswith(SOURCE_PREFIX):
            raise self._error(f"array source {source!r} is not an {SOURCE_PREFIX!r} reference")
        node = self._file.get(source[len(SOURCE_PREFIX) :])
        if not isinstance(node, h5py.Dataset):
            raise self._error(f"array source {source!r} does not name a dataset in the file")
        return node

    def get_array(
        self,
        model: ArrayReferenceModel | InlineArrayModel,
        *,
        slices: tuple[slice, ...] | EllipsisType = ...,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> np.ndarray:
        """Load an inline or ``ndf:`` array (only ``slices`` of it are read from the file).

        A 3-d mask comes back in its stored ``(mask_size, y, x)`` layout.  Values are
        converted to the tree's ``datatype`` when that loses nothing.
        """
        wanted = model.datatype.to_numpy()
        if isinstance(model, InlineArrayModel):
            try:
                array = model.to_array()
            except ValueError as err:
                raise self._error(f"inline {model.datatype} array is malformed: {err}") from err
            return array if slices is ... else array[slices]
        dataset = self._dataset(model)
        if (
            slices is ...
            and len(model.shape) == dataset.ndim
            and sorted(model.shape) != sorted(dataset.shape)
        ):
            raise self._error(
                f"{dataset.name} has shape {dataset.shape} but the tree says {tuple(model.shape)}"
            )
        try:
            array = dataset[()] if slices is ... else dataset[slices]
        except (OSError, ValueError, TypeError) as err:
            raise self._error(f"cannot read {dataset.name}: {err}") from err
        array = np.asarray(array)
        if wanted == np.bool_:
            return array != 0
        if array.dtype != wanted:
            if not np.can_cast(array.dtype, wanted, "safe"):
                raise self._error(
                    f"{dataset.name} holds {array.dtype} values but the tree says {np.dtype(wanted)}"
                )
            array = array.astype(wanted)
        return array

    def get_structured_array(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> np.ndarray:
        """Assemble a table's columns (inline, or one sub-NDF each) into a structured array."""

        def load(column: TableColumnModel) -> np.ndarray:
            return self.get_array(column.data)

        try:
            return model._structured_array(load)
        except (NotImplementedError, ValueError) as err:
            raise self._error(f"cannot assemble a table: {err}") from err

    def get_table(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> astropy.table.Table:
        """Load a table as an astropy Table (units, descriptions and metadata applied)."""
        return model._to_table(self.get_structured_array(model))

    # ------------------------------------------------------------------ FITS cards

    def get_fits_header(self) -> astropy.io.fits.Header | None:
        """The FITS cards of the NDF's ``FITS`` extension (`None` if it has none)."""
        base = (self._tree_path or _TREE_PATHS[0]).rsplit("/", 2)[0] or "/"
        node = self._file.get(f"{base.rstrip('/')}/FITS")
        if not isinstance(node, h5py.Dataset):
            return None
        from astropy.io import fits

        # (astropy parses card images lazily: a malformed card only fails when it is used.)
        return fits.Header.fromstring("".join(card.ljust(80)[:80] for card in read_chars(node)))

    def get_opaque_metadata(self) -> FitsOpaqueMetadata | None:
        """The ``FITS`` extension's cards as primary-header opaque metadata (`None` without any)."""
        header = self.get_fits_header()
        if header is None:
            return None
        from ..fits import ExtensionKey, FitsOpaqueMetadata

        opaque = FitsOpaqueMetadata()
        opaque.headers[ExtensionKey()] = header
        return opaque
