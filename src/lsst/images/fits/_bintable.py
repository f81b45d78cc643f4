"""Decoding plain FITS binary tables with numpy alone.

The tables lsst.images stores (provenance, aperture corrections, PSF tables) have
fixed-width numeric, logical and character columns only.  Parsing them through
astropy.io.fits and astropy.table costs a few hundred milliseconds of imports on
first use, more than a whole cut-out read; `decode_bintable` reads such a table
straight into a numpy structured array instead.  Anything else (variable-length
arrays, bit columns, scaled columns) returns None, for the caller to use astropy.
"""

from __future__ import annotations

__all__ = ("decode_bintable",)

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

_TFORM = re.compile(r"^\s*(\d*)([LBIJKEDA])\s*$")
_DISK = {"L": "S1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
#: TZERO values that turn a signed disk type into the unsigned one (and B into int8).
_OFFSETS = {"B": (-128, "i1"), "I": (1 << 15, "u2"), "J": (1 << 31, "u4"), "K": (1 << 63, "u8")}


def _shape(repeat: int, tdim: Any) -> tuple[int, ...]:
    if tdim is None:
        return () if repeat == 1 else (repeat,)
    dims = tuple(int(d) for d in str(tdim).strip().strip("()").split(",") if d.strip())
    if int(np.prod(dims)) != repeat:
        raise ValueError(f"TDIM {tdim!r} does not match a repeat count of {repeat}")
    return tuple(reversed(dims))


def decode_bintable(header: Mapping[str, Any], data: bytes | memoryview) -> np.ndarray | None:
    """Return the rows of a binary table HDU as a native-endian structured array.

    Parameters
    ----------
    header
        The HDU's card values (`._headers.header_values`).
    data
        The data part (at least ``NAXIS1 * NAXIS2`` bytes).

    Returns
    -------
    numpy.ndarray | None
        Columns named after ``TTYPEn``; ``L`` as bool, ``A`` as str (trailing blanks
        removed), ``TZERO`` offsets applied to give unsigned integers.  None if a
        column uses a feature this decoder leaves to astropy.

    Raises
    ------
    ValueError
        If the header is inconsistent (row width, missing cards, data too short).
    """
    nfields = int(header["TFIELDS"])
    width, nrows = int(header["NAXIS1"]), int(header["NAXIS2"])
    if nrows < 0 or width < 0 or len(data) < width * nrows:
        raise ValueError(f"table data has {len(data)} bytes, not {width} x {nrows}")
    if int(header.get("PCOUNT", 0)) != 0:
        return None
    fields, kinds = [], []
    for n in range(1, nfields + 1):
        match = _TFORM.match(str(header[f"TFORM{n}"]))
        if match is None or float(header.get(f"TSCAL{n}", 1)) != 1.0:
            return None
        repeat, code = int(match.group(1) or 1), match.group(2)
        zero = header.get(f"TZERO{n}", 0)
        name = str(header.get(f"TTYPE{n}", f"col{n}")).strip()
        if code == "A":
            disk, shape = f"S{repeat}", ()
        else:
            disk, shape = _DISK[code], _shape(repeat, header.get(f"TDIM{n}"))
        if zero not in (0, 0.0) and (code not in _OFFSETS or zero != _OFFSETS[code][0]):
            return None
        fields.append((name, disk, shape))
        kinds.append((code, zero not in (0, 0.0)))
    dtype = np.dtype(fields)
    if dtype.itemsize != width:
        raise ValueError(
            f"columns {[f[:2] for f in fields]} are {dtype.itemsize} bytes wide, NAXIS1 says {width}"
        )
    stored = np.frombuffer(data, dtype=dtype, count=nrows)
    out_fields = []
    for (name, disk, shape), (code, offset) in zip(fields, kinds, strict=True):
        if code == "L":
            out_fields.append((name, "?", shape))
        elif code == "A":
            out_fields.append((name, f"U{max(1, int(disk[1:]))}", shape))
        elif offset:
            out_fields.append((name, _OFFSETS[code][1], shape))
        else:
            out_fields.append((name, np.dtype(disk).newbyteorder("="), shape))
    out = np.empty(nrows, dtype=out_fields)
    for (name, _, _), (code, offset) in zip(fields, kinds, strict=True):
        column = stored[name]
        if code == "L":
            out[name] = column == b"T"
        elif code == "A":
            out[name] = np.char.rstrip(np.char.decode(column, "ascii", "replace"))
        elif offset:
            # Adding TZERO = 2**(bits-1) (or -128 for B) is flipping the top bit.
            native = np.ascontiguousarray(column, dtype=column.dtype.newbyteorder("="))
            unsigned = native.view(f"u{native.dtype.itemsize}")
            flipped = unsigned ^ np.array(1 << (8 * native.dtype.itemsize - 1), dtype=unsigned.dtype)
            out[name] = flipped.view(_OFFSETS[code][1])
        else:
            out[name] = column
    return out
