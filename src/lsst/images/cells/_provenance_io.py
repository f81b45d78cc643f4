"""How `CoaddProvenance` is stored: two tables with the string columns factored out.

In files the string columns (``instrument``, ``physical_filter``) are taken out of the
tables: a single value is stored once in the tree, several values as a
``{string: code}`` map with an integer column in the table.  The polygon becomes
``n_vertices`` plus ``x_vertices``/``y_vertices`` array columns.

A read decodes and checks both tables as numpy arrays at once, but builds the astropy
tables (and their `Polygon` objects) only when the provenance is first used
(`DeferredProvenance`): a cut-out that never looks at its inputs does not pay for
astropy.table.
"""

from __future__ import annotations

__all__ = ("CoaddProvenanceSerializationModel", "DeferredProvenance", "stored_table", "string_codes")

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..serialization import ArchiveReadError, ArchiveTree, InputArchive, TableModel
from ._cell_ij import CellIJ
from ._provenance import DESCRIPTIONS, KEYS, STRING_COLUMNS, CoaddProvenance

if TYPE_CHECKING:
    import astropy.table


def string_codes(
    inputs: astropy.table.Table, contributions: astropy.table.Table, name: str
) -> str | dict[str, int]:
    """The tree form of a string column: its single value, or a value -> code map."""
    values: list[str] = []
    for table in (inputs, contributions):
        if name in table.colnames:
            values.extend(str(v) for v in table[name])
    distinct = sorted(set(values))
    if len(distinct) == 1:
        return distinct[0]
    return {value: code for code, value in enumerate(distinct)}


def stored_table(
    table: astropy.table.Table, codes: dict[str, str | dict[str, int]], *, with_polygons: bool
) -> astropy.table.Table:
    """The table as stored: string columns dropped or coded, polygons as vertex arrays."""
    from astropy.table import Column, Table

    out = Table()
    for name in table.colnames:
        column = table[name]
        if name in codes:
            mapping = codes[name]
            if isinstance(mapping, dict):
                out[name] = Column(
                    np.array([mapping[str(v)] for v in column], dtype=np.int32),
                    description=DESCRIPTIONS[name],
                )
            continue
        if name == "polygon":
            continue
        description = column.description or DESCRIPTIONS.get(name, "")
        out[name] = Column(np.asarray(column), description=description, unit=column.unit)
    if with_polygons and "polygon" in table.colnames:
        polygons = list(table["polygon"])
        counts = np.array([p.n_vertices for p in polygons], dtype=np.uint8)
        width = max(1, int(counts.max()) if len(counts) else 1)
        xs = np.full((len(polygons), width), np.nan)
        ys = np.full((len(polygons), width), np.nan)
        for n, polygon in enumerate(polygons):
            xs[n, : counts[n]] = polygon.x_vertices
            ys[n, : counts[n]] = polygon.y_vertices
        out["n_vertices"] = Column(counts, description=DESCRIPTIONS["n_vertices"])
        out["x_vertices"] = Column(xs, description=DESCRIPTIONS["x_vertices"])
        out["y_vertices"] = Column(ys, description=DESCRIPTIONS["y_vertices"])
    return out


def _decoded_strings(
    array: np.ndarray, codes: dict[str, str | dict[str, int]], strings: tuple[str, ...], what: str
) -> dict[str, list[str]]:
    """The values of the factored-out string columns of a stored table (checked)."""
    n = len(array)
    names = array.dtype.names or ()
    out = {}
    for name in strings:
        mapping = codes[name]
        if not isinstance(mapping, dict):
            out[name] = [mapping] * n
            continue
        if name not in names:
            raise ArchiveReadError(f"provenance {what} column {name!r} is coded in the tree but not stored")
        values = {code: value for value, code in mapping.items()}
        try:
            out[name] = [values[int(code)] for code in array[name]]
        except KeyError as err:
            raise ArchiveReadError(
                f"provenance {what} column {name!r} has an unknown code {err.args[0]}"
            ) from None
    return out


def _check_stored(array: np.ndarray, what: str) -> None:
    names = set(array.dtype.names or ())
    missing = [k for k in KEYS if k != "instrument" and k not in names]
    if missing:
        raise ArchiveReadError(f"provenance {what} table lacks the columns {missing}")
    if "n_vertices" in names:
        counts = np.asarray(array["n_vertices"], dtype=np.int64)
        width = int(np.prod(array.dtype["x_vertices"].shape)) if "x_vertices" in names else 0
        if "y_vertices" not in names or np.any(counts < 3) or np.any(counts > width):
            raise ArchiveReadError("provenance polygons have impossible vertex counts")


def _build_table(
    array: np.ndarray, model: TableModel, strings: dict[str, list[str]], with_polygons: bool
) -> astropy.table.Table:
    """An in-memory table: stored columns (units, descriptions), then strings, then polygons."""
    from astropy.table import Column, Table

    from .._polygon import Polygon

    skip = set(strings) | ({"n_vertices", "x_vertices", "y_vertices"} if with_polygons else set())
    table = Table()
    for name in array.dtype.names or ():
        if name not in skip:
            table[name] = Column(array[name])
    for column in model.columns:
        if column.name in table.colnames:
            column.update_table(table)
    for name, values in strings.items():
        objects = np.empty(len(array), dtype=object)
        objects[:] = values
        table[name] = Column(objects, description=DESCRIPTIONS[name])
    if with_polygons and "n_vertices" in (array.dtype.names or ()):
        n = len(array)
        counts = np.asarray(array["n_vertices"], dtype=np.int64)
        xs = np.asarray(array["x_vertices"], dtype=np.float64).reshape(n, -1)
        ys = np.asarray(array["y_vertices"], dtype=np.float64).reshape(n, -1)
        polygons = np.empty(n, dtype=object)
        polygons[:] = [
            Polygon(x_vertices=xs[k, : counts[k]], y_vertices=ys[k, : counts[k]]) for k in range(n)
        ]
        table["polygon"] = Column(polygons, description=DESCRIPTIONS["polygon"])
    return table


class DeferredProvenance:
    """Provenance read from a file, built into astropy tables on first use.

    ``build`` makes the whole `CoaddProvenance` (once); ``cells`` restricts it to some
    cells (`CoaddProvenance.subset`), so a cut-out's provenance stays deferred too.
    """

    __slots__ = ("_build", "_cells", "_value")

    def __init__(self, build: Callable[[], CoaddProvenance], cells: frozenset[CellIJ] | None = None) -> None:
        self._build = build
        self._cells = cells
        self._value: CoaddProvenance | None = None

    def subset(self, cells: Iterable[CellIJ]) -> DeferredProvenance | None:
        """The provenance of some cells, still deferred (None when no cell is given)."""
        wanted = frozenset(cells)
        if self._cells is not None:
            wanted &= self._cells
        return DeferredProvenance(self._build, wanted) if wanted else None

    def resolve(self) -> CoaddProvenance | None:
        """The tables (None if nothing contributes to the cells kept)."""
        provenance = self._build()
        return provenance if self._cells is None else provenance.subset(self._cells)

    def __repr__(self) -> str:
        return "<DeferredProvenance>"


class CoaddProvenanceSerializationModel(ArchiveTree):
    """Serialized `CoaddProvenance`: the factored-out string columns and the two tables."""

    instrument: str | dict[str, int]
    physical_filter: str | dict[str, int]
    inputs: TableModel
    contributions: TableModel

    def deserialize_deferred(self, archive: InputArchive[Any]) -> DeferredProvenance:
        """Read and check both tables now; build the `CoaddProvenance` on first use."""
        codes = {"instrument": self.instrument, "physical_filter": self.physical_filter}
        inputs = archive.get_structured_array(self.inputs)
        contributions = archive.get_structured_array(self.contributions)
        _check_stored(inputs, "inputs")
        _check_stored(contributions, "contributions")
        if len(inputs) == 0:
            raise ArchiveReadError("invalid coadd provenance: the inputs table is empty")
        input_strings = _decoded_strings(inputs, codes, STRING_COLUMNS, "inputs")
        contribution_strings = _decoded_strings(contributions, codes, ("instrument",), "contributions")
        built: list[CoaddProvenance] = []

        def build() -> CoaddProvenance:
            if not built:
                built.append(
                    CoaddProvenance(
                        _build_table(inputs, self.inputs, input_strings, True),
                        _build_table(contributions, self.contributions, contribution_strings, False),
                    )
                )
            return built[0]

        return DeferredProvenance(build)

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> CoaddProvenance:
        """Read both tables back (string columns and polygons restored)."""
        provenance = self.deserialize_deferred(archive).resolve()
        assert provenance is not None  # (no cell restriction)
        return provenance
