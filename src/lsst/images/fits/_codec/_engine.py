"""Encode 2-D arrays as FITS image HDUs and decode them, fully or by region.

`encode_image` returns the header cards and padded data of one HDU (plain ``IMAGE``
or tile-compressed ``BINTABLE`` following the FITS tiled-image convention);
`decode_image` reads one back through a range reader, fetching only the descriptor
rows and heap bytes of the tiles that intersect the requested region.

Speed and memory come from three choices:

* work is spread over worker threads in *chunks* of tiles (a 4096-wide image with
  row tiles has 4096 tiles of 16 kB; one task per tile would drown in overhead), and
  the deflate/inflate calls release the GIL;
* decoded tiles are written straight into the preallocated output, with the GZIP_2
  un-shuffle and the big-endian → native byte swap fused into one strided copy;
* full reads are processed in batches bounded in compressed bytes, so the transient
  memory is a few megabytes on top of the output array.
"""

from __future__ import annotations

__all__ = ("EncodedHDU", "TileCompression", "decode_image", "encode_image")

import concurrent.futures
import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _gzip, _quantize, _rice
from ._geometry import Region, TileGrid, check_region, intersect
from ._pixels import NATIVE_LITTLE, PixelFormat, disk_format, pixel_format_from_header, to_disk
from ._table import TableLayout, build_table, read_rows

_BLOCK = 2880
#: Compressed bytes fetched and decoded per batch (bounds transient memory on full reads).
_BATCH_BYTES = 4 << 20
#: Images smaller than this (decoded bytes) are encoded/decoded without worker threads.
_SMALL_BYTES = 256 << 10
#: Heap gaps up to this size between wanted tiles are read rather than split into two reads.
_GAP = 2048
#: Uncompressed bytes per worker task when encoding or decoding row tiles.
_ENCODE_CHUNK_BYTES = 1 << 20
_ALGORITHMS = ("GZIP_1", "GZIP_2", "RICE_1")


@dataclasses.dataclass(frozen=True)
class TileCompression:
    """Tile-compression settings of one image HDU.

    Attributes
    ----------
    algorithm : `str`
        ``"GZIP_1"``, ``"GZIP_2"`` or ``"RICE_1"``.
    tile_shape : `tuple` [`int`, `int`] or `None`
        Tile shape (y, x); None means one tile per row.
    dither : `str` or `None`
        Quantization of float images: ``"NO_DITHER"``, ``"SUBTRACTIVE_DITHER_1"``,
        ``"SUBTRACTIVE_DITHER_2"``, or None for lossless storage.
    level : `float`
        Quantization level (noise / step if positive, minus the step if negative).
    seed : `int` or `None`
        Dither seed (``ZDITHER0``), 1..10000.
    """

    algorithm: str
    tile_shape: tuple[int, int] | None = None
    dither: str | None = None
    level: float = 0.0
    seed: int | None = None


@dataclasses.dataclass
class EncodedHDU:
    """An encoded image HDU.

    Attributes
    ----------
    cards : `list` [`tuple`]
        ``(keyword, value, comment)`` structural and Z* cards, in the order the
        reference writer uses (no EXTNAME, no ZBLANK).
    trailing_cards : `list` [`tuple`]
        Cards that must be the last of the header (``ZBLANK`` of quantized NaNs).
    data : `bytes`
        Table + heap (or pixels), padded to a multiple of 2880 bytes.
    """

    cards: list[tuple[str, Any, str]]
    trailing_cards: list[tuple[str, Any, str]]
    data: bytes


# ---------------------------------------------------------------------- threads


def _workers(threads: int | None) -> int:
    return max(1, threads if threads else (os.cpu_count() or 1))


def _run(func: Callable[[Any], Any], tasks: Sequence[Any], threads: int | None) -> list[Any]:
    """Run ``func`` over ``tasks`` (already chunked) in worker threads, in order."""
    workers = min(_workers(threads), len(tasks))
    if workers <= 1:
        return [func(t) for t in tasks]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, tasks))


def _threads_for(nbytes: int, threads: int | None) -> int | None:
    """Small images are processed in the calling thread (a pool costs more than it saves)."""
    return 1 if nbytes < _SMALL_BYTES else threads


def _chunks(n: int, count: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into about ``count`` contiguous ``(start, stop)`` chunks."""
    count = max(1, min(n, count))
    bounds = np.linspace(0, n, count + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _pad(pieces: list[Any], size: int) -> bytes:
    return b"".join([*pieces, b"\0" * (-size % _BLOCK)])


# ---------------------------------------------------------------------- encoding


def _algorithm_name(compression: TileCompression) -> str:
    name = str(getattr(compression.algorithm, "value", compression.algorithm)).upper()
    if name not in _ALGORITHMS:
        raise ValueError(f"unsupported tile compression algorithm {compression.algorithm!r}")
    return name


def _dither_name(compression: TileCompression) -> str | None:
    if compression.dither is None:
        return None
    name = str(getattr(compression.dither, "value", compression.dither)).upper()
    if name not in _quantize.DITHER_METHODS:
        raise ValueError(f"unsupported quantization dither {compression.dither!r}")
    return name


def encode_image(
    array: np.ndarray, compression: TileCompression | None, threads: int | None = None
) -> EncodedHDU:
    """Encode a 2-D array as one image HDU.

    Parameters
    ----------
    array
        Pixels (float32/64, (u)int8/16/32/64).
    compression
        Tile compression, or None for an uncompressed ``IMAGE`` HDU.
    threads
        Worker threads (None: one per CPU).

    Raises
    ------
    TypeError
        For dtypes FITS cannot store, or 64-bit integers with RICE_1.
    ValueError
        For non-2-D arrays or unknown algorithms.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"FITS archive images must be 2-D, not shape {array.shape}")
    bitpix, bzero, _ = disk_format(array.dtype)
    threads = _threads_for(array.nbytes, threads)
    if compression is None:
        return _encode_plain(array, bitpix, bzero)
    algorithm = _algorithm_name(compression)
    dither = _dither_name(compression)
    if algorithm == "RICE_1" and array.dtype.itemsize == 8 and array.dtype.kind in "iu":
        raise TypeError("RICE_1 cannot compress 64-bit integers; use GZIP_1 or GZIP_2")
    h, w = array.shape
    tile = tuple(int(t) for t in compression.tile_shape) if compression.tile_shape else (1, w)
    grid = TileGrid((h, w), (tile[0], tile[1]))
    is_float = array.dtype.kind == "f"
    if is_float and dither is not None:
        return _encode_quantized(array, grid, algorithm, dither, compression, bitpix, threads)
    if algorithm == "RICE_1":
        tiles = _encode_tiles(array, grid, lambda t: _rice_tile(t), threads)
        zvals = [
            ("BLOCKSIZE", _rice.DEFAULT_BLOCKSIZE, "compression block size", "pixels per block"),
            ("BYTEPIX", 4 if is_float else array.dtype.itemsize, _BYTEPIX, _BYTEPIX),
        ]
    else:
        tiles = _encode_gzip(array, grid, algorithm == "GZIP_2", threads)
        zvals = []
    if is_float:
        zvals.append(("NOISEBIT", 0.0, _NOISEBIT, _NOISEBIT))
    table = build_table(tiles, quantized=False)
    cards = _compressed_cards(table, grid, bitpix, algorithm, zvals)
    if bzero is not None:
        cards += [("BZERO", bzero, ""), ("BSCALE", 1, "")]
    return EncodedHDU(cards, [], _pad(table.pieces, table.size))


_BYTEPIX = "bytes per pixel (1, 2, 4, or 8)"
_NOISEBIT = "floating point quantization level"


def _compressed_cards(
    table: Any, grid: TileGrid, bitpix: int, algorithm: str, zvals: list[tuple[str, Any, str, str]]
) -> list[tuple[str, Any, str]]:
    cards: list[tuple[str, Any, str]] = [
        ("XTENSION", "BINTABLE", "binary table extension"),
        ("BITPIX", 8, "array data type"),
        ("NAXIS", 2, "number of array dimensions"),
        ("NAXIS1", table.row_bytes, "width of table in bytes"),
        ("NAXIS2", table.n_rows, "number of rows in table"),
        ("PCOUNT", table.heap_size, "number of group parameters"),
        ("GCOUNT", 1, "number of groups"),
        ("TFIELDS", len(table.column_cards) // 2, "number of fields in each row"),
        *table.column_cards,
        ("ZIMAGE", True, "extension contains compressed image"),
        ("ZTENSION", "IMAGE", "Image extension"),
        ("ZBITPIX", bitpix, "array data type"),
        ("ZNAXIS", 2, "number of array dimensions"),
        ("ZNAXIS1", grid.shape[1], ""),
        ("ZNAXIS2", grid.shape[0], ""),
        ("ZPCOUNT", 0, "number of parameters"),
        ("ZGCOUNT", 1, "number of groups"),
        ("ZTILE1", grid.tile[1], "size of tiles to be compressed"),
        ("ZTILE2", grid.tile[0], "size of tiles to be compressed"),
        ("ZCMPTYPE", algorithm, "compression algorithm"),
    ]
    for k, (name, value, name_comment, value_comment) in enumerate(zvals, start=1):
        cards += [(f"ZNAME{k}", name, name_comment), (f"ZVAL{k}", value, value_comment)]
    return cards


def _encode_plain(array: np.ndarray, bitpix: int, bzero: int | None) -> EncodedHDU:
    h, w = array.shape
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
    stored = to_disk(array)
    return EncodedHDU(cards, [], _pad([stored.data], stored.nbytes))


def _encode_gzip(array: np.ndarray, grid: TileGrid, shuffle: bool, threads: int | None) -> list[bytes]:
    """Lossless GZIP_1/GZIP_2 tiles; row tiles are shuffled and compressed in row blocks."""
    if not grid.is_row_tiles:
        return _encode_tiles(array, grid, lambda t: _gzip_tile(t, shuffle), threads)
    h, w = grid.shape
    itemsize = array.dtype.itemsize
    rows_per_chunk = max(1, _ENCODE_CHUNK_BYTES // max(1, w * itemsize))
    chunks = [(a, min(a + rows_per_chunk, h)) for a in range(0, h, rows_per_chunk)]

    def work(chunk: tuple[int, int]) -> list[bytes]:
        block = array[chunk[0] : chunk[1]]
        if shuffle and itemsize > 1:
            return _gzip.deflate_shuffled(_planes(block))
        stored = to_disk(block).view(np.uint8).reshape(block.shape[0], -1)
        return [_gzip.deflate(stored[r]) for r in range(block.shape[0])]

    return [c for part in _run(work, chunks, threads) for c in part]


def _byte_index(plane: int, itemsize: int) -> int:
    """Index in a native item of the ``plane``-th most significant byte."""
    return itemsize - 1 - plane if NATIVE_LITTLE else plane


def _planes(block: np.ndarray) -> np.ndarray:
    """GZIP_2 byte planes ``(rows, itemsize, cols)`` of a 2-D block, most significant first.

    Built with one strided copy per plane straight from the native values (several
    times faster than transposing a big-endian copy), with the unsigned / signed-byte
    offsets applied as a flip of the top bit.
    """
    native = np.ascontiguousarray(block, dtype=block.dtype.newbyteorder("="))
    n, w = native.shape
    itemsize = native.dtype.itemsize
    source = native.view(np.uint8).reshape(n, w, itemsize)
    planes = np.empty((n, itemsize, w), dtype=np.uint8)
    for p in range(itemsize):
        planes[:, p, :] = source[:, :, _byte_index(p, itemsize)]
    if native.dtype.kind == "u" and itemsize > 1 or native.dtype.kind == "i" and itemsize == 1:
        planes[:, 0, :] ^= np.uint8(0x80)
    return planes


def _gzip_tile(tile: np.ndarray, shuffle: bool) -> bytes:
    if shuffle and tile.dtype.itemsize > 1:
        planes = _planes(tile.reshape(1, -1))
        return _gzip.deflate_shuffled(planes)[0]
    return _gzip.deflate(to_disk(tile).view(np.uint8).ravel())


def _rice_tile(tile: np.ndarray) -> bytes:
    if tile.dtype.kind == "f":
        # Reference behaviour (FORMAT.md §12.2): RICE_1 without quantization truncates floats.
        return _rice.rice_encode(tile.astype(np.int32), 4)
    stored = to_disk(tile)
    size = stored.dtype.itemsize
    ints = stored.view("i1" if size == 1 else f">i{size}")
    return _rice.rice_encode(ints, size)


def _encode_tiles(
    array: np.ndarray, grid: TileGrid, func: Callable[[np.ndarray], Any], threads: int | None
) -> list[Any]:
    """Apply ``func`` to every tile (storage order), in chunks of tiles per worker task."""
    boxes = grid.boxes()
    chunks = _chunks(len(boxes), 4 * _workers(threads))

    def work(chunk: tuple[int, int]) -> list[Any]:
        return [func(array[boxes[k]]) for k in range(*chunk)]

    return [r for part in _run(work, chunks, threads) for r in part]


def _encode_quantized(
    array: np.ndarray,
    grid: TileGrid,
    algorithm: str,
    dither: str,
    compression: TileCompression,
    bitpix: int,
    threads: int | None,
) -> EncodedHDU:
    method = _quantize.DITHER_METHODS[dither]
    seed = int(compression.seed or 0)
    if method != -1 and not 1 <= seed <= 10000:
        raise ValueError(f"a dithered quantization needs a seed in 1..10000, not {compression.seed!r}")
    level = float(compression.level)
    boxes = grid.boxes()

    def one(k: int) -> tuple[bytes, bool, float, float, bool]:
        tile = array[boxes[k]]
        q = _quantize.quantize(tile, k, seed, method, level)
        if q.ints is None:
            return _gzip_tile(tile, shuffle=False), True, 0.0, 0.0, q.has_nan
        if algorithm == "RICE_1":
            data = _rice.rice_encode(q.ints, 4)
        else:
            if algorithm == "GZIP_2":
                data = _gzip.deflate_shuffled(_planes(q.ints.reshape(1, -1)))[0]
            else:
                data = _gzip.deflate(q.ints.astype(">i4").view(np.uint8))
        return data, False, q.scale, q.zero, q.has_nan

    chunks = _chunks(len(boxes), 4 * _workers(threads))
    results = [r for part in _run(lambda c: [one(k) for k in range(*c)], chunks, threads) for r in part]
    table = build_table(
        [r[0] for r in results],
        quantized=True,
        fallback=[r[1] for r in results],
        scales=[r[2] for r in results],
        zeros=[r[3] for r in results],
    )
    zvals: list[tuple[str, Any, str, str]] = []
    if algorithm == "RICE_1":
        zvals += [
            ("BLOCKSIZE", _rice.DEFAULT_BLOCKSIZE, "compression block size", "pixels per block"),
            ("BYTEPIX", 4, _BYTEPIX, _BYTEPIX),
        ]
    zvals.append(("NOISEBIT", level, _NOISEBIT, _NOISEBIT))
    cards = _compressed_cards(table, grid, bitpix, algorithm, zvals)
    if method != -1:
        cards += [
            ("ZQUANTIZ", dither, "Pixel Quantization Algorithm"),
            ("ZDITHER0", seed, "dithering offset when quantizing floats"),
        ]
    trailing = [("ZBLANK", _quantize.NAN_ZBLANK, "")] if any(r[4] for r in results) else []
    return EncodedHDU(cards, trailing, _pad(table.pieces, table.size))


# ---------------------------------------------------------------------- decoding


def decode_image(
    header: Any, reader: Any, data_offset: int, region: Region | None = None, threads: int | None = None
) -> np.ndarray:
    """Decode an image HDU (plain ``IMAGE`` or tile-compressed), optionally only ``region``.

    Parameters
    ----------
    header
        The HDU header (mapping with ``get``/``[]``, e.g. `astropy.io.fits.Header`).
    reader
        A range reader (see `lsst.images.fits._rangeio`).
    data_offset
        File offset of the HDU's data.
    region
        ``(y, x)`` step-1 slices in the image's own pixel coordinates, or None for all.
    threads
        Worker threads (None: one per CPU).

    Returns
    -------
    array : `numpy.ndarray`
        Native-endian array of exactly the region's shape.
    """
    if bool(header.get("ZIMAGE", False)):
        return _decode_compressed(header, reader, data_offset, region, threads)
    return _decode_plain(header, reader, data_offset, region)


def _decode_plain(header: Any, reader: Any, data_offset: int, region: Region | None) -> np.ndarray:
    naxis = int(header.get("NAXIS", 0))
    if naxis != 2:
        raise ValueError(f"expected a 2-D image HDU, not NAXIS={naxis}")
    shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
    ys, xs = check_region(region, shape)
    fmt = pixel_format_from_header(header, compressed=False)
    w, itemsize = shape[1], fmt.itemsize
    nrows = ys.stop - ys.start
    if nrows == 0 or xs.stop == xs.start:
        return np.empty((nrows, xs.stop - xs.start), dtype=fmt.memory)
    if xs.stop - xs.start == w or nrows == 1:
        spans = [
            (
                data_offset + (ys.start * w + xs.start) * itemsize,
                ((nrows - 1) * w + xs.stop - xs.start) * itemsize,
            )
        ]
        (raw,) = reader.read_ranges(spans)
        values = np.frombuffer(raw, dtype=fmt.disk).reshape(nrows, -1)
    else:
        spans = [
            (data_offset + (r * w + xs.start) * itemsize, (xs.stop - xs.start) * itemsize)
            for r in range(ys.start, ys.stop)
        ]
        raws = reader.read_ranges(spans)
        values = np.frombuffer(b"".join(raws), dtype=fmt.disk).reshape(nrows, xs.stop - xs.start)
    if fmt.byte_exact:
        out = np.empty(values.shape, dtype=fmt.memory)
        out.view(values.dtype.newbyteorder("="))[...] = values
        fmt.finish(out)
        return out
    return fmt.convert(values)


@dataclasses.dataclass(frozen=True)
class _Compressed:
    """Everything needed to decode tiles of one compressed HDU."""

    grid: TileGrid
    algorithm: str
    fmt: PixelFormat
    layout: TableLayout
    quantized: bool
    method: int
    seed: int
    zblank: int | None
    blocksize: int
    bytepix: int

    @classmethod
    def from_header(cls, header: Any) -> _Compressed:
        if int(header.get("ZNAXIS", 2)) != 2:
            raise ValueError(f"expected a 2-D compressed image, not ZNAXIS={header.get('ZNAXIS')}")
        shape = (int(header["ZNAXIS2"]), int(header["ZNAXIS1"]))
        tile = (int(header.get("ZTILE2", 1)), int(header.get("ZTILE1", shape[1])))
        algorithm = str(header["ZCMPTYPE"]).strip().upper()
        if algorithm == "RICE_ONE":
            algorithm = "RICE_1"
        if algorithm not in _ALGORITHMS:
            raise ValueError(f"unsupported tile compression {algorithm!r}")
        layout = TableLayout.from_header(header)
        # Like astropy (the reference writer/reader), only per-tile ZSCALE columns mark
        # quantized data; header ZSCALE keywords are not interpreted by either reference.
        quantized = "ZSCALE" in layout.columns
        zvals = {}
        k = 1
        while f"ZNAME{k}" in header:
            zvals[str(header[f"ZNAME{k}"]).strip().upper()] = header.get(f"ZVAL{k}")
            k += 1
        fmt = pixel_format_from_header(header, compressed=True)
        zblank = header.get("ZBLANK")
        return cls(
            grid=TileGrid(shape, tile),
            algorithm=algorithm,
            fmt=fmt,
            layout=layout,
            quantized=quantized and fmt.bitpix < 0,
            method=_quantize.DITHER_METHODS.get(str(header.get("ZQUANTIZ", "NO_DITHER")).strip(), -1),
            seed=int(header.get("ZDITHER0", 0) or 0),
            zblank=None if zblank is None else int(zblank),
            blocksize=int(zvals.get("BLOCKSIZE", _rice.DEFAULT_BLOCKSIZE)),
            bytepix=int(zvals.get("BYTEPIX", 4)),
        )

    @property
    def lossless_gzip(self) -> bool:
        return self.algorithm != "RICE_1" and not self.quantized and self.fmt.byte_exact


def _decode_compressed(
    header: Any, reader: Any, data_offset: int, region: Region | None, threads: int | None
) -> np.ndarray:
    info = _Compressed.from_header(header)
    region = check_region(region, info.grid.shape)
    ys, xs = region
    out = np.empty((ys.stop - ys.start, xs.stop - xs.start), dtype=info.fmt.memory)
    threads = _threads_for(out.nbytes, threads)
    tiles = info.grid.tiles_in(region)
    if len(tiles) == 0:
        return out
    rows = read_rows(reader, data_offset, info.layout, tiles)
    sizes, offsets = _heap_spans(info, rows)
    heap = data_offset + info.layout.heap_offset
    start = 0
    while start < len(tiles):
        # One batch: tiles in storage order, bounded in compressed bytes.
        cumulative = np.cumsum(sizes[start:])
        stop = start + max(1, int(np.searchsorted(cumulative, _BATCH_BYTES, side="right")))
        blobs = _fetch(reader, heap + offsets[start:stop], sizes[start:stop])
        _decode_batch(info, region, out, tiles[start:stop], rows[start:stop], blobs, threads)
        start = stop
    if info.lossless_gzip or (info.algorithm == "RICE_1" and not info.quantized and info.fmt.byte_exact):
        info.fmt.finish(out)
    return out


def _fetch(reader: Any, starts: np.ndarray, sizes: np.ndarray) -> list[memoryview]:
    """Fetch tile payloads as zero-copy views of a few coalesced reads.

    Tiles whose payloads touch or nearly touch (gap <= `_GAP`) are requested as one
    range, so a batch of consecutive tiles costs one read and one buffer, and each tile
    is a `memoryview` slice of it rather than a copy.
    """
    stops = starts + sizes
    order = np.argsort(starts, kind="stable")
    runs: list[list[int]] = []
    for k in order:
        if runs and starts[k] <= runs[-1][1] + _GAP:
            runs[-1][1] = max(runs[-1][1], int(stops[k]))
        else:
            runs.append([int(starts[k]), int(stops[k])])
    blobs = reader.read_ranges([(a, b - a) for a, b in runs])
    run_starts = np.array([r[0] for r in runs], dtype=np.int64)
    which = np.searchsorted(run_starts, starts, side="right") - 1
    views = [memoryview(blob) for blob in blobs]
    return [
        views[w][int(a - run_starts[w]) : int(a - run_starts[w] + n)]
        for w, a, n in zip(which.tolist(), starts.tolist(), sizes.tolist(), strict=True)
    ]


def _heap_spans(info: _Compressed, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compressed size and heap offset of each tile (lossless fall-back column when used)."""
    main = rows["COMPRESSED_DATA"]
    sizes = main[:, 0].astype(np.int64)
    offsets = main[:, 1].astype(np.int64)
    if "GZIP_COMPRESSED_DATA" in info.layout.columns:
        fallback = rows["GZIP_COMPRESSED_DATA"]
        use = sizes == 0
        sizes[use] = fallback[use, 0]
        offsets[use] = fallback[use, 1]
    return sizes, offsets


def _decode_batch(
    info: _Compressed,
    region: Region,
    out: np.ndarray,
    tiles: np.ndarray,
    rows: np.ndarray,
    blobs: list[memoryview],
    threads: int | None,
) -> None:
    ys, xs = region
    if info.lossless_gzip and info.grid.is_row_tiles:
        # Tasks bounded in decoded bytes: each worker's scratch block stays ~1 MB.
        row_bytes = info.grid.shape[1] * info.fmt.itemsize
        per_task = max(1, min(-(-len(tiles) // (2 * _workers(threads))), _ENCODE_CHUNK_BYTES // row_bytes))
        chunks = [(a, min(a + per_task, len(tiles))) for a in range(0, len(tiles), per_task)]
        _run(
            lambda c: _decode_gzip_rows(info, region, out, tiles[c[0] : c[1]], blobs[c[0] : c[1]]),
            chunks,
            threads,
        )
        return
    out_bytes = (
        out.view(np.uint8).reshape(out.shape[0], out.shape[1], out.dtype.itemsize)
        if info.lossless_gzip
        else None
    )

    def one(k: int) -> None:
        index = int(tiles[k])
        box = info.grid.box(index)
        sub = intersect(box, region)
        local = (slice(sub[0].start - box[0].start, sub[0].stop - box[0].start),
                 slice(sub[1].start - box[1].start, sub[1].stop - box[1].start))  # fmt: skip
        dest = (slice(sub[0].start - ys.start, sub[0].stop - ys.start),
                slice(sub[1].start - xs.start, sub[1].stop - xs.start))  # fmt: skip
        shape = (box[0].stop - box[0].start, box[1].stop - box[1].start)
        if out_bytes is not None:
            _gzip_tile_into(info, blobs[k], shape, local, out_bytes[dest])
        else:
            out[dest] = _decode_tile(info, index, rows[k], blobs[k], shape)[local]

    chunks = _chunks(len(tiles), 4 * _workers(threads))
    _run(lambda c: [one(k) for k in range(*c)], chunks, threads)


def _decode_gzip_rows(
    info: _Compressed, region: Region, out: np.ndarray, tiles: np.ndarray, blobs: list[memoryview]
) -> None:
    """Row tiles, lossless: inflate a block of rows, then one fused unshuffle + byte swap."""
    ys, xs = region
    w = info.grid.shape[1]
    itemsize = info.fmt.itemsize
    row_bytes = w * itemsize
    scratch = np.empty((len(tiles), row_bytes), dtype=np.uint8)
    for k, blob in enumerate(blobs):
        scratch[k] = np.frombuffer(_gzip.inflate(blob, row_bytes), dtype=np.uint8)
    first = int(tiles[0]) - ys.start
    dest = out[first : first + len(tiles)]
    dest_bytes = dest.view(np.uint8).reshape(len(tiles), dest.shape[1], itemsize)
    if info.algorithm == "GZIP_2" and itemsize > 1:
        planes = scratch.reshape(len(tiles), itemsize, w)
        for p in range(itemsize):
            dest_bytes[:, :, _byte_index(p, itemsize)] = planes[:, p, xs]
    else:
        values = scratch.reshape(len(tiles), w, itemsize)
        for p in range(itemsize):
            dest_bytes[:, :, _byte_index(p, itemsize)] = values[:, xs, p]


def _gzip_tile_into(
    info: _Compressed, blob: Any, shape: tuple[int, int], local: Region, dest_bytes: np.ndarray
) -> None:
    """One lossless GZIP tile written as native bytes into ``dest_bytes`` (strided view)."""
    itemsize = info.fmt.itemsize
    raw = np.frombuffer(_gzip.inflate(blob, shape[0] * shape[1] * itemsize), dtype=np.uint8)
    if info.algorithm == "GZIP_2" and itemsize > 1:
        planes = raw.reshape(itemsize, shape[0], shape[1])
        for p in range(itemsize):
            dest_bytes[:, :, _byte_index(p, itemsize)] = planes[p, local[0], local[1]]
    else:
        values = raw.reshape(shape[0], shape[1], itemsize)
        for p in range(itemsize):
            dest_bytes[:, :, _byte_index(p, itemsize)] = values[local[0], local[1], p]


def _decode_tile(info: _Compressed, index: int, row: Any, blob: Any, shape: tuple[int, int]) -> np.ndarray:
    """General path: one tile (RICE, quantized, scaled, lossless fall-back) as memory values."""
    npix = shape[0] * shape[1]
    fmt = info.fmt
    if info.quantized and int(row["COMPRESSED_DATA"][0]) == 0:
        # Tile stored losslessly because it could not be quantized.
        raw = _gzip.inflate(blob, npix * fmt.itemsize)
        return np.frombuffer(raw, dtype=fmt.disk).astype(fmt.memory).reshape(shape)
    if info.algorithm == "RICE_1":
        ints = _rice.rice_decode(blob, npix, info.bytepix, info.blocksize)
    else:
        raw = _gzip.inflate(blob)
        if len(raw) % npix:
            raise _gzip.TileCorruptError(f"tile of {npix} pixels decompressed to {len(raw)} bytes")
        size = len(raw) // npix
        flat = np.frombuffer(raw, dtype=np.uint8)
        if info.algorithm == "GZIP_2" and size > 1:
            flat = np.ascontiguousarray(flat.reshape(size, npix).T).reshape(-1)
        if info.quantized:
            ints = flat.view(f">i{size}")
        elif size == fmt.itemsize:
            return fmt.convert(flat.view(fmt.disk)).reshape(shape)
        else:
            raise _gzip.TileCorruptError(f"tile holds {size}-byte values, ZBITPIX says {fmt.itemsize}")
    if info.quantized:
        scale = float(row["ZSCALE"])
        zero = float(row["ZZERO"]) if "ZZERO" in info.layout.columns else 0.0
        zblank = int(row["ZBLANK"]) if "ZBLANK" in info.layout.columns else info.zblank
        values = _quantize.dequantize(ints, index, info.seed, info.method, scale, zero, fmt.memory, zblank)
        return values.reshape(shape)
    if fmt.bitpix < 0:
        # RICE_1 without quantization (FORMAT.md §12.2): the integers are the values.
        return ints.astype(fmt.memory).reshape(shape)
    if fmt.byte_exact:
        # Stored integers; the unsigned bit flip is applied to the whole output later.
        return ints.astype(f"i{fmt.itemsize}").view(fmt.memory).reshape(shape)
    return fmt.convert(ints.astype(fmt.disk)).reshape(shape)
