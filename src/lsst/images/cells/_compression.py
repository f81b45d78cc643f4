"""How the planes of a `CellCoadd` are compressed in each FITS layout."""

from __future__ import annotations

__all__ = ("compression_options",)

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._coadd import CellCoadd


def compression_options(coadd: CellCoadd, options: Mapping[str, Any] | None, layout: str) -> dict[str, Any]:
    """Return per-HDU compression options for writing ``coadd`` in ``layout``.

    The user gives options per plane kind (``image``, ``mask``, ``variance``,
    ``mask_fractions``) or per archive path (``noise_realizations/0``...).  In the
    4300 layout, as lsst-images 4300 does, the ``image`` options also apply to the
    noise realizations, the ``mask_fractions`` options to every mask fraction, and a
    plane without a tile shape is tiled one cell per tile (so a cut-out decodes only
    the cells it touches).  The 2100 layout uses the options as given (one tile per
    row by default).
    """
    from ..fits import FitsCompressionOptions

    given = {str(k).lower(): v for k, v in (options or {}).items()}
    if layout != "4300":
        return given
    kinds = {"image": "image", "mask": "mask", "variance": "variance"}
    kinds.update({f"mask_fractions/{name}".lower(): "mask_fractions" for name in coadd.mask_fractions})
    kinds.update({f"noise_realizations/{n}": "image" for n in range(len(coadd.noise_realizations))})
    cy, cx = coadd.grid.cell_shape
    result = dict(given)
    for path, kind in kinds.items():
        option = given[path] if path in given else given.get(kind, FitsCompressionOptions.DEFAULT)
        if option is not None and not isinstance(option, FitsCompressionOptions):
            option = FitsCompressionOptions.model_validate(option)
        if option is not None and option.tile_shape is None:
            option = option.model_copy(update={"tile_shape": (int(cy), int(cx))})
        result[path] = option
    return result
