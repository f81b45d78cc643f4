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
from ._piff import PiffWrapper
from ._psfex import PSFExModel, PSFExWrapper

_MODEL_NAMES = frozenset(
    {"GaussianPSFSerializationModel", "PSFExSerializationModel", "PiffSerializationModel"}
)


def __getattr__(name: str) -> object:
    # The pydantic models (and the serialization package they build on) are
    # only loaded when first used.
    if name in _MODEL_NAMES:
        from . import _models

        return getattr(_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | {name for name in globals() if name.startswith("_")})
