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
    "dither_rows",
    "dither_values",
    "estimate_noise",
    "quantize_tile",
)

import dataclasses
import functools
from collections.abc import Sequence

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


@functools.cache
def _dither_windows(n: int) -> np.ndarray:
    """Every run of ``n`` consecutive deviates of the table (float64), as a strided view."""
    return np.lib.stride_tricks.sliding_window_view(dither_table().astype(np.float64), n)


def _dither_starts(rows: Sequence[int], n: int) -> list[int] | None:
    """Table offset of each tile's first deviate, when no tile's run wraps past the table's end.

    A run starts in the first 500 entries, so tiles of at most ``N_RANDOM - 500`` pixels
    never wrap and their deviates are one contiguous window of the table; None otherwise.
    """
    if n > N_RANDOM - 500 or n == 0:
        return None
    table = dither_table()
    iseed = (np.asarray(rows, dtype=np.int64) - 1) % N_RANDOM
    return (table[iseed].astype(np.float64) * 500.0).astype(np.int64).tolist()


def dither_rows(rows: Sequence[int], n: int) -> np.ndarray:
    """`dither_values` for many tiles of ``n`` pixels at once: a ``(len(rows), n)`` array."""
    starts = _dither_starts(rows, n)
    if starts is None:
        return np.stack([dither_values(row, n) for row in rows]).reshape(len(rows), n)
    return _dither_windows(n)[starts]


def _minus_dither(ints: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """``ints - dither_rows(rows, n)`` in float64, converting and subtracting in one pass."""
    n = ints.shape[1]
    starts = _dither_starts(rows, n)
    if starts is None:
        return ints.astype(np.float64) - dither_rows(rows, n)
    windows = _dither_windows(n)
    values = np.empty(ints.shape, dtype=np.float64)
    for j, start in enumerate(starts):
        np.subtract(ints[j], windows[start], out=values[j])
    return values


def _median(values: np.ndarray) -> float:
    """The median CFITSIO's quick-select returns: element ``(n - 1) // 2`` when sorted."""
    k = (len(values) - 1) // 2
    return float(np.partition(values, k)[k])


def estimate_noise(values: np.ndarray) -> tuple[float, float, float, float, float]:
    """Noise estimates of the pixels of one tile (no NaNs), as the reference computes them.

    The tile is treated as one row of pixels (that is how astropy hands tiles to
    CFITSIO's estimator), and differences are computed in the precision of the pixels.

    Returns
    -------
    noise2, noise3, noise5, minval, maxval
        The three MAD estimators (0.0 when they cannot be computed) and the pixel range.
    """
    v = values.ravel()
    minval, maxval = float(v.min()), float(v.max())
    if v.size < 9:
        return 0.0, 0.0, 0.0, minval, maxval
    n = v.size - 8
    v1, v3, v4, v5, v6, v7, v9 = (v[k : k + n] for k in (0, 2, 3, 4, 5, 6, 8))
    two, four, six = (v.dtype.type(c) for c in (2, 4, 6))
    # Positions inside constant runs (five equal values) are ignored by all three estimators.
    keep = ~((v3 == v4) & (v4 == v5) & (v5 == v6) & (v6 == v7))
    if not keep.any():
        return 0.0, 0.0, 0.0, minval, maxval
    with np.errstate(invalid="ignore", over="ignore"):
        k1, k3, k5, k7, k9 = v1[keep], v3[keep], v5[keep], v7[keep], v9[keep]
        d2 = np.abs(k5 - k7)
        d3 = np.abs(two * k5 - k3 - k7)
        d5 = np.abs(six * k5 - four * k3 - four * k7 + k1 + k9)
    x2, x3, x5 = _median(d2), _median(d3), _median(d5)
    return 1.0483579 * x2, 0.6052697 * x3, 0.1772048 * x5, minval, maxval


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
    if has_nulls:
        # The reference replaces NaNs by the tile minimum (0 for an all-NaN tile) before
        # estimating the noise and quantizing, then stores them as NULL_VALUE.
        fill = tile.dtype.type(0) if nan.all() else np.nanmin(tile)
        tile = np.where(nan, fill, tile)
    noise2, noise3, noise5, minval, maxval = estimate_noise(tile)
    params = _scale_and_zero(noise2, noise3, noise5, minval, maxval, level, method)
    if params is None:
        return QuantizedTile(None, 0.0, 0.0, has_nulls)
    delta, zeropt = params
    flat = tile.astype(np.float64).reshape(1, -1)
    out = _quantize_rows(flat, np.array([delta]), np.array([zeropt]), method, [row])[0]
    if has_nulls:
        out[nan.ravel()] = NULL_VALUE
    return QuantizedTile(out.reshape(tile.shape), delta, zeropt, has_nulls)


def _scale_and_zero(
    noise2: float, noise3: float, noise5: float, minval: float, maxval: float, level: float, method: int
) -> tuple[float, float] | None:
    """``(ZSCALE, ZZERO)`` of a tile, or None when it must be stored losslessly."""
    qlevel = float(np.float32(level))
    if qlevel >= 0.0:
        stdev = noise3
        if noise2 != 0.0 and noise2 < stdev:
            stdev = noise2
        if noise5 != 0.0 and noise5 < stdev:
            stdev = noise5
        delta = stdev / 4.0 if qlevel == 0.0 else stdev / qlevel
        if delta == 0.0:  # zero noise: store the tile losslessly
            return None
    else:
        delta = -qlevel
    if (maxval - minval) / delta > 2.0 * _INT_MAX - _N_RESERVED:
        return None
    if method == 2:
        zeropt = minval - delta * (_CFITSIO_NULL + _N_RESERVED)
    elif (maxval - minval) / delta < _INT_MAX - _N_RESERVED:
        zeropt = int(minval / delta + 0.5) * delta
    else:
        zeropt = (minval + maxval) / 2.0
    return delta, zeropt


def _quantize_rows(
    flat: np.ndarray, delta: np.ndarray, zeropt: np.ndarray, method: int, rows: Sequence[int]
) -> np.ndarray:
    """Quantize float64 tiles ``flat`` (one tile per row) with per-tile step and zero point."""
    scaled = flat - zeropt[:, None]
    scaled /= delta[:, None]
    if method in (1, 2):
        scaled += dither_rows(rows, flat.shape[1])
        scaled -= 0.5
    out = _nint(scaled).astype(np.int32)
    if method == 2:
        out[flat == 0.0] = ZERO_VALUE
    return out


def quantize_rows(
    block: np.ndarray, level: float, method: int, rows: Sequence[int]
) -> list[QuantizedTile | None]:
    """Quantize many equally sized tiles at once (one tile per row of ``block``).

    Vectorized over tiles: the noise estimates and the quantization run as a few numpy
    operations on the whole block.  Entries are None for tiles the batched path does
    not handle (NaNs, constant runs, tiles stored losslessly): quantize those with
    `quantize_tile`.  Results are identical to `quantize_tile`.
    """
    k, n = block.shape
    results: list[QuantizedTile | None] = [None] * k
    if n < 9:
        return results
    with np.errstate(invalid="ignore"):
        simple = ~np.isnan(block).any(axis=1)
    v = block
    m = n - 8
    # Constant runs (v3 == v4 == v5 == v6 == v7) from one comparison of neighbours.
    eq = v[:, 1:] == v[:, :-1]
    run = eq[:, 2 : 2 + m] & eq[:, 3 : 3 + m]
    run &= eq[:, 4 : 4 + m]
    run &= eq[:, 5 : 5 + m]
    simple &= ~run.any(axis=1)
    idx = np.flatnonzero(simple)
    if len(idx) == 0:
        return results
    if len(idx) < k:
        v = v[idx]
    v1, v3, v5, v7, v9 = (v[:, j : j + m] for j in (0, 2, 4, 6, 8))
    two, four, six = (v.dtype.type(c) for c in (2, 4, 6))
    kth = (m - 1) // 2
    # Same operation order as the reference's C expressions (float rounding matters).
    with np.errstate(over="ignore", invalid="ignore"):
        d2 = v5 - v7
        np.abs(d2, out=d2)
        d3 = v5 * two
        d3 -= v3
        d3 -= v7
        np.abs(d3, out=d3)
        d5 = v5 * six
        d5 -= v3 * four
        d5 -= v7 * four
        d5 += v1
        d5 += v9
        np.abs(d5, out=d5)
    x2 = np.partition(d2, kth, axis=1)[:, kth].astype(np.float64)
    x3 = np.partition(d3, kth, axis=1)[:, kth].astype(np.float64)
    x5 = np.partition(d5, kth, axis=1)[:, kth].astype(np.float64)
    sub = block[idx]
    mins, maxs = sub.min(axis=1), sub.max(axis=1)
    good, deltas, zeros = [], [], []
    for j, i in enumerate(idx):
        params = _scale_and_zero(
            1.0483579 * float(x2[j]),
            0.6052697 * float(x3[j]),
            0.1772048 * float(x5[j]),
            float(mins[j]),
            float(maxs[j]),
            level,
            method,
        )
        if params is not None:
            good.append(int(i))
            deltas.append(params[0])
            zeros.append(params[1])
    if not good:
        return results
    ints = _quantize_rows(
        block[good].astype(np.float64), np.array(deltas), np.array(zeros), method, [rows[i] for i in good]
    )
    for j, i in enumerate(good):
        results[i] = QuantizedTile(ints[j], deltas[j], zeros[j], False)
    return results


def dequantize_rows(
    ints: np.ndarray,
    zscale: np.ndarray,
    zzero: np.ndarray,
    method: int,
    rows: Sequence[int],
    out_dtype: np.dtype,
    zblank: int | None,
) -> np.ndarray:
    """`dequantize_tile` for many equally sized tiles at once (one tile per row of ``ints``)."""
    if method in (1, 2):
        values = _minus_dither(ints, rows)
        values += 0.5
    else:
        values = ints.astype(np.float64)
    values *= zscale[:, None]
    values += zzero[:, None]
    result = values.astype(out_dtype)
    if method == 2:
        result[ints == ZERO_VALUE] = 0.0
    if zblank is not None:
        result[ints == zblank] = np.nan
    return result


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
