"""Mapping between in-memory numpy dtypes and FITS on-disk pixel representations.

FITS stores big-endian signed integers and IEEE floats; unsigned integers (and signed
bytes) are stored with a ``BZERO`` offset, which is a flip of the top bit.  Keeping the
conversions here, written as in-place operations on the destination, lets the codecs
write decoded tiles straight into the caller's output array without temporaries.
"""

from __future__ import annotations

__all__ = ("PixelFormat", "disk_format", "pixel_format_from_header", "to_disk")

import dataclasses
import sys
from typing import Any

import numpy as np

#: True on little-endian hosts (stored FITS bytes must then be reversed within each item).
NATIVE_LITTLE = sys.byteorder == "little"


@dataclasses.dataclass(frozen=True)
class PixelFormat:
    """How stored pixels of one HDU become in-memory values.

    Attributes
    ----------
    bitpix : `int`
        FITS BITPIX (or ZBITPIX) of the stored values.
    disk : `numpy.dtype`
        Big-endian dtype of the stored values.
    memory : `numpy.dtype`
        Native dtype returned to callers.
    flip : `int` or `None`
        Top-bit mask to XOR after a byte-exact copy (unsigned / signed-byte offsets).
    scale : `float` or `None`
        Generic ``BSCALE`` applied as ``value * scale + zero`` (None when not scaled).
    zero : `float`
        Generic ``BZERO`` used with ``scale``.
    blank : `int` or `None`
        Stored integer marking undefined pixels in scaled images (become NaN).
    """

    bitpix: int
    disk: np.dtype
    memory: np.dtype
    flip: int | None = None
    scale: float | None = None
    zero: float = 0.0
    blank: int | None = None

    @property
    def itemsize(self) -> int:
        return self.disk.itemsize

    @property
    def byte_exact(self) -> bool:
        """True when decoding is a byte reordering (plus an optional bit flip)."""
        return self.scale is None and self.memory.itemsize == self.disk.itemsize

    def convert(self, raw: np.ndarray) -> np.ndarray:
        """Convert an array of stored values (disk dtype) into memory values (new array)."""
        if self.scale is not None:
            values = raw.astype(self.memory) * self.memory.type(self.scale) + self.memory.type(self.zero)
            if self.blank is not None:
                values[raw == self.blank] = np.nan
            return values
        out = raw.astype(self.memory)
        if self.flip is not None:
            out.view(f"u{self.memory.itemsize}")[...] ^= np.array(self.flip, dtype=f"u{self.memory.itemsize}")
        return out

    def finish(self, out: np.ndarray) -> None:
        """Apply the in-place bit flip to values copied byte-exactly into ``out``."""
        if self.flip is not None:
            unsigned = out.view(f"u{self.memory.itemsize}")
            unsigned ^= np.array(self.flip, dtype=unsigned.dtype)


def _disk_dtype(bitpix: int) -> np.dtype:
    if bitpix < 0:
        return np.dtype(f">f{-bitpix // 8}")
    if bitpix == 8:
        return np.dtype("u1")
    return np.dtype(f">i{bitpix // 8}")


def disk_format(dtype: np.dtype) -> tuple[int, int | None, np.dtype]:
    """Return ``(BITPIX, BZERO or None, big-endian disk dtype)`` for an in-memory dtype.

    Raises
    ------
    TypeError
        If the dtype cannot be stored in a FITS image (bool, complex, strings...).
    """
    kind, size = dtype.kind, dtype.itemsize
    if kind == "f" and size in (4, 8):
        return -8 * size, None, np.dtype(f">f{size}")
    if kind == "u" and size in (1, 2, 4, 8):
        if size == 1:
            return 8, None, np.dtype("u1")
        return 8 * size, 1 << (8 * size - 1), np.dtype(f">i{size}")
    if kind == "i" and size in (1, 2, 4, 8):
        if size == 1:
            return 8, -128, np.dtype("u1")
        return 8 * size, None, np.dtype(f">i{size}")
    raise TypeError(f"cannot store arrays of dtype {dtype} in FITS images")


def to_disk(array: np.ndarray) -> np.ndarray:
    """Return the stored (big-endian, offset) representation of ``array`` (C-contiguous)."""
    dtype = array.dtype
    if dtype.kind == "u" and dtype.itemsize > 1:
        size = dtype.itemsize
        out = np.empty(array.shape, dtype=f">u{size}")
        np.copyto(out, array)
        out ^= np.array(1 << (8 * size - 1), dtype=f">u{size}")
        return out.view(f">i{size}")
    if dtype.kind == "i" and dtype.itemsize == 1:
        return np.ascontiguousarray(array.view(np.uint8) ^ np.uint8(0x80))
    _, _, disk = disk_format(dtype)
    return np.ascontiguousarray(array, dtype=disk)


def pixel_format_from_header(header: Any, compressed: bool) -> PixelFormat:
    """Describe the stored pixels of an image HDU from its header.

    ``BZERO``/``BSCALE`` that encode unsigned integers or signed bytes give exact
    integer dtypes; any other scaling gives floats (float32 for 8/16-bit and float
    storage, float64 for 32/64-bit integers, as astropy does), with ``BLANK`` (or
    ``ZBLANK`` for compressed integers) mapped to NaN.
    """
    bitpix = int(header["ZBITPIX" if compressed else "BITPIX"])
    disk = _disk_dtype(bitpix)
    bzero = float(header.get("BZERO", 0) or 0)
    bscale = float(header.get("BSCALE", 1) if header.get("BSCALE") is not None else 1)
    if bitpix < 0:
        memory = np.dtype(f"f{-bitpix // 8}")
        if bscale == 1 and bzero == 0:
            return PixelFormat(bitpix, disk, memory)
        return PixelFormat(bitpix, disk, memory, scale=bscale, zero=bzero)
    size = bitpix // 8
    if bscale == 1:
        if bzero == 0:
            return PixelFormat(bitpix, disk, np.dtype("u1") if size == 1 else np.dtype(f"i{size}"))
        if size == 1 and bzero == -128:
            return PixelFormat(bitpix, disk, np.dtype("i1"), flip=0x80)
        if size > 1 and bzero == float(1 << (8 * size - 1)):
            return PixelFormat(bitpix, disk, np.dtype(f"u{size}"), flip=1 << (8 * size - 1))
    blank = header.get("ZBLANK" if compressed else "BLANK")
    memory = np.dtype("f4") if size <= 2 else np.dtype("f8")
    return PixelFormat(
        bitpix, disk, memory, scale=bscale, zero=bzero, blank=None if blank is None else int(blank)
    )
