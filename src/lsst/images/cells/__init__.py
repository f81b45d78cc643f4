"""Cell-based coadds (Rubin DP2 deep coadds): `CellCoadd` and the per-cell pieces it is made of.

A patch of a tract is divided into equal cells (`CellGrid`), each coadded on its own:
the PSF (`CellPointSpreadFunction`), the aperture corrections (`CellField`) and the
inputs (`CoaddProvenance`) are per cell, and cells without inputs are missing
(`CellGridBounds`).  Cut-outs (``coadd[box]``, ``CellCoadd.read(path, bbox=box)``)
keep only the cells they overlap.

Files in the layouts of lsst-images 30.2026.2100 and 30.2026.4300 are read; the 4300
layout (one compression tile per cell) is written by default.
"""

from __future__ import annotations

__all__ = (
    "CellApertureCorrectionMapSerializationModel",
    "CellCoadd",
    "CellCoaddSerializationModel",
    "CellField",
    "CellGrid",
    "CellGridBounds",
    "CellIJ",
    "CellPointSpreadFunction",
    "CellPointSpreadFunctionSerializationModel",
    "CoaddProvenance",
    "CoaddProvenanceSerializationModel",
    "PatchDefinition",
)

from ._apcorr import CellApertureCorrectionMapSerializationModel
from ._cell_ij import CellIJ
from ._coadd import CellCoadd
from ._coadd_model import CellCoaddSerializationModel
from ._field import CellField
from ._grid import CellGrid, CellGridBounds
from ._patch import PatchDefinition
from ._provenance import CoaddProvenance
from ._provenance_io import CoaddProvenanceSerializationModel
from ._psf import CellPointSpreadFunction, CellPointSpreadFunctionSerializationModel
