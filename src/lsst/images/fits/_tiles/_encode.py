"""Encoding images into FITS image HDUs: plain, or tile-compressed (lossless or quantized).

`encode_image` is the entry point; it returns an `EncodedHDU` (cards and data buffers)
or, for lossless compression when the writer can patch its file, a `StreamedHDU` whose
tile payloads are produced while the writer writes them.  Encoding can take its rows
from a `RowSource`, so a plane derived from another (packed mask bits) is made band by
band and never exists in full.
"""

from __future__ import annotations

__all__ = ("EncodedHDU", "RowSource", "StreamedHDU", "TileCompression", "encode_image")

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _gzip, _quantize, _rice
from ._codec import disk_format, shuffle, shuffle_native, to_disk
from ._geometry import TileGrid
from ._table import build_table, table_layout
from ._threads import _chunks, _run, _run_lazily, _scratch


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
