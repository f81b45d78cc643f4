"""Lazy products of fields."""

from __future__ import annotations

__all__ = ("ProductField",)

from collections.abc import Iterable, Iterator
from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import Factor, multiply_units
from ._composite import CompositeField

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds
    from . import Field
    from ._models import ProductFieldSerializationModel
else:
    from .._lazy import astropy_units as u


class ProductField(CompositeField):
    """The product of several fields, evaluated lazily.

    Parameters
    ----------
    operands
        Non-empty iterable of fields.  The unit of the product is the product
        of the operands' units (unitless operands are ignored); the bounds are
        the intersection of the operands' bounds.

    Raises
    ------
    ValueError
        If ``operands`` is empty.
    """

    def __init__(self, operands: Iterable[Field]):
        operands = self._check_operands(operands, "ProductField")
        super().__init__(operands, reduce(multiply_units, (op.unit for op in operands), None))

    def _combine(self, values: Iterator[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        result = np.ones(shape, dtype=np.float64)
        for value in values:
            result *= value
        return result

    @staticmethod
    def _model_type() -> type[ProductFieldSerializationModel]:
        from ._models import ProductFieldSerializationModel

        return ProductFieldSerializationModel

    def multiply_constant(self, factor: Factor) -> ProductField:
        # Scaling one factor scales the product; we scale the last one so the
        # other operands stay shared (identical objects) with this field.
        *first, last = self._operands
        return ProductField([*first, last.multiply_constant(factor)])

    @staticmethod
    def from_legacy(
        legacy: Any, unit: u.UnitBase | None = None, bounds: Bounds | None = None
    ) -> ProductField:
        """Convert an afw ``ProductBoundedField`` (needs the legacy stack at run time)."""
        from ._legacy import product_from_legacy

        return product_from_legacy(legacy, unit=unit, bounds=bounds)

    def to_legacy(self) -> Any:
        """Convert to an afw ``ProductBoundedField`` (needs the legacy stack at run time)."""
        from ._legacy import product_to_legacy

        return product_to_legacy(self)
