"""GZIP_1 / GZIP_2 tiles: deflate with gzip framing, and GZIP_2 byte shuffling.

Every tile is one complete gzip member, as the FITS tiled-image convention requires
(cfitsio and astropy read them with a gzip decoder).  We use ``isal`` (Intel ISA-L,
same deflate format, several times faster at low levels) when it is importable and
``zlib`` otherwise; both release the GIL while they work, so tiles compress in
parallel threads.  The gzip header written by ``compress(..., wbits=31)`` has MTIME=0
and no file name, so identical pixels always give identical bytes (astropy's writer
embeds the current time instead, FORMAT.md §12).

GZIP_2 stores all most-significant bytes of a tile first, then the next bytes, and
so on ("byte shuffle"), which lets deflate find the redundancy in the exponent and
high bytes of float images.
"""

from __future__ import annotations

__all__ = ("LEVEL", "TileCorruptError", "deflate", "inflate", "shuffle", "unshuffle_into")

import zlib
from typing import Any

import numpy as np

try:
    from isal import isal_zlib as _fast
except ImportError:  # pragma: no cover - isal is an optional extra
    _fast = None

#: Deflate level used for writing: level 1 is ~4x faster than astropy's default (9)
#: for float images and costs at most a few percent in size (measured in
#: benchmarks/results/codec.md).
LEVEL = 1

_GZIP_WBITS = 31


class TileCorruptError(ValueError):
    """A compressed tile cannot be decoded (corrupt data or wrong size)."""


def deflate(payload: Any, level: int = LEVEL) -> bytes:
    """Compress ``payload`` (bytes-like) into one deterministic gzip member."""
    if _fast is not None:
        return _fast.compress(payload, level, wbits=_GZIP_WBITS)
    return zlib.compress(payload, level, wbits=_GZIP_WBITS)


def inflate(data: Any, size: int | None = None) -> bytes:
    """Decompress one gzip (or zlib-framed) tile, checking its size when known.

    Raises
    ------
    TileCorruptError
        If the data is not a valid gzip/zlib stream or does not hold ``size`` bytes.
    """
    bufsize = size if size else 16384
    try:
        if _fast is not None:
            raw = _fast.decompress(data, wbits=_GZIP_WBITS, bufsize=bufsize)
        else:
            raw = zlib.decompress(data, wbits=_GZIP_WBITS, bufsize=bufsize)
    except Exception:
        try:
            # Some writers frame tiles as zlib streams; 47 = auto-detect gzip or zlib.
            raw = zlib.decompress(data, wbits=47, bufsize=bufsize)
        except zlib.error as err:
            raise TileCorruptError(f"corrupt compressed tile ({err})") from None
    if size is not None and len(raw) != size:
        raise TileCorruptError(f"compressed tile holds {len(raw)} bytes instead of {size}")
    return raw


def shuffle(stored: np.ndarray) -> np.ndarray:
    """GZIP_2 byte shuffle of a C-contiguous array of stored (big-endian) values."""
    itemsize = stored.dtype.itemsize
    flat = stored.view(np.uint8).reshape(-1, itemsize)
    return np.ascontiguousarray(flat.T)


def unshuffle_into(out_bytes: np.ndarray, raw: np.ndarray, itemsize: int, order: slice) -> None:
    """Write shuffled stored bytes into a (..., n, itemsize) byte view of native values.

    Parameters
    ----------
    out_bytes
        Destination byte view of shape ``(rows, cols, itemsize)`` (may be strided).
    raw
        Shuffled bytes of shape ``(rows, itemsize, cols)``.
    itemsize
        Bytes per value.
    order
        Byte order slice taking big-endian item bytes to the destination's order.
    """
    out_bytes[...] = raw.transpose(0, 2, 1)[..., order]
