"""Lossy quantization of float tiles, as the FITS tiled-image convention defines it.

Implements FORMAT.md Appendix Q with vectorized numpy, following CFITSIO's arithmetic
(double precision, ``float`` quantization level, ``NINT`` rounding half away from zero)
so that, for the same input and ``ZDITHER0``, the quantized integers, ``ZSCALE`` and
``ZZERO`` equal what astropy/CFITSIO write:

* `dither_table` -- the 10 000 Park-Miller uniform deviates (float32);
* `dither_values` -- the deviates used by one tile (the sequence advances for every
  pixel, NaNs included);
* `estimate_noise` -- the three median-absolute-difference noise estimators (orders 2,
  3 and 5, computed per row, median over rows);
* `quantize_tile` / `dequantize_tile`.

A NaN is stored as `NULL_VALUE` (the header ``ZBLANK``, as astropy writes it); with
SUBTRACTIVE_DITHER_2 an exact 0.0 is stored as `ZERO_VALUE` and decodes to exactly 0.0.
"""

from __future__ import annotations

__all__ = (
    "N_RANDOM",
    "NULL_VALUE",
    "ZERO_VALUE",
    "QuantizedTile",
    "dequantize_tile",
    "dither_table",
    "dither_values",
    "estimate_noise",
    "quantize_tile",
)

import dataclasses
import functools

import numpy as np

N_RANDOM = 10000
#: Integer stored for NaN pixels (astropy writes this value as the header ZBLANK).
NULL_VALUE = -2147483648
#: Integer stored for exact zeros with SUBTRACTIVE_DITHER_2.
ZERO_VALUE = -2147483646
#: CFITSIO's undefined-pixel integer, used to place the SUBTRACTIVE_DITHER_2 zero point.
_CFITSIO_NULL = -2147483647
_N_RESERVED = 10
_INT_MAX = 2147483647.0

DITHER_METHODS = {"NO_DITHER": 0, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}


@functools.cache
def dither_table() -> np.ndarray:
    """The 10 000 float32 uniform deviates of the convention (Park-Miller, seed 1)."""
    a, m, seed = 16807.0, 2147483647.0, 1.0
    out = np.empty(N_RANDOM, dtype=np.float32)
    for i in range(N_RANDOM):
        temp = a * seed
        seed = temp - m * int(temp / m)
        out[i] = seed / m
    if int(seed) != 1043618065:  # pragma: no cover - self-check of the convention
        raise RuntimeError("dither table self-check failed")
    out.flags.writeable = False
    return out


def dither_values(row: int, n: int) -> np.ndarray:
    """Deviates (float64) for the ``n`` pixels of the tile whose dither row is ``row``.

    ``row`` is ``tile_number + ZDITHER0 - 1`` (tile numbers start at 1).
    """
    table = dither_table()
    iseed = (row - 1) % N_RANDOM
    pieces = []
    left = n
    while left > 0:
        start = int(table[iseed] * 500.0)
        take = min(left, N_RANDOM - start)
        pieces.append(table[start : start + take])
        left -= take
        iseed = (iseed + 1) % N_RANDOM
    if not pieces:
        return np.zeros(0, dtype=np.float64)
    return np.concatenate(pieces).astype(np.float64)


def _lower_median(values: np.ndarray) -> float:
    """CFITSIO's quick-select median: element ``(n - 1) // 2`` of the sorted values."""
    k = (len(values) - 1) // 2
    return float(np.partition(values, k)[k])


def _median_of_rows(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    s = sorted(values)
    n = len(s)
    return (s[(n - 1) // 2] + s[n // 2]) / 2.0


def estimate_noise(
    tile: np.ndarray, good: np.ndarray | None
) -> tuple[float, float, float, int, float, float]:
    """Noise estimates of a 2-D float tile, CFITSIO style.

    Parameters
    ----------
    tile
        The tile values, shape ``(ny, nx)``.
    good
        Boolean mask of non-null pixels (None when there are no nulls).

    Returns
    -------
    noise2, noise3, noise5, ngood, minval, maxval
        The three MAD estimators (0.0 when they cannot be computed), the number of good
        pixels and their range.
    """
    ny, nx = tile.shape
    if nx < 9:
        tile = tile.reshape(1, -1)
        good = None if good is None else good.reshape(1, -1)
        ny, nx = tile.shape
    flat = tile.ravel() if good is None else tile[good]
    ngood = int(flat.size)
    if ngood == 0:
        return 0.0, 0.0, 0.0, 0, 0.0, 0.0
    minval, maxval = float(flat.min()), float(flat.max())
    if nx < 9:
        return 0.0, 0.0, 0.0, ngood, minval, maxval
    rows2: list[float] = []
    rows3: list[float] = []
    rows5: list[float] = []
    for y in range(ny):
        v = tile[y] if good is None else tile[y][good[y]]
        if v.size < 9:
            continue
        v = v.astype(np.float64)
        v1, v3, v4, v5, v6, v7, v9 = (v[k : v.size - 8 + k] for k in (0, 2, 3, 4, 5, 6, 8))
        flat3 = (v5 == v6) & (v6 == v7)
        keep2 = ~flat3
        keep = ~(flat3 & (v3 == v4) & (v4 == v5))
        nvals = int(keep.sum())
        if nvals == 0:
            continue
        d3 = np.abs(2.0 * v5[keep] - v3[keep] - v7[keep])
        d5 = np.abs(6.0 * v5[keep] - 4.0 * v3[keep] - 4.0 * v7[keep] + v1[keep] + v9[keep])
        d2 = np.abs(v5[keep2] - v7[keep2])
        if nvals == 1:
            if d2.size == 1:
                rows2.append(float(d2[0]))
            rows3.append(float(d3[0]))
            rows5.append(float(d5[0]))
        else:
            if d2.size > 1:
                rows2.append(_lower_median(d2))
            rows3.append(_lower_median(d3))
            rows5.append(_lower_median(d5))
    noise2 = 1.0483579 * _median_of_rows(rows2)
    noise3 = 0.6052697 * _median_of_rows(rows3)
    noise5 = 0.1772048 * _median_of_rows(rows5)
    return noise2, noise3, noise5, ngood, minval, maxval


@dataclasses.dataclass
class QuantizedTile:
    """Result of quantizing one tile (``values`` is None when it could not be quantized)."""

    values: np.ndarray | None
    zscale: float
    zzero: float
    has_nulls: bool


def _nint(x: np.ndarray) -> np.ndarray:
    """C ``NINT``: round half away from zero, then truncate to int."""
    return np.trunc(x + np.copysign(0.5, x))


def quantize_tile(tile: np.ndarray, level: float, method: int, row: int) -> QuantizedTile:
    """Quantize a 2-D float tile to int32.

    Parameters
    ----------
    tile
        Float values of the tile (2-D; NaN marks undefined pixels).
    level
        Quantization level ``q``: ``q > 0`` -> ``ZSCALE = noise / q``; ``q == 0`` -> noise / 4;
        ``q < 0`` -> ``ZSCALE = -q``.  Used in single precision, like CFITSIO.
    method
        0 = NO_DITHER, 1 = SUBTRACTIVE_DITHER_1, 2 = SUBTRACTIVE_DITHER_2.
    row
        Dither row (``tile_number + ZDITHER0 - 1``); ignored without dithering.
    """
    nan = np.isnan(tile)
    has_nulls = bool(nan.any())
    good = ~nan if has_nulls else None
    qlevel = float(np.float32(level))
    noise2, noise3, noise5, ngood, minval, maxval = estimate_noise(tile, good)
    if qlevel >= 0.0:
        if has_nulls and ngood == 0:
            minval, maxval, stdev = 0.0, 1.0, 1.0
        else:
            stdev = noise3
            if noise2 != 0.0 and noise2 < stdev:
                stdev = noise2
            if noise5 != 0.0 and noise5 < stdev:
                stdev = noise5
        delta = stdev / 4.0 if qlevel == 0.0 else stdev / qlevel
        if delta == 0.0:
            return QuantizedTile(None, 0.0, 0.0, has_nulls)
    else:
        delta = -qlevel
    if (maxval - minval) / delta > 2.0 * _INT_MAX - _N_RESERVED:
        return QuantizedTile(None, 0.0, 0.0, has_nulls)
    if method == 2:
        zeropt = minval - delta * (_CFITSIO_NULL + _N_RESERVED)
    elif (maxval - minval) / delta < _INT_MAX - _N_RESERVED:
        zeropt = int(minval / delta + 0.5) * delta
    else:
        zeropt = (minval + maxval) / 2.0
    flat = tile.astype(np.float64).ravel()
    scaled = (flat - zeropt) / delta
    if method in (1, 2):
        scaled += dither_values(row, flat.size)
        scaled -= 0.5
    with np.errstate(invalid="ignore"):
        ints = _nint(scaled)
        if has_nulls:
            ints[nan.ravel()] = 0
        out = ints.astype(np.int32)
    if method == 2:
        out[flat == 0.0] = ZERO_VALUE
    if has_nulls:
        out[nan.ravel()] = NULL_VALUE
    return QuantizedTile(out.reshape(tile.shape), delta, zeropt, has_nulls)


def dequantize_tile(
    ints: np.ndarray,
    zscale: float,
    zzero: float,
    method: int,
    row: int,
    out_dtype: np.dtype,
    zblank: int | None,
) -> np.ndarray:
    """Invert `quantize_tile`: ``(i - r + 0.5) * ZSCALE + ZZERO`` (or ``i * ZSCALE + ZZERO``).

    Integers equal to ``zblank`` become NaN; with SUBTRACTIVE_DITHER_2, `ZERO_VALUE`
    becomes exactly 0.0.
    """
    flat = ints.ravel()
    values = flat.astype(np.float64)
    if method in (1, 2):
        values -= dither_values(row, flat.size)
        values += 0.5
    values *= zscale
    values += zzero
    result = values.astype(out_dtype)
    if method == 2:
        result[flat == ZERO_VALUE] = 0.0
    if zblank is not None:
        result[flat == zblank] = np.nan
    return result.reshape(ints.shape)
