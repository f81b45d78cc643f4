"""Pixel representations and the encoding/decoding of one tile.

On disk, FITS stores big-endian signed integers and IEEE floats; unsigned 16/32/64-bit
integers are stored as signed values with ``BZERO = 2**(n-1)`` and int8 as uint8 with
``BZERO = -128`` (both are a flip of the top bit, which is how they are converted here).

A tile payload is, per ``ZCMPTYPE``:

* ``GZIP_1``: gzip of the big-endian element bytes;
* ``GZIP_2``: the same bytes byte-shuffled (all first bytes, then all second bytes, ...)
  before gzip, which compresses floats much better;
* ``RICE_1``: Rice-coded integers of ``BYTEPIX`` bytes;
* ``NOCOMPRESS``: the raw big-endian bytes.

The element type is ``ZBITPIX`` for lossless tiles and int32 for quantized float tiles,
so a tile is inflated exactly once.
"""

from __future__ import annotations

__all__ = (
    "TileDecoder",
    "disk_format",
    "from_disk",
    "memory_dtype",
    "shuffle",
    "to_disk",
    "unshuffle",
)

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _gzip, _quantize, _rice

_LITTLE = sys.byteorder == "little"
GZIP_ALGORITHMS = ("GZIP_1", "GZIP_2")
ALGORITHMS = ("GZIP_1", "GZIP_2", "RICE_1", "NOCOMPRESS", "PLIO_1", "HCOMPRESS_1")


def disk_format(dtype: np.dtype) -> tuple[int, int | None, np.dtype]:
    """``(BITPIX, BZERO or None, big-endian disk dtype)`` for an in-memory dtype."""
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
    raise TypeError(f"cannot store arrays of dtype {dtype} in a FITS image")


def disk_dtype(bitpix: int) -> np.dtype:
    """Big-endian dtype of stored pixels for ``BITPIX``."""
    if bitpix in (-32, -64):
        return np.dtype(f">f{-bitpix // 8}")
    if bitpix == 8:
        return np.dtype("u1")
    if bitpix in (16, 32, 64):
        return np.dtype(f">i{bitpix // 8}")
    raise ValueError(f"invalid BITPIX {bitpix}")


def memory_dtype(bitpix: int, bzero: Any = None, bscale: Any = None) -> np.dtype:
    """Native in-memory dtype of pixels stored with ``BITPIX``/``BZERO``/``BSCALE``.

    The unsigned/int8 offsets give integer types; any other scaling gives floats, as
    astropy does (float32 for 8/16-bit, float64 for wider integers).
    """
    if bitpix < 0:
        return np.dtype(f"f{-bitpix // 8}")
    size = bitpix // 8
    zero = 0.0 if bzero is None else float(bzero)
    scale = 1.0 if bscale is None else float(bscale)
    if scale == 1.0:
        if zero == 0.0:
            return np.dtype("u1") if size == 1 else np.dtype(f"i{size}")
        if size == 1 and zero == -128.0:
            return np.dtype("i1")
        if size > 1 and zero == float(1 << (bitpix - 1)):
            return np.dtype(f"u{size}")
    return np.dtype("f4") if size <= 2 else np.dtype("f8")


def _flip_needed(dtype: np.dtype) -> bool:
    return (dtype.kind == "u" and dtype.itemsize > 1) or (dtype.kind == "i" and dtype.itemsize == 1)


def to_disk(array: np.ndarray) -> np.ndarray:
    """Big-endian stored values of ``array`` (unsigned/int8 offsets applied as bit flips)."""
    dtype = array.dtype
    if dtype.kind == "u" and dtype.itemsize > 1:
        flipped = array ^ np.array(1 << (8 * dtype.itemsize - 1), dtype=dtype)
        return flipped.astype(f">u{dtype.itemsize}").view(f">i{dtype.itemsize}")
    if dtype.kind == "i" and dtype.itemsize == 1:
        return array.view(np.uint8) ^ np.uint8(0x80)
    return array.astype(disk_format(dtype)[2], copy=False)


def from_disk(raw: np.ndarray, out_dtype: np.dtype, bzero: Any = None, bscale: Any = None) -> np.ndarray:
    """Native in-memory values of stored values ``raw`` (any byte order)."""
    if out_dtype.kind == "u" and out_dtype.itemsize > 1:
        unsigned = raw.view(raw.dtype.str[0] + f"u{out_dtype.itemsize}").astype(out_dtype)
        unsigned ^= np.array(1 << (8 * out_dtype.itemsize - 1), dtype=out_dtype)
        return unsigned
    if out_dtype.kind == "i" and out_dtype.itemsize == 1:
        return (raw.astype(np.uint8) ^ np.uint8(0x80)).view(np.int8)
    if out_dtype.kind == "f" and raw.dtype.kind in "iu":
        values = raw.astype(out_dtype)
        scale = 1.0 if bscale is None else float(bscale)
        zero = 0.0 if bzero is None else float(bzero)
        if scale != 1.0:
            values *= scale
        if zero != 0.0:
            values += zero
        return values
    return raw.astype(out_dtype)


def shuffle(be_bytes: np.ndarray, itemsize: int) -> np.ndarray:
    """Byte-shuffle rows of big-endian element bytes: ``(k, n*itemsize)`` -> same shape.

    One strided copy per byte plane: much faster than a single transposing copy, which
    numpy performs byte by byte.
    """
    if itemsize == 1:
        return be_bytes
    k = be_bytes.shape[0]
    src = be_bytes.reshape(k, -1, itemsize)
    out = np.empty((k, itemsize, src.shape[1]), dtype=np.uint8)
    for b in range(itemsize):
        out[:, b, :] = src[:, :, b]
    return out.reshape(k, -1)


def shuffle_native(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Shuffled big-endian bytes ``(k, n*itemsize)`` straight from native rows ``(k, n)``.

    Fuses the byte swap and the shuffle (valid for floats and signed integers, whose
    stored form is just the big-endian value).  ``out``: a uint8 buffer of
    ``values.nbytes`` bytes to write into (else a new array).
    """
    k, n = values.shape
    itemsize = values.dtype.itemsize
    src = np.ascontiguousarray(values).view(np.uint8).reshape(k, n, itemsize)
    if out is None:
        out = np.empty((k, itemsize, n), dtype=np.uint8)
    else:
        out = out.reshape(k, itemsize, n)
    for b in range(itemsize):
        out[:, b, :] = src[:, :, itemsize - 1 - b if _LITTLE else b]
    return out.reshape(k, -1)


def unshuffle(data: np.ndarray, itemsize: int) -> np.ndarray:
    """Inverse of `shuffle` for one tile (flat uint8) -> flat uint8 big-endian element bytes."""
    if itemsize == 1:
        return data
    planes = data.reshape(itemsize, -1)
    out = np.empty((planes.shape[1], itemsize), dtype=np.uint8)
    for b in range(itemsize):
        out[:, b] = planes[b]
    return out.reshape(-1)


def native_from_shuffled(planes: np.ndarray, out: np.ndarray) -> None:
    """Write shuffled big-endian bytes into native elements, un-shuffling and byte-swapping at once.

    ``planes`` is ``(k, itemsize, ...)`` (byte plane ``b`` of tile ``j`` is
    ``planes[j, b]``, of any shape, possibly a strided view); ``out`` is the native
    destination as bytes, ``(k, ..., itemsize)`` with the same middle shape.  One strided
    copy per byte plane.
    """
    itemsize = planes.shape[1]
    for b in range(itemsize):
        out[..., itemsize - 1 - b if _LITTLE else b] = planes[:, b]


class TileDecoder:
    """Decode tiles of one compressed image HDU, with parameters taken from its header."""

    def __init__(self, header: Mapping[str, Any]) -> None:
        self.algorithm = str(header.get("ZCMPTYPE", "")).strip().upper()
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unsupported tile compression ZCMPTYPE={self.algorithm!r}")
        self.zbitpix = int(header["ZBITPIX"])
        self.bzero = header.get("BZERO")
        self.bscale = header.get("BSCALE")
        self.out_dtype = memory_dtype(self.zbitpix, self.bzero, self.bscale)
        params = zparams(header)
        self.blocksize = int(params.get("BLOCKSIZE", 32))
        self.hscale = float(params.get("SCALE", 0) or 0)
        self.hsmooth = int(params.get("SMOOTH", 0) or 0)
        self.bytepix = int(params.get("BYTEPIX", 4 if self.zbitpix < 0 else max(1, self.zbitpix // 8)))
        columns = {
            str(header.get(f"TTYPE{n}", "")).strip().upper() for n in range(1, int(header["TFIELDS"]) + 1)
        }
        self.zscale_const = header.get("ZSCALE") if "ZSCALE" not in columns else None
        self.zzero_const = header.get("ZZERO") if "ZZERO" not in columns else None
        self.quantized = self.zbitpix < 0 and ("ZSCALE" in columns or self.zscale_const is not None)
        quantiz = str(header.get("ZQUANTIZ", "NO_DITHER")).strip().upper()
        self.method = _quantize.DITHER_METHODS.get(quantiz, 0)
        self.zdither0 = int(header.get("ZDITHER0", 1))
        zblank = header.get("ZBLANK")
        self.zblank = None if zblank is None else int(zblank)
        self.disk = disk_dtype(self.zbitpix)
        # Element type inside COMPRESSED_DATA tiles.
        if self.algorithm in ("PLIO_1", "HCOMPRESS_1"):
            self.element = np.dtype("i8") if self.zbitpix == 64 else np.dtype("i4")
        elif self.quantized or (self.zbitpix < 0 and self.algorithm == "RICE_1"):
            self.element = np.dtype(">i4")
        else:
            self.element = self.disk

    @property
    def lossless_gzip(self) -> bool:
        """Tiles are plain (shuffled) gzip of ZBITPIX elements: the batched fast path applies."""
        return self.algorithm in GZIP_ALGORITHMS and not self.quantized

    def integers(self, payload: Any, n: int, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Decode the COMPRESSED_DATA payload of an ``n``-pixel tile into element values."""
        if self.algorithm == "RICE_1":
            return _rice.rice_decompress(payload, n, self.bytepix, self.blocksize)
        if self.algorithm in ("PLIO_1", "HCOMPRESS_1"):
            return self._read_only_codec(payload, n, shape or (1, n))
        size = self.element.itemsize
        raw = bytes(payload) if self.algorithm == "NOCOMPRESS" else _gzip.decompress(payload, n * size)
        if len(raw) != n * size:
            raise ValueError(f"tile inflates to {len(raw)} bytes, expected {n * size}")
        flat = np.frombuffer(raw, dtype=np.uint8)
        if self.algorithm == "GZIP_2":
            flat = unshuffle(flat, size)
        return flat.view(self.element)

    def _read_only_codec(self, payload: Any, n: int, shape: tuple[int, int]) -> np.ndarray:
        """PLIO_1 / HCOMPRESS_1 tiles (written by CFITSIO/fpack), via astropy's compiled decoders.

        These are only read: the library never writes them.
        """
        from astropy.io.fits.hdu.compressed import _compression

        if self.algorithm == "PLIO_1":
            # PLIO words are 16-bit integers (big-endian in the heap, native for the decoder).
            words = np.frombuffer(payload, dtype=">i2").astype(np.int16)
            raw = _compression.decompress_plio_1_c(words.tobytes(), n)
            return np.frombuffer(raw, dtype=np.int32, count=n)
        bytepix = 8 if self.zbitpix == 64 else 4
        raw = _compression.decompress_hcompress_1_c(
            bytes(payload), shape[1], shape[0], int(self.hscale), int(self.hsmooth), bytepix
        )
        return np.frombuffer(raw, dtype=np.int64 if bytepix == 8 else np.int32, count=n)

    def decode(
        self,
        index: int,
        shape: tuple[int, int],
        payload: Any,
        fallback: Any = None,
        fallback_dtype: np.dtype | None = None,
        zscale: float | None = None,
        zzero: float | None = None,
        zblank: int | None = None,
    ) -> np.ndarray:
        """Decode tile ``index`` (0-based storage order) to a native ``shape`` array.

        ``fallback`` is the GZIP_COMPRESSED_DATA (gzip, ``fallback_dtype`` None) or
        UNCOMPRESSED_DATA (raw, ``fallback_dtype`` given) payload used when
        COMPRESSED_DATA is empty.
        """
        n = shape[0] * shape[1]
        if fallback is not None:
            if fallback_dtype is None:
                raw = np.frombuffer(_gzip.decompress(fallback, n * self.disk.itemsize), dtype=self.disk)
            else:
                raw = np.frombuffer(bytes(fallback), dtype=fallback_dtype)
            if raw.size != n:
                raise ValueError(f"uncompressed tile has {raw.size} pixels, expected {n}")
            return from_disk(raw, self.out_dtype, self.bzero, self.bscale).reshape(shape)
        ints = self.integers(payload, n, shape)
        if ints.size != n:
            raise ValueError(f"tile decodes to {ints.size} pixels, expected {n}")
        if self.zbitpix < 0:
            scale = zscale if zscale is not None else self.zscale_const
            zero = zzero if zzero is not None else self.zzero_const
            if not self.quantized:
                scale, zero = 1.0, 0.0
            blank = zblank if zblank is not None else self.zblank
            return _quantize.dequantize_tile(
                ints,
                float(1.0 if scale is None else scale),
                float(0.0 if zero is None else zero),
                self.method,
                index + self.zdither0,
                self.out_dtype,
                blank,
            ).reshape(shape)
        if self.algorithm == "PLIO_1" and _flip_needed(self.out_dtype):
            # CFITSIO codes unsigned images in PLIO (which only takes non-negative values)
            # as their physical values, without the BZERO offset.
            return ints.astype(self.out_dtype).reshape(shape)
        if ints.dtype.itemsize != self.disk.itemsize:
            # Tiles coded with another element size (RICE BYTEPIX, PLIO/HCOMPRESS ints).
            ints = ints.astype(self.disk.newbyteorder("="))
        return from_disk(ints, self.out_dtype, self.bzero, self.bscale).reshape(shape)


def zparams(header: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ZNAMEi``/``ZVALi`` compression parameters as a dict."""
    out = {}
    i = 1
    while f"ZNAME{i}" in header:
        out[str(header[f"ZNAME{i}"]).strip().upper()] = header.get(f"ZVAL{i}")
        i += 1
    return out
