"""Access point for the tile engine and range reader used by the archive.

The archive uses the project's tile engine (`._codec`: parallel tile compression with
its own codecs; `._rangeio`: ranged reads of local and remote files) through the names
exported here.  This module also carries a compact built-in implementation of the same
interface (``builtin_*``), used when the engine packages are unavailable and kept
tested against the fixtures:

* lossless GZIP_1 / GZIP_2 tiles and uncompressed images are encoded and decoded with
  numpy (byte shuffling) and zlib-compatible deflate (``isal`` when installed, else
  ``zlib``) in worker threads that release the GIL, with fixed gzip headers so the same
  array always gives the same bytes;
* sub-image decodes fetch only the tiles that intersect the region, with adjacent
  byte ranges coalesced into few requests, and full images are processed in bounded
  batches so that peak memory stays close to the decoded array;
* RICE_1 and lossy quantization go through astropy's compiled implementation of the
  tiled-image convention (which is what the reference files were written with).
"""

from __future__ import annotations

__all__ = (
    "BuiltinTileCompression",
    "TileCompression",
    "builtin_decode_image",
    "builtin_encode_image",
    "builtin_open_range_reader",
    "decode_image",
    "encode_image",
    "open_range_reader",
    "using_fallback",
)

import bisect
import concurrent.futures
import dataclasses
import io
import os
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

try:
    from isal import isal_zlib as _deflate_module

    _LEVEL = 1
except ImportError:  # pragma: no cover - isal is optional
    _deflate_module = zlib  # type: ignore[assignment]
    _LEVEL = 1


def _inflate(data: Any) -> bytes:
    """Inflate one gzip tile (gzip framing first: much faster than auto-detection)."""
    try:
        return _deflate_module.decompress(data, wbits=31)
    except Exception:
        # Some writers use zlib framing; let zlib auto-detect (and raise if corrupt).
        return zlib.decompress(data, wbits=47)


_BLOCK = 2880
_LITTLE = sys.byteorder == "little"
#: Compressed bytes decoded per batch on full reads (bounds the transient memory).
_BATCH_BYTES = 8 << 20
#: Byte gaps up to this size between wanted tiles are read rather than split.
_COALESCE_GAP = 2048


@dataclasses.dataclass(frozen=True)
class BuiltinTileCompression:
    """Tile-compression settings (same fields as the engine's class)."""

    algorithm: str
    tile_shape: tuple[int, int] | None = None
    dither: str | None = None
    level: float = 0.0
    seed: int | None = None


@dataclasses.dataclass
class EncodedHDU:
    """Header cards (structural + Z*), cards that must come last (ZBLANK) and padded data."""

    cards: list
    trailing_cards: list
    data: bytes


# ------------------------------------------------------------------ dtype mapping


def _disk_format(dtype: np.dtype) -> tuple[int, int | None, np.dtype]:
    """Return (BITPIX, BZERO or None, big-endian on-disk dtype) for an in-memory dtype."""
    kind, size = dtype.kind, dtype.itemsize
    if kind == "f":
        return -8 * size, None, np.dtype(f">f{size}")
    if kind == "u":
        if size == 1:
            return 8, None, np.dtype("u1")
        return 8 * size, 1 << (8 * size - 1), np.dtype(f">i{size}")
    if kind == "i":
        if size == 1:
            return 8, -128, np.dtype("u1")
        return 8 * size, None, np.dtype(f">i{size}")
    raise TypeError(f"cannot store arrays of dtype {dtype} in FITS images")


def _memory_dtype(bitpix: int, bzero: Any) -> np.dtype:
    """Inverse of `_disk_format`: the native in-memory dtype of stored pixels."""
    if bitpix < 0:
        return np.dtype(f"f{-bitpix // 8}")
    size = bitpix // 8
    if bzero is not None and float(bzero) != 0:
        if bitpix == 8 and float(bzero) == -128:
            return np.dtype("i1")
        if bitpix > 8 and float(bzero) == float(1 << (bitpix - 1)):
            return np.dtype(f"u{size}")
        raise ValueError(f"unsupported BZERO={bzero} for BITPIX={bitpix}")
    return np.dtype("u1") if size == 1 else np.dtype(f"i{size}")


def _to_disk(array: np.ndarray) -> np.ndarray:
    """Big-endian on-disk values (unsigned/signed offsets applied as bit flips)."""
    dtype = array.dtype
    if dtype.kind == "u" and dtype.itemsize > 1:
        flipped = array ^ np.array(1 << (8 * dtype.itemsize - 1), dtype=dtype)
        return flipped.astype(f">u{dtype.itemsize}").view(f">i{dtype.itemsize}")
    if dtype.kind == "i" and dtype.itemsize == 1:
        return array.view(np.uint8) ^ np.uint8(0x80)
    _, _, disk = _disk_format(dtype)
    return array.astype(disk, copy=False)


def _from_disk(raw: np.ndarray, out_dtype: np.dtype) -> np.ndarray:
    """Native in-memory values from big-endian on-disk values."""
    if out_dtype.kind == "u" and out_dtype.itemsize > 1:
        unsigned = raw.view(f">u{out_dtype.itemsize}").astype(out_dtype)
        return unsigned ^ np.array(1 << (8 * out_dtype.itemsize - 1), dtype=out_dtype)
    if out_dtype.kind == "i" and out_dtype.itemsize == 1:
        return (raw.view(np.uint8) ^ np.uint8(0x80)).view(np.int8)
    return raw.astype(out_dtype)


# ------------------------------------------------------------------ tiles


def _tiles(shape: tuple[int, int], tile: tuple[int, int]) -> list[tuple[slice, slice]]:
    ny, nx = -(-shape[0] // tile[0]), -(-shape[1] // tile[1])
    return [
        (
            slice(j * tile[0], min((j + 1) * tile[0], shape[0])),
            slice(i * tile[1], min((i + 1) * tile[1], shape[1])),
        )
        for j in range(ny)
        for i in range(nx)
    ]


def _shuffle(tile_bytes: np.ndarray, itemsize: int) -> bytes:
    if itemsize == 1:
        return tile_bytes.tobytes()
    return tile_bytes.reshape(-1, itemsize).T.tobytes()


def _unshuffle(data: bytes, itemsize: int) -> np.ndarray:
    flat = np.frombuffer(data, dtype=np.uint8)
    if itemsize == 1:
        return flat
    return flat.reshape(itemsize, -1).T.copy().reshape(-1)


_POOLS: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    """A persistent pool per worker count (thread start-up would otherwise recur per batch)."""
    with _POOL_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = concurrent.futures.ThreadPoolExecutor(
                workers, thread_name_prefix="lsst-images-fits"
            )
        return pool


def _map_threads(func: Callable[[Any], Any], items: Sequence[Any], threads: int | None) -> list[Any]:
    """Apply ``func`` to ``items`` in worker threads, in chunks to amortize overheads."""
    workers = max(1, threads or os.cpu_count() or 1)
    if workers == 1 or len(items) < 8:
        return [func(item) for item in items]
    chunk = max(1, len(items) // (workers * 4))
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    results = _pool(workers).map(lambda group: [func(item) for item in group], chunks)
    return [r for group in results for r in group]


def _encode_gzip(array: np.ndarray, compression: Any, threads: int | None) -> EncodedHDU:
    h, w = array.shape
    tile = tuple(compression.tile_shape) if compression.tile_shape else (1, w)
    shuffle = compression.algorithm == "GZIP_2"
    bitpix, bzero, _ = _disk_format(array.dtype)
    disk = np.ascontiguousarray(_to_disk(array))
    itemsize = disk.dtype.itemsize
    raw = disk.view(np.uint8).reshape(h, w * itemsize)
    tiles = _tiles((h, w), tile)

    def work(t: tuple[slice, slice]) -> bytes:
        block = raw[t[0], t[1].start * itemsize : t[1].stop * itemsize]
        payload = _shuffle(np.ascontiguousarray(block).reshape(-1), itemsize) if shuffle else block.tobytes()
        return _deflate_module.compress(payload, _LEVEL, wbits=31)

    compressed = _map_threads(work, tiles, threads)
    sizes = np.fromiter((len(c) for c in compressed), dtype=np.int64, count=len(compressed))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if len(sizes) else sizes
    descriptors = np.empty((len(tiles), 2), dtype=">i4")
    descriptors[:, 0] = sizes
    descriptors[:, 1] = offsets
    heap = b"".join(compressed)
    cards: list[tuple[str, Any, str]] = [
        ("XTENSION", "BINTABLE", "binary table extension"),
        ("BITPIX", 8, "array data type"),
        ("NAXIS", 2, "number of array dimensions"),
        ("NAXIS1", 8, "width of table in bytes"),
        ("NAXIS2", len(tiles), "number of rows in table"),
        ("PCOUNT", len(heap), "number of group parameters"),
        ("GCOUNT", 1, "number of groups"),
        ("TFIELDS", 1, "number of fields in each row"),
        ("TTYPE1", "COMPRESSED_DATA", ""),
        ("TFORM1", f"1PB({int(sizes.max()) if len(sizes) else 0})", ""),
        ("ZIMAGE", True, "extension contains compressed image"),
        ("ZTENSION", "IMAGE", "Image extension"),
        ("ZBITPIX", bitpix, "array data type"),
        ("ZNAXIS", 2, "number of array dimensions"),
        ("ZNAXIS1", w, ""),
        ("ZNAXIS2", h, ""),
        ("ZPCOUNT", 0, "number of parameters"),
        ("ZGCOUNT", 1, "number of groups"),
        ("ZTILE1", tile[1], "size of tiles to be compressed"),
        ("ZTILE2", tile[0], "size of tiles to be compressed"),
        ("ZCMPTYPE", compression.algorithm, "compression algorithm"),
    ]
    if array.dtype.kind == "f":
        cards += [
            ("ZNAME1", "NOISEBIT", "floating point quantization level"),
            ("ZVAL1", 0.0, "floating point quantization level"),
        ]
    if bzero is not None:
        cards += [("BZERO", bzero, ""), ("BSCALE", 1, "")]
    data = descriptors.tobytes() + heap
    return EncodedHDU(cards, [], data + b"\0" * (-len(data) % _BLOCK))


def _encode_plain(array: np.ndarray) -> EncodedHDU:
    h, w = array.shape
    bitpix, bzero, _ = _disk_format(array.dtype)
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
    data = np.ascontiguousarray(_to_disk(array)).tobytes()
    return EncodedHDU(cards, [], data + b"\0" * (-len(data) % _BLOCK))


_METHODS = {"NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}


def _encode_astropy(array: np.ndarray, compression: Any) -> EncodedHDU:
    from astropy.io import fits

    kwargs: dict[str, Any] = {
        "compression_type": compression.algorithm,
        "tile_shape": compression.tile_shape or (1, array.shape[-1]),
    }
    if compression.dither and array.dtype.kind == "f":
        kwargs.update(
            quantize_level=compression.level,
            quantize_method=_METHODS[compression.dither],
            dither_seed=compression.seed or 1,
        )
    elif array.dtype.kind == "f":
        kwargs["quantize_level"] = 0.0
    hdu = fits.CompImageHDU(array, **kwargs)
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    raw = buffer.getvalue()
    with fits.open(io.BytesIO(raw), disable_image_compression=True) as hdus:
        header = hdus[1].header
        skip = ("EXTNAME", "ZBLANK", "CHECKSUM", "DATASUM", "ZCHECKSM", "ZDATASUM")
        cards = [(c.keyword, c.value, c.comment) for c in header.cards if c.keyword not in skip]
        trailing = [(c.keyword, c.value, c.comment) for c in header.cards if c.keyword == "ZBLANK"]
        info = hdus[1].fileinfo()
        data = raw[info["datLoc"] : info["datLoc"] + info["datSpan"]]
    return EncodedHDU(cards, trailing, data)


def builtin_encode_image(array: np.ndarray, compression: Any, threads: int | None = None) -> EncodedHDU:
    """Encode a 2-D array as an image HDU (plain when ``compression`` is None)."""
    if array.ndim != 2:
        raise ValueError(f"FITS archive images must be 2-D, not shape {array.shape}")
    if compression is None:
        return _encode_plain(array)
    if compression.algorithm == "RICE_1" and array.dtype.itemsize == 8 and array.dtype.kind in "iu":
        raise TypeError("RICE_1 cannot compress 64-bit integers; use GZIP_1 or GZIP_2")
    quantized = compression.dither is not None and array.dtype.kind == "f"
    if compression.algorithm in ("GZIP_1", "GZIP_2") and not quantized:
        return _encode_gzip(array, compression, threads)
    return _encode_astropy(array, compression)


# ------------------------------------------------------------------ decoding


def _coalesce(wanted: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge sorted (offset, length) ranges separated by small gaps."""
    merged: list[list[int]] = []
    for offset, length in sorted(wanted):
        if merged and offset - (merged[-1][0] + merged[-1][1]) <= _COALESCE_GAP:
            merged[-1][1] = max(merged[-1][1], offset + length - merged[-1][0])
        else:
            merged.append([offset, length])
    return [(o, n) for o, n in merged]


def _decode_gzip(
    header: Any, reader: Any, data_offset: int, region: tuple[slice, slice], threads: int | None
) -> np.ndarray:
    h, w = int(header["ZNAXIS2"]), int(header["ZNAXIS1"])
    tile = (int(header.get("ZTILE2", 1)), int(header.get("ZTILE1", w)))
    shuffle = str(header["ZCMPTYPE"]).strip() == "GZIP_2"
    bitpix = int(header["ZBITPIX"])
    out_dtype = _memory_dtype(bitpix, header.get("BZERO"))
    itemsize = abs(bitpix) // 8
    disk_dtype = (
        np.dtype(f">f{itemsize}")
        if bitpix < 0
        else (np.dtype("u1") if itemsize == 1 else np.dtype(f">i{itemsize}"))
    )
    nrows = int(header["NAXIS2"])
    (table,) = reader.read_ranges([(data_offset, 8 * nrows)])
    descriptors = np.frombuffer(table, dtype=">i4").reshape(nrows, 2)
    heap = data_offset + int(header.get("THEAP", int(header["NAXIS1"]) * nrows))
    ys, xs = region
    out = np.empty((ys.stop - ys.start, xs.stop - xs.start), dtype=out_dtype)
    tiles_x = -(-w // tile[1])
    wanted = []
    for j in range(ys.start // tile[0], (ys.stop - 1) // tile[0] + 1):
        for i in range(xs.start // tile[1], (xs.stop - 1) // tile[1] + 1):
            wanted.append(j * tiles_x + i)

    if tile == (1, w):
        _decode_rows(header, reader, descriptors, heap, region, out, disk_dtype, shuffle, threads)
        return out

    def place(item: tuple[int, bytes]) -> None:
        index, payload = item
        j, i = divmod(index, tiles_x)
        ty = slice(j * tile[0], min((j + 1) * tile[0], h))
        tx = slice(i * tile[1], min((i + 1) * tile[1], w))
        raw = _inflate(payload)
        flat = _unshuffle(raw, itemsize) if shuffle else np.frombuffer(raw, dtype=np.uint8)
        values = flat.view(disk_dtype).reshape(ty.stop - ty.start, tx.stop - tx.start)
        sy = slice(max(ys.start, ty.start), min(ys.stop, ty.stop))
        sx = slice(max(xs.start, tx.start), min(xs.stop, tx.stop))
        out[sy.start - ys.start : sy.stop - ys.start, sx.start - xs.start : sx.stop - xs.start] = _from_disk(
            values[sy.start - ty.start : sy.stop - ty.start, sx.start - tx.start : sx.stop - tx.start],
            out_dtype,
        )

    # Batches of tiles bounded in compressed bytes: one coalesced read, parallel decode.
    start = 0
    while start < len(wanted):
        stop, total = start, 0
        while stop < len(wanted) and (stop == start or total < _BATCH_BYTES):
            total += int(descriptors[wanted[stop], 0])
            stop += 1
        batch = wanted[start:stop]
        spans = [(heap + int(descriptors[t, 1]), int(descriptors[t, 0])) for t in batch]
        ranges = _coalesce(spans)
        blobs = reader.read_ranges(ranges)
        starts = [r[0] for r in ranges]
        pieces = []
        for t, (offset, length) in zip(batch, spans, strict=True):
            k = bisect.bisect_right(starts, offset) - 1
            view = memoryview(blobs[k])
            pieces.append((t, view[offset - starts[k] : offset - starts[k] + length]))
        _map_threads(place, pieces, threads)
        start = stop
    return out


def _decode_rows(
    header: Any,
    reader: Any,
    descriptors: np.ndarray,
    heap: int,
    region: tuple[slice, slice],
    out: np.ndarray,
    disk_dtype: np.dtype,
    shuffle: bool,
    threads: int | None,
) -> None:
    """Fast path for one-tile-per-row images: decode row blocks with vectorized unshuffling.

    Consecutive row tiles are contiguous in the heap, so each batch is one read; worker
    threads inflate a block of rows into a scratch buffer and unshuffle/convert the whole
    block with a few numpy operations instead of several per row.
    """
    ys, xs = region
    w = int(header["ZNAXIS1"])
    itemsize = disk_dtype.itemsize
    workers = max(1, threads or os.cpu_count() or 1)
    row = ys.start
    while row < ys.stop:
        stop, total = row, 0
        while stop < ys.stop and (stop == row or total < _BATCH_BYTES):
            total += int(descriptors[stop, 0])
            stop += 1
        first = heap + int(descriptors[row, 1])
        end = heap + int(descriptors[stop - 1, 1]) + int(descriptors[stop - 1, 0])
        (blob,) = reader.read_ranges([(first, end - first)])
        view = memoryview(blob)
        base = int(descriptors[row, 1])

        def work(block: tuple[int, int], view: memoryview = view, base: int = base) -> None:
            r0, r1 = block
            scratch = np.empty((r1 - r0, w * itemsize), dtype=np.uint8)
            for r in range(r0, r1):
                offset = int(descriptors[r, 1]) - base
                raw = _inflate(view[offset : offset + int(descriptors[r, 0])])
                scratch[r - r0] = np.frombuffer(raw, dtype=np.uint8)
            target = out[r0 - ys.start : r1 - ys.start]
            if shuffle and itemsize > 1:
                # Un-shuffle and byte-swap in one pass: byte plane b of the big-endian values
                # is byte (itemsize-1-b) of a little-endian value.
                planes = scratch.reshape(r1 - r0, itemsize, w)[:, :, xs]
                full = xs.start == 0 and xs.stop == w
                native = target if full else np.empty(target.shape, dtype=target.dtype)
                native_bytes = native.view(np.uint8).reshape(r1 - r0, xs.stop - xs.start, itemsize)
                for b in range(itemsize):
                    native_bytes[:, :, itemsize - 1 - b if _LITTLE else b] = planes[:, b, :]
                if out.dtype.kind == "u":
                    native ^= np.array(1 << (8 * itemsize - 1), dtype=out.dtype)
                if not full:
                    target[...] = native
            else:
                values = scratch.view(disk_dtype).reshape(r1 - r0, w)[:, xs]
                target[...] = _from_disk(values, out.dtype)

        step = max(1, min(128, -(-(stop - row) // (2 * workers))))
        blocks = [(r, min(r + step, stop)) for r in range(row, stop, step)]
        if workers == 1 or len(blocks) == 1:
            for block in blocks:
                work(block)
        else:
            list(_pool(workers).map(work, blocks))
        row = stop


def _decode_plain(header: Any, reader: Any, data_offset: int, region: tuple[slice, slice]) -> np.ndarray:
    w = int(header["NAXIS1"])
    bitpix = int(header["BITPIX"])
    itemsize = abs(bitpix) // 8
    out_dtype = _memory_dtype(bitpix, header.get("BZERO"))
    disk_dtype = (
        np.dtype(f">f{itemsize}")
        if bitpix < 0
        else (np.dtype("u1") if itemsize == 1 else np.dtype(f">i{itemsize}"))
    )
    ys, xs = region
    (raw,) = reader.read_ranges(
        [(data_offset + ys.start * w * itemsize, (ys.stop - ys.start) * w * itemsize)]
    )
    values = np.frombuffer(raw, dtype=disk_dtype).reshape(ys.stop - ys.start, w)[:, xs]
    return np.ascontiguousarray(_from_disk(values, out_dtype))


def _decode_astropy(header: Any, reader: Any, data_offset: int, region: Any) -> np.ndarray:
    from astropy.io import fits

    size = int(header["NAXIS1"]) * int(header["NAXIS2"]) + int(header.get("PCOUNT", 0))
    (data,) = reader.read_ranges([(data_offset, -(-size // _BLOCK) * _BLOCK)])
    raw = fits.PrimaryHDU().header.tostring(padding=True).encode() + header.tostring(padding=True).encode()
    with fits.open(io.BytesIO(raw + data)) as hdus:
        array = np.asarray(hdus[1].data)
        if region is not None:
            array = array[region]
        return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))


def builtin_decode_image(
    header: Any, reader: Any, data_offset: int, region: Any = None, threads: int | None = None
) -> np.ndarray:
    """Decode an image HDU (plain or tile-compressed), optionally only ``region``."""
    compressed = bool(header.get("ZIMAGE", False))
    h = int(header["ZNAXIS2" if compressed else "NAXIS2"])
    w = int(header["ZNAXIS1" if compressed else "NAXIS1"])
    if region is None:
        region = (slice(0, h), slice(0, w))
    if not compressed:
        return _decode_plain(header, reader, data_offset, region)
    algorithm = str(header.get("ZCMPTYPE", "")).strip()
    if algorithm in ("GZIP_1", "GZIP_2") and int(header.get("TFIELDS", 1)) == 1 and "ZQUANTIZ" not in header:
        if int(header["ZBITPIX"]) > 0 or "ZSCALE" not in header:
            return _decode_gzip(header, reader, data_offset, region, threads)
    return _decode_astropy(header, reader, data_offset, region)


# ------------------------------------------------------------------ range reader


class _RangeReader:
    """Ranged reads from a local file (``os.pread``), bytes, or an HTTP(S) URL."""

    def __init__(self, target: Any) -> None:
        self._fd: int | None = None
        self._data: bytes | None = None
        self._url: str | None = None
        self.bytes_read = 0
        self.request_count = 0
        if isinstance(target, (bytes, bytearray, memoryview)):
            self._data = bytes(target)
            self.name, self.size = "<bytes>", len(self._data)
            return
        text = str(target)
        if text.startswith(("http://", "https://")):
            self._url = self.name = text
            self.size = _http_size(text)
            return
        if text.startswith("file://"):
            text = text[len("file://") :]
        if "://" in text:
            from lsst.resources import ResourcePath

            self._data = ResourcePath(target).read()
            self.name, self.size = text, len(self._data)
            return
        self.name = text
        self._fd = os.open(text, os.O_RDONLY)
        self.size = os.fstat(self._fd).st_size

    def read_ranges(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        out = []
        for offset, length in ranges:
            if self._fd is not None:
                out.append(os.pread(self._fd, length, offset))
            elif self._url is not None:
                out.append(_http_range(self._url, offset, length))
            else:
                assert self._data is not None
                out.append(self._data[offset : offset + length])
            self.bytes_read += length
        self.request_count += len(ranges)
        return out

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()


def _http_size(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as response:
            return int(response.headers["Content-Length"])
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise FileNotFoundError(f"{url}: not found (HTTP 404)") from err
        raise OSError(f"{url}: HTTP error {err.code}") from err


def _http_range(url: str, offset: int, length: int) -> bytes:
    import urllib.request

    if length == 0:
        return b""
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
    with urllib.request.urlopen(request) as response:
        data = response.read()
        status = response.status
    return data if status == 206 else data[offset : offset + length]


def builtin_open_range_reader(target: Any) -> Any:
    """Open ``target`` (path, file:// or http(s) URL, bytes, other ResourcePath URI) for ranged reads."""
    return _RangeReader(target)


try:
    from ._codec import TileCompression, decode_image, encode_image
    from ._rangeio import open_range_reader

    using_fallback = False
except ImportError:  # pragma: no cover - depends on the installation
    TileCompression = BuiltinTileCompression  # type: ignore[misc,assignment]
    encode_image = builtin_encode_image  # type: ignore[assignment]
    decode_image = builtin_decode_image  # type: ignore[assignment]
    open_range_reader = builtin_open_range_reader  # type: ignore[assignment]
    using_fallback = True
