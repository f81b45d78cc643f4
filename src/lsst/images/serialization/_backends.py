"""File formats by name and extension: how to write an object and how to open a file.

`read_archive`, `write_archive`, `open_archive` and the ``read``/``write`` methods of
the image types (Rubin's 4300 entry points) choose the container from the file
name: ``.fits`` (the multi-extension FITS layout), ``.json`` (a pure-JSON tree) and
``.sdf``/``.h5`` (NDF on HDF5, when `lsst.images.ndf` is available).  A `Backend`
knows, for one container, how to write an object and how to open a file as an
`OpenedArchive`: the parsed JSON tree plus the `InputArchive` that resolves the
arrays it points to.  The format modules are imported only when a backend is used,
so this registry costs nothing at ``import lsst.images``.
"""

from __future__ import annotations

__all__ = ("Backend", "OpenedArchive", "backend_for_name", "backend_for_path", "backend_for_stream")

import contextlib
import dataclasses
import importlib
import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from ._errors import ArchiveReadError


class OpenedArchive(Protocol):
    """A file opened for reading, whatever its container.

    The tree is parsed at most once per model type; arrays are read only when
    `deserialize` (or `deserialize_component`) asks for them.
    """

    name: str
    format_version: int | None

    def tree_dict(self) -> dict[str, Any]:
        """The top-level JSON tree as plain values (for schema detection)."""
        ...

    def parse_tree(self, model_type: type[Any]) -> Any:
        """Validate the tree into ``model_type`` (4300 trees adapted first)."""
        ...

    def deserialize(self, tree: Any, **kwargs: Any) -> Any:
        """Rebuild the whole object of ``tree`` (``kwargs`` such as ``bbox`` forwarded)."""
        ...

    def deserialize_component(self, tree: Any, component: str, **kwargs: Any) -> Any:
        """Rebuild one component of ``tree`` without reading anything else."""
        ...


class _FitsOpened:
    """`OpenedArchive` over a `lsst.images.fits.FitsInputArchive`."""

    def __init__(self, archive: Any) -> None:
        self.archive = archive
        self.name = archive.name
        primary = archive.primary_values  # (the header itself would import astropy.io.fits)
        self.format_version = int(primary["FMTVER"]) if "FMTVER" in primary else None
        self.data_model = primary.get("DATAMODL") or None

    def tree_dict(self) -> dict[str, Any]:
        return self.archive.get_tree_dict(0)

    def parse_tree(self, model_type: type[Any]) -> Any:
        from ..fits._common import PointerModel

        return self.archive.get_tree(model_type._get_archive_tree_type(PointerModel))

    def deserialize(self, tree: Any, **kwargs: Any) -> Any:
        from ..fits._read import deserialize_tree

        return deserialize_tree(self.archive, tree, **kwargs)

    def deserialize_component(self, tree: Any, component: str, **kwargs: Any) -> Any:
        return tree.deserialize_component(component, self.archive, **kwargs)


class _JsonOpened:
    """`OpenedArchive` over a JSON file (the tree and its ``indirect`` list)."""

    format_version = None
    data_model = None

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self._data = data
        self._archive: Any = None

    def tree_dict(self) -> dict[str, Any]:
        import json

        try:
            value = json.loads(self._data)
        except ValueError as err:
            raise ArchiveReadError(f"JSON archive {self.name} is not valid JSON: {err}") from err
        if not isinstance(value, dict):
            raise ArchiveReadError(f"JSON archive {self.name} does not hold a JSON object.")
        return value

    def parse_tree(self, model_type: type[Any]) -> Any:
        import pydantic

        from ..json._input import JsonInputArchive
        from ._models import JsonRef

        tree_type = model_type._get_archive_tree_type(JsonRef)
        if not self._data.strip():
            raise ArchiveReadError(f"JSON archive {self.name} is empty.")
        try:
            tree = tree_type.model_validate_json(self._data)
        except pydantic.ValidationError as err:
            raise ArchiveReadError(
                f"JSON archive {self.name} is not a valid {tree_type.__name__} tree: {err}"
            ) from err
        self._archive = JsonInputArchive(tree.indirect)
        return tree

    def deserialize(self, tree: Any, **kwargs: Any) -> Any:
        return tree.deserialize(self._archive, **kwargs)

    def deserialize_component(self, tree: Any, component: str, **kwargs: Any) -> Any:
        return tree.deserialize_component(component, self._archive, **kwargs)


@dataclasses.dataclass(frozen=True)
class Backend:
    """One container format.

    Attributes
    ----------
    name
        ``"fits"``, ``"json"`` or ``"ndf"``.
    extensions
        File-name extensions that select it (lower case, with the dot).
    write
        ``write(obj, path, **kwargs)``: the format module's writer.
    input_archive
        ``input_archive(path, **kwargs)``: a context manager yielding an `OpenedArchive`.
    """

    name: str
    extensions: tuple[str, ...]
    write: Callable[..., Any]
    input_archive: Callable[..., contextlib.AbstractContextManager[OpenedArchive]]


def _is_stream(target: Any) -> bool:
    """Whether ``target`` is an open binary stream (a `~lsst.resources.ResourcePath` also has ``read``)."""
    return hasattr(target, "read") and hasattr(target, "seek") and not isinstance(target, (str, bytes))


def _fits_write(obj: Any, path: Any, **kwargs: Any) -> Any:
    from ..fits import write

    return write(obj, os.fspath(path) if isinstance(path, os.PathLike) else path, **kwargs)


@contextlib.contextmanager
def _fits_open(path: Any, **kwargs: Any) -> Iterator[OpenedArchive]:
    from ..fits import FitsInputArchive

    options = {k: kwargs.pop(k) for k in ("page_size", "partial", "threads") if k in kwargs}
    if kwargs:
        raise TypeError(f"Unknown options for opening a FITS archive: {sorted(kwargs)}.")
    options["partial"] = bool(options.get("partial", False))
    if _is_stream(path):
        path = path.read()  # a binary stream: read ranges from its bytes
    with FitsInputArchive.open(path, **options) as archive:
        yield _FitsOpened(archive)


def _json_write(obj: Any, path: Any, **kwargs: Any) -> Any:
    from ..json import write

    return write(obj, os.fspath(path) if isinstance(path, os.PathLike) else path, **kwargs)


@contextlib.contextmanager
def _json_open(path: Any, **kwargs: Any) -> Iterator[OpenedArchive]:
    kwargs.pop("partial", None)
    if kwargs:
        raise TypeError(f"Unknown options for opening a JSON archive: {sorted(kwargs)}.")
    if _is_stream(path):
        yield _JsonOpened(str(getattr(path, "name", "<stream>")), path.read())
        return
    from ..json._io import _read_bytes

    name, data = _read_bytes(path)
    yield _JsonOpened(name, data)


def _ndf_module() -> Any:
    try:
        return importlib.import_module("lsst.images.ndf")
    except ModuleNotFoundError as err:
        raise ValueError(
            "NDF files (.sdf, .h5) need the lsst.images.ndf module and its 'ndf' extra (h5py)."
        ) from err


def _ndf_write(obj: Any, path: Any, **kwargs: Any) -> Any:
    return _ndf_module().write(obj, os.fspath(path) if isinstance(path, os.PathLike) else path, **kwargs)


@contextlib.contextmanager
def _ndf_open(path: Any, **kwargs: Any) -> Iterator[OpenedArchive]:
    module = _ndf_module()
    opener = getattr(getattr(module, "NdfInputArchive", None), "open", None)
    if opener is None:
        raise NotImplementedError("This lsst.images.ndf has no NdfInputArchive.open; use ndf.read.")
    kwargs.pop("partial", None)
    with opener(path, **kwargs) as archive:
        yield _FitsLikeOpened(archive)


class _FitsLikeOpened(_FitsOpened):
    """`OpenedArchive` over any input archive with ``get_tree``/``get_tree_dict`` (e.g. NDF)."""

    def __init__(self, archive: Any) -> None:
        self.archive = archive
        self.name = str(getattr(archive, "name", "<archive>"))
        self.format_version = None
        self.data_model = None

    def parse_tree(self, model_type: type[Any]) -> Any:
        pointer = getattr(importlib.import_module("lsst.images.ndf"), "NdfPointerModel", None)
        from ..fits._common import PointerModel

        return self.archive.get_tree(model_type._get_archive_tree_type(pointer or PointerModel))

    def deserialize(self, tree: Any, **kwargs: Any) -> Any:
        return tree.deserialize(self.archive, **kwargs)


_BACKENDS = (
    Backend("fits", (".fits", ".fit", ".fz"), _fits_write, _fits_open),
    Backend("json", (".json",), _json_write, _json_open),
    Backend("ndf", (".sdf", ".h5", ".hdf5"), _ndf_write, _ndf_open),
)


def backend_for_name(name: str) -> Backend:
    """Return the backend called ``name`` (``"fits"``, ``"json"`` or ``"ndf"``).

    Raises
    ------
    ValueError
        If there is no such format.
    """
    for backend in _BACKENDS:
        if backend.name == name.lower():
            return backend
    raise ValueError(f"Unknown archive format {name!r}; expected one of {[b.name for b in _BACKENDS]}.")


def backend_for_path(path: Any) -> Backend:
    """Return the backend for a file name, URI or `~lsst.resources.ResourcePath`, from its extension.

    Raises
    ------
    ValueError
        If the extension names no supported format (``.gz``/``.zst``-compressed
        files included: they are not supported here).
    """
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    lowered = text.lower().split("?", 1)[0].split("#", 1)[0]
    for backend in _BACKENDS:
        if lowered.endswith(backend.extensions):
            return backend
    known = [ext for backend in _BACKENDS for ext in backend.extensions]
    raise ValueError(
        f"Cannot tell the archive format of {text!r} from its extension; expected one of {known}."
    )


def backend_for_stream(stream: Any) -> Backend:
    """Return the backend for an open binary stream, from its first bytes (FITS or JSON)."""
    position = stream.tell()
    head = stream.read(9)
    stream.seek(position)
    if head.startswith(b"SIMPLE  ="):
        return backend_for_name("fits")
    if head.lstrip()[:1] == b"{":
        return backend_for_name("json")
    if head.startswith(b"\x89HDF"):
        return backend_for_name("ndf")
    raise ValueError(f"Cannot tell the archive format of stream {getattr(stream, 'name', stream)!r}.")
