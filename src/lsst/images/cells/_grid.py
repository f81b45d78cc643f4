"""`CellGrid` and `CellGridBounds`: a patch cut into equal cells, and a block of those cells.

A cell-based coadd is built cell by cell: each cell has its own inputs, PSF and
aperture corrections, and some cells may have no data at all.  `CellGrid` describes
the tiling (a bbox and a cell shape, no gaps or overlaps); `CellGridBounds` is a
rectangular block of its cells minus the *missing* ones, and is the validity region
(`Bounds`) of everything that is defined per cell.
"""

from __future__ import annotations

__all__ = ("CellGrid", "CellGridBounds")

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pydantic

from .._geom import XY, YX, Box, Interval, NoOverlapError
from ._cell_ij import CellIJ


class CellGrid(pydantic.BaseModel):
    """A grid of equal cells covering ``bbox`` with no gaps or overlaps.

    Parameters
    ----------
    bbox
        The pixels covered by the grid (absolute, e.g. tract, coordinates); it need not
        start at 0 but must be a whole number of cells.
    cell_shape
        ``(y, x)`` size of every cell.

    Raises
    ------
    ValueError
        If the cell shape is not positive or ``bbox`` is not a whole number of cells.
    """

    model_config = pydantic.ConfigDict(frozen=True)

    bbox: Box
    cell_shape: YX[int]

    @pydantic.model_validator(mode="after")
    def _check(self) -> CellGrid:
        cy, cx = self.cell_shape
        if cy <= 0 or cx <= 0:
            raise ValueError(f"cell_shape must be positive, not {tuple(self.cell_shape)}")
        if self.bbox.y.size % cy or self.bbox.x.size % cx:
            raise ValueError(
                f"grid bbox {self.bbox} is not a whole number of {cy}x{cx} cells "
                f"(shape {tuple(self.bbox.shape)})"
            )
        return self

    @functools.cached_property
    def grid_size(self) -> CellIJ:
        """Number of cells along each axis (``i`` rows, ``j`` columns)."""
        return CellIJ(self.bbox.y.size // self.cell_shape.y, self.bbox.x.size // self.cell_shape.x)

    @property
    def grid_shape(self) -> CellIJ:
        """The 2100 name of `grid_size`."""
        return self.grid_size

    def index_of(self, *, y: Any, x: Any) -> CellIJ:
        """Return the cell holding pixel ``(y, x)`` (integers or integer arrays).

        This is floor division relative to ``bbox.start``; it does not check that the
        pixel is inside the grid (indices may be negative or too large).
        """
        i = np.floor_divide(np.subtract(y, self.bbox.y.start), self.cell_shape.y)
        j = np.floor_divide(np.subtract(x, self.bbox.x.start), self.cell_shape.x)
        if np.ndim(i) == 0 and np.ndim(j) == 0:
            return CellIJ(int(i), int(j))
        return CellIJ(i, j)

    def bbox_of(self, cell: CellIJ) -> Box:
        """Return the pixel box of a cell (it may lie outside the grid)."""
        cy, cx = self.cell_shape
        y0 = self.bbox.y.start + cell.i * cy
        x0 = self.bbox.x.start + cell.j * cx
        return Box(Interval(y0, y0 + cy), Interval(x0, x0 + cx))

    def cells_box(self, start: CellIJ, stop: CellIJ) -> Box:
        """Return the pixel box of the block of cells ``[start, stop)``."""
        cy, cx = self.cell_shape
        y0, x0 = self.bbox.y.start, self.bbox.x.start
        return Box(
            Interval(y0 + start.i * cy, y0 + stop.i * cy), Interval(x0 + start.j * cx, x0 + stop.j * cx)
        )

    def snap(self, box: Box) -> tuple[CellIJ, CellIJ]:
        """Return the block ``[start, stop)`` of cells that overlap ``box``."""
        start = self.index_of(y=box.y.start, x=box.x.start)
        last = self.index_of(y=box.y.stop - 1, x=box.x.stop - 1)
        return start, CellIJ(last.i + 1, last.j + 1)

    def __eq__(self, other: object) -> bool:
        # Explicit, because cached properties live in the instance dict pydantic compares.
        if not isinstance(other, CellGrid):
            return NotImplemented
        return self.bbox == other.bbox and tuple(self.cell_shape) == tuple(other.cell_shape)

    __hash__ = None  # type: ignore[assignment]  # (Box is not hashable)

    def __str__(self) -> str:
        return f"{self.bbox}, cell_shape=(y={self.cell_shape.y}, x={self.cell_shape.x})"

    @staticmethod
    def from_legacy(legacy: Any) -> CellGrid:
        """Convert from an ``lsst.cell_coadds.UniformGrid`` (``bbox``, ``cell_size`` as ``(x, y)``)."""
        return CellGrid(
            bbox=Box.from_legacy(legacy.bbox), cell_shape=YX(int(legacy.cell_size.y), int(legacy.cell_size.x))
        )


def _sorted_cells(cells: frozenset[CellIJ]) -> list[dict[str, int]]:
    return [{"i": int(c.i), "j": int(c.j)} for c in sorted(cells)]


class CellGridBounds(pydantic.BaseModel):
    """A rectangular block of cells of a `CellGrid`, minus some ``missing`` cells.

    This is the `Bounds` (validity region) of per-cell quantities: a point is
    contained when it lies in ``bbox`` and its cell is not missing.

    Parameters
    ----------
    grid
        The grid the cells belong to.
    bbox
        Pixels covered (inside ``grid.bbox``; normally whole cells, as produced by
        ``bounds[box]``).
    missing
        Cells of the block without data.

    Raises
    ------
    ValueError
        If ``bbox`` is not inside the grid, or a missing cell lies outside the block.
    """

    model_config = pydantic.ConfigDict(frozen=True)

    grid: CellGrid
    bbox: Box
    missing: frozenset[CellIJ] = frozenset()

    @pydantic.field_serializer("missing")
    def _dump_missing(self, value: frozenset[CellIJ]) -> list[dict[str, int]]:
        # Sorted, so that a tree is the same from one process to the next.
        return _sorted_cells(value)

    @pydantic.model_validator(mode="after")
    def _check(self) -> CellGridBounds:
        if not self.grid.bbox.contains(self.bbox):
            raise ValueError(f"cell bounds bbox {self.bbox} is not inside the grid bbox {self.grid.bbox}")
        start, stop = self.subgrid_start, self.subgrid_stop
        outside = [c for c in self.missing if not (start.i <= c.i < stop.i and start.j <= c.j < stop.j)]
        if outside:
            raise ValueError(f"missing cells {sorted(outside)} lie outside the cells of bbox {self.bbox}")
        return self

    # -- the block of cells ----------------------------------------------------

    @functools.cached_property
    def subgrid_start(self) -> CellIJ:
        """Index of the first cell of the block."""
        return self.grid.index_of(y=self.bbox.y.start, x=self.bbox.x.start)

    @functools.cached_property
    def subgrid_stop(self) -> CellIJ:
        """One past the index of the last cell of the block."""
        last = self.grid.index_of(y=self.bbox.y.stop - 1, x=self.bbox.x.stop - 1)
        return CellIJ(last.i + 1, last.j + 1)

    @property
    def subgrid_size(self) -> CellIJ:
        """Number of cells of the block along each axis."""
        return self.subgrid_stop - self.subgrid_start

    @property
    def grid_start(self) -> CellIJ:
        """The 2100 name of `subgrid_start`."""
        return self.subgrid_start

    @property
    def grid_stop(self) -> CellIJ:
        """The 2100 name of `subgrid_stop`."""
        return self.subgrid_stop

    @functools.cached_property
    def present(self) -> np.ndarray:
        """Boolean array of shape `subgrid_size`: True for the cells that are not missing."""
        size = self.subgrid_size
        present = np.ones((size.i, size.j), dtype=bool)
        start = self.subgrid_start
        for cell in self.missing:
            present[cell.i - start.i, cell.j - start.j] = False
        present.flags.writeable = False
        return present

    def contains_cell(self, index: CellIJ) -> bool:
        """Whether ``index`` is a cell of the block that is not missing."""
        start, stop = self.subgrid_start, self.subgrid_stop
        if not (start.i <= index.i < stop.i and start.j <= index.j < stop.j):
            return False
        return index not in self.missing

    def cell_indices(self) -> Iterator[CellIJ]:
        """Iterate over the present cells, in row-major order."""
        start = self.subgrid_start
        for i, j in zip(*np.nonzero(self.present), strict=True):
            yield CellIJ(int(i) + start.i, int(j) + start.j)

    def missing_boxes(self) -> Iterator[Box]:
        """Iterate over the pixel boxes of the missing cells, in sorted (row-major) order."""
        for cell in sorted(self.missing):
            yield self.grid.bbox_of(cell)

    # -- Bounds protocol ---------------------------------------------------------

    def contains(self, point: XY | YX | None = None, /, *, x: Any = None, y: Any = None) -> Any:
        """Test whether points lie in ``bbox`` and outside the missing cells.

        Parameters
        ----------
        point
            An `XY` or `YX` point (exclusive with ``x``/``y``).
        x, y
            Point coordinates, scalars or broadcastable arrays.

        Returns
        -------
        bool | numpy.ndarray
            A bool for scalar input, else a boolean array of the broadcast shape.

        Notes
        -----
        ``bbox`` containment follows `Box.contains` (its half-pixel margin); the cell of
        a point is the one holding the pixel ``floor(v + 0.5)`` in which the point lies.
        """
        if point is not None:
            if x is not None or y is not None:
                raise TypeError("contains takes a point or x= and y=, not both")
            x, y = point.x, point.y
        if x is None or y is None:
            raise TypeError("contains needs both x and y")
        inside = np.asarray(self.bbox.contains(x=x, y=y), dtype=bool)
        if self.missing:
            cell = self.grid.index_of(
                y=np.floor(np.add(y, 0.5)).astype(np.int64), x=np.floor(np.add(x, 0.5)).astype(np.int64)
            )
            start = self.subgrid_start
            size = self.subgrid_size
            di = np.clip(np.asarray(cell.i) - start.i, 0, size.i - 1)
            dj = np.clip(np.asarray(cell.j) - start.j, 0, size.j - 1)
            inside = inside & self.present[di, dj]
        return bool(inside) if inside.ndim == 0 else inside

    def intersection(self, other: Any) -> Any:
        """Return the region common to these bounds and ``other``.

        With bounds on the same grid the result is `CellGridBounds` (the common bbox,
        missing cells of both); with anything else it is a lazy intersection.

        Raises
        ------
        NoOverlapError
            If two cell bounds on the same grid do not overlap.
        """
        if isinstance(other, CellGridBounds) and other.grid == self.grid:
            bbox = self.bbox.intersection(other.bbox)
            result = CellGridBounds(grid=self.grid, bbox=bbox)
            start, stop = result.subgrid_start, result.subgrid_stop
            missing = frozenset(
                c for c in self.missing | other.missing if start.i <= c.i < stop.i and start.j <= c.j < stop.j
            )
            return CellGridBounds(grid=self.grid, bbox=bbox, missing=missing)
        from .._polygon import _IntersectionBounds

        return _IntersectionBounds(other, self)

    def __getitem__(self, box: Box) -> CellGridBounds:
        """Return the bounds of just the cells that overlap ``box`` (snapped outward).

        Raises
        ------
        ValueError
            If ``box`` is not inside ``bbox``.
        """
        if not isinstance(box, Box):
            raise TypeError(f"cell bounds are indexed by a Box, not {type(box).__name__}")
        if not self.bbox.contains(box):
            raise ValueError(f"cell bounds bbox {self.bbox} does not contain the requested box {box}")
        start, stop = self.grid.snap(box)
        missing = frozenset(c for c in self.missing if start.i <= c.i < stop.i and start.j <= c.j < stop.j)
        return CellGridBounds(grid=self.grid, bbox=self.grid.cells_box(start, stop), missing=missing)

    def cells_slices(self, other: CellGridBounds) -> tuple[slice, slice]:
        """Return the slices selecting ``other``'s block from a ``(n_i, n_j, ...)`` array over this one.

        Raises
        ------
        NoOverlapError
            If ``other``'s block is not inside this one.
        """
        start, stop = self.subgrid_start, self.subgrid_stop
        ostart, ostop = other.subgrid_start, other.subgrid_stop
        if not (start.i <= ostart.i and ostop.i <= stop.i and start.j <= ostart.j and ostop.j <= stop.j):
            raise NoOverlapError(f"cells of {other} are not inside {self}")
        return (slice(ostart.i - start.i, ostop.i - start.i), slice(ostart.j - start.j, ostop.j - start.j))

    def serialize(self) -> CellGridBounds:
        """Return the serializable form (the object itself: it is a pydantic model)."""
        return self

    def deserialize(self) -> CellGridBounds:
        """Return the in-memory object (the object itself)."""
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellGridBounds):
            return NotImplemented
        return self.grid == other.grid and self.bbox == other.bbox and self.missing == other.missing

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        missing = ", ".join(str(c) for c in sorted(self.missing))
        return f"{self.bbox} in grid ({self.grid}), missing={{{missing}}}"
