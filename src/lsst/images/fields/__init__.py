"""Bounded 2-d functions of pixel coordinates (Chebyshev polynomials, splines, sums and products).

They describe smoothly varying quantities attached to an image: the
photometric scaling, aperture corrections and backgrounds.
"""

from __future__ import annotations

__all__ = (
    "BaseField",
    "ChebyshevField",
    "ChebyshevFieldSerializationModel",
    "Field",
    "FieldSerializationModel",
    "ProductField",
    "ProductFieldSerializationModel",
    "SplineField",
    "SplineFieldSerializationModel",
    "SumField",
    "SumFieldSerializationModel",
    "field_from_legacy",
    "field_from_legacy_background",
    "field_from_legacy_photo_calib",
)

from ._base import BaseField
from ._chebyshev import ChebyshevField
from ._legacy import field_from_legacy, field_from_legacy_background, field_from_legacy_photo_calib
from ._product import ProductField
from ._spline import SplineField
from ._sum import SumField

#: Union of the concrete field classes.
Field = ChebyshevField | ProductField | SplineField | SumField

_MODEL_NAMES = frozenset(
    {
        "ChebyshevFieldSerializationModel",
        "FieldSerializationModel",
        "ProductFieldSerializationModel",
        "SplineFieldSerializationModel",
        "SumFieldSerializationModel",
    }
)


def __getattr__(name: str) -> object:
    # The pydantic models (and the serialization package they build on) are
    # only loaded when first used, keeping the evaluation classes light.
    if name in _MODEL_NAMES:
        from . import _models

        return getattr(_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | {name for name in globals() if name.startswith("_")})
