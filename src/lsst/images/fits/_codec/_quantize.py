"""Lossy quantization of float tiles (FORMAT.md Appendix Q).

The quantization step, zero point and subtractive dither must agree bit for bit with
the reference writer (astropy's compiled copy of the cfitsio routines) for our
quantized integers to equal the reference's for the same seed, so both directions
call those compiled routines per tile; what we own here is the tile bookkeeping: the
dither row number of each tile, NaN handling through ``ZBLANK`` and the fall-back to
lossless storage when a tile cannot be quantized.
"""

from __future__ import annotations

__all__ = ("DITHER_METHODS", "NAN_ZBLANK", "QuantizedTile", "dequantize", "quantize")

import dataclasses
import threading
from typing import Any

import numpy as np

#: ZQUANTIZ names → method codes of the compiled routines.
DITHER_METHODS = {"NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}

#: Integer written for NaN pixels (declared with the ZBLANK header card).
NAN_ZBLANK = -2147483648


_INIT_LOCK = threading.Lock()
_initialized = False


def _c() -> Any:
    """The compiled routines, with their shared dither table initialized exactly once.

    The compiled code fills a global table of dither values lazily on first use, and
    it releases the GIL; two worker threads quantizing their first tiles at the same
    time could then read a half-filled table.  So the first call (under a lock, from
    whichever thread gets there first) dequantizes one dithered pixel to build it.
    """
    global _initialized
    from astropy.io.fits.hdu.compressed import _compression

    if not _initialized:
        with _INIT_LOCK:
            if not _initialized:
                one = np.zeros(1, dtype=np.int32).tobytes()
                _compression.unquantize_float_c(one, 1, 1, 1.0, 0.0, 1, 0, 0, 0.0, 4)
                _initialized = True
    return _compression


@dataclasses.dataclass
class QuantizedTile:
    """Result of quantizing one tile: integers (None when the tile must stay lossless)."""

    ints: np.ndarray | None
    scale: float
    zero: float
    has_nan: bool


def dither_row(tile_index: int, seed: int, method: int) -> int:
    """Row argument of the compiled routines for 0-based tile ``tile_index``."""
    return tile_index + seed if method != -1 else 0


def quantize(values: np.ndarray, tile_index: int, seed: int, method: int, level: float) -> QuantizedTile:
    """Quantize one float tile (any shape) following the tiled-image convention.

    NaNs are replaced by the tile's minimum while quantizing (so they do not disturb
    the noise estimate or the zero point) and then by `NAN_ZBLANK`.
    """
    native = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
    nan = np.isnan(native)
    has_nan = bool(nan.any())
    if has_nan:
        native = native.copy()
        native[nan] = 0 if nan.all() else np.nanmin(native)
    func = _c().quantize_float_c if native.dtype.itemsize == 4 else _c().quantize_double_c
    result = func(native.tobytes(), dither_row(tile_index, seed, method), native.size, 1, 0, 0, level, method)
    qbytes, status, scale, zero = result[:4]
    if status == 0:
        return QuantizedTile(None, 0.0, 0.0, has_nan)
    ints = np.frombuffer(qbytes, dtype=np.int32).copy()
    if has_nan:
        ints[nan.ravel()] = NAN_ZBLANK
    return QuantizedTile(ints, float(scale), float(zero), has_nan)


def dequantize(
    ints: np.ndarray,
    tile_index: int,
    seed: int,
    method: int,
    scale: float,
    zero: float,
    out_dtype: np.dtype,
    zblank: int | None,
) -> np.ndarray:
    """Turn the stored integers of one tile back into floats (NaN where ``zblank``)."""
    native = np.ascontiguousarray(ints, dtype=ints.dtype.newbyteorder("="))
    if method == -1:
        values = (native * scale + zero).astype(out_dtype)
    else:
        func = _c().unquantize_float_c if out_dtype.itemsize == 4 else _c().unquantize_double_c
        raw = func(
            native.tobytes(), dither_row(tile_index, seed, method), native.size, scale, zero, method,
            0, 0, 0.0, native.dtype.itemsize,
        )  # fmt: skip
        values = np.frombuffer(raw, dtype=out_dtype).copy()
    if zblank is not None:
        values[native == zblank] = np.nan
    return values
