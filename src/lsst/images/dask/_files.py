"""Opening files inside dask tasks, with a small per-process cache of parsed archives.

A dask graph must not carry open files (it is pickled to worker processes), so every
task opens its file again.  What is expensive about opening an lsst.images file is not
the ``open`` but parsing it: the primary header, the JSON trees and the INDEX (for a
remote file, a round trip or two each).  Each process therefore keeps the last few
parsed archives (`FitsInputArchive` objects whose reader is closed), keyed by the
file's location and `FileSignature`; a task takes the cached parse and reads its tiles
through a fresh reader (`FitsInputArchive.with_reader`).

The signature recorded when the dask array was built is checked by every task, so a
file rewritten in between is reported instead of being read half old, half new.  Tasks
read as cut-outs do and do not complete data checksums of small HDUs (which would
fetch the whole HDU in every task).
"""

from __future__ import annotations

__all__ = ("FileSignature", "ParsedFile", "clear_cache", "location_of", "open_file", "task_archive")

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..fits._common import InvalidFitsArchiveError
from ..fits._input import FitsInputArchive
from ..fits._io import FileRangeReader, HttpRangeReader, open_range_reader
from ..fits._layout import to_internal

#: Parsed archives kept per process.  An entry holds headers, JSON trees and index
#: (tens of KiB for a visit image), never pixels.
CACHE_SIZE = 32


class FileSignature(NamedTuple):
    """What identifies the version of a file that a dask array was built from."""

    size: int
    """Size in bytes."""

    mtime_ns: int | None
    """Modification time of a local file (None for remote files)."""


class ParsedFile:
    """A parsed archive (reader closed) and its tree in the internal layout.

    Parameters
    ----------
    archive
        The archive, parsed through a reader that may be closed afterwards.
    """

    def __init__(self, archive: FitsInputArchive) -> None:
        self.archive = archive
        tree = archive.get_tree_dict(0)
        self.tree: dict[str, Any] = to_internal(tree) if archive.layout == "4300" else tree
        #: Validated tree models, filled by the readers that need them (`._plane`).
        self.models: dict[Any, Any] = {}

    @property
    def name(self) -> str:
        """The file's location, for error messages."""
        return self.archive.name


_CACHE: OrderedDict[tuple[str, FileSignature], ParsedFile] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every parsed archive of this process (the next task parses its file again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def location_of(path_or_url: Any) -> str:
    """Return a string that opens the same file in any process of the cluster.

    Local paths become absolute (worker processes need not share the caller's working
    directory); URLs and `lsst.resources.ResourcePath` objects become their URL
    (``file://`` URLs their local path).
    """
    if type(path_or_url).__module__.startswith("lsst.resources"):
        if getattr(path_or_url, "scheme", "") in ("", "file"):
            return os.path.abspath(path_or_url.ospath)
        return str(path_or_url)
    if isinstance(path_or_url, (str, Path)) or hasattr(path_or_url, "__fspath__"):
        text = os.fspath(path_or_url)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        if text.startswith("file://"):
            from urllib.parse import unquote, urlparse

            return os.path.abspath(unquote(urlparse(text).path))
        return text if "://" in text else os.path.abspath(text)
    raise TypeError(f"expected a path, URL or ResourcePath, not {type(path_or_url).__name__}")


def _open_reader(location: str, size: int | None) -> Any:
    """Open a range reader; a known ``size`` spares HTTP servers a HEAD request per task."""
    if size is not None and location.startswith(("http://", "https://")):
        return HttpRangeReader(location, size)
    try:
        return open_range_reader(location)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise InvalidFitsArchiveError(f"{location}: cannot open FITS archive: {err}") from err


def _signature(reader: Any) -> FileSignature:
    mtime = os.stat(reader.name).st_mtime_ns if isinstance(reader, FileRangeReader) else None
    return FileSignature(int(reader.size), mtime)


def _parsed(location: str, signature: FileSignature, reader: Any) -> ParsedFile:
    """The cached parse of ``location`` at ``signature``, parsed through ``reader`` on a miss."""
    key = (location, signature)
    with _CACHE_LOCK:
        parsed = _CACHE.get(key)
        if parsed is not None:
            _CACHE.move_to_end(key)
            return parsed
    parsed = ParsedFile(FitsInputArchive(reader))
    with _CACHE_LOCK:
        parsed = _CACHE.setdefault(key, parsed)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return parsed


@contextlib.contextmanager
def open_file(path_or_url: Any) -> Iterator[tuple[str, FileSignature, ParsedFile, FitsInputArchive]]:
    """Open and parse a file when a dask array is built (headers and index only).

    Yields
    ------
    location
        The string every task opens (see `location_of`).
    signature
        The version of the file the tasks must find.
    parsed
        The parsed archive (also left in this process's cache).
    archive
        An archive reading through the open reader, for further headers.
    """
    location = location_of(path_or_url)
    with _open_reader(location, None) as reader:
        signature = _signature(reader)
        parsed = _parsed(location, signature, reader)
        yield location, signature, parsed, parsed.archive.with_reader(reader)


@contextlib.contextmanager
def task_archive(location: str, signature: FileSignature) -> Iterator[tuple[ParsedFile, FitsInputArchive]]:
    """Open ``location`` for one task: the cached parse and an archive reading through a new reader.

    Raises
    ------
    InvalidFitsArchiveError
        If the file is no longer the one the array was built from.
    """
    with _open_reader(location, signature.size) as reader:
        found = _signature(reader)
        if found != signature:
            raise InvalidFitsArchiveError(
                f"{location}: the file changed after the dask array was built "
                f"(size {signature.size} -> {found.size}, modification time "
                f"{signature.mtime_ns} -> {found.mtime_ns}); build the array again"
            )
        parsed = _parsed(location, signature, reader)
        # A chunk is a cut-out: summing a whole (small) data part in every task would
        # fetch it again and again.
        yield parsed, parsed.archive.with_reader(reader, cutout_sums=False)
