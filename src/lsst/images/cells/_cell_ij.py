"""`CellIJ`: the (row, column) index of a cell in a cell grid."""

from __future__ import annotations

__all__ = ("CellIJ",)

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, order=True)
class CellIJ:
    """Index ``(i, j)`` = (row, column) of a cell in a `CellGrid`.

    Cell ``(0, 0)`` starts at the grid's bbox start; ``i`` grows with ``y`` and ``j``
    with ``x``.  Indices are ordered row-major (``i`` first), so sorting a set of
    them gives the row-major order the file layouts use.

    It is deliberately *not* a sequence: ``(i, j)`` and ``(y, x)`` pairs are too easy
    to confuse, so unpacking must be explicit (`as_tuple`).  ``+`` and ``-`` work
    element by element (offsets between grids and subgrids).

    Serialized as ``{"i": ..., "j": ...}``.
    """

    i: int
    j: int

    def __add__(self, other: CellIJ) -> CellIJ:
        if not isinstance(other, CellIJ):
            return NotImplemented
        return CellIJ(self.i + other.i, self.j + other.j)

    def __sub__(self, other: CellIJ) -> CellIJ:
        if not isinstance(other, CellIJ):
            return NotImplemented
        return CellIJ(self.i - other.i, self.j - other.j)

    def as_tuple(self) -> tuple[int, int]:
        """Return ``(i, j)``."""
        return (self.i, self.j)

    def __str__(self) -> str:
        return f"(i={self.i}, j={self.j})"

    @staticmethod
    def from_legacy(legacy_index: Any) -> CellIJ:
        """Convert from an ``lsst.skymap.Index2D`` (``(x, y)``-ordered: ``x`` is ``j``)."""
        return CellIJ(i=int(legacy_index.y), j=int(legacy_index.x))

    def to_legacy(self) -> Any:
        """Convert to an ``lsst.skymap.Index2D`` (needs the LSST stack)."""
        try:
            from lsst.skymap import Index2D  # type: ignore[import-not-found]
        except ImportError as err:
            raise ImportError("CellIJ.to_legacy needs the LSST stack (lsst.skymap).") from err
        return Index2D(x=self.j, y=self.i)
