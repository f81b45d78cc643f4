"""The binary table of a tile-compressed image: building it and reading selected rows.

Each table row describes one tile: a variable-length-array descriptor
``(nbytes, heap offset)`` of ``COMPRESSED_DATA`` and, for quantized floats, the
``GZIP_COMPRESSED_DATA`` descriptor (lossless fall-back tiles) and the per-tile
``ZSCALE``/``ZZERO``.  Reading a region only needs the rows of the tiles it touches,
so rows are fetched in contiguous runs rather than as a whole table.
"""

from __future__ import annotations

__all__ = ("TableLayout", "build_table", "read_rows")

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_TFORM = re.compile(r"^\s*(\d*)([LXBIJKAEDCMPQ])([A-Z]?)(?:\((\d+)\))?\s*$")
_SIZES = {
    "L": 1,
    "X": 1,
    "B": 1,
    "I": 2,
    "J": 4,
    "K": 8,
    "A": 1,
    "E": 4,
    "D": 8,
    "C": 8,
    "M": 16,
    "P": 8,
    "Q": 16,
}
_NUMPY = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}


@dataclasses.dataclass(frozen=True)
class TableLayout:
    """Column layout of a compressed-image table, parsed from its header."""

    row_bytes: int
    n_rows: int
    heap_offset: int
    #: column name → (byte offset in row, numpy dtype of the field, repeat)
    columns: dict[str, tuple[int, np.dtype]]

    @classmethod
    def from_header(cls, header: Any) -> TableLayout:
        row_bytes = int(header["NAXIS1"])
        n_rows = int(header["NAXIS2"])
        columns: dict[str, tuple[int, np.dtype]] = {}
        offset = 0
        for k in range(1, int(header.get("TFIELDS", 0)) + 1):
            tform = str(header[f"TFORM{k}"])
            match = _TFORM.match(tform)
            if match is None:
                raise ValueError(f"unsupported column format TFORM{k}={tform!r}")
            repeat = int(match.group(1) or 1)
            code = match.group(2)
            name = str(header.get(f"TTYPE{k}", f"COL{k}")).strip().upper()
            if code in "PQ":
                columns[name] = (offset, np.dtype((">i4" if code == "P" else ">i8", 2)))
            elif code in _NUMPY and repeat == 1:
                columns[name] = (offset, np.dtype(_NUMPY[code]))
            size = _SIZES[code] * repeat if code != "X" else -(-repeat // 8)
            offset += size
        if offset != row_bytes:
            raise ValueError(f"table columns take {offset} bytes per row but NAXIS1={row_bytes}")
        heap = int(header.get("THEAP", row_bytes * n_rows))
        return cls(row_bytes, n_rows, heap, columns)

    def row_dtype(self) -> np.dtype:
        names = list(self.columns)
        return np.dtype(
            {
                "names": names,
                "formats": [self.columns[n][1] for n in names],
                "offsets": [self.columns[n][0] for n in names],
                "itemsize": self.row_bytes,
            }
        )


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Split sorted indices into ``(first, count)`` runs of consecutive values."""
    if len(indices) == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [len(indices)]])
    return [(int(indices[a]), int(b - a)) for a, b in zip(starts, stops, strict=True)]


def read_rows(reader: Any, data_offset: int, layout: TableLayout, rows: np.ndarray) -> np.ndarray:
    """Fetch the table rows ``rows`` (sorted tile indices) as a structured array.

    Consecutive rows are fetched as one range; the reader merges nearby ranges.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) and (rows[0] < 0 or rows[-1] >= layout.n_rows):
        raise ValueError(f"tile rows {rows[0]}..{rows[-1]} outside the table of {layout.n_rows} rows")
    runs = _runs(rows)
    blobs = reader.read_ranges(
        [(data_offset + first * layout.row_bytes, count * layout.row_bytes) for first, count in runs]
    )
    raw = blobs[0] if len(blobs) == 1 else b"".join(blobs)
    return np.frombuffer(raw, dtype=layout.row_dtype(), count=len(rows))


@dataclasses.dataclass
class BuiltTable:
    """Table + heap of a compressed image (as pieces to join once) and its column cards."""

    column_cards: list[tuple[str, Any, str]]
    row_bytes: int
    n_rows: int
    heap_size: int
    pieces: list[Any]

    @property
    def size(self) -> int:
        """Bytes of table + heap (before padding)."""
        return self.row_bytes * self.n_rows + self.heap_size


def build_table(
    compressed: Sequence[bytes],
    *,
    quantized: bool,
    fallback: Sequence[bool] | None = None,
    scales: Sequence[float] | None = None,
    zeros: Sequence[float] | None = None,
) -> BuiltTable:
    """Lay out the descriptor table and the heap (tiles in storage order).

    For quantized images, tiles flagged in ``fallback`` were stored losslessly with
    GZIP_1: their descriptor goes to ``GZIP_COMPRESSED_DATA`` and the
    ``COMPRESSED_DATA`` descriptor is zero, as the convention requires.
    """
    n = len(compressed)
    sizes = np.fromiter((len(c) for c in compressed), dtype=np.int64, count=n)
    offsets = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.cumsum(sizes[:-1], out=offsets[1:])
    heap_size = int(sizes.sum())
    if heap_size >= 2**31:
        raise ValueError("compressed image heap exceeds 2 GiB (1PB descriptors); use smaller images")
    if not quantized:
        table = np.empty((n, 2), dtype=">i4")
        table[:, 0] = sizes
        table[:, 1] = offsets
        cards = [("TTYPE1", "COMPRESSED_DATA", ""), ("TFORM1", f"1PB({int(sizes.max()) if n else 0})", "")]
        return BuiltTable(cards, 8, n, heap_size, [table.tobytes(), *compressed])
    flags = np.zeros(n, dtype=bool) if fallback is None else np.asarray(fallback, dtype=bool)
    dtype = np.dtype([("c", ">i4", 2), ("g", ">i4", 2), ("s", ">f8"), ("z", ">f8")])
    table = np.zeros(n, dtype=dtype)
    main = ~flags
    table["c"][main, 0] = sizes[main]
    table["c"][main, 1] = offsets[main]
    table["g"][flags, 0] = sizes[flags]
    table["g"][flags, 1] = offsets[flags]
    table["s"] = np.asarray(scales if scales is not None else np.zeros(n), dtype=np.float64)
    table["z"] = np.asarray(zeros if zeros is not None else np.zeros(n), dtype=np.float64)
    max_main = int(sizes[main].max()) if main.any() else 0
    max_fallback = int(sizes[flags].max()) if flags.any() else 0
    cards = [
        ("TTYPE1", "COMPRESSED_DATA", ""),
        ("TFORM1", f"1PB({max_main})", ""),
        ("TTYPE2", "GZIP_COMPRESSED_DATA", ""),
        ("TFORM2", f"1PB({max_fallback})", ""),
        ("TTYPE3", "ZSCALE", ""),
        ("TFORM3", "1D", ""),
        ("TTYPE4", "ZZERO", ""),
        ("TFORM4", "1D", ""),
    ]
    return BuiltTable(cards, dtype.itemsize, n, heap_size, [table.tobytes(), *compressed])
