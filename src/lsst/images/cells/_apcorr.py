"""Storage of a coadd's per-cell aperture corrections as one table.

All the `CellField` aperture corrections of a coadd share a cell grid, so they are
stored together: one row per present cell (``cell_i``, ``cell_j``) and one float64
column per photometry algorithm.  The shared bounds' missing cells are those missing
from every field; a cell missing from only some fields is a NaN in their columns,
turned back into a missing cell of those fields on read.
"""

from __future__ import annotations

__all__ = ("CellApertureCorrectionMapSerializationModel",)

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._geom import Box
from ..serialization import ArchiveReadError, ArchiveTree, InputArchive, OutputArchive, TableModel
from ..serialization._units import has_unit
from ._cell_ij import CellIJ
from ._field import CellField
from ._grid import CellGridBounds


class CellApertureCorrectionMapSerializationModel(ArchiveTree):
    """Serialized aperture corrections of a `CellCoadd`: ``{table, bounds}``."""

    table: TableModel
    bounds: CellGridBounds

    @staticmethod
    def serialize(
        fields: Mapping[str, CellField], archive: OutputArchive[Any]
    ) -> CellApertureCorrectionMapSerializationModel | None:
        """Store ``fields`` as the table ``table`` of ``archive`` (None when there are none).

        Raises
        ------
        ValueError
            If the fields do not share one grid and bbox, or one has a unit.
        """
        from astropy.table import Table

        if not fields:
            return None
        items = list(fields.items())
        first = items[0][1].bounds
        for name, field in items:
            if not isinstance(field, CellField):
                raise TypeError(f"aperture correction {name!r} is a {type(field).__name__}, not a CellField")
            if field.bounds.grid != first.grid or field.bounds.bbox != first.bbox:
                raise ValueError(
                    f"aperture correction {name!r} is not on the same cells as {items[0][0]!r} "
                    f"({field.bounds.bbox} vs {first.bbox})"
                )
            if has_unit(field):
                raise ValueError(
                    f"aperture correction {name!r} has a unit ({field.unit}); they must have none"
                )
        missing = frozenset.intersection(*(field.bounds.missing for _, field in items))
        shared = CellGridBounds(grid=first.grid, bbox=first.bbox, missing=missing)
        rows = np.nonzero(shared.present)
        start = shared.subgrid_start
        table = Table()
        table["cell_i"] = (rows[0] + start.i).astype(np.int64)
        table["cell_j"] = (rows[1] + start.j).astype(np.int64)
        for name, field in items:
            values = np.array(field.array, dtype=np.float64)
            for cell in field.bounds.missing:
                values[cell.i - start.i, cell.j - start.j] = np.nan
            table[name] = values[rows]
        return CellApertureCorrectionMapSerializationModel(
            table=archive.add_table(table, name="table"), bounds=shared
        )

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, **kwargs: Any
    ) -> dict[str, CellField]:
        """Rebuild the fields; with ``bbox``, each is restricted to the cells it overlaps."""
        table = archive.get_structured_array(self.table)
        columns = table.dtype.names or ()
        shared = self.bounds
        start, size = shared.subgrid_start, shared.subgrid_size
        if "cell_i" not in columns or "cell_j" not in columns:
            raise ArchiveReadError("the aperture-correction table has no cell_i/cell_j columns")
        di = np.asarray(table["cell_i"], dtype=np.int64) - start.i
        dj = np.asarray(table["cell_j"], dtype=np.int64) - start.j
        if np.any((di < 0) | (di >= size.i) | (dj < 0) | (dj >= size.j)):
            raise ArchiveReadError("the aperture-correction table lists cells outside its bounds")
        sub = None if bbox is None else shared[bbox.intersection(shared.bbox)]
        result: dict[str, CellField] = {}
        for name in columns:
            if name in ("cell_i", "cell_j"):
                continue
            values = np.full((size.i, size.j), np.nan)
            values[di, dj] = np.asarray(table[name], dtype=np.float64)
            holes = np.argwhere(np.isnan(values))
            missing = shared.missing | {CellIJ(int(i) + start.i, int(j) + start.j) for i, j in holes}
            field = CellField(CellGridBounds(grid=shared.grid, bbox=shared.bbox, missing=missing), values)
            if sub is not None:
                field = field.restricted(field.bounds[sub.bbox])
            result[name] = field
        return result
