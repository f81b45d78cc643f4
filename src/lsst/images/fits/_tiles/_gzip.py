"""Gzip members for GZIP_1/GZIP_2 tiles, with a fixed header and the fastest deflate available.

Every tile is one complete gzip member (RFC 1952), which is what CFITSIO and astropy
expect.  The member headers written here have ``MTIME=0`` (unlike Python's `gzip`
module, which stores the current time), so nothing in a member depends on when it was
written.  ISA-L's deflate streams are not promised bit-identical from call to call,
though: rarely, under load, a tile has come out a few bytes longer in one write than in
another (both valid, inflating to the same bytes).  zlib's are identical every time.

Intel ISA-L (``isal.igzip_lib``) is used when importable: it writes standard deflate
streams several times faster than zlib.  We use level 1 with ISA-L's smallest memory
level: measured on 4096-pixel float rows (benchmarks/bench_tiles.py) it compresses
~2x slower than the default memory level but gives ~4 % smaller tiles that inflate
~3x faster (reading matters more than writing), and it is still ~8x faster than
zlib's default level.  Both ISA-L and zlib release the GIL, so tiles compress in
parallel threads.

Tiles are inflated with libdeflate (the ``deflate`` package) when it is importable: on
the tiles other writers make (astropy/CFITSIO zlib streams of noisy float planes) it
inflates 20-40 % faster than ISA-L and 2x faster than zlib, and it checks the CRC32 and
length trailer as well.  Inflating with the exact output size (known from the tile
shape) avoids re-allocating the output buffer.
"""

from __future__ import annotations

__all__ = ("DEFAULT_LEVEL", "compress", "decompress", "using_isal", "using_libdeflate")

import functools
import zlib
from typing import Any

try:  # pragma: no branch - depends on the installation
    from isal import igzip_lib as _igzip

    using_isal = True
except ImportError:  # pragma: no cover - isal is optional
    _igzip = None
    using_isal = False

try:  # pragma: no branch - depends on the installation
    import deflate as _libdeflate

    using_libdeflate = True
except ImportError:  # pragma: no cover - deflate is optional
    _libdeflate = None
    using_libdeflate = False

#: Deflate level: ISA-L level 1 (sizes within a few per cent of zlib level 6, several
#: times faster); zlib level 1 without ISA-L.
DEFAULT_LEVEL = 1

_GZIP_WBITS = 31
_AUTO_WBITS = 47


def compress(data: Any, level: int = DEFAULT_LEVEL) -> bytes:
    """Return ``data`` (any buffer) as one gzip member with ``MTIME=0``."""
    if _igzip is not None:
        out = _igzip.compress(data, min(level, 3), _igzip.COMP_GZIP, _igzip.MEM_LEVEL_MIN)
    else:  # pragma: no cover - without isal
        out = zlib.compress(data, level, wbits=_GZIP_WBITS)
    if out[4:8] != b"\0\0\0\0":  # pragma: no cover - both libraries write MTIME=0
        out = out[:4] + b"\0\0\0\0" + out[8:]
    return out


def decompress(data: Any, size: int | None = None) -> bytes:
    """Inflate one tile (``size``: expected output length, a speed hint).

    Gzip framing is tried first (fast path); zlib streams and other variants fall back
    to zlib's auto-detection.  Corrupt data raises `ValueError`.
    """
    bufsize = size if size else 16384
    if _libdeflate is not None and size:
        try:
            # ``size`` bounds the output: a member that inflates to more fails here (and
            # is inflated again below, so the caller sees and reports the real length).
            return _libdeflate.gzip_decompress(data, size)
        except Exception:
            pass
    elif _igzip is not None:
        try:
            return _igzip.decompress(data, _igzip.DECOMP_GZIP, 15, bufsize)
        except Exception:
            pass
    try:
        return zlib.decompress(data, _GZIP_WBITS, bufsize)
    except zlib.error:
        try:
            return zlib.decompress(data, _AUTO_WBITS, bufsize)
        except zlib.error as err:
            raise ValueError(f"corrupt gzip tile ({err})") from None


# ----------------------------------------------------------------------------- noisy planes
#
# In a byte-shuffled (GZIP_2) float tile the low mantissa bytes of noisy pixels are
# essentially random: deflate cannot shrink them, yet compressing them costs most of the
# write time and Huffman-decoding them most of the read time.  Such planes are written as
# deflate *stored* blocks (part of the deflate format, so every gzip reader -- zlib,
# CFITSIO, astropy -- reads the member normally) while the other planes are deflated as
# usual; a member is still one gzip member per tile with the standard CRC32/ISIZE trailer.

#: Bytes sampled from each byte plane of a tile to judge whether it looks random.
NOISE_SAMPLES = 256
#: A plane is stored, not deflated, when its sample holds more distinct byte values than
#: this.  Uniformly random bytes give 162 +- 6 distinct values in 256 samples; a plane
#: drawn from ~180 equally likely values (7.5 bits/byte, where deflate saves under ~5 %)
#: gives ~137, and the structured planes of real images give far fewer.
NOISE_DISTINCT = 137
_STORED_MAX = 65535
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # MTIME=0, OS=unknown: same bytes everywhere
_LAST_EMPTY_BLOCK = b"\x01\x00\x00\xff\xff"

if _igzip is not None:
    from isal import isal_zlib as _stream_lib
else:  # pragma: no cover - without isal
    _stream_lib = zlib  # type: ignore[assignment]


def noisy_planes(planes: Any) -> Any:
    """Which byte planes of each tile look random (``(k, itemsize)`` booleans).

    ``planes`` is ``(k, itemsize, n)`` uint8 (k shuffled tiles).  Every plane of every
    tile is judged from `NOISE_SAMPLES` evenly spaced bytes by counting their distinct
    values, with one `numpy.bincount` for the whole batch; the decision depends on the
    tile alone, so the bytes written do not depend on how tiles are batched across
    threads.  Counting distinct values is a cheaper stand-in for the byte entropy
    (the two rank planes alike), and the estimate needs only a small sample.
    """
    import numpy as np

    k, itemsize, n = planes.shape
    if n < NOISE_SAMPLES or k == 0:
        return np.zeros((k, itemsize), dtype=bool)
    sample = planes[:, :, :: n // NOISE_SAMPLES][:, :, :NOISE_SAMPLES]
    keys = np.arange(k * itemsize, dtype=np.int32).reshape(k, itemsize, 1) << 8
    keys = keys + sample
    seen = np.bincount(keys.ravel(), minlength=k * itemsize * 256).reshape(k, itemsize, 256)
    return np.count_nonzero(seen, axis=2) > NOISE_DISTINCT


@functools.lru_cache(maxsize=64)
def _stored_header(size: int) -> bytes:
    """Header of a non-final deflate stored block of ``size`` bytes (byte-aligned stream)."""
    return bytes((0, size & 0xFF, size >> 8, ~size & 0xFF, (~size >> 8) & 0xFF))


def compress_planes(planes: Any, store: Any, level: int = DEFAULT_LEVEL) -> bytes:
    """One gzip member for a shuffled tile ``(itemsize, n)``, storing planes flagged in ``store``."""
    parts: list[Any] = [_HEADER]
    count = planes.shape[0]
    p = 0
    while p < count:
        if store[p]:
            plane = planes[p]
            for start in range(0, plane.size, _STORED_MAX):
                chunk = plane[start : start + _STORED_MAX]
                size = chunk.size
                parts.append(_stored_header(size))
                parts.append(chunk)
            p += 1
            continue
        q = p
        while q < count and not store[q]:
            q += 1
        deflater = _stream_lib.compressobj(level, zlib.DEFLATED, -15)
        parts.append(deflater.compress(planes[p:q]))
        parts.append(deflater.flush(zlib.Z_SYNC_FLUSH))  # byte-aligned, not final
        p = q
    parts.append(_LAST_EMPTY_BLOCK)
    crc = _stream_lib.crc32(planes) & 0xFFFFFFFF
    parts.append(crc.to_bytes(4, "little") + (planes.size & 0xFFFFFFFF).to_bytes(4, "little"))
    return b"".join(parts)
