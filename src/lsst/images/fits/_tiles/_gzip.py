"""Gzip members for GZIP_1/GZIP_2 tiles, with a fixed header and the fastest deflate available.

Every tile is one complete gzip member (RFC 1952), which is what CFITSIO and astropy
expect.  The member header written by zlib/isal with ``wbits=31`` has ``MTIME=0`` (unlike
Python's `gzip` module, which stores the current time), so the same tile always gives the
same bytes.  ``isal.isal_zlib`` (Intel ISA-L) is used when importable: it produces
standard deflate streams several times faster than zlib; both release the GIL, so tiles
compress in parallel threads.
"""

from __future__ import annotations

__all__ = ("DEFAULT_LEVEL", "compress", "decompress", "using_isal")

import zlib
from typing import Any

try:  # pragma: no branch - depends on the installation
    from isal import isal_zlib as _fast

    using_isal = True
    #: isal levels run 0..3; level 1 is close to zlib level 6 in ratio and much faster.
    DEFAULT_LEVEL = 1
except ImportError:  # pragma: no cover - isal is optional
    _fast = zlib  # type: ignore[assignment]
    using_isal = False
    DEFAULT_LEVEL = 1

_GZIP_WBITS = 31
_AUTO_WBITS = 47


def compress(data: Any, level: int = DEFAULT_LEVEL) -> bytes:
    """Return ``data`` (any buffer) as one gzip member with ``MTIME=0``."""
    out = _fast.compress(data, level, wbits=_GZIP_WBITS)
    if out[4:8] != b"\0\0\0\0":  # pragma: no cover - both libraries write MTIME=0
        out = out[:4] + b"\0\0\0\0" + out[8:]
    return out


def decompress(data: Any) -> bytes:
    """Inflate one tile: gzip framing first (fast path), else zlib/gzip auto-detection."""
    try:
        return _fast.decompress(data, wbits=_GZIP_WBITS)
    except Exception:
        # Some writers store zlib streams, or concatenated members; zlib auto-detects the
        # header and raises zlib.error on genuinely corrupt data.
        return zlib.decompress(data, wbits=_AUTO_WBITS)
