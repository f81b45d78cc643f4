"""Public entry points of the tile engine: encode/decode whole images or regions.

Work is split into *chunks* of consecutive tiles (bounded in raw bytes, several per
worker) that run in a shared `~concurrent.futures.ThreadPoolExecutor`: deflate/inflate
(zlib, isal), the RICE coder and numpy's copies all release the GIL, so chunks proceed in
parallel, and per-tile Python overhead is paid once per chunk, not per thread hop.

Decoding writes tiles straight into the preallocated output array, or hands bands of
rows to a *sink* (so a plane stored in another layout, such as packed mask bits, is
converted without a full-size temporary); encoding can likewise take its rows from a
`RowSource`.  Small reads, and every read from a remote reader (``reader.remote``), fetch
all their tiles in one coalesced request; large local reads fetch chunk by chunk, so a
full-plane read never holds more than a few chunks of compressed data at once.
"""

from __future__ import annotations

__all__ = (
    "EncodedHDU",
    "RowSource",
    "StreamedHDU",
    "TileCompression",
    "decode_image",
    "encode_image",
    "read_raw_tiles",
)

import concurrent.futures
import dataclasses
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import _gzip, _quantize, _rice
from ._codec import (
    TileDecoder,
    disk_dtype,
    disk_format,
    from_disk,
    memory_dtype,
    native_from_shuffled,
    shuffle,
    shuffle_native,
    to_disk,
)
from ._geometry import TileGrid, normalize_region
from ._table import VLA_DTYPES, TableLayout, TileRows, build_table, pad_block, table_layout

#: Upper bound of raw (decoded) bytes handled by one chunk; bounds transient memory.
_CHUNK_MAX = 1 << 20
#: Compressed bytes up to which a decode fetches all its tiles with one request.
_PREFETCH_MAX = 8 << 20
#: The same for readers whose requests cost a network round trip (``reader.remote``):
#: fetching chunk by chunk would cost one round trip per ~1 MiB of pixels.
_REMOTE_PREFETCH_MAX = 256 << 20
#: Lower bound, so that small tiles are batched (amortizes thread and call overhead).
_CHUNK_MIN = 64 << 10


@dataclasses.dataclass(frozen=True)
class TileCompression:
    """How to tile-compress one image.

    Attributes
    ----------
    algorithm
        ``"GZIP_1"``, ``"GZIP_2"`` or ``"RICE_1"``.
    tile_shape
        ``(y, x)`` tile size; None means one tile per image row.
    dither
        None for lossless storage, else the quantization method: ``"NO_DITHER"``,
        ``"SUBTRACTIVE_DITHER_1"`` or ``"SUBTRACTIVE_DITHER_2"`` (float images only).
    level
        Quantization level ``q`` (``q > 0``: ``ZSCALE = noise / q``; ``q < 0``:
        ``ZSCALE = -q``).
    seed
        ``ZDITHER0`` (1..10000), required when dithering.
    """

    algorithm: str
    tile_shape: tuple[int, int] | None = None
    dither: str | None = None
    level: float = 0.0
    seed: int | None = None


class RowSource:
    """A 2-D array that is produced band by band while it is being compressed.

    ``rows(start, stop)`` returns rows ``start:stop`` as a native-endian C-contiguous
    array of ``dtype``.  It is called from worker threads for disjoint bands, so an
    array derived from another (packed mask planes) never exists in full: each band
    is made, compressed and dropped.  Only lossless GZIP_1/GZIP_2 whole-row tiles
    stream; any other compression asks for all rows at once.

    Parameters
    ----------
    shape
        ``(height, width)`` of the array.
    dtype
        Its element type.
    rows
        The band factory.
    """

    ndim = 2

    def __init__(self, shape: tuple[int, int], dtype: Any, rows: Callable[[int, int], np.ndarray]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self._rows = rows

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        band = np.asarray(self._rows(start, stop))
        if band.shape != (stop - start, self.shape[1]) or band.dtype != self.dtype:
            raise ValueError(
                f"row source returned {band.dtype} rows of shape {band.shape} for rows {start}:{stop} "
                f"of a {self.dtype} array of shape {self.shape}"
            )
        return band

    def materialize(self) -> np.ndarray:
        """All rows at once."""
        return self[0 : self.shape[0]]


@dataclasses.dataclass
class EncodedHDU:
    """An encoded image HDU, ready to be written after a header is assembled.

    Attributes
    ----------
    cards
        Structural and compression cards, in the order the reference writes them.
    trailing_cards
        Cards that must end the header (``ZBLANK`` when NaNs were quantized).
    parts
        The data part (table + heap, or raw big-endian pixels, padded to 2880 bytes) as
        a list of buffers to be written in order.  Keeping the tiles' payloads separate
        lets the writer hand them to the OS without first copying them into one
        file-sized buffer; a single bytes object is accepted too.
    """

    cards: list[tuple[str, Any, str]]
    trailing_cards: list[tuple[str, Any, str]]
    parts: list[Any]

    def __post_init__(self) -> None:
        if isinstance(self.parts, (bytes, bytearray, memoryview)):
            self.parts = [self.parts]

    @property
    def data(self) -> bytes:
        """The data part as one bytes object (a copy of `parts`, joined)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], bytes):
            return self.parts[0]
        return b"".join(self.parts)


# --------------------------------------------------------------------------- threading


def _workers(threads: int | None) -> int:
    return max(1, threads if threads is not None else (os.cpu_count() or 1))


#: Worker pools by size, created on first use and shared by every encode/decode (starting
#: threads for each HDU costs about a millisecond, which matters for small cut-outs).
_POOLS: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = concurrent.futures.ThreadPoolExecutor(
                workers, thread_name_prefix="lsst-images-tiles"
            )
        return pool


def _forget_pools() -> None:
    """In a forked child the parent's worker threads do not exist: start afresh."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _run(func: Callable[[Any], Any], items: Sequence[Any], threads: int | None) -> list[Any]:
    """``[func(item) for item in items]``, in worker threads when that can help.

    Work items never submit work themselves, so a shared pool cannot deadlock; callers
    in several threads at once simply share its workers.
    """
    workers = min(_workers(threads), len(items))
    if workers <= 1:
        return [func(item) for item in items]
    pool = _pool(_workers(threads))
    return list(pool.map(func, items))


def _chunks(grid: TileGrid, tiles: np.ndarray, itemsize: int, threads: int | None) -> list[np.ndarray]:
    """Split ``tiles`` into runs of consecutive work bounded in raw bytes."""
    if len(tiles) == 0:
        return []
    tile_bytes = grid.tile[0] * min(grid.tile[1], grid.shape[1]) * itemsize
    total = tile_bytes * len(tiles)
    target = min(_CHUNK_MAX, max(_CHUNK_MIN, total // (4 * _workers(threads))))
    per_chunk = max(1, target // max(1, tile_bytes))
    return [tiles[i : i + per_chunk] for i in range(0, len(tiles), per_chunk)]


# --------------------------------------------------------------------------- encoding


def _compress_ints(values: np.ndarray, algorithm: str, level: int) -> bytes:
    """Compress a tile of integer element values (already in their stored representation)."""
    if algorithm == "RICE_1":
        return _rice.rice_compress(values)
    be = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder(">")).reshape(1, -1).view(np.uint8)
    if algorithm == "GZIP_2":
        be = shuffle(be, values.dtype.itemsize)
    return _gzip.compress(be, level)


def _plain_cards(array: np.ndarray) -> list[tuple[str, Any, str]]:
    h, w = array.shape
    bitpix, bzero, _ = disk_format(array.dtype)
    cards: list[tuple[str, Any, str]] = [
        ("XTENSION", "IMAGE", "Image extension"),
        ("BITPIX", bitpix, "array data type"),
        ("NAXIS", 2, "number of array dimensions"),
        ("NAXIS1", w, ""),
        ("NAXIS2", h, ""),
        ("PCOUNT", 0, "number of parameters"),
        ("GCOUNT", 1, "number of groups"),
    ]
    if bzero is not None:
        cards += [("BSCALE", 1, ""), ("BZERO", bzero, "")]
    return cards


def _encode_plain(array: np.ndarray) -> EncodedHDU:
    disk = np.ascontiguousarray(to_disk(array))
    nbytes = disk.nbytes
    return EncodedHDU(_plain_cards(array), [], [disk.data.cast("B"), b"\0" * (-nbytes % 2880)])


def _lossless_chunk(
    array: np.ndarray, grid: TileGrid, chunk: np.ndarray, algorithm: str, level: int
) -> list[bytes]:
    """Compress the tiles of ``chunk`` losslessly (GZIP_1/GZIP_2/RICE_1 integers)."""
    if algorithm == "RICE_1":
        out = []
        for t in chunk:
            y0, y1, x0, x1 = grid.bounds(int(t))
            out.append(_rice.rice_compress(_stored_ints(array[y0:y1, x0:x1])))
        return out
    itemsize = array.dtype.itemsize
    if grid.full_width:
        # Whole rows: convert the chunk's block once, then compress each tile's slice.
        y0 = grid.bounds(int(chunk[0]))[0]
        y1 = grid.bounds(int(chunk[-1]))[1]
        th, w = grid.tile[0], grid.shape[1]
        n_full = (y1 - y0) // th
        block = array[y0:y1]
        groups = [block[: n_full * th].reshape(n_full, th * w)] if n_full else []
        if n_full * th < y1 - y0:
            groups.append(block[n_full * th :].reshape(1, -1))
        out: list[bytes] = []
        for group in groups:
            # Each group is compressed before the next is shuffled: the shuffled bytes may
            # live in the thread's reused buffer (see `_scratch`).
            if algorithm == "GZIP_2" and itemsize > 1:
                if array.dtype.kind == "f" or array.dtype.kind == "i":
                    block = shuffle_native(group, out=_scratch(group.nbytes, "shuffled"))
                else:
                    be = np.ascontiguousarray(to_disk(group)).view(np.uint8).reshape(group.shape[0], -1)
                    block = shuffle(be, itemsize)
            else:
                block = np.ascontiguousarray(to_disk(group)).view(np.uint8).reshape(group.shape[0], -1)
            if algorithm == "GZIP_2" and itemsize > 1:
                planes = block.reshape(block.shape[0], itemsize, -1)
                store = _gzip.noisy_planes(planes)
                for i in range(block.shape[0]):
                    if store[i].any():
                        out.append(_gzip.compress_planes(planes[i], store[i], level))
                    else:
                        out.append(_gzip.compress(block[i], level))
            else:
                out.extend(_gzip.compress(block[i], level) for i in range(block.shape[0]))
        return out
    out = []
    for t in chunk:
        y0, y1, x0, x1 = grid.bounds(int(t))
        be = np.ascontiguousarray(to_disk(array[y0:y1, x0:x1])).view(np.uint8).reshape(1, -1)
        if algorithm == "GZIP_2":
            be = shuffle(be, itemsize)
        out.append(_gzip.compress(be, level))
    return out


def _stored_ints(values: np.ndarray) -> np.ndarray:
    """Native-endian integers as stored on disk (unsigned/int8 offsets applied)."""
    disk = to_disk(values)
    return np.ascontiguousarray(disk, dtype=disk.dtype.newbyteorder("="))


def _quantized_chunk(
    array: np.ndarray, grid: TileGrid, chunk: np.ndarray, compression: TileCompression, level: int
) -> list[tuple[bytes, bytes, float, float, bool]]:
    method = _quantize.DITHER_METHODS[compression.dither or "NO_DITHER"]
    seed = int(compression.seed or 0)
    batched: list[_quantize.QuantizedTile | None] = [None] * len(chunk)
    if grid.full_width:
        # Whole-row tiles of equal size: estimate noise and quantize the chunk at once.
        sizes = [grid.tile_size(int(t)) for t in chunk]
        same = [j for j, size in enumerate(sizes) if size == sizes[0]]
        y0 = grid.bounds(int(chunk[same[0]]))[0]
        block = array[y0 : y0 + len(same) * grid.tile[0]].reshape(len(same), -1)
        rows = [int(chunk[j]) + seed for j in same]
        for j, q in zip(same, _quantize.quantize_rows(block, compression.level, method, rows), strict=True):
            batched[j] = q
    out = []
    for j, t in enumerate(chunk):
        y0, y1, x0, x1 = grid.bounds(int(t))
        tile = array[y0:y1, x0:x1]
        q = batched[j]
        if q is None:
            q = _quantize.quantize_tile(tile, compression.level, method, int(t) + seed)
        if q.values is None:
            # Cannot be quantized (zero noise or too large a range): store the floats losslessly.
            be = np.ascontiguousarray(tile, dtype=tile.dtype.newbyteorder(">")).view(np.uint8).reshape(-1)
            # (NaNs there are stored as NaN: no ZBLANK needed for them, as in the reference.)
            out.append((b"", _gzip.compress(be, level), 0.0, 0.0, False))
        else:
            payload = _compress_ints(q.values, compression.algorithm, level)
            out.append((payload, b"", q.zscale, q.zzero, q.has_nulls))
    return out


def _compressed_cards(
    array: np.ndarray, grid: TileGrid, compression: TileCompression, quantized: bool
) -> list[tuple[str, Any, str]]:
    h, w = array.shape
    bitpix, bzero, _ = disk_format(array.dtype)
    cards: list[tuple[str, Any, str]] = [
        ("ZIMAGE", True, "extension contains compressed image"),
        ("ZTENSION", "IMAGE", "Image extension"),
        ("ZBITPIX", bitpix, "array data type"),
        ("ZNAXIS", 2, "number of array dimensions"),
        ("ZNAXIS1", w, ""),
        ("ZNAXIS2", h, ""),
        ("ZPCOUNT", 0, "number of parameters"),
        ("ZGCOUNT", 1, "number of groups"),
        ("ZTILE1", grid.tile[1], "size of tiles to be compressed"),
        ("ZTILE2", grid.tile[0], "size of tiles to be compressed"),
        ("ZCMPTYPE", compression.algorithm, "compression algorithm"),
    ]
    params: list[tuple[str, Any, str, str]] = []
    if compression.algorithm == "RICE_1":
        bytepix = 4 if array.dtype.kind == "f" else array.dtype.itemsize
        params.append(("BLOCKSIZE", 32, "compression block size", "pixels per block"))
        params.append(
            ("BYTEPIX", bytepix, "bytes per pixel (1, 2, 4, or 8)", "bytes per pixel (1, 2, 4, or 8)")
        )
    if array.dtype.kind == "f":
        noisebit = float(compression.level) if quantized else 0.0
        params.append(
            ("NOISEBIT", noisebit, "floating point quantization level", "floating point quantization level")
        )
    for i, (name, value, ncomment, vcomment) in enumerate(params, start=1):
        cards.append((f"ZNAME{i}", name, ncomment))
        cards.append((f"ZVAL{i}", value, vcomment))
    if quantized and compression.dither in ("SUBTRACTIVE_DITHER_1", "SUBTRACTIVE_DITHER_2"):
        cards.append(("ZQUANTIZ", compression.dither, "Pixel Quantization Algorithm"))
        cards.append(("ZDITHER0", int(compression.seed or 0), "dithering offset when quantizing floats"))
    if bzero is not None:
        cards += [("BZERO", bzero, ""), ("BSCALE", 1, "")]
    return cards


def encode_image(
    array: np.ndarray | RowSource,
    compression: TileCompression | None,
    *,
    threads: int | None = None,
    level: int | None = None,
    stream: bool = False,
) -> EncodedHDU | StreamedHDU:
    """Encode a 2-D array as an image HDU.

    Parameters
    ----------
    array
        The pixels (any FITS-storable numeric dtype, any byte order), or a `RowSource`
        that makes them band by band (streamed for lossless whole-row gzip tiles).
    compression
        Tile compression, or None for an uncompressed ``IMAGE`` HDU.
    threads
        Worker threads (default: one per CPU).
    level
        Deflate level for gzip tiles (default tuned for speed; files stay standard).
    stream
        Return a `StreamedHDU` (payloads produced while the writer writes them) for
        lossless compression, where the format allows it; an `EncodedHDU` otherwise.

    Raises
    ------
    TypeError
        The dtype cannot be stored, or RICE_1 was asked for 64-bit integers.
    ValueError
        The array is not 2-D, the algorithm is unknown, or dithering lacks a seed.
    """
    if isinstance(array, RowSource):
        # Only lossless gzip of whole-row tiles streams; anything else takes all rows at once.
        tile_w = compression.tile_shape[1] if compression is not None and compression.tile_shape else None
        streams = (
            compression is not None
            and compression.algorithm.upper() in ("GZIP_1", "GZIP_2")
            and (array.dtype.kind != "f" or compression.dither is None)
            and (tile_w is None or tile_w >= array.shape[1])
        )
        if not streams:
            array = array.materialize()
    if not isinstance(array, RowSource):  # (a row source makes native-endian rows)
        array = np.asarray(array)
        if array.ndim != 2:
            raise ValueError(f"FITS images must be 2-D here, not shape {array.shape}")
        if array.dtype.byteorder not in ("=", "|"):
            array = array.astype(array.dtype.newbyteorder("="))
    disk_format(array.dtype)  # raises TypeError for unsupported dtypes
    if compression is None:
        return _encode_plain(array)  # type: ignore[arg-type]  # (row sources stream only when compressed)
    algorithm = compression.algorithm.upper()
    if algorithm not in ("GZIP_1", "GZIP_2", "RICE_1"):
        raise ValueError(f"unsupported compression algorithm {compression.algorithm!r}")
    compression = dataclasses.replace(compression, algorithm=algorithm)
    if algorithm == "RICE_1" and array.dtype.kind in "iu" and array.dtype.itemsize == 8:
        raise TypeError("RICE_1 cannot compress 64-bit integers; use GZIP_1 or GZIP_2")
    quantized = array.dtype.kind == "f" and compression.dither is not None
    if quantized:
        if compression.dither not in _quantize.DITHER_METHODS:
            raise ValueError(f"unknown dither method {compression.dither!r}")
        if compression.dither != "NO_DITHER" and not compression.seed:
            raise ValueError("a dither seed (ZDITHER0, 1..10000) is required for subtractive dithering")
        gz_level = _gzip.DEFAULT_LEVEL if level is None else level
        grid = _tile_grid(array.shape, compression)
        tiles = np.arange(grid.n_tiles, dtype=np.int64)
        chunks = _chunks(grid, tiles, 8, threads)
        results = _run(lambda c: _quantized_chunk(array, grid, c, compression, gz_level), chunks, threads)
        flat = [r for group in results for r in group]
        table = build_table(
            [r[0] for r in flat],
            [r[1] for r in flat],
            np.array([r[2] for r in flat], dtype=np.float64),
            np.array([r[3] for r in flat], dtype=np.float64),
        )
        trailing = [("ZBLANK", _quantize.NULL_VALUE, "")] if any(r[4] for r in flat) else []
        cards = table.cards + _compressed_cards(array, grid, compression, True)
        return EncodedHDU(cards, trailing, table.parts)
    if stream and (streamed := _stream_lossless(array, compression, threads, level)) is not None:
        return streamed
    return _encode_lossless(array, compression, threads, level)


def _tile_grid(shape: tuple[int, ...], compression: TileCompression) -> TileGrid:
    """The tiling of an image of ``shape`` (default: one tile per row)."""
    h, w = int(shape[0]), int(shape[1])
    tile = tuple(int(t) for t in compression.tile_shape) if compression.tile_shape else (1, w)
    return TileGrid((h, w), (tile[0], tile[1]))


def _lossless_plan(
    array: np.ndarray | RowSource, compression: TileCompression, threads: int | None, level: int | None
) -> tuple[TileGrid, list[np.ndarray], Callable[[np.ndarray], list[bytes]]]:
    """The tile grid, the chunks of tiles and the function compressing one chunk."""
    algorithm = compression.algorithm
    gz_level = _gzip.DEFAULT_LEVEL if level is None else level
    grid = _tile_grid(array.shape, compression)
    tiles = np.arange(grid.n_tiles, dtype=np.int64)
    source: Any = array
    if array.dtype.kind == "f" and algorithm == "RICE_1":
        # The convention's RICE_1 codes integers; unquantized floats are truncated, exactly
        # as the reference (astropy) does (FORMAT.md §12.2).
        with np.errstate(invalid="ignore"):
            source = np.asarray(array).astype(np.int32)
    chunks = _chunks(grid, tiles, array.dtype.itemsize, threads)
    return grid, chunks, lambda c: _lossless_chunk(source, grid, c, algorithm, gz_level)


def _encode_lossless(
    array: np.ndarray | RowSource, compression: TileCompression, threads: int | None, level: int | None
) -> EncodedHDU:
    """Lossless tile compression of a native-endian array (or row source, whole-row gzip tiles)."""
    grid, chunks, work = _lossless_plan(array, compression, threads, level)
    results = _run(work, chunks, threads)
    table = build_table([p for group in results for p in group])
    cards = table.cards + _compressed_cards(array, grid, compression, False)
    return EncodedHDU(cards, [], table.parts)


@dataclasses.dataclass
class StreamedHDU:
    """A lossless compressed image HDU whose tile payloads are produced while it is written.

    A writer writes the header built from `cards` (placeholder table cards: the heap size
    and longest payload are not known yet, but the cards are the same ones, so the
    header has its final length) and `table_size` zero bytes, then the payload lists
    `chunks` yields in file order, as the worker threads finish them (so the disk works
    while later tiles compress), and finally patches the header and table with `layout`
    of the payload sizes.  The bytes are exactly those of the `EncodedHDU` path.
    """

    cards: list[tuple[str, Any, str]]
    n_rows: int
    chunks: Iterator[list[bytes]]

    @property
    def table_size(self) -> int:
        """Bytes of the table before the heap (32-bit descriptors: 8 bytes a row)."""
        return 8 * self.n_rows

    def layout(self, sizes: Sequence[int]) -> tuple[list[tuple[str, Any, str]], bytes, int]:
        """Final ``(table cards, table bytes, heap size)`` for the payload ``sizes``."""
        return table_layout(np.asarray(sizes, dtype=np.int64), descriptor="P")


def _stream_lossless(
    array: np.ndarray | RowSource, compression: TileCompression, threads: int | None, level: int | None
) -> StreamedHDU | None:
    """A `StreamedHDU` for ``array``, or None when its heap could need 64-bit descriptors."""
    grid, chunks, work = _lossless_plan(array, compression, threads, level)
    raw = int(np.prod(array.shape)) * array.dtype.itemsize
    # Deflate adds at most ~5 bytes per 64 KiB stored block plus a member's framing: stay
    # far from the 2 GiB where the table would need 64-bit ("Q") descriptors.
    if raw + raw // 256 + 64 * grid.n_tiles >= 2**31:
        return None
    placeholder, _, _ = table_layout(np.zeros(grid.n_tiles, dtype=np.int64), descriptor="P")
    cards = placeholder + _compressed_cards(array, grid, compression, False)
    return StreamedHDU(cards, grid.n_tiles, _run_lazily(work, chunks, threads))


def _run_lazily(func: Callable[[Any], Any], items: Sequence[Any], threads: int | None) -> Iterator[Any]:
    """Like `_run`, but yield the results in order as they are ready."""
    workers = min(_workers(threads), len(items))
    if workers <= 1:
        return (func(item) for item in items)
    return _pool(_workers(threads)).map(func, items)


# --------------------------------------------------------------------------- decoding


def _image_shape(header: Mapping[str, Any], compressed: bool) -> tuple[int, int]:
    prefix = "ZNAXIS" if compressed else "NAXIS"
    naxis = int(header.get(prefix, 0))
    if naxis == 0:
        return (0, 0)
    if naxis == 1:
        return (1, int(header[f"{prefix}1"]))
    extra = [int(header[f"{prefix}{k}"]) for k in range(3, naxis + 1)]
    if any(n != 1 for n in extra):
        raise ValueError(f"only 2-D images can be decoded ({prefix} = {naxis})")
    return (int(header[f"{prefix}2"]), int(header[f"{prefix}1"]))


def _decode_plain(
    header: Mapping[str, Any], reader: Any, data_offset: int, region: tuple[slice, slice], threads: int | None
) -> np.ndarray:
    bitpix = int(header["BITPIX"])
    h, w = _image_shape(header, False)
    bzero, bscale = header.get("BZERO"), header.get("BSCALE")
    disk = disk_dtype(bitpix)
    out_dtype = memory_dtype(bitpix, bzero, bscale)
    ys, xs = region
    out = np.empty((ys.stop - ys.start, xs.stop - xs.start), dtype=out_dtype)
    row_bytes = w * disk.itemsize
    if out.size == 0:
        return out
    rows_per_chunk = max(1, min(ys.stop - ys.start, _CHUNK_MAX // max(1, row_bytes)))
    starts = list(range(ys.start, ys.stop, rows_per_chunk))

    def work(y0: int) -> None:
        y1 = min(y0 + rows_per_chunk, ys.stop)
        if xs.stop - xs.start < w and y1 - y0 == 1:
            ranges = [
                (
                    data_offset + y0 * row_bytes + xs.start * disk.itemsize,
                    (xs.stop - xs.start) * disk.itemsize,
                )
            ]
            (raw,) = reader.read_ranges(ranges)
            values = np.frombuffer(raw, dtype=disk).reshape(1, -1)
        else:
            (raw,) = reader.read_ranges([(data_offset + y0 * row_bytes, (y1 - y0) * row_bytes)])
            values = np.frombuffer(raw, dtype=disk).reshape(y1 - y0, w)[:, xs]
        out[y0 - ys.start : y1 - ys.start] = from_disk(values, out_dtype, bzero, bscale)

    _run(work, starts, threads)
    return out


#: ``sink(row_start, row_stop, block)``: receives decoded rows of a region, in worker threads.
RowSink = Callable[[int, int, np.ndarray], None]


class _Plan:
    """Everything a chunk needs to fetch and decode its tiles.

    Decoded pixels go to a *destination*: an array whose row 0 is image row ``origin``
    and whose columns are those of the region.  Normally that is the whole output
    array; when rows are streamed to a sink it is a small per-chunk block.
    """

    def __init__(
        self,
        reader: Any,
        data_offset: int,
        region: tuple[slice, slice],
        out: np.ndarray | None,
        grid: TileGrid,
        layout: TableLayout,
        decoder: TileDecoder,
        rows: TileRows,
        sink: RowSink | None = None,
    ) -> None:
        self.reader = reader
        self.heap = data_offset + layout.heap_offset
        self.region = region
        self.out = out
        self.sink = sink
        self.grid = grid
        self.decoder = decoder
        self.first_tile = int(rows.tiles[0])
        contiguous = len(rows.tiles) == rows.tiles[-1] - rows.tiles[0] + 1
        # Consecutive tiles (always so for whole-row tiles) need no lookup table.
        self.position = None if contiguous else {int(t): i for i, t in enumerate(rows.tiles)}
        self.read = getattr(reader, "read_views", None) or reader.read_ranges
        self.prefetched: dict[int, tuple[str, memoryview]] | None = None
        cols = rows.columns
        self.comp = cols.get("COMPRESSED_DATA")
        if self.comp is None:
            raise ValueError("compressed image table has no COMPRESSED_DATA column")
        self.comp_dtype = VLA_DTYPES.get(layout.columns["COMPRESSED_DATA"].element, np.dtype("u1"))
        self.gzip = cols.get("GZIP_COMPRESSED_DATA")
        self.unc = cols.get("UNCOMPRESSED_DATA")
        self.unc_dtype = (
            VLA_DTYPES.get(layout.columns["UNCOMPRESSED_DATA"].element, np.dtype("u1"))
            if self.unc is not None
            else None
        )
        self.zscale = cols.get("ZSCALE")
        self.zzero = cols.get("ZZERO")
        self.zblank = cols.get("ZBLANK")

    def _row(self, t: int) -> int:
        """Row of tile ``t`` in the parsed table columns."""
        return t - self.first_tile if self.position is None else self.position[t]

    def _rows_of(self, chunk: np.ndarray) -> np.ndarray:
        if self.position is None:
            return chunk - self.first_tile
        return np.fromiter((self.position[int(t)] for t in chunk), dtype=np.int64, count=len(chunk))

    def _payload_range(self, t: int) -> tuple[str, int, int]:
        i = self._row(t)
        count, offset = self.comp[i]
        if count > 0:
            return ("c", self.heap + int(offset), int(count) * self.comp_dtype.itemsize)
        if self.gzip is not None and self.gzip[i][0] > 0:
            return ("g", self.heap + int(self.gzip[i][1]), int(self.gzip[i][0]))
        if self.unc is not None and self.unc[i][0] > 0:
            assert self.unc_dtype is not None
            return ("u", self.heap + int(self.unc[i][1]), int(self.unc[i][0]) * self.unc_dtype.itemsize)
        return ("c", self.heap, 0)

    def prefetch(self, tiles: np.ndarray) -> None:
        """Read the payloads of all ``tiles`` now, in one coalesced request."""
        fetched = self.fetch(tiles)
        self.prefetched = {int(t): item for t, item in zip(tiles, fetched, strict=True)}

    def fetch(self, chunk: np.ndarray, reuse: bool = False) -> list[tuple[str, memoryview]]:
        """``(kind, payload)`` of each tile of ``chunk``.

        ``reuse``: the payloads are used only until the calling thread's next fetch, so
        a local file may be read into that thread's reusable buffer (`_scratch`).
        """
        if self.prefetched is not None:
            return [self.prefetched[int(t)] for t in chunk]
        index = self._rows_of(chunk)
        counts = self.comp[index, 0]
        if (counts > 0).all():
            # Common case, vectorized: every tile has COMPRESSED_DATA.
            offsets = self.heap + self.comp[index, 1]
            lengths = counts * self.comp_dtype.itemsize
            lo = int(offsets.min())
            span = int((offsets + lengths).max()) - lo
            if span <= int(lengths.sum()) + (int(lengths.sum()) >> 2):
                # The tiles are (nearly) adjacent in the heap, as writers lay them out:
                # one read, and every payload is a zero-copy view of it.
                read_into = getattr(self.reader, "read_into", None) if reuse else None
                if read_into is not None and span <= _SCRATCH_KEEP:
                    block = _scratch(span, "compressed")
                    read_into(lo, block)
                else:
                    (block,) = self.read([(lo, span)])
                view = memoryview(block)
                starts = (offsets - lo).tolist()
                stops = (offsets - lo + lengths).tolist()
                return [("c", view[a:b]) for a, b in zip(starts, stops, strict=True)]
            kinds_ranges = [("c", o, n) for o, n in zip(offsets.tolist(), lengths.tolist(), strict=True)]
        else:
            kinds_ranges = [self._payload_range(int(t)) for t in chunk]
        blobs = self.read([(o, n) for _, o, n in kinds_ranges])
        return [(k, memoryview(b)) for (k, _, _), b in zip(kinds_ranges, blobs, strict=True)]

    def run(self, chunk: np.ndarray) -> None:
        if self.sink is None:
            assert self.out is not None
            self._decode(chunk, self.out, self.region[0].start)
            return
        # Streaming: decode the chunk's rows (a band of whole-row tiles) into a small
        # block, then hand it over; the full image is never held in memory.
        ys, xs = self.region
        y0 = max(self.grid.bounds(int(chunk[0]))[0], ys.start)
        y1 = min(self.grid.bounds(int(chunk[-1]))[1], ys.stop)
        block = np.empty((y1 - y0, xs.stop - xs.start), dtype=self.decoder.out_dtype)
        self._decode(chunk, block, y0)
        self.sink(y0 - ys.start, y1 - ys.start, block)

    def _decode(self, chunk: np.ndarray, dest: np.ndarray, origin: int) -> None:
        payloads = self.fetch(chunk, reuse=True)
        if self.decoder.lossless_gzip and self.grid.full_width and all(k == "c" for k, _ in payloads):
            self._rows_fast(chunk, [p for _, p in payloads], dest, origin)
            return
        d = self.decoder
        if d.quantized and self.grid.full_width and self.zblank is None and self.zscale is not None:
            # Row tiles of a quantized image: decode the integers per tile, then
            # dequantize the whole chunk with a few vectorized operations.
            batch = [j for j, (kind, _) in enumerate(payloads) if kind == "c"]
            # Whole-row tiles all have the same size except, possibly, the image's last one.
            last = self.grid.n_tiles - 1
            sizes = {self.grid.tile_size(int(chunk[batch[0]]))} if batch else set()
            if batch and int(chunk[batch[-1]]) == last:
                sizes.add(self.grid.tile_size(last))
            if len(batch) > 1 and len(sizes) == 1:
                self._quantized_rows(chunk[batch], [payloads[j][1] for j in batch], sizes.pop(), dest, origin)
                for j, (kind, payload) in enumerate(payloads):
                    if kind != "c":
                        self._one(int(chunk[j]), kind, payload, dest, origin)
                return
        for t, (kind, payload) in zip(chunk, payloads, strict=True):
            self._one(int(t), kind, payload, dest, origin)

    def _quantized_rows(
        self, tiles: np.ndarray, payloads: list[memoryview], n: int, dest: np.ndarray, origin: int
    ) -> None:
        d = self.decoder
        assert self.zscale is not None and self.zzero is not None
        ints = np.stack([d.integers(p, n) for p in payloads])
        index = self._rows_of(tiles)
        values = _quantize.dequantize_rows(
            ints,
            self.zscale[index].astype(np.float64),
            self.zzero[index].astype(np.float64),
            d.method,
            [int(t) + d.zdither0 for t in tiles],
            d.out_dtype,
            d.zblank,
        )
        w = self.grid.shape[1]
        if int(tiles[-1]) - int(tiles[0]) == len(tiles) - 1:
            # Consecutive equal tiles: one band of rows.
            y0 = self.grid.bounds(int(tiles[0]))[0]
            self._place(values.reshape(-1, w), y0, y0 + values.size // w, 0, w, dest, origin)
            return
        for j, t in enumerate(tiles):
            y0, y1, _, _ = self.grid.bounds(int(t))
            self._place(values[j].reshape(y1 - y0, w), y0, y1, 0, w, dest, origin)

    def _one(self, t: int, kind: str, payload: memoryview, dest: np.ndarray, origin: int) -> None:
        i = self._row(t)
        y0, y1, x0, x1 = self.grid.bounds(t)
        shape = (y1 - y0, x1 - x0)
        d = self.decoder
        if kind == "c" and len(payload) == 0 and shape[0] * shape[1] > 0:
            raise ValueError(f"tile {t + 1} has no data")
        tile = d.decode(
            t,
            shape,
            payload if kind == "c" else None,
            fallback=None if kind == "c" else payload,
            fallback_dtype=self.unc_dtype if kind == "u" else None,
            zscale=None if self.zscale is None else float(self.zscale[i]),
            zzero=None if self.zzero is None else float(self.zzero[i]),
            zblank=None if self.zblank is None else int(self.zblank[i]),
        )
        self._place(tile, y0, y1, x0, x1, dest, origin)

    def _place(
        self, tile: np.ndarray, y0: int, y1: int, x0: int, x1: int, dest: np.ndarray, origin: int
    ) -> None:
        ys, xs = self.region
        sy0, sy1 = max(ys.start, y0), min(ys.stop, y1)
        sx0, sx1 = max(xs.start, x0), min(xs.stop, x1)
        dest[sy0 - origin : sy1 - origin, sx0 - xs.start : sx1 - xs.start] = tile[
            sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0
        ]

    def _rows_fast(
        self, chunk: np.ndarray, payloads: list[memoryview], dest: np.ndarray, origin: int
    ) -> None:
        """Lossless gzip tiles spanning whole rows: inflate into one block, convert once."""
        size = self.decoder.element.itemsize
        w = self.grid.shape[1]
        th = self.grid.tile[0]
        # All tiles are ``th`` rows high except possibly the image's last one.
        last = self.grid.bounds(int(chunk[-1]))
        if last[1] - last[0] != th and len(chunk) > 1:
            self._rows_block(chunk[:-1], payloads[:-1], th, w, size, dest, origin)
            self._rows_block(chunk[-1:], payloads[-1:], last[1] - last[0], w, size, dest, origin)
        else:
            self._rows_block(chunk, payloads, last[1] - last[0], w, size, dest, origin)

    def _rows_block(
        self,
        tiles: np.ndarray,
        payloads: list[memoryview],
        n_rows: int,
        w: int,
        size: int,
        dest: np.ndarray,
        origin: int,
    ) -> None:
        d = self.decoder
        k = len(tiles)
        tile_bytes = n_rows * w * size
        if k == 1:
            raw = _gzip.decompress(payloads[0], tile_bytes)
            _check_inflated(raw, tiles[0], tile_bytes)
            scratch = np.frombuffer(raw, dtype=np.uint8).reshape(1, tile_bytes)
        else:
            scratch = _scratch(k * tile_bytes, "inflated").reshape(k, tile_bytes)
            flat = memoryview(scratch.reshape(-1))
            for j, payload in enumerate(payloads):
                raw = _gzip.decompress(payload, tile_bytes)
                _check_inflated(raw, tiles[j], tile_bytes)
                flat[j * tile_bytes : (j + 1) * tile_bytes] = raw
            del flat, raw
        y0 = self.grid.bounds(int(tiles[0]))[0]
        y1 = y0 + k * n_rows
        ys, xs = self.region
        out_dtype = dest.dtype
        simple = out_dtype.kind == d.disk.kind or (out_dtype.kind in "ui" and d.disk.kind in "ui")
        simple = simple and out_dtype.itemsize == size and d.out_dtype == out_dtype
        simple = simple and (d.bscale is None or float(d.bscale) == 1.0)
        if not simple:
            values = self._block_values(scratch, k, n_rows, w, size)
            self._place(from_disk(values, out_dtype, d.bzero, d.bscale), y0, y1, 0, w, dest, origin)
            return
        # Only the region's columns are converted (a cut-out of row tiles needs a
        # small part of each row), straight into the destination when all rows are wanted.
        cw = xs.stop - xs.start
        rows_inside = y0 >= ys.start and y1 <= ys.stop
        target = dest[y0 - origin : y1 - origin] if rows_inside else np.empty((k * n_rows, cw), out_dtype)
        if d.algorithm == "GZIP_2" and size > 1:
            planes = scratch.reshape(k, size, n_rows, w)[:, :, :, xs]
            native_from_shuffled(planes, target.view(np.uint8).reshape(k, n_rows, cw, size))
        else:
            values = scratch.reshape(k * n_rows, w * size).view(d.disk)[:, xs]
            target.view(d.disk.newbyteorder("=") if size > 1 else np.uint8)[...] = values
        if out_dtype.kind == "u" and size > 1 or (out_dtype.kind == "i" and size == 1):
            if size == 1:
                target.view(np.uint8)[...] ^= np.uint8(0x80)
            else:
                target ^= np.array(1 << (8 * size - 1), dtype=out_dtype)
        if not rows_inside:
            self._place(target, y0, y1, xs.start, xs.stop, dest, origin)

    def _block_values(self, scratch: np.ndarray, k: int, n_rows: int, w: int, size: int) -> np.ndarray:
        """Big-endian stored values of an inflated block of ``k`` row tiles."""
        d = self.decoder
        if d.algorithm == "GZIP_2" and size > 1:
            flat = np.ascontiguousarray(scratch.reshape(k, size, n_rows * w).transpose(0, 2, 1))
        else:
            flat = scratch
        return flat.reshape(-1).view(d.disk).reshape(k * n_rows, w)


def _check_inflated(raw: bytes, tile: Any, expected: int) -> None:
    if len(raw) != expected:
        raise ValueError(f"tile {int(tile) + 1} inflates to {len(raw)} bytes, expected {expected}")


#: Per-thread buffers for the compressed and the inflated tiles of a chunk (see `_scratch`).
_SCRATCH = threading.local()
#: Largest buffer kept for reuse; bigger chunks (huge tiles) get a fresh array each time.
_SCRATCH_KEEP = 4 * _CHUNK_MAX


def _scratch(nbytes: int, slot: str) -> np.ndarray:
    """A uint8 work buffer of ``nbytes`` owned by the calling thread, reused by its next chunk.

    A chunk's compressed bytes and its inflated tiles are only waypoints between the
    file and the destination array.  Fresh ~1 MiB buffers per chunk would be new memory
    mappings each time (allocations that size bypass malloc's heap), so every chunk of a
    read would pay for page faults on untouched memory -- about a third of the time of a
    full read in a fresh process.  ``slot`` names one of the thread's buffers; it must
    not be used after the chunk that asked for it.
    """
    if nbytes > _SCRATCH_KEEP:
        return np.empty(nbytes, dtype=np.uint8)
    buffer = getattr(_SCRATCH, slot, None)
    if buffer is None or buffer.size < nbytes:
        buffer = np.empty(max(nbytes, _CHUNK_MAX), dtype=np.uint8)
        setattr(_SCRATCH, slot, buffer)
    return buffer[:nbytes]


def decode_image(
    header: Mapping[str, Any],
    reader: Any,
    data_offset: int,
    *,
    region: tuple[slice, slice] | None = None,
    threads: int | None = None,
    sink: RowSink | None = None,
) -> np.ndarray | None:
    """Decode an image HDU (tile-compressed BINTABLE or plain IMAGE), or a region of it.

    Parameters
    ----------
    header
        The HDU's header cards (an `astropy.io.fits.Header` or any mapping).
    reader
        A `~lsst.images.fits._io.RangeReader` over the file.
    data_offset
        File offset of the HDU's data part.
    region
        ``(y, x)`` slices (step 1) of the image to decode; None for all of it.  Only the
        tiles intersecting it are read and decoded.
    threads
        Worker threads (default: one per CPU).
    sink
        If given, the decoded region is not returned but handed over in bands of rows:
        ``sink(row_start, row_stop, block)`` with rows counted from the region's first
        row, called from worker threads for disjoint bands in any order (each ``block``
        is a fresh array the sink may keep).  With whole-row tiles the full region is
        then never held in memory at once, which is how packed mask planes are unpacked
        without a full-size temporary; other layouts give one call with everything.

    Returns
    -------
    array
        A native-endian array of exactly the region (None when ``sink`` is given).
    """
    compressed = bool(header.get("ZIMAGE", False))
    shape = _image_shape(header, compressed)
    region = normalize_region(region, shape)
    if not compressed:
        out = _decode_plain(header, reader, data_offset, region, threads)
        return _deliver(out, sink)
    decoder = TileDecoder(header)
    layout = TableLayout(header)
    tile = (int(header.get("ZTILE2", 1)), int(header.get("ZTILE1", shape[1])))
    if int(header.get("ZNAXIS", 2)) == 1:
        tile = (1, int(header.get("ZTILE1", shape[1])))
    grid = TileGrid(shape, tile)
    if grid.n_tiles != layout.n_rows:
        raise ValueError(f"table has {layout.n_rows} rows but the image has {grid.n_tiles} tiles")
    ys, xs = region
    tiles = grid.tiles_for(region)
    streaming = sink is not None and grid.full_width and len(tiles) > 0
    out = None if streaming else np.empty((ys.stop - ys.start, xs.stop - xs.start), dtype=decoder.out_dtype)
    if len(tiles) == 0:
        return _deliver(out, sink)
    blobs = reader.read_ranges(layout.row_ranges(tiles, data_offset))
    rows = layout.parse_rows(tiles, blobs)
    plan = _Plan(reader, data_offset, region, out, grid, layout, decoder, rows, sink if streaming else None)
    limit = _REMOTE_PREFETCH_MAX if getattr(reader, "remote", True) else _PREFETCH_MAX
    if int(rows.columns["COMPRESSED_DATA"][:, 0].sum()) <= limit:
        # One request for every tile: round trips dominate for remote files and small
        # reads; large local reads are fetched chunk by chunk to bound memory.
        plan.prefetch(tiles)
    _run(plan.run, _chunks(grid, tiles, decoder.element.itemsize, threads), threads)
    return None if streaming else _deliver(out, sink)


def _deliver(out: np.ndarray | None, sink: RowSink | None) -> np.ndarray | None:
    """Return ``out``, or hand all of it to ``sink`` in one call."""
    if sink is None or out is None:
        return out
    if out.shape[0] > 0:
        sink(0, out.shape[0], out)
    return None


def read_raw_tiles(
    header: Mapping[str, Any], reader: Any, data_offset: int
) -> tuple[list[tuple[str, Any, str]], bytes]:
    """Return the table cards and the exact data bytes of a compressed HDU (for verbatim re-writes).

    The data part (table + heap) is returned unchanged, padded to 2880 bytes, so a
    pre-compressed (e.g. lossy) image can be copied into a new file bit for bit.
    """
    size = int(header["NAXIS1"]) * int(header["NAXIS2"]) + int(header.get("PCOUNT", 0))
    (data,) = reader.read_ranges([(data_offset, size)])
    cards = []
    for key in ("XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "TFIELDS"):
        cards.append((key, header[key], ""))
    for n in range(1, int(header["TFIELDS"]) + 1):
        cards.append((f"TTYPE{n}", header[f"TTYPE{n}"], ""))
        cards.append((f"TFORM{n}", header[f"TFORM{n}"], ""))
    return cards, pad_block(data)
