"""Decoding FITS image HDUs: whole images or regions, decoding only the tiles they touch.

Decoding writes tiles straight into the preallocated output array, or hands bands of
rows to a *sink* (so a plane stored in another layout, such as packed mask bits, is
converted without a full-size temporary).  Small reads, and every read from a remote
reader (``reader.remote``), fetch all their tiles in one coalesced request; large local
reads fetch chunk by chunk, so a full-plane read never holds more than a few chunks of
compressed data at once.  Encoding lives in `._encode`, the worker threads in
`._threads`.
"""

from __future__ import annotations

__all__ = ("decode_image", "read_raw_tiles")

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import _gzip, _quantize
from ._codec import (
    TileDecoder,
    disk_dtype,
    from_disk,
    memory_dtype,
    native_from_shuffled,
)
from ._geometry import TileGrid, normalize_region
from ._table import VLA_DTYPES, TableLayout, TileRows, pad_block
from ._threads import _CHUNK_MAX, _SCRATCH_KEEP, _chunks, _run, _scratch

#: Compressed bytes up to which a decode fetches all its tiles with one request.
_PREFETCH_MAX = 8 << 20
#: The same for readers whose requests cost a network round trip (``reader.remote``):
#: fetching chunk by chunk would cost one round trip per ~1 MiB of pixels.
_REMOTE_PREFETCH_MAX = 256 << 20


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
