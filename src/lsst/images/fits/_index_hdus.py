"""The two HDUs that end every archive: JSON (the tree and its pointer rows) and INDEX.

INDEX lists every HDU from the primary through JSON with its header and data addresses,
so a reader finds any array with one small read (FORMAT.md); `IndexRow` is one entry,
recorded by the writer as each HDU lands in the file.
"""

from __future__ import annotations

__all__ = ("INDEX_COLUMNS", "IndexRow", "index_hdu", "json_hdu", "make_pointer", "model_json")

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ..serialization import ArrayReferenceModel, NumberType, TableColumnModel
from ._common import JSON_COLUMN, JSON_EXTNAME, PointerModel

if TYPE_CHECKING:
    import astropy.io.fits

INDEX_COLUMNS = ("EXTNAME", "EXTVER", "XTENSION", "ZIMAGE", "HDRADDR", "DATADDR", "DATSIZE")


@dataclasses.dataclass(slots=True)
class IndexRow:
    """Where one HDU landed in the file (one row of the INDEX table)."""

    name: str
    ver: int
    xtension: str
    zimage: bool
    hdraddr: int
    dataddr: int
    datsize: int


def model_json(model: Any) -> bytes:
    """Compact JSON bytes of a tree (pydantic model, dict or bytes), NaN written as tokens."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if hasattr(model, "model_dump_json"):
        return model.model_dump_json().encode("utf-8")
    # Plain JSON values (e.g. 4300-layout trees): use pydantic's serializer so that floats
    # are spelled exactly as a model dump would spell them (0.00001, not 1e-05).
    import pydantic_core

    return pydantic_core.to_json(model, inf_nan_mode="constants")


def make_pointer(row: int, nbytes: int) -> PointerModel:
    column = TableColumnModel(
        name=JSON_COLUMN,
        data=ArrayReferenceModel(source=f"fits:{JSON_EXTNAME}[1]", shape=[nbytes], datatype=NumberType.uint8),
    )
    return PointerModel(column=column, row=row)


def json_hdu(rows: list[bytes]) -> tuple[astropy.io.fits.Header, bytes]:
    """Header and data (descriptors + heap) of the JSON HDU: one ``PB(n)`` column."""
    from astropy.io import fits

    descriptors = np.empty((len(rows), 2), dtype=">i4")
    offset = 0
    for i, row in enumerate(rows):
        descriptors[i] = (len(row), offset)
        offset += len(row)
    header = fits.Header()
    header["XTENSION"] = ("BINTABLE", "binary table extension")
    header["BITPIX"] = (8, "array data type")
    header["NAXIS"] = (2, "number of array dimensions")
    header["NAXIS1"] = (8, "length of dimension 1")
    header["NAXIS2"] = (len(rows), "length of dimension 2")
    header["PCOUNT"] = (offset, "number of group parameters")
    header["GCOUNT"] = (1, "number of groups")
    header["TFIELDS"] = (1, "number of table fields")
    header["TTYPE1"] = JSON_COLUMN
    header["TFORM1"] = f"PB({max(len(r) for r in rows)})"
    header["EXTNAME"] = (JSON_EXTNAME, "extension name")
    return header, descriptors.tobytes() + b"".join(rows)


def index_hdu(rows: list[IndexRow]) -> tuple[astropy.io.fits.Header, bytes]:
    """Header and data of the INDEX HDU listing every HDU from the primary through JSON."""
    from astropy.io import fits

    width = max(1, max(len(r.name) for r in rows))
    dtype = np.dtype(
        [
            ("EXTNAME", f"S{width}"),
            ("EXTVER", ">i4"),
            ("XTENSION", "S8"),
            ("ZIMAGE", "S1"),
            ("HDRADDR", ">i8"),
            ("DATADDR", ">i8"),
            ("DATSIZE", ">i8"),
        ]
    )
    table = np.zeros(len(rows), dtype=dtype)
    for i, r in enumerate(rows):
        table[i] = (
            r.name.encode("ascii"),
            r.ver,
            r.xtension.encode("ascii"),
            b"T" if r.zimage else b"F",
            r.hdraddr,
            r.dataddr,
            r.datsize,
        )
    header = fits.Header()
    header["XTENSION"] = ("BINTABLE", "binary table extension")
    header["BITPIX"] = (8, "array data type")
    header["NAXIS"] = (2, "number of array dimensions")
    header["NAXIS1"] = (dtype.itemsize, "length of dimension 1")
    header["NAXIS2"] = (len(rows), "length of dimension 2")
    header["PCOUNT"] = (0, "number of group parameters")
    header["GCOUNT"] = (1, "number of groups")
    header["TFIELDS"] = (7, "number of table fields")
    forms = (f"{width}A", "J", "8A", "L", "K", "K", "K")
    for i, (name, form) in enumerate(zip(INDEX_COLUMNS, forms, strict=True), start=1):
        header[f"TTYPE{i}"] = name
        header[f"TFORM{i}"] = form
    header["EXTNAME"] = ("INDEX", "extension name")
    return header, table.tobytes()
