"""`CoaddProvenance`: which observations went into which cell of a coadd.

Two astropy tables: ``inputs`` (one row per observation: instrument, visit, detector,
filter, night and the polygon it covers on the coadd) and ``contributions`` (one row
per observation and cell, with its overlap, weight and PSF moments).

In files the string columns (``instrument``, ``physical_filter``) are taken out of
the tables: a single value is stored once in the tree, several values as a
``{string: code}`` map with an integer column in the table.  The polygon becomes
``n_vertices`` plus ``x_vertices``/``y_vertices`` array columns.
"""

from __future__ import annotations

__all__ = (
    "CONTRIBUTION_COLUMNS",
    "DESCRIPTIONS",
    "INPUT_COLUMNS",
    "KEYS",
    "STRING_COLUMNS",
    "CoaddProvenance",
)

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._cell_ij import CellIJ

if TYPE_CHECKING:
    import astropy.table

    from ..serialization import OutputArchive
    from ._provenance_io import CoaddProvenanceSerializationModel

_PIX2 = "pix2"

#: (name, dtype, description, unit) of the in-memory ``inputs`` table.
INPUT_COLUMNS: tuple[tuple[str, str, str, str | None], ...] = (
    ("instrument", "O", "Name of the instrument.", None),
    ("visit", "u8", "ID of the visit.", None),
    ("detector", "u2", "ID of the detector.", None),
    ("physical_filter", "O", "Full name of the bandpass filter.", None),
    ("day_obs", "u4", "Observation night as a YYYYMMDD integer.", None),
    (
        "polygon",
        "O",
        "Polygon that approximates the overlap of the observation and the coadd patch, in coadd coordinates.",
        None,
    ),
)

#: (name, dtype, description, unit) of the in-memory ``contributions`` table.
CONTRIBUTION_COLUMNS: tuple[tuple[str, str, str, str | None], ...] = (
    ("cell_i", "u2", "Y-axis index of the cell within the patch.", None),
    ("cell_j", "u2", "X-axis index of the cell within the patch.", None),
    ("instrument", "O", "Name of the instrument.", None),
    ("visit", "u8", "ID of the visit.", None),
    ("detector", "u2", "ID of the detector.", None),
    ("overlaps_center", "?", "Whether a this observation overlaps the center of the cell.", None),
    ("overlap_fraction", "f8", "Fraction of the cell that is covered by the overlap region.", None),
    ("unmasked_fraction", "f8", "Fraction of the cell propagated to the coadd.", None),
    ("weight", "f8", "Weight to be used for this input in this cell.", None),
    ("psf_shape_xx", "f8", "Second order moments of the PSF.", _PIX2),
    ("psf_shape_yy", "f8", "Second order moments of the PSF.", _PIX2),
    ("psf_shape_xy", "f8", "Second order moments of the PSF.", _PIX2),
    ("psf_shape_flag", "?", "Flag indicating whether the PSF shape measurement was successful.", None),
)

DESCRIPTIONS = {name: description for name, _, description, _ in INPUT_COLUMNS + CONTRIBUTION_COLUMNS}
DESCRIPTIONS.update(
    n_vertices="Number of polygon vertices.",
    x_vertices="X coordinates of polygon vertices, in tract coordinates.",
    y_vertices="Y coordinates of polygon vertices, in tract coordinates.",
)
STRING_COLUMNS = ("instrument", "physical_filter")
KEYS = ("instrument", "visit", "detector")


def _empty_table(columns: tuple[tuple[str, str, str, str | None], ...], n_rows: int) -> astropy.table.Table:
    from astropy.table import Column, Table

    table = Table()
    for name, dtype, description, unit in columns:
        values = np.zeros(n_rows, dtype=dtype)
        table[name] = Column(values, description=description, unit=unit)
    return table


def _cell_keys(cell_i: Any, cell_j: Any) -> np.ndarray:
    return np.asarray(cell_i, dtype=np.int64) * (1 << 32) + np.asarray(cell_j, dtype=np.int64)


class CoaddProvenance:
    """The observations of a coadd (``inputs``) and what each gave to each cell (``contributions``).

    Parameters
    ----------
    inputs
        One row per observation; columns as `make_empty_input_table` makes them.
    contributions
        One row per (cell, observation); columns as `make_empty_contribution_table`
        makes them (files written by lsst-images 2100 have no ``unmasked_fraction``).

    Raises
    ------
    ValueError
        If ``inputs`` has no rows.
    """

    def __init__(self, inputs: astropy.table.Table, contributions: astropy.table.Table) -> None:
        if len(inputs) == 0:
            raise ValueError("Coadd provenance must contain at least one input image.")
        self._inputs = inputs
        self._contributions = contributions

    @property
    def inputs(self) -> astropy.table.Table:
        """One row per input observation."""
        return self._inputs

    @property
    def contributions(self) -> astropy.table.Table:
        """One row per (cell, input observation)."""
        return self._contributions

    @staticmethod
    def from_legacy(legacy_cell_coadd: Any) -> CoaddProvenance:
        """The inputs and per-cell contributions of a legacy ``MultipleCellCoadd``.

        Values the legacy version does not carry (an input's overlap polygon,
        ``unmasked_fraction``) are None or NaN; see `lsst.images.cells._legacy`.
        """
        from ._legacy import provenance_from_legacy

        return provenance_from_legacy(legacy_cell_coadd)

    @classmethod
    def make_empty_input_table(cls, n_rows: int) -> astropy.table.Table:
        """Return an ``inputs`` table of ``n_rows`` zeroed rows (right columns, dtypes, descriptions)."""
        return _empty_table(INPUT_COLUMNS, n_rows)

    @classmethod
    def make_empty_contribution_table(cls, n_rows: int) -> astropy.table.Table:
        """Return a ``contributions`` table of ``n_rows`` zeroed rows (units: ``pix2`` for PSF moments)."""
        return _empty_table(CONTRIBUTION_COLUMNS, n_rows)

    # -- subsets ---------------------------------------------------------------------

    def subset(self, cells: Iterable[CellIJ]) -> CoaddProvenance | None:
        """Return the provenance of some cells, or `None` if nothing contributes to them.

        The contributions of those cells are kept, sorted by cell; the inputs table
        then has one row per kept contribution (an observation that contributes to
        several of the cells appears once per cell), sorted by (instrument, visit,
        detector) -- the rows lsst-images 4300 gives, so that row counts agree.
        """
        wanted = {(int(c.i), int(c.j)) for c in cells}
        if not wanted:
            return None
        contributions = self._contributions
        keys = _cell_keys(contributions["cell_i"], contributions["cell_j"])
        selected = np.nonzero(np.isin(keys, _cell_keys(*zip(*wanted, strict=True))))[0]
        if selected.size == 0:
            return None
        order = np.lexsort((keys[selected],))
        kept = contributions[selected[order]]
        lookup = {
            (str(inst), int(visit), int(det)): n
            for n, (inst, visit, det) in enumerate(zip(*(self._inputs[k] for k in KEYS), strict=True))
        }
        try:
            rows = [
                lookup[(str(inst), int(visit), int(det))]
                for inst, visit, det in zip(*(kept[k] for k in KEYS), strict=True)
            ]
        except KeyError as err:
            raise ValueError(
                f"a contribution refers to an observation {err.args[0]} missing from inputs"
            ) from None
        inputs = self._inputs[rows]
        input_keys = sorted(
            range(len(rows)),
            key=lambda n: (str(inputs["instrument"][n]), int(inputs["visit"][n]), int(inputs["detector"][n])),
        )
        return CoaddProvenance(inputs[input_keys], kept)

    def __getitem__(self, cell: CellIJ) -> CoaddProvenance | None:
        """The provenance of one cell (`subset` of one cell)."""
        return self.subset([cell])

    def for_layout(self, layout: str) -> CoaddProvenance:
        """Return the provenance with the contribution columns of a file layout's release.

        ``unmasked_fraction`` exists in lsst-images 4300 only, and each release refuses
        contribution tables with the other's columns: it is dropped for ``"2100"``, and
        added as NaN (unknown) for ``"4300"`` when missing.  Returns ``self`` when nothing
        changes; the tables are otherwise shared, not copied.
        """
        contributions = self._contributions
        has = "unmasked_fraction" in contributions.colnames
        if has and layout == "2100":
            contributions = contributions[[c for c in contributions.colnames if c != "unmasked_fraction"]]
        elif not has and layout == "4300":
            contributions = contributions.copy(copy_data=False)
            names = contributions.colnames
            index = names.index("overlap_fraction") + 1 if "overlap_fraction" in names else len(names)
            column = CoaddProvenance.make_empty_contribution_table(len(contributions))["unmasked_fraction"]
            column[:] = np.nan
            contributions.add_column(column, index=index)
        else:
            return self
        return CoaddProvenance(self._inputs, contributions)

    def copy(self) -> CoaddProvenance:
        """Return a copy with copied tables (the polygons are immutable and shared)."""
        return CoaddProvenance(self._inputs.copy(), self._contributions.copy())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoaddProvenance):
            return NotImplemented
        return _tables_equal(self._inputs, other._inputs) and _tables_equal(
            self._contributions, other._contributions
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n = len(self._inputs)
        return f"<CoaddProvenance({n} input image{'' if n == 1 else 's'})>"

    # -- serialization -----------------------------------------------------------------------

    def serialize(self, archive: OutputArchive[Any]) -> CoaddProvenanceSerializationModel:
        """Store the two tables (``inputs``, ``contributions``) with the string columns factored out."""
        from ._provenance_io import CoaddProvenanceSerializationModel, stored_table, string_codes

        codes = {name: string_codes(self._inputs, self._contributions, name) for name in STRING_COLUMNS}
        inputs = stored_table(self._inputs, codes, with_polygons=True)
        contributions = stored_table(self._contributions, codes, with_polygons=False)
        return CoaddProvenanceSerializationModel(
            instrument=codes["instrument"],
            physical_filter=codes["physical_filter"],
            inputs=archive.add_table(inputs, name="inputs"),
            contributions=archive.add_table(contributions, name="contributions"),
        )


def _tables_equal(a: astropy.table.Table, b: astropy.table.Table) -> bool:
    """Same columns (in any order: files put the string columns last), values and units."""
    if sorted(a.colnames) != sorted(b.colnames) or len(a) != len(b):
        return False
    for name in a.colnames:
        x, y = a[name], b[name]
        if x.dtype.kind == "O" or y.dtype.kind == "O":
            if list(x) != list(y):
                return False
        elif not np.array_equal(np.asarray(x), np.asarray(y), equal_nan=x.dtype.kind == "f"):
            return False
        if x.unit != y.unit:
            return False
    return True
