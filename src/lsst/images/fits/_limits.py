"""Sanity limits on the structural cards of an HDU, checked before anything is allocated.

A damaged or crafted header can claim a 10⁹×10⁹ image, a billion table columns, a heap
past the end of the file or tiles that do not add up to the image.  `check_image_hdu`
compares such claims with the bytes the HDU actually has and with limits no real image
reaches, so the reader refuses at once -- instead of allocating terabytes, looping for
minutes over phantom columns, or reshaping buffers that cannot fit.
"""

from __future__ import annotations

__all__ = ("MAX_JSON_DEPTH", "MAX_PIXELS", "check_image_hdu", "check_json_depth")

from collections.abc import Mapping
from typing import Any

from ._common import InvalidFitsArchiveError

#: More pixels than any image this library reads (2**40 ≈ 10¹², 4 TB of float32).
MAX_PIXELS = 1 << 40

#: Most a compressed tile table's pixels may outweigh its bytes.  Deflate tops out near
#: 1032:1 and RICE_1 near 64:1 (per 4-byte pixel); a constant image comes closest.
MAX_EXPANSION = 4096

_BITPIX = {8, 16, 32, 64, -32, -64}

#: Deepest bracket nesting accepted in a JSON tree (real trees stay below 20 levels);
#: deeper documents would exhaust the parsers' recursion limits.
MAX_JSON_DEPTH = 256


def check_json_depth(data: bytes, where: str) -> None:
    """Refuse JSON nested deeper than `MAX_JSON_DEPTH` (brackets inside strings count too)."""
    import numpy as np

    codes = np.frombuffer(data, dtype=np.uint8)
    steps = np.isin(codes, (0x5B, 0x7B)).astype(np.int32) - np.isin(codes, (0x5D, 0x7D)).astype(np.int32)
    if len(steps) and int(np.cumsum(steps).max()) > MAX_JSON_DEPTH:
        raise InvalidFitsArchiveError(f"{where}: JSON nested deeper than {MAX_JSON_DEPTH} levels")


def _int(header: Mapping[str, Any], key: str, where: str, low: int = 0, high: int = 1 << 62) -> int:
    value = header.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFitsArchiveError(f"{where}: card {key} = {value!r} is not an integer")
    if not low <= value <= high:
        raise InvalidFitsArchiveError(f"{where}: card {key} = {value} is outside [{low}, {high}]")
    return value


def check_image_hdu(header: Mapping[str, Any], stored: int, where: str) -> None:
    """Refuse an image HDU (plain or tile-compressed) whose structure cannot be right.

    Parameters
    ----------
    header
        Keyword -> value of the HDU's cards (`._headers.header_values`).
    stored
        Bytes the file holds for the HDU's data part (from the INDEX, checked against
        the file length).
    where
        ``"<file>: HDU '<name>'"`` for messages.
    """
    bitpix = _int(header, "BITPIX", where, -64, 64)
    if bitpix not in _BITPIX:
        raise InvalidFitsArchiveError(f"{where}: BITPIX = {bitpix} is not a FITS data type")
    naxis = _int(header, "NAXIS", where, 0, 999)
    axes = [_int(header, f"NAXIS{i}", where) for i in range(1, naxis + 1)]
    pcount = _int(header, "PCOUNT", where) if "PCOUNT" in header else 0
    gcount = _int(header, "GCOUNT", where, 1, 1) if "GCOUNT" in header else 1
    count = 1 if axes else 0
    for n in axes:
        count *= n
        if count > MAX_PIXELS * 8:
            raise InvalidFitsArchiveError(f"{where}: NAXISn = {axes} describe an absurdly large data part")
    size = abs(bitpix) // 8 * gcount * (count + pcount)
    if size > stored:
        raise InvalidFitsArchiveError(
            f"{where}: the header describes {size} bytes of data but the file holds {stored} "
            "(truncated file or damaged NAXISn/PCOUNT)"
        )
    if not header.get("ZIMAGE", False):
        if count > MAX_PIXELS:
            raise InvalidFitsArchiveError(f"{where}: {count} pixels exceed the limit of {MAX_PIXELS}")
        return
    _check_tile_table(header, axes, pcount, size, where)


def _check_tile_table(header: Mapping[str, Any], axes: list[int], pcount: int, size: int, where: str) -> None:
    """The compressed-image table: columns, heap and tiles consistent with each other."""
    if len(axes) != 2 or header.get("XTENSION") != "BINTABLE":
        raise InvalidFitsArchiveError(f"{where}: a compressed image must be a 2-d BINTABLE")
    row_bytes, rows = axes
    _int(header, "TFIELDS", where, 1, 999)
    theap = _int(header, "THEAP", where) if "THEAP" in header else row_bytes * rows
    if not row_bytes * rows <= theap <= row_bytes * rows + pcount:
        raise InvalidFitsArchiveError(f"{where}: THEAP = {theap} points outside the table's heap")
    zbitpix = _int(header, "ZBITPIX", where, -64, 64)
    if zbitpix not in _BITPIX:
        raise InvalidFitsArchiveError(f"{where}: ZBITPIX = {zbitpix} is not a FITS data type")
    znaxis = _int(header, "ZNAXIS", where, 1, 999)
    shape = [_int(header, f"ZNAXIS{i}", where) for i in range(1, znaxis + 1)]
    pixels = 1
    tiles = 1
    for i, n in enumerate(shape, start=1):
        pixels *= n
        default = n if i == 1 else 1
        tile = _int(header, f"ZTILE{i}", where, 1) if f"ZTILE{i}" in header else default
        tiles *= -(-n // tile) if n else 0
        if pixels > MAX_PIXELS:
            raise InvalidFitsArchiveError(
                f"{where}: ZNAXISn = {shape} exceed the limit of {MAX_PIXELS} pixels"
            )
    if tiles != rows:
        raise InvalidFitsArchiveError(
            f"{where}: the tile table has {rows} rows but ZNAXISn/ZTILEn make {tiles} tiles"
        )
    if pixels * abs(zbitpix) // 8 > MAX_EXPANSION * max(size, 1) + (1 << 20):
        raise InvalidFitsArchiveError(
            f"{where}: {size} bytes of tiles cannot hold a {shape} image (damaged ZNAXISn?)"
        )
