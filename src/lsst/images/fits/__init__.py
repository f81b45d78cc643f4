"""FITS archives: Rubin's multi-extension FITS layout for image-like objects.

A file is a data-less primary HDU whose locator cards (``INDXADDR``, ``INDXSIZE``,
``JSONADDR``, ``JSONSIZE``) point at the last two HDUs; one image HDU per stored array
(EXTNAME = upper-cased archive path, e.g. ``IMAGE``, ``MASK``, ``VARIANCE``,
``BACKGROUNDS/FIELDS/FINE/DATA``; EXTVER 2, 3, ... for repeats), tile-compressed by
default (lossless GZIP_2, one tile per row); a ``JSON`` BINTABLE whose row 0 holds the
object's JSON tree; and an ``INDEX`` BINTABLE with every HDU's byte offsets.  See
FORMAT.md for the byte-level contract.

Use `write` / `read` (or the ``write_fits`` / ``read_fits`` methods of the image
classes).  Both the 2100 layout (lsst-images 30.2026.2100, the default for writing)
and the 4300 layout (schema-versioned, Rubin DP2; ``write(..., layout="4300")``) are
read, detected from the ``FMTVER`` card; 4300 trees are adapted to the in-memory
models (``yx0``/``sky_projection`` renames, schema stamps, inline spline data), and
opaque primary cards stay header cards (2100 semantics, not copied into ``metadata``).
Writes are atomic (a temporary file in the target folder renamed into place).
``FitsInputArchive.get_compression_options()`` returns a file's storage settings in
the form ``write(compression_options=...)`` accepts, for faithful rewrites.

Errors
------
Every problem with the file itself -- not FITS, no locator cards (a file written by
another tool), empty or truncated files, locator/INDEX offsets pointing outside the
file, unparsable JSON, a tree that does not validate, HDUs missing from the INDEX,
tiles that do not decompress -- raises `InvalidFitsArchiveError` (a subclass of
`lsst.images.serialization.ArchiveReadError`, hence of `RuntimeError`) whose message
starts with the file name.  A missing file raises `FileNotFoundError`.  A sub-image
``bbox`` that is not inside the stored image raises `IndexError`.
"""

from __future__ import annotations

__all__ = (
    "ExtensionHDU",
    "ExtensionKey",
    "FITS_SOURCE_REGEX",
    "FitsCompressionAlgorithm",
    "FitsCompressionOptions",
    "FitsDitherAlgorithm",
    "FitsInputArchive",
    "FitsOpaqueMetadata",
    "FitsOutputArchive",
    "FitsQuantizationOptions",
    "InvalidFitsArchiveError",
    "JSON_COLUMN",
    "JSON_EXTNAME",
    "PointerModel",
    "PrecompressedImage",
    "add_offset_wcs",
    "read",
    "strip_butler_cards",
    "strip_legacy_exposure_cards",
    "strip_wcs_cards",
    "write",
)

from typing import TYPE_CHECKING, Any

from ._common import JSON_COLUMN, JSON_EXTNAME, InvalidFitsArchiveError, PointerModel
from ._headers import add_offset_wcs, strip_wcs_cards
from ._opaque import (
    FITS_SOURCE_REGEX,
    ExtensionKey,
    FitsOpaqueMetadata,
    PrecompressedImage,
    strip_butler_cards,
    strip_legacy_exposure_cards,
)
from ._options import (
    FitsCompressionAlgorithm,
    FitsCompressionOptions,
    FitsDitherAlgorithm,
    FitsQuantizationOptions,
)

if TYPE_CHECKING:
    from ._input import FitsInputArchive
    from ._output import FitsOutputArchive
    from ._read import read
    from ._write import write

#: Names loaded on first use: the reader/writer classes cost import time that
#: ``import lsst.images`` should not pay (see `__getattr__`).
_LAZY = {"FitsInputArchive": "_input", "read": "_read", "FitsOutputArchive": "_output", "write": "_write"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    # ExtensionHDU names astropy HDU classes; build it on first use so that importing
    # this package does not import astropy.io.fits.
    if name == "ExtensionHDU":
        from astropy.io import fits

        return fits.ImageHDU | fits.CompImageHDU | fits.BinTableHDU
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
