"""RICE_1 tile codec (BLOCKSIZE 32, BYTEPIX 1/2/4).

Rice coding is a bit-level loop over every pixel; in numpy or pure Python it would be
tens of times slower than the compiled coder.  Rather than adding a C extension to the
build, the engine calls the compiled RICE_1 routines that astropy ships (the CFITSIO
implementation, the same one that wrote the reference files), per tile, from worker
threads.  They take and return *native-endian* integer bytes.
"""

from __future__ import annotations

__all__ = ("rice_compress", "rice_decompress")

from typing import Any

import numpy as np

_RICE_DTYPES = {1: np.dtype("u1"), 2: np.dtype("i2"), 4: np.dtype("i4")}


def _codec() -> Any:
    from astropy.io.fits.hdu.compressed import _compression

    return _compression


def rice_dtype(bytepix: int) -> np.dtype:
    """The integer dtype RICE_1 tiles of ``bytepix`` bytes per pixel decode to."""
    try:
        return _RICE_DTYPES[bytepix]
    except KeyError:
        raise ValueError(f"RICE_1 supports BYTEPIX 1, 2 or 4, not {bytepix}") from None


def rice_compress(values: np.ndarray, blocksize: int = 32) -> bytes:
    """Rice-code an integer array of 1, 2 or 4 bytes per element."""
    if values.dtype.itemsize not in _RICE_DTYPES or values.dtype.kind not in "iu":
        raise TypeError(f"RICE_1 compresses 8, 16 or 32-bit integers, not {values.dtype}")
    native = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
    return _codec().compress_rice_1_c(native.tobytes(), blocksize, native.dtype.itemsize)


def rice_decompress(data: Any, n_pixels: int, bytepix: int, blocksize: int = 32) -> np.ndarray:
    """Decode ``n_pixels`` integers (native endian, ``rice_dtype(bytepix)``)."""
    dtype = rice_dtype(bytepix)
    raw = _codec().decompress_rice_1_c(bytes(data), blocksize, bytepix, n_pixels)
    return np.frombuffer(raw, dtype=dtype, count=n_pixels)
