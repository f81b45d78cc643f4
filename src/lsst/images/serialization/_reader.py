"""Reading and writing any lsst.images file: `open_archive`, `read_archive`, `write_archive`.

These are Rubin's 4300 entry points, beside the 2100 ones (``fits.read``,
``json.read``, ``Cls.read_fits``).  The container comes from the file name (or the
first bytes of a stream); the class from the caller or, when not given, from the
schema the file names (4300) or the shape of its tree (2100).

`open_archive` yields a `Reader` that parses the JSON tree once and then rebuilds the
whole object or any single component from it, reading only the arrays that the
component needs (a cut-out of one plane decodes only the tiles it touches).  The
butler formatter reads components through it.
"""

from __future__ import annotations

__all__ = ("Reader", "open_archive", "read_archive", "write_archive")

import contextlib
from collections.abc import Iterator
from typing import Any

from ._backends import OpenedArchive, backend_for_name, backend_for_path, backend_for_stream
from ._errors import ArchiveReadError
from ._schemas import ArchiveInfo, class_for_schema, schema_name_from_tree


class Reader:
    """An open file whose tree has been parsed: read the object or its components.

    Parameters
    ----------
    opened
        The open file (from a `Backend`).
    tree
        Its parsed top-level tree.
    info
        What the file says about its schema and container.
    cls
        The class being read.
    """

    def __init__(self, opened: OpenedArchive, tree: Any, info: ArchiveInfo, cls: type[Any]) -> None:
        self._opened = opened
        self._tree = tree
        self._info = info
        self._cls = cls

    @property
    def info(self) -> ArchiveInfo:
        """Schema and container information."""
        return self._info

    @property
    def name(self) -> str:
        """Name of the file (for error messages)."""
        return self._opened.name

    @property
    def metadata(self) -> dict[str, Any]:
        """The top-level tree's metadata."""
        return dict(getattr(self._tree, "metadata", None) or {})

    @property
    def butler_info(self) -> Any:
        """The `ButlerInfo` recorded by a butler write, or `None`."""
        return getattr(self._tree, "butler_info", None)

    def get_tree(self) -> Any:
        """The parsed top-level tree (a pydantic model)."""
        return self._tree

    def read(self, **kwargs: Any) -> Any:
        """Rebuild the whole object (``kwargs`` such as ``bbox=`` are the class's read options)."""
        obj = self._opened.deserialize(self._tree, **kwargs)
        _attach_butler_info(obj, self.butler_info)
        return obj

    def get_component(self, component: str, **kwargs: Any) -> Any:
        """Rebuild one component (``psf``, ``image``, ``sky_projection``, ...) without the rest.

        Raises
        ------
        lsst.images.serialization.InvalidComponentError
            If the stored type has no such component.
        """
        return self._opened.deserialize_component(self._tree, component, **kwargs)


def _attach_butler_info(obj: Any, info: Any) -> None:
    if info is not None and hasattr(obj, "_butler_info"):
        obj._butler_info = info


@contextlib.contextmanager
def open_archive(
    path: Any, cls: type[Any] | None = None, *, format: str | None = None, partial: bool = True, **kwargs: Any
) -> Iterator[Reader]:
    """Open an lsst.images file and parse its tree once.

    Parameters
    ----------
    path
        Local path, URI, `~lsst.resources.ResourcePath` or binary stream.  Remote
        files are read with range requests (FITS) rather than downloaded.
    cls
        Class to read; inferred from the file when `None`.
    format
        ``"fits"``, ``"json"`` or ``"ndf"``; from the extension when `None`.
    partial
        Accepted for compatibility (reads are always partial where the format allows).
    **kwargs
        Container options (FITS: ``threads``, ``page_size``).

    Yields
    ------
    Reader
        Valid until the context exits.

    Raises
    ------
    TypeError
        If the file holds a different type than ``cls``.
    ArchiveReadError
        If the file is not a valid archive (the message names it).
    """
    if format is not None:
        backend = backend_for_name(format)
    elif hasattr(path, "read") and hasattr(path, "seek") and not isinstance(path, (str, bytes)):
        backend = backend_for_stream(path)
    else:
        backend = backend_for_path(path)
    with backend.input_archive(path, partial=partial, **kwargs) as opened:
        info = _archive_info(opened, detect=cls is None)
        read_cls = _resolve_class(opened, info, cls)
        tree = opened.parse_tree(read_cls)
        yield Reader(opened, tree, info, read_cls)


def _archive_info(opened: OpenedArchive, *, detect: bool) -> ArchiveInfo:
    """What the file says about itself; ``detect``: recognise a 2100 tree by its keys (one more parse)."""
    url = getattr(opened, "data_model", None)
    if url:
        return ArchiveInfo.from_schema_url(url, format_version=opened.format_version)
    name = schema_name_from_tree(opened.tree_dict()) if detect else None
    return ArchiveInfo(schema_name=name, format_version=opened.format_version)


def _resolve_class(opened: OpenedArchive, info: ArchiveInfo, cls: type[Any] | None) -> type[Any]:
    stored: type[Any] | None = None
    if info.schema_name is not None:
        with contextlib.suppress(LookupError):
            stored = class_for_schema(info.schema_name)
    if cls is None:
        if stored is None:
            raise ArchiveReadError(
                f"{opened.name}: cannot tell which lsst.images type this file holds "
                f"(schema {info.schema_name!r}); pass the class to read."
            )
        return stored
    if info.schema_url is not None and stored is not None and not issubclass(stored, cls):
        raise TypeError(
            f"{opened.name} holds a {info.schema_name!r} ({stored.__name__}), not a {cls.__name__}."
        )
    return cls


def read_archive(path: Any, cls: type[Any] | None = None, *, format: str | None = None, **kwargs: Any) -> Any:
    """Read an lsst.images file and return the object itself.

    Parameters
    ----------
    path, cls, format
        As for `open_archive`.
    **kwargs
        Read options of the class (e.g. ``bbox=``); the container options
        ``threads`` and ``page_size`` go to the container.
    """
    container = {k: kwargs.pop(k) for k in ("threads", "page_size") if k in kwargs}
    with open_archive(path, cls, format=format, **container) as reader:
        return reader.read(**kwargs)


def write_archive(obj: Any, path: Any, **kwargs: Any) -> Any:
    """Write ``obj`` to ``path`` in the container its extension names; returns the tree.

    ``kwargs`` go to the container's writer (FITS: ``compression_options``,
    ``compression_seed``, ``layout``, ``metadata``, ``butler_info``, ...).
    """
    return backend_for_path(path).write(obj, path, **kwargs)
