"""Pydantic models of the serialized form of fields (discriminated by ``field_type``)."""

from __future__ import annotations

__all__ = (
    "ChebyshevFieldSerializationModel",
    "FieldSerializationModel",
    "ProductFieldSerializationModel",
    "SplineFieldSerializationModel",
    "SumFieldSerializationModel",
)

from typing import Annotated, Any, Literal

import numpy as np
import pydantic
from typing_extensions import TypeAliasType

from .._polygon import SerializableBounds
from ..serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    InlineArray,
    InlineArrayModel,
    InputArchive,
    Unit,
)
from ._chebyshev import ChebyshevField
from ._product import ProductField
from ._spline import SplineField
from ._sum import SumField


def _bounds(model: Any) -> Any:
    """Turn a serialized bounds model back into a `Bounds` object."""
    return model.deserialize() if hasattr(model, "deserialize") else model


class ChebyshevFieldSerializationModel(ArchiveTree):
    """Serialized `ChebyshevField`: bounds, inline coefficient matrix and unit."""

    bounds: SerializableBounds
    coefficients: InlineArray
    unit: Unit | None = None
    field_type: Literal["CHEBYSHEV"] = "CHEBYSHEV"

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> ChebyshevField:
        """Rebuild the `ChebyshevField`."""
        return ChebyshevField(_bounds(self.bounds), np.asarray(self.coefficients), unit=self.unit)


class SplineFieldSerializationModel(ArchiveTree):
    """Serialized `SplineField`: bounds, grid values, grid coordinates and unit.

    The grid values are an array reference (a separate HDU in FITS); trees
    written by newer versions of the format may inline small grids instead,
    which we accept when reading.
    """

    bounds: SerializableBounds
    data: ArrayReferenceModel | InlineArrayModel
    y: InlineArray
    x: InlineArray
    unit: Unit | None = None
    field_type: Literal["SPLINE"] = "SPLINE"

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> SplineField:
        """Rebuild the `SplineField`, reading the grid values from the archive."""
        data = archive.get_array(self.data)
        return SplineField(
            _bounds(self.bounds), np.asarray(data, dtype=np.float64), y=self.y, x=self.x, unit=self.unit
        )


class ProductFieldSerializationModel(ArchiveTree):
    """Serialized `ProductField`: the list of operand models."""

    operands: list[FieldSerializationModel] = pydantic.Field(default_factory=list)
    field_type: Literal["PRODUCT"] = "PRODUCT"

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> ProductField:
        """Rebuild the `ProductField` and its operands."""
        return ProductField(operand.deserialize(archive) for operand in self.operands)


class SumFieldSerializationModel(ArchiveTree):
    """Serialized `SumField`: the list of operand models."""

    operands: list[FieldSerializationModel] = pydantic.Field(default_factory=list)
    field_type: Literal["SUM"] = "SUM"

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> SumField:
        """Rebuild the `SumField` and its operands."""
        return SumField(operand.deserialize(archive) for operand in self.operands)


#: Union of the field models, discriminated by their ``field_type`` value.
#: (A named type alias, so JSON schemas show it as one ``FieldSerializationModel`` definition.)
FieldSerializationModel = TypeAliasType(
    "FieldSerializationModel",
    Annotated[
        ChebyshevFieldSerializationModel
        | ProductFieldSerializationModel
        | SplineFieldSerializationModel
        | SumFieldSerializationModel,
        pydantic.Field(discriminator="field_type"),
    ],
)
