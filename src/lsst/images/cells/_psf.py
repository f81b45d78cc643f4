"""`CellPointSpreadFunction`: a PSF that is constant within each cell of a coadd.

A cell-based coadd is a mosaic of small independent coadds, each with one PSF image
measured for the whole cell.  The model is therefore a 4-d array
``(n_i, n_j, h, w)``: one ``h x w`` kernel per cell of its `CellGridBounds` (NaN for
missing cells).
"""

from __future__ import annotations

__all__ = ("CellPointSpreadFunction", "CellPointSpreadFunctionSerializationModel")

import math
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pydantic

from .._geom import BoundsError, Box
from ..psfs import PointSpreadFunction
from ..serialization import ArchiveReadError, ArchiveTree, ArrayReferenceModel, InlineArrayModel, InputArchive
from ._cell_ij import CellIJ
from ._grid import CellGrid, CellGridBounds

if TYPE_CHECKING:
    from .._image import Image
    from ..serialization import OutputArchive

_LANCZOS_ORDERS = {"lanczos3": 3, "lanczos5": 5}


def _lanczos_matrix(n: int, shift: float, order: int) -> np.ndarray:
    """Matrix ``M`` with ``(M @ v)[m] = sum_k v[k] L(m - k - shift)`` (Lanczos kernel of ``order``)."""
    offsets = np.arange(n)[:, np.newaxis] - np.arange(n)[np.newaxis, :] - shift
    weights = np.sinc(offsets) * np.sinc(offsets / order)
    weights[np.abs(offsets) >= order] = 0.0
    return weights


class CellPointSpreadFunction(PointSpreadFunction):
    """A PSF given by one kernel image per cell of a cell grid.

    Parameters
    ----------
    array
        ``(n_i, n_j, h, w)`` kernels covering the subgrid of ``bounds`` (``n_i x n_j``
        = ``bounds.subgrid_size``); missing cells hold NaN.  Stored as float64 and
        never modified (the PSF is immutable and shared by copies and cut-outs).
    bounds
        The cells the kernels belong to, with the missing ones.
    resampling_kernel
        Interpolation used to shift a kernel to a sub-pixel star position
        (`compute_stellar_image`).

    Raises
    ------
    ValueError
        If ``array`` is not 4-d or does not match ``bounds``, or the resampling kernel
        is unknown.
    """

    def __init__(
        self,
        array: np.ndarray,
        bounds: CellGridBounds,
        resampling_kernel: Literal["lanczos3", "lanczos5"] = "lanczos5",
    ) -> None:
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 4:
            raise ValueError(f"a cell PSF array must be 4-d (n_i, n_j, h, w), not shape {array.shape}")
        size = bounds.subgrid_size
        if array.shape[:2] != (size.i, size.j):
            raise ValueError(
                f"cell PSF array covers {array.shape[:2]} cells but its bounds have {size.i}x{size.j} cells"
            )
        if resampling_kernel not in _LANCZOS_ORDERS:
            raise ValueError(f"unknown resampling kernel {resampling_kernel!r}; use 'lanczos3' or 'lanczos5'")
        if array.flags.writeable:
            array = array.copy()
            array.flags.writeable = False
        self._array = array
        self._bounds = bounds
        self._resampling_kernel = resampling_kernel

    # -- properties ------------------------------------------------------------------

    @property
    def array(self) -> np.ndarray:
        """The read-only ``(n_i, n_j, h, w)`` kernel array."""
        return self._array

    @property
    def bounds(self) -> CellGridBounds:
        """The cells (with the missing ones) this PSF is defined on."""
        return self._bounds

    @property
    def grid(self) -> CellGrid:
        """The cell grid."""
        return self._bounds.grid

    @property
    def resampling_kernel(self) -> str:
        """Interpolation kernel used by `compute_stellar_image`."""
        return self._resampling_kernel

    @property
    def kernel_bbox(self) -> Box:
        """``[-h//2 : h//2 + 1, -w//2 : w//2 + 1]``: the box of every kernel image, centred on 0."""
        h, w = self._array.shape[2:]
        return Box.from_shape((h, w), start=(-(h // 2), -(w // 2)))

    # -- per-cell access ---------------------------------------------------------------

    def _cell_array(self, cell: CellIJ) -> np.ndarray:
        bounds = self._bounds
        start, stop = bounds.subgrid_start, bounds.subgrid_stop
        if not (start.i <= cell.i < stop.i and start.j <= cell.j < stop.j):
            raise BoundsError(f"Cell {cell!r} is out of bounds for this PSF.")
        if cell in bounds.missing:
            raise BoundsError(f"Cell {cell!r} is missing for this PSF.")
        return self._array[cell.i - start.i, cell.j - start.j]

    @overload
    def __getitem__(self, key: CellIJ) -> Image: ...

    @overload
    def __getitem__(self, key: Box) -> CellPointSpreadFunction: ...

    def __getitem__(self, key: CellIJ | Box) -> Image | CellPointSpreadFunction:
        """Return a cell's kernel (`CellIJ` key) or the PSF of the cells a `Box` overlaps.

        Raises
        ------
        BoundsError
            For a missing or out-of-bounds cell.
        ValueError
            For a box that is not inside ``bounds.bbox``.
        """
        if isinstance(key, CellIJ):
            from .._image import Image

            return Image(self._cell_array(key).copy(), bbox=self.kernel_bbox)
        if isinstance(key, Box):
            sub = self._bounds[key]
            return self._restricted(sub)
        raise TypeError(f"a cell PSF is indexed by a CellIJ or a Box, not {type(key).__name__}")

    def _restricted(self, sub: CellGridBounds) -> CellPointSpreadFunction:
        """The PSF of the cells of ``sub`` (a block inside `bounds`)."""
        if sub == self._bounds:
            return self
        si, sj = self._bounds.cells_slices(sub)
        return CellPointSpreadFunction(self._array[si, sj], sub, self._resampling_kernel)

    # -- PointSpreadFunction interface ---------------------------------------------------------

    def _cell_at(self, x: float, y: float) -> np.ndarray:
        cell = self.grid.index_of(y=math.floor(y + 0.5), x=math.floor(x + 0.5))
        try:
            return self._cell_array(cell)
        except BoundsError as err:
            err.add_note(f"Evaluating cell PSF at x={x}, y={y}.")
            raise

    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        """Return the kernel of the cell holding pixel ``(round(x), round(y))``.

        Raises
        ------
        BoundsError
            If that cell is missing or outside the bounds (the error carries a note
            naming the point).
        """
        from .._image import Image

        return Image(self._cell_at(x, y).copy(), bbox=self.kernel_bbox)

    def compute_stellar_bbox(self, *, x: float, y: float) -> Box:
        """Return the box of `compute_stellar_image`: `kernel_bbox` moved to the pixel holding ``(x, y)``."""
        kernel = self.kernel_bbox
        cy, cx = math.floor(y + 0.5), math.floor(x + 0.5)
        return Box.from_shape(kernel.shape, start=(kernel.y.start + cy, kernel.x.start + cx))

    def compute_stellar_image(self, *, x: float, y: float) -> Image:
        """Return the cell's kernel shifted to the sub-pixel position ``(x, y)``.

        The kernel is resampled with the (separable) `resampling_kernel` and normalized
        to unit sum, on the grid `compute_stellar_bbox`.
        """
        from .._image import Image

        kernel = self._cell_at(x, y)
        order = _LANCZOS_ORDERS[self._resampling_kernel]
        dy, dx = y - math.floor(y + 0.5), x - math.floor(x + 0.5)
        h, w = kernel.shape
        shifted = _lanczos_matrix(h, dy, order) @ kernel @ _lanczos_matrix(w, dx, order).T
        total = shifted.sum()
        if total != 0 and np.isfinite(total):
            shifted /= total
        return Image(shifted, bbox=self.compute_stellar_bbox(x=x, y=y))

    # -- serialization ---------------------------------------------------------------------

    @classmethod
    def from_legacy(  # type: ignore[override]
        cls, legacy_psf: Any, bounds: CellGridBounds | None = None
    ) -> CellPointSpreadFunction:
        """Convert a legacy ``lsst.cell_coadds.StitchedPsf`` (one kernel image per cell).

        ``bounds`` defaults to the block of cells that have a kernel; cells of the block
        without one are missing.
        """
        from ._legacy import cell_psf_from_legacy

        return cell_psf_from_legacy(legacy_psf, bounds)

    def serialize(self, archive: OutputArchive[Any]) -> CellPointSpreadFunctionSerializationModel:
        """Store the kernel array (FITS: the ``PSF`` HDU, one compressed row per tile)."""
        return CellPointSpreadFunctionSerializationModel(
            array=archive.add_array(self._array), bounds=self._bounds
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellPointSpreadFunction):
            return NotImplemented
        return self._bounds == other._bounds and np.array_equal(self._array, other._array, equal_nan=True)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<CellPointSpreadFunction over {self._bounds}>"


class CellPointSpreadFunctionSerializationModel(ArchiveTree):
    """Serialized `CellPointSpreadFunction`: ``{array: <4-d array>, bounds: <CellGridBounds>}``."""

    array: ArrayReferenceModel | InlineArrayModel
    bounds: CellGridBounds

    @pydantic.model_validator(mode="after")
    def _check_shape(self) -> CellPointSpreadFunctionSerializationModel:
        shape = tuple(self.array.shape)
        size = self.bounds.subgrid_size
        if len(shape) != 4 or shape[:2] != (size.i, size.j) or min(shape) < 1:
            raise ValueError(f"cell PSF array shape {list(shape)} does not match {size.i}x{size.j} cells")
        return self

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, **kwargs: Any
    ) -> CellPointSpreadFunction:
        """Rebuild the PSF; with ``bbox``, only the kernels of the cells it overlaps are read."""
        bounds = self.bounds
        slices: Any = ...
        if bbox is not None:
            sub = bounds[bbox.intersection(bounds.bbox)]
            if sub != bounds:
                si, sj = bounds.cells_slices(sub)
                slices = (si, sj, slice(None), slice(None))
                bounds = sub
        array = np.asarray(archive.get_array(self.array, slices=slices))
        size = bounds.subgrid_size
        if array.shape[:2] != (size.i, size.j) or array.ndim != 4:
            raise ArchiveReadError(
                f"cell PSF array has shape {array.shape}, expected {size.i}x{size.j} cells"
            )
        return CellPointSpreadFunction(array, bounds)
