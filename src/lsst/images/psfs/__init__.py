"""Point-spread-function models.

Only the Gaussian model is fully native; PSFEx models are evaluated from
their stored parameters with numpy, Piff models need the optional ``piff``
extra, and other afw PSFs need the legacy LSST stack.
"""

from __future__ import annotations

__all__ = (
    "GaussianPSFSerializationModel",
    "GaussianPointSpreadFunction",
    "LegacyPointSpreadFunction",
    "PSFExModel",
    "PSFExSerializationModel",
    "PSFExWrapper",
    "PiffSerializationModel",
    "PiffWrapper",
    "PointSpreadFunction",
)

from ._base import PointSpreadFunction
from ._gaussian import GaussianPointSpreadFunction
from ._legacy import LegacyPointSpreadFunction

if False:  # TEMP
    from ._models import GaussianPSFSerializationModel, PiffSerializationModel, PSFExSerializationModel
from ._piff import PiffWrapper
from ._psfex import PSFExModel, PSFExWrapper
