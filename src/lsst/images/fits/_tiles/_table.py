"""The compressed-image BINTABLE: one row per tile, variable-length arrays in the heap.

Building: `build_table` lays out the fixed-width rows (``1PB``/``1QB`` descriptors for
``COMPRESSED_DATA`` and ``GZIP_COMPRESSED_DATA``, ``1D`` ``ZSCALE``/``ZZERO``) followed by
the heap, exactly as astropy/CFITSIO do.

Parsing: `TableLayout` reads the column layout from the header (any column order, ``P``
or ``Q`` descriptors, ``THEAP``), and `TableLayout.read_rows` fetches only the rows of
the tiles a decode needs.
"""

from __future__ import annotations

__all__ = ("BLOCK", "BuiltTable", "TableLayout", "TileRows", "build_table", "pad_block")

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

BLOCK = 2880

_TFORM = re.compile(r"^\s*(\d*)\s*([LXBIJKAEDCMPQ])([A-Z]?)\s*(\(.*\))?\s*$")
_SIZES = {"L": 1, "X": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8, "M": 16}
_SCALAR_DTYPES = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
#: Element dtypes of variable-length array columns (UNCOMPRESSED_DATA may be 1PE, 1PD, ...).
VLA_DTYPES = {
    "B": np.dtype("u1"),
    "I": np.dtype(">i2"),
    "J": np.dtype(">i4"),
    "K": np.dtype(">i8"),
    "E": np.dtype(">f4"),
    "D": np.dtype(">f8"),
}


def pad_block(data: bytes) -> bytes:
    """Pad with zeros to a multiple of the 2880-byte FITS block."""
    return data + b"\0" * (-len(data) % BLOCK)


@dataclasses.dataclass(frozen=True)
class Column:
    """One table column: byte offset in the row, and either a descriptor or a scalar type."""

    name: str
    offset: int
    descriptor: str | None  # "P" or "Q" for variable-length arrays
    element: str  # element type code (B, I, J, K, E, D, ...)
    repeat: int


@dataclasses.dataclass
class TileRows:
    """Per-tile values read from the table, for a set of tiles (parallel arrays)."""

    tiles: np.ndarray
    columns: dict[str, np.ndarray]  # descriptors as (n, 2) [count, offset]; scalars as (n,)


class TableLayout:
    """Row layout of a compressed-image BINTABLE, parsed from its header."""

    def __init__(self, header: Mapping[str, Any]) -> None:
        self.row_bytes = int(header["NAXIS1"])
        self.n_rows = int(header["NAXIS2"])
        self.heap_offset = int(header.get("THEAP", self.row_bytes * self.n_rows))
        self.heap_size = int(header.get("PCOUNT", 0))
        self.columns: dict[str, Column] = {}
        offset = 0
        for n in range(1, int(header["TFIELDS"]) + 1):
            name = str(header.get(f"TTYPE{n}", f"COL{n}")).strip().upper()
            tform = str(header[f"TFORM{n}"]).strip()
            match = _TFORM.match(tform)
            if match is None:
                raise ValueError(f"unsupported TFORM{n} = {tform!r}")
            repeat = int(match.group(1) or 1)
            code, element = match.group(2), match.group(3)
            if code in "PQ":
                self.columns[name] = Column(name, offset, code, element or "B", repeat)
                offset += repeat * (8 if code == "P" else 16)
            else:
                self.columns[name] = Column(name, offset, None, code, repeat)
                offset += (repeat + 7) // 8 if code == "X" else repeat * _SIZES[code]
        if offset != self.row_bytes:
            raise ValueError(f"table columns take {offset} bytes per row but NAXIS1 = {self.row_bytes}")

    def row_ranges(self, tiles: np.ndarray, data_offset: int) -> list[tuple[int, int]]:
        """File byte ranges holding the rows of ``tiles`` (runs of consecutive rows merged)."""
        if len(tiles) == 0:
            return []
        breaks = np.flatnonzero(np.diff(tiles) != 1) + 1
        starts = np.concatenate([[0], breaks])
        stops = np.concatenate([breaks, [len(tiles)]])
        return [
            (data_offset + int(tiles[a]) * self.row_bytes, int(tiles[b - 1] - tiles[a] + 1) * self.row_bytes)
            for a, b in zip(starts, stops, strict=True)
        ]

    def parse_rows(self, tiles: np.ndarray, blobs: Sequence[bytes]) -> TileRows:
        """Decode the column values of ``tiles`` from the blobs of `row_ranges`."""
        raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(tiles), self.row_bytes)
        out: dict[str, np.ndarray] = {}
        for name, col in self.columns.items():
            if col.descriptor is not None:
                dtype = ">i4" if col.descriptor == "P" else ">i8"
                width = 8 if col.descriptor == "P" else 16
                cells = np.ascontiguousarray(raw[:, col.offset : col.offset + width])
                out[name] = cells.view(dtype).reshape(len(tiles), 2).astype(np.int64)
            elif col.element in _SCALAR_DTYPES and col.repeat == 1:
                size = _SIZES[col.element]
                cells = np.ascontiguousarray(raw[:, col.offset : col.offset + size])
                out[name] = cells.view(_SCALAR_DTYPES[col.element]).reshape(len(tiles))
        for name, values in out.items():
            col = self.columns[name]
            if col.descriptor is not None and len(values):
                counts, offsets = values[:, 0], values[:, 1]
                nbytes = counts * VLA_DTYPES.get(col.element, np.dtype("u1")).itemsize
                if (counts < 0).any() or (offsets < 0).any() or (offsets + nbytes > self.heap_size).any():
                    bad = int(np.flatnonzero((offsets + nbytes > self.heap_size) | (counts < 0))[0])
                    raise ValueError(
                        f"tile {int(tiles[bad]) + 1}: {name} descriptor points outside the heap "
                        f"({self.heap_size} bytes)"
                    )
        return TileRows(tiles, out)


@dataclasses.dataclass
class BuiltTable:
    """Table header cards (``XTENSION`` .. ``TFORMn``) and the table + heap (padded), as buffers."""

    cards: list[tuple[str, Any, str]]
    parts: list[Any]

    @property
    def data(self) -> bytes:
        """Table and heap as one bytes object (a joined copy of `parts`)."""
        return b"".join(self.parts)


def build_table(
    compressed: Sequence[bytes],
    gzip_fallback: Sequence[bytes] | None = None,
    zscale: np.ndarray | None = None,
    zzero: np.ndarray | None = None,
    descriptor: str | None = None,
) -> BuiltTable:
    """Lay out the compressed-image table for per-tile payloads.

    ``gzip_fallback``/``zscale``/``zzero`` are given for quantized images only (then the
    four columns of the convention are written, as astropy does).  ``descriptor`` forces
    ``"P"`` (32-bit) or ``"Q"`` (64-bit) array descriptors; by default ``P`` is used unless
    the heap exceeds 2 GiB.
    """
    n = len(compressed)
    sizes = np.fromiter((len(c) for c in compressed), dtype=np.int64, count=n)
    gsizes = (
        np.fromiter((len(c) for c in gzip_fallback), dtype=np.int64, count=n)
        if gzip_fallback is not None
        else None
    )
    cards, table, heap_size = table_layout(sizes, gsizes, zscale, zzero, descriptor)
    heap_parts: list[bytes] = []
    if gzip_fallback is None:
        heap_parts = list(compressed)
    else:
        for c, g in zip(compressed, gzip_fallback, strict=True):
            heap_parts.append(c)
            if g:
                heap_parts.append(g)
    # No join: the payloads are written as they are (see EncodedHDU.parts).
    total = len(table) + heap_size
    return BuiltTable(cards, [table, *heap_parts, b"\0" * (-total % BLOCK)])


def table_layout(
    sizes: np.ndarray,
    gsizes: np.ndarray | None = None,
    zscale: np.ndarray | None = None,
    zzero: np.ndarray | None = None,
    descriptor: str | None = None,
) -> tuple[list[tuple[str, Any, str]], bytes, int]:
    """``(cards, table bytes, heap size)`` of a compressed-image table for payload sizes.

    The heap holds, row by row, the ``sizes[i]`` bytes of COMPRESSED_DATA then (quantized
    images, ``gsizes`` given) the ``gsizes[i]`` bytes of GZIP_COMPRESSED_DATA.  Knowing
    only the sizes is enough, so a writer can stream the payloads first and lay out the
    table afterwards (`build_table` is this plus the payloads).
    """
    n = len(sizes)
    quantized = zscale is not None
    if gsizes is None:
        gsizes = np.zeros(n, dtype=np.int64)
    heap_size = int(sizes.sum() + gsizes.sum())
    wide = heap_size >= 2**31 if descriptor is None else descriptor.upper() == "Q"
    desc = "Q" if wide else "P"
    dsize = 16 if wide else 8
    ddtype = ">i8" if wide else ">i4"
    # Heap order: for each row, COMPRESSED_DATA then GZIP_COMPRESSED_DATA.
    interleaved = np.empty(2 * n, dtype=np.int64)
    interleaved[0::2], interleaved[1::2] = sizes, gsizes
    starts = np.concatenate([[0], np.cumsum(interleaved)[:-1]]) if n else interleaved
    fields: list[tuple[str, str, np.ndarray]] = []
    desc_c = np.stack([sizes, starts[0::2]], axis=1).astype(ddtype)
    fields.append(("COMPRESSED_DATA", f"1{desc}B({int(sizes.max()) if n else 0})", desc_c))
    if quantized:
        desc_g = np.stack([gsizes, np.where(gsizes > 0, starts[1::2], 0)], axis=1).astype(ddtype)
        fields.append(("GZIP_COMPRESSED_DATA", f"1{desc}B({int(gsizes.max()) if n else 0})", desc_g))
        fields.append(("ZSCALE", "1D", np.asarray(zscale, dtype=">f8").reshape(n, 1)))
        fields.append(("ZZERO", "1D", np.asarray(zzero, dtype=">f8").reshape(n, 1)))
    row_bytes = dsize * (2 if quantized else 1) + (16 if quantized else 0)
    rows = (
        np.concatenate([f[2].view(np.uint8).reshape(n, -1) for f in fields], axis=1)
        if n
        else np.zeros((0, row_bytes), dtype=np.uint8)
    )
    cards: list[tuple[str, Any, str]] = [
        ("XTENSION", "BINTABLE", "binary table extension"),
        ("BITPIX", 8, "array data type"),
        ("NAXIS", 2, "number of array dimensions"),
        ("NAXIS1", row_bytes, "width of table in bytes"),
        ("NAXIS2", n, "number of rows in table"),
        ("PCOUNT", heap_size, "number of group parameters"),
        ("GCOUNT", 1, "number of groups"),
        ("TFIELDS", len(fields), "number of fields in each row"),
    ]
    for k, (name, tform, _) in enumerate(fields, start=1):
        cards.append((f"TTYPE{k}", name, ""))
        cards.append((f"TFORM{k}", tform, ""))
    return cards, rows.tobytes(), heap_size
