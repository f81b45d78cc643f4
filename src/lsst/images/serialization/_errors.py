"""Exception types raised while reading or writing archives."""

from __future__ import annotations

__all__ = ("ArchiveReadError", "InvalidComponentError", "InvalidParameterError", "UnsupportedTableError")


class ArchiveReadError(RuntimeError):
    """Archive contents could not be read.

    Every format backend raises this (or a subclass) for files that are
    truncated, corrupted or structurally unexpected, so callers can catch one
    type regardless of the storage format.
    """


class InvalidComponentError(ArchiveReadError):
    """A component name was requested that the stored object does not have."""


class InvalidParameterError(ArchiveReadError):
    """A read keyword argument is not supported by the type being read."""


class UnsupportedTableError(NotImplementedError):
    """A table structure (e.g. variable-length or object columns) cannot be stored."""
