"""`PatchDefinition`: where a coadd patch sits in its tract."""

from __future__ import annotations

__all__ = ("PatchDefinition",)

import pydantic

from .._geom import YX, Box
from ._grid import CellGrid


class PatchDefinition(pydantic.BaseModel):
    """Identity and geometry of one patch of a tract.

    Parameters
    ----------
    id
        Patch number within its tract.
    index
        ``(y, x)`` position of the patch in the tract's patch grid.
    inner_bbox
        The pixels the patch "owns" (patches overlap; the inner boxes do not).
    cells
        The cell grid of the patch; its bbox is the patch's outer bbox.
    """

    model_config = pydantic.ConfigDict(frozen=True)

    id: int
    index: YX[int]
    inner_bbox: Box
    cells: CellGrid

    @property
    def outer_bbox(self) -> Box:
        """The whole patch, inner region plus overlap: the cell grid's bbox."""
        return self.cells.bbox
