"""Exceptions raised while decoding afw files."""

from __future__ import annotations

__all__ = ("ArchiveReadError", "LegacyFormatError", "UnsupportedLegacyObjectError")

from ..serialization import ArchiveReadError


class LegacyFormatError(ArchiveReadError):
    """An afw file does not follow the layout this reader understands."""


class UnsupportedLegacyObjectError(LegacyFormatError):
    """An archive object has a class this reader cannot (or must not) decode.

    The archive names the class and a Python module to import; neither is ever
    imported, and objects outside the reader's allow-list end up here.
    """
