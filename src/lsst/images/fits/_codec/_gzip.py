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

__all__ = ("LEVEL", "TileCorruptError", "deflate", "deflate_shuffled", "inflate", "plane_entropy")

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


# ---------------------------------------------------------------------- byte-plane members
#
# After the GZIP_2 shuffle a float tile is a sequence of byte planes: the sign/exponent
# plane compresses very well, the low mantissa planes are noise.  Deflating the noise
# planes gains nothing (Huffman coding of uniform bytes saves < 3 %) but makes the
# reader Huffman-decode every byte, which is most of the decoding time.  So each
# shuffled tile is written as one gzip member whose deflate stream holds the
# compressible planes as ordinary (sync-flushed) deflate blocks and the noise planes
# as *stored* blocks, which inflate at memcpy speed.  Any inflater (zlib, cfitsio,
# astropy) reads it: stored blocks are part of the deflate format.

#: Planes whose estimated entropy exceeds this many bits per byte are stored, not deflated.
STORE_ENTROPY = 7.5
#: Fixed gzip member header: no name, MTIME=0, no extra flags, OS=3 (identical everywhere).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
#: Empty final stored block: terminates the deflate stream on a byte boundary.
_FINAL_BLOCK = b"\x01\x00\x00\xff\xff"
_MAX_STORED = 65535
_ENTROPY_GROUP_BYTES = 65536
_ENTROPY_SAMPLES = 4096

_crc32 = _fast.crc32 if _fast is not None else zlib.crc32
_compressobj = _fast.compressobj if _fast is not None else zlib.compressobj


def plane_entropy(planes: np.ndarray) -> np.ndarray:
    """Estimated entropy (bits/byte) of each byte plane of shuffled tiles.

    Parameters
    ----------
    planes
        ``(tiles, itemsize, pixels)`` uint8 array of shuffled tiles.

    Returns
    -------
    entropy : `numpy.ndarray`
        ``(tiles, itemsize)`` order-0 entropy estimates.  Neighbouring tiles are pooled
        in groups of at least ~64 kB per plane and each group is sampled with ~4096
        bytes per plane (enough to tell noise, ~8 bits, from structure), so the cost
        is a single `numpy.bincount` over a small fraction of the data.
    """
    n, p, length = planes.shape
    group = max(1, min(n, _ENTROPY_GROUP_BYTES // max(1, length)))
    step = max(1, (group * length) // _ENTROPY_SAMPLES)
    sample = planes[:, :, ::step]
    m = sample.shape[2]
    groups = -(-n // group)
    row_group = np.arange(n, dtype=np.int64) // group
    keys = ((row_group[:, None, None] * p + np.arange(p, dtype=np.int64)[None, :, None]) << 8) + sample
    counts = np.bincount(keys.ravel(), minlength=groups * p * 256).reshape(groups, p, 256)
    sizes = np.bincount(row_group, minlength=groups).astype(np.float64) * m
    probability = counts / sizes[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, probability * np.log2(probability), 0.0)
    return (-terms.sum(axis=2))[row_group]


def deflate_planes(planes: np.ndarray, store: np.ndarray, level: int = LEVEL) -> bytes:
    """One deterministic gzip member for a shuffled tile, storing the planes flagged in ``store``.

    Parameters
    ----------
    planes
        ``(itemsize, pixels)`` C-contiguous uint8 array (one shuffled tile).
    store
        ``(itemsize,)`` booleans: True to write that plane as stored blocks.
    """
    pieces: list[Any] = [_GZIP_HEADER]
    count = planes.shape[0]
    p = 0
    while p < count:
        if store[p]:
            plane = planes[p]
            for start in range(0, plane.size, _MAX_STORED):
                block = plane[start : start + _MAX_STORED]
                n = block.size
                pieces.append(bytes((0, n & 0xFF, n >> 8, ~n & 0xFF, (~n >> 8) & 0xFF)))
                pieces.append(block)
            p += 1
            continue
        q = p + 1
        while q < count and not store[q]:
            q += 1
        deflater = _compressobj(level, zlib.DEFLATED, -15)
        pieces.append(deflater.compress(planes[p:q]))
        pieces.append(deflater.flush(zlib.Z_SYNC_FLUSH))
        p = q
    pieces.append(_FINAL_BLOCK)
    pieces.append(_trailer(planes))
    return b"".join(pieces)


def _trailer(data: np.ndarray) -> bytes:
    size = data.size
    return (_crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")


def deflate_shuffled(planes: np.ndarray, level: int = LEVEL) -> list[bytes]:
    """Gzip members for a block of shuffled tiles ``(tiles, itemsize, pixels)``."""
    store = plane_entropy(planes) > STORE_ENTROPY
    return [deflate_planes(planes[k], store[k], level) for k in range(planes.shape[0])]
