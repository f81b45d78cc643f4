"""Gzip members for GZIP_1/GZIP_2 tiles, with a fixed header and the fastest deflate available.

Every tile is one complete gzip member (RFC 1952), which is what CFITSIO and astropy
expect.  The member headers written here have ``MTIME=0`` (unlike Python's `gzip`
module, which stores the current time), so the same tile always gives the same bytes.

Intel ISA-L (``isal.igzip_lib``) is used when importable: it writes standard deflate
streams several times faster than zlib.  We use level 1 with ISA-L's smallest memory
level: measured on 4096-pixel float rows (benchmarks/bench_tiles.py) it compresses
~2x slower than the default memory level but gives ~4 % smaller tiles that inflate
~3x faster (reading matters more than writing), and it is still ~8x faster than
zlib's default level.  Both ISA-L and zlib release the GIL, so tiles compress in
parallel threads.  Inflating with the exact output size (known from the tile shape)
avoids re-allocating the output buffer.
"""

from __future__ import annotations

__all__ = ("DEFAULT_LEVEL", "compress", "decompress", "using_isal")

import zlib
from typing import Any

try:  # pragma: no branch - depends on the installation
    from isal import igzip_lib as _igzip

    using_isal = True
except ImportError:  # pragma: no cover - isal is optional
    _igzip = None
    using_isal = False

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

    Gzip framing is tried first (fast path); zlib streams, concatenated members and
    other variants fall back to zlib's auto-detection, which raises `zlib.error` on
    genuinely corrupt data.
    """
    bufsize = size if size else 16384
    if _igzip is not None:
        try:
            return _igzip.decompress(data, _igzip.DECOMP_GZIP, 15, bufsize)
        except Exception:
            pass
    try:
        return zlib.decompress(data, _GZIP_WBITS, bufsize)
    except zlib.error:
        return zlib.decompress(data, _AUTO_WBITS, bufsize)
