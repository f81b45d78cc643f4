"""Ranged reads of local files, in-memory buffers and remote (HTTP, S3, ...) resources.

The FITS archive never needs a file as a stream: it knows the byte offsets of the
headers, descriptor rows and compressed tiles it wants.  A `RangeReader` turns a list
of ``(offset, length)`` requests into as few underlying reads as possible (nearby
ranges are merged, because one request with a small gap is much cheaper than two
requests, above all over a network) and counts what it fetched, so that tests and
benchmarks can check that a cut-out reads little more than the tiles it needs.

Every request is checked against the size of the resource first: asking for bytes
past the end means the file is truncated (or its offsets are corrupt), and the error
says so and names the file instead of surfacing as a short read much later.
"""

from __future__ import annotations

__all__ = ("RangeReader", "TruncatedFileError", "open_range_reader")

import bisect
import concurrent.futures
import os
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self


class TruncatedFileError(OSError):
    """Raised when a read asks for bytes beyond the end of the file (truncated file)."""


class RangeReader:
    """Base class: ranged reads with coalescing, bounds checks and counters.

    Subclasses implement `_read_span` (one contiguous read) and may override
    `_read_spans` to issue several reads concurrently.

    Attributes
    ----------
    name : `str`
        File name or URL, used in error messages.
    size : `int`
        Size of the resource in bytes.
    bytes_read : `int`
        Bytes fetched from the underlying resource so far (after coalescing).
    request_count : `int`
        Underlying reads (system calls or HTTP requests) issued so far.
    coalesce_gap : `int`
        Requested ranges separated by at most this many bytes are fetched together.
    """

    coalesce_gap: int = 16384

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = int(size)
        self.bytes_read = 0
        self.request_count = 0
        self._counter_lock = threading.Lock()

    # ------------------------------------------------------------------ public API

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of each ``(offset, length)`` range, in the order given.

        Ranges are sorted and merged when they overlap or are separated by at most
        `coalesce_gap` bytes, so a batch of adjacent tiles costs one read.

        Raises
        ------
        TruncatedFileError
            If a range extends past the end of the resource.
        ValueError
            If a range has a negative offset or length.
        """
        requests = [(int(o), int(n)) for o, n in ranges]
        for offset, length in requests:
            if offset < 0 or length < 0:
                raise ValueError(f"{self.name}: invalid byte range (offset={offset}, length={length})")
            if offset + length > self.size:
                raise TruncatedFileError(
                    f"{self.name}: bytes [{offset}, {offset + length}) requested but the file has only "
                    f"{self.size} bytes (truncated file or corrupt offsets)"
                )
        if not requests:
            return []
        spans = _coalesce(requests, self.coalesce_gap)
        blobs = self._read_spans(spans)
        with self._counter_lock:
            self.bytes_read += sum(n for _, n in spans)
            self.request_count += len(spans)
        starts = [s[0] for s in spans]
        out: list[bytes] = []
        for offset, length in requests:
            k = bisect.bisect_right(starts, offset) - 1
            # Spans are disjoint after coalescing, so the one found by bisect contains it fully.
            blob = blobs[k]
            local = offset - starts[k]
            if local == 0 and length == len(blob):
                out.append(blob)
            else:
                out.append(blob[local : local + length])
        return out

    def close(self) -> None:
        """Release the underlying resource (idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, size={self.size})"

    # ------------------------------------------------------------------ implementation hooks

    def _read_span(self, offset: int, length: int) -> bytes:
        raise NotImplementedError()

    def _read_spans(self, spans: list[tuple[int, int]]) -> list[bytes]:
        return [self._checked(offset, length, self._read_span(offset, length)) for offset, length in spans]

    def _checked(self, offset: int, length: int, data: bytes) -> bytes:
        if len(data) != length:
            raise TruncatedFileError(
                f"{self.name}: short read at offset {offset} ({len(data)} of {length} bytes; "
                "the file is truncated or changed while being read)"
            )
        return data


def _coalesce(requests: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Merge sorted ``(offset, length)`` ranges that overlap or are at most ``gap`` apart."""
    merged: list[list[int]] = []
    for offset, length in sorted(requests):
        if merged and offset <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], offset + length)
        else:
            merged.append([offset, offset + length])
    return [(start, stop - start) for start, stop in merged]


class _LocalFileReader(RangeReader):
    """Local file read with ``os.pread`` (thread-safe: no shared file position)."""

    coalesce_gap = 65536

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        super().__init__(path, size)

    def _read_span(self, offset: int, length: int) -> bytes:
        if self._fd is None:
            raise ValueError(f"{self.name}: read from a closed file")
        if length == 0:
            return b""
        chunks = []
        done = 0
        while done < length:
            chunk = os.pread(self._fd, length - done, offset + done)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _MemoryReader(RangeReader):
    """Reads from an in-memory buffer (bytes, bytearray, memoryview)."""

    coalesce_gap = 0

    def __init__(self, data: Any, name: str = "<bytes>") -> None:
        self._data = memoryview(data).cast("B")
        super().__init__(name, len(self._data))

    def _read_span(self, offset: int, length: int) -> bytes:
        return bytes(self._data[offset : offset + length])


class _HttpReader(RangeReader):
    """HTTP(S) ``Range`` requests with ``urllib`` (several spans fetched concurrently)."""

    coalesce_gap = 4096
    max_parallel = 8

    def __init__(self, url: str) -> None:
        self._url = url
        super().__init__(url, _http_size(url))

    def _read_span(self, offset: int, length: int) -> bytes:
        import urllib.error
        import urllib.request

        if length == 0:
            return b""
        request = urllib.request.Request(
            self._url, headers={"Range": f"bytes={offset}-{offset + length - 1}"}
        )
        try:
            with urllib.request.urlopen(request) as response:
                status = response.status
                if status == 206:
                    return response.read()
                # The server ignored the Range header: skip to the wanted bytes.
                data = response.read(offset + length)
                return data[offset:]
        except urllib.error.HTTPError as err:
            if err.code == 416:
                raise TruncatedFileError(
                    f"{self.name}: server refused bytes [{offset}, {offset + length}) (HTTP 416; truncated?)"
                ) from err
            raise OSError(f"{self.name}: HTTP error {err.code} reading bytes at {offset}") from err

    def _read_spans(self, spans: list[tuple[int, int]]) -> list[bytes]:
        if len(spans) == 1:
            return super()._read_spans(spans)
        with concurrent.futures.ThreadPoolExecutor(min(self.max_parallel, len(spans))) as pool:
            blobs = list(pool.map(lambda s: self._read_span(*s), spans))
        return [self._checked(o, n, b) for (o, n), b in zip(spans, blobs, strict=True)]


def _http_size(url: str) -> int:
    """Size of a remote resource: ``HEAD``, else a one-byte ranged ``GET``."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as response:
            length = response.headers.get("Content-Length")
            if length is not None:
                return int(length)
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise FileNotFoundError(f"{url}: not found (HTTP 404)") from err
        if err.code not in (403, 405, 501):
            raise OSError(f"{url}: HTTP error {err.code}") from err
    try:
        request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
        with urllib.request.urlopen(request) as response:
            content_range = response.headers.get("Content-Range", "")
            if "/" in content_range and not content_range.endswith("*"):
                return int(content_range.rsplit("/", 1)[1])
            length = response.headers.get("Content-Length")
            if response.status == 200 and length is not None:
                return int(length)
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise FileNotFoundError(f"{url}: not found (HTTP 404)") from err
        raise OSError(f"{url}: HTTP error {err.code}") from err
    raise OSError(f"{url}: the server reports no size for this resource")


class _ResourcePathReader(RangeReader):
    """Any other `lsst.resources.ResourcePath` (S3, GS, ...): seek + read on its handle."""

    coalesce_gap = 65536

    def __init__(self, resource: Any) -> None:
        self._resource = resource
        try:
            size = resource.size()
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{resource}: not found") from err
        self._handle: Any = None
        self._lock = threading.Lock()
        super().__init__(str(resource), size)

    def _read_span(self, offset: int, length: int) -> bytes:
        if length == 0:
            return b""
        with self._lock:
            if self._handle is None:
                self._handle = self._resource.open("rb")
            self._handle.seek(offset)
            return self._handle.read(length)

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


def _local_path_from_url(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    return urllib.parse.unquote(parsed.path)


def open_range_reader(target: Any) -> RangeReader:
    """Open ``target`` for ranged reads.

    Parameters
    ----------
    target
        A local path (`str` or `os.PathLike`), a ``file://`` URL, an ``http(s)://`` URL,
        any other URL or `lsst.resources.ResourcePath` (S3, ...), an in-memory buffer
        (`bytes`, `bytearray`, `memoryview`), or an existing `RangeReader` (returned
        unchanged).

    Returns
    -------
    reader : `RangeReader`
        A reader to use as a context manager (closing releases file handles).

    Raises
    ------
    FileNotFoundError
        If the file or remote resource does not exist.
    """
    if isinstance(target, RangeReader):
        return target
    if isinstance(target, (bytes, bytearray, memoryview)):
        return _MemoryReader(target)
    if isinstance(target, os.PathLike) and not _is_resource_path(target):
        return _LocalFileReader(os.fspath(target))
    if _is_resource_path(target):
        scheme = target.scheme
        if scheme in ("", "file"):
            return _LocalFileReader(target.ospath)
        if scheme in ("http", "https"):
            return _HttpReader(str(target))
        return _ResourcePathReader(target)
    if isinstance(target, Path):
        return _LocalFileReader(str(target))
    text = str(target)
    if text.startswith("file://"):
        return _LocalFileReader(_local_path_from_url(text))
    if text.startswith(("http://", "https://")):
        return _HttpReader(text)
    if "://" in text:
        from lsst.resources import ResourcePath

        return _ResourcePathReader(ResourcePath(text))
    return _LocalFileReader(text)


def _is_resource_path(target: Any) -> bool:
    module = type(target).__module__
    return module.startswith("lsst.resources") and hasattr(target, "scheme")
