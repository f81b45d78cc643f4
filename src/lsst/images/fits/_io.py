"""Byte-range I/O: read many ``(offset, length)`` pieces of a file, URL or buffer.

The tile engine never reads whole files: it asks for the descriptor rows and heap bytes of
the tiles it needs.  A `RangeReader` serves those requests, merging nearby ranges into
few underlying reads (one ``pread`` or one HTTP ``Range`` request each), because for
remote files the number of round trips, not the byte count, dominates the cost.

Every reader counts ``bytes_read`` and ``request_count`` (underlying reads), which the
tests and benchmarks use to check that sub-image reads fetch only what they need.
"""

from __future__ import annotations

__all__ = (
    "BytesRangeReader",
    "FileRangeReader",
    "HttpRangeReader",
    "RangeReader",
    "RemoteReadError",
    "ResourceRangeReader",
    "TruncatedFileError",
    "coalesce_ranges",
    "open_range_reader",
)

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: Gaps (bytes) between requested ranges up to which two ranges are read as one.  Reading
#: a few KiB too much is far cheaper than an extra system call or HTTP round trip.
COALESCE_GAP = 8192


class TruncatedFileError(OSError):
    """A requested byte range lies (partly) beyond the end of the file."""


class RemoteReadError(ConnectionError):
    """A remote range could not be read completely, even after retries (a network problem)."""


def http_client_errors() -> type[Exception]:
    """``http.client.HTTPException``: incomplete reads and bad status lines of dropped connections."""
    import http.client

    return http.client.HTTPException


@runtime_checkable
class RangeReader(Protocol):
    """Random access to the bytes of one file."""

    name: str
    size: int

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of every ``(offset, length)`` range, in request order."""
        ...


def coalesce_ranges(
    ranges: Sequence[tuple[int, int]], gap: int = COALESCE_GAP
) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
    """Merge ranges separated by at most ``gap`` bytes.

    Returns
    -------
    merged
        Sorted, disjoint ``(offset, length)`` ranges to read.
    placement
        For every input range (in input order): ``(merged index, start, stop)`` of its
        bytes inside that merged block.
    """
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    merged: list[list[int]] = []
    placement: list[tuple[int, int, int]] = [(0, 0, 0)] * len(ranges)
    for i in order:
        offset, length = ranges[i]
        if merged and offset <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], offset + length)
        else:
            merged.append([offset, offset + length])
        start = offset - merged[-1][0]
        placement[i] = (len(merged) - 1, start, start + length)
    return [(a, b - a) for a, b in merged], placement


def _gap_limit(ranges: Sequence[tuple[int, int]]) -> int:
    """Largest gap worth reading through for this request.

    At most `COALESCE_GAP`, and small enough that the bytes read in gaps stay below a
    quarter of the bytes requested (so a read never fetches more than 1.25x what it needs).
    """
    if len(ranges) < 2:
        return 0
    total = sum(n for _, n in ranges)
    return min(COALESCE_GAP, total // (4 * (len(ranges) - 1)))


class _BaseReader:
    """Shared bookkeeping: range checks, coalescing, counters, context manager."""

    name: str
    size: int
    #: Whether each request costs a network round trip (callers then fetch more per
    #: request and overlap requests); False for local files and memory.
    remote: bool = True

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.bytes_read = 0
        self.request_count = 0
        self._lock = threading.Lock()

    def _read_block(self, offset: int, length: int) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of every ``(offset, length)`` range, in request order.

        Nearby ranges are fetched with one underlying read.  A range reaching past the
        end of the file raises `TruncatedFileError` naming the file.
        """
        return [v if isinstance(v, bytes) else bytes(v) for v in self.read_views(ranges)]

    def read_views(self, ranges: Sequence[tuple[int, int]]) -> list[bytes | memoryview]:
        """Like `read_ranges`, but pieces of a merged read are zero-copy memoryviews."""
        ranges = [(int(o), int(n)) for o, n in ranges]
        for offset, length in ranges:
            if offset < 0 or length < 0:
                raise ValueError(f"{self.name}: invalid byte range (offset {offset}, length {length})")
            if offset + length > self.size:
                raise TruncatedFileError(
                    f"{self.name}: byte range [{offset}, {offset + length}) lies beyond the end of the "
                    f"file ({self.size} bytes); the file is truncated or corrupted"
                )
        if not ranges:
            return []
        merged, placement = coalesce_ranges(ranges, _gap_limit(ranges))
        blocks = [self._read_checked(offset, length) for offset, length in merged]
        views = [memoryview(b) for b in blocks]
        return [blocks[k] if (b - a) == len(blocks[k]) else views[k][a:b] for k, a, b in placement]

    def _read_checked(self, offset: int, length: int) -> bytes:
        if length == 0:
            return b""
        data = self._read_block(offset, length)
        if len(data) != length:
            raise TruncatedFileError(
                f"{self.name}: short read at offset {offset}: got {len(data)} of {length} bytes "
                "(file truncated?)"
            )
        with self._lock:
            self.bytes_read += length
            self.request_count += 1
        return data

    def close(self) -> None:
        """Release the underlying resource (no-op by default)."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, size={self.size})"


class FileRangeReader(_BaseReader):
    """Local file read with ``os.pread`` (thread-safe: no shared file position)."""

    remote = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        name = os.fspath(path)
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
        except BaseException:
            os.close(fd)
            raise
        super().__init__(name, size)
        self._fd: int | None = fd

    def _read_block(self, offset: int, length: int) -> bytes:
        if self._fd is None:
            raise ValueError(f"{self.name}: reader is closed")
        chunks = []
        while length > 0:
            chunk = os.pread(self._fd, length, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def read_into(self, offset: int, buffer: Any) -> None:
        """Fill ``buffer`` (a writable contiguous buffer) with the file's bytes from ``offset``.

        For callers that reuse one buffer for many reads (the tile engine's chunks), so a
        read does not allocate -- and page-fault in -- fresh memory each time.
        """
        view = memoryview(buffer).cast("B")
        length = len(view)
        if offset < 0 or offset + length > self.size:
            raise TruncatedFileError(
                f"{self.name}: byte range [{offset}, {offset + length}) lies beyond the end of the "
                f"file ({self.size} bytes); the file is truncated or corrupted"
            )
        if not hasattr(os, "preadv"):  # pragma: no cover - Windows
            view[:] = self._read_checked(offset, length)
            return
        if self._fd is None:
            raise ValueError(f"{self.name}: reader is closed")
        done = 0
        while done < length:
            n = os.preadv(self._fd, [view[done:]], offset + done)
            if n <= 0:
                raise TruncatedFileError(
                    f"{self.name}: short read at offset {offset}: got {done} of {length} bytes "
                    "(file truncated?)"
                )
            done += n
        with self._lock:
            self.bytes_read += length
            self.request_count += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class BytesRangeReader(_BaseReader):
    """In-memory buffer (bytes, bytearray, memoryview)."""

    remote = False

    def __init__(self, data: bytes | bytearray | memoryview, name: str = "<bytes>") -> None:
        self._data = memoryview(data).cast("B")
        super().__init__(name, len(self._data))

    def _read_block(self, offset: int, length: int) -> bytes:
        return bytes(self._data[offset : offset + length])


class HttpRangeReader(_BaseReader):
    """HTTP(S) URL read with ``Range`` requests through `urllib` (no extra dependencies)."""

    def __init__(self, url: str, size: int | None = None) -> None:
        self._url = url
        super().__init__(url, self._probe_size() if size is None else size)

    def _probe_size(self) -> int:
        """Learn the file size: HEAD first, then a one-byte ranged GET for servers without HEAD."""
        import urllib.error
        import urllib.request

        try:
            request = urllib.request.Request(self._url, method="HEAD")
            with urllib.request.urlopen(request) as response:
                length = response.headers.get("Content-Length")
            if length is not None:
                return int(length)
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise FileNotFoundError(f"{self._url}: not found (HTTP 404)") from err
            if err.code not in (403, 405, 501):
                raise OSError(f"{self._url}: HTTP error {err.code}") from err
        try:
            request = urllib.request.Request(self._url, headers={"Range": "bytes=0-0"})
            with urllib.request.urlopen(request) as response:
                content_range = response.headers.get("Content-Range", "")
                if response.status == 206 and "/" in content_range:
                    total = content_range.rsplit("/", 1)[1].strip()
                    if total.isdigit():
                        return int(total)
                # The server ignored the Range header and sent the whole file.
                length = response.headers.get("Content-Length")
                return int(length) if length is not None else len(response.read())
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise FileNotFoundError(f"{self._url}: not found (HTTP 404)") from err
            raise OSError(f"{self._url}: HTTP error {err.code}") from err

    #: Attempts per range before giving up, and the first back-off delay (doubled each time).
    ATTEMPTS = 4
    BACKOFF = 0.05
    TIMEOUT = 30.0

    def _read_block(self, offset: int, length: int) -> bytes:
        """One ranged GET, retried with exponential back-off on dropped connections,
        short bodies and 5xx answers; a range that still fails raises `RemoteReadError`.
        A short body is never returned: the caller would decode garbage."""
        import time
        import urllib.error

        problem = ""
        for attempt in range(self.ATTEMPTS):
            if attempt:
                time.sleep(self.BACKOFF * 2 ** (attempt - 1))
            try:
                data = self._get(offset, length)
            except urllib.error.HTTPError as err:
                if err.code < 500 and err.code != 429:
                    raise RemoteReadError(
                        f"{self._url}: HTTP error {err.code} for bytes {offset}+{length}"
                    ) from err
                problem = f"HTTP {err.code}"
                continue
            except (OSError, http_client_errors()) as err:
                problem = f"{type(err).__name__}: {err}"
                continue
            if len(data) == length:
                return data
            problem = f"short body ({len(data)} of {length} bytes)"
        raise RemoteReadError(
            f"{self._url}: reading bytes {offset}..{offset + length - 1} failed after "
            f"{self.ATTEMPTS} attempts ({problem})"
        )

    def _get(self, offset: int, length: int) -> bytes:
        import urllib.request

        request = urllib.request.Request(
            self._url, headers={"Range": f"bytes={offset}-{offset + length - 1}"}
        )
        with urllib.request.urlopen(request, timeout=self.TIMEOUT) as response:
            status = response.status
            if status == 206:
                return response.read()
            # A server ignoring Range answers 200 with the whole file: skip to the range.
            response.read(offset)
            return response.read(length)


class ResourceRangeReader(_BaseReader):
    """Any `lsst.resources.ResourcePath` (S3, GCS, WebDAV, ...) using its ranged ``read``."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource
        super().__init__(str(resource), int(resource.size()))

    def _read_block(self, offset: int, length: int) -> bytes:
        try:
            with self._resource.open("rb") as stream:
                stream.seek(offset)
                return stream.read(length)
        except (NotImplementedError, AttributeError):  # pragma: no cover - depends on the backend
            return bytes(self._resource.read()[offset : offset + length])


def open_range_reader(target: Any) -> Any:
    """Open ``target`` for ranged reads.

    Parameters
    ----------
    target
        A local path (`str` or `~pathlib.Path`), a ``file://`` URL, an ``http(s)://`` URL,
        any other URL or `lsst.resources.ResourcePath` (S3, ...), an in-memory
        `bytes`/`bytearray`/`memoryview`, or an object that already has ``read_ranges``
        (returned unchanged).

    Returns
    -------
    reader
        A `RangeReader` with ``bytes_read``/``request_count`` counters; use it as a context
        manager (or call ``close``) to release file descriptors.
    """
    if hasattr(target, "read_ranges") and hasattr(target, "size"):
        return target
    if isinstance(target, (bytes, bytearray, memoryview)):
        return BytesRangeReader(target)
    if isinstance(target, Path):
        return FileRangeReader(target)
    if isinstance(target, str):
        if target.startswith("file://"):
            from urllib.parse import unquote, urlparse

            return FileRangeReader(unquote(urlparse(target).path))
        if target.startswith(("http://", "https://")):
            return HttpRangeReader(target)
        if "://" not in target:
            return FileRangeReader(target)
        from lsst.resources import ResourcePath

        return _from_resource(ResourcePath(target))
    if type(target).__module__.startswith("lsst.resources"):
        return _from_resource(target)
    if hasattr(target, "__fspath__"):
        return FileRangeReader(target)
    raise TypeError(f"cannot read byte ranges from {target!r}")


def _from_resource(resource: Any) -> Any:
    """Pick the cheapest reader for a `~lsst.resources.ResourcePath`."""
    scheme = getattr(resource, "scheme", "")
    if scheme in ("", "file"):
        return FileRangeReader(resource.ospath)
    if scheme in ("http", "https"):
        return HttpRangeReader(str(resource))
    if not resource.exists():
        raise FileNotFoundError(f"{resource}: not found")
    return ResourceRangeReader(resource)
