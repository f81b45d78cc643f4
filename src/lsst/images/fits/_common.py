"""Names shared by the FITS archive reader and writer."""

from __future__ import annotations

__all__ = ("JSON_COLUMN", "JSON_EXTNAME", "INDEX_EXTNAME", "InvalidFitsArchiveError", "PointerModel")

import pydantic

from ..serialization import ArchiveReadError, TableColumnModel

#: EXTNAME of the BINTABLE HDU holding the JSON tree.
JSON_EXTNAME = "JSON"

#: Name of the variable-length byte column of the JSON HDU.
JSON_COLUMN = "JSON"

#: EXTNAME of the final HDU listing every HDU's byte offsets.
INDEX_EXTNAME = "INDEX"


class InvalidFitsArchiveError(ArchiveReadError):
    """A file is not a readable lsst.images FITS archive.

    Raised for files written by other tools (no locator cards), and for truncated,
    empty or corrupted archives (bad JSON, wrong offsets, undecodable tiles, missing
    HDUs).  The message always names the file and what is wrong.  It derives from
    `ArchiveReadError` (itself a `RuntimeError`), so ``except RuntimeError`` also works.
    """


class PointerModel(pydantic.BaseModel):
    """Reference to an out-of-line JSON subtree: a row of the JSON HDU's byte column."""

    column: TableColumnModel
    row: int
