"""Lazy products of fields."""

from __future__ import annotations

__all__ = ("ProductField",)

from collections.abc import Iterable
from functools import reduce
from typing import TYPE_CHECKING, Any

import astropy.units
import numpy as np

from ._base import BaseField, Factor, as_coordinate_arrays, multiply_units

if TYPE_CHECKING:
    from .._geom import Bounds, Box
    from ..serialization import OutputArchive
    from . import Field
    from ._models import ProductFieldSerializationModel


class ProductField(BaseField):
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
        operands = tuple(operands)
        if not operands:
            raise ValueError("ProductField needs at least one operand.")
        self._operands = operands
        self._unit = reduce(multiply_units, (op.unit for op in operands), None)
        self._bounds = reduce(lambda a, b: a.intersection(b), (op.bounds for op in operands))

    @property
    def operands(self) -> tuple[Field, ...]:
        """The multiplied fields, as a tuple."""
        return self._operands

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @property
    def unit(self) -> astropy.units.UnitBase | None:
        return self._unit

    def evaluate(
        self, *, x: np.ndarray, y: np.ndarray, quantity: bool = False
    ) -> np.ndarray | astropy.units.Quantity:
        xa, ya = as_coordinate_arrays(x, y)
        result = np.ones(xa.shape, dtype=np.float64)
        for operand in self._operands:
            result *= operand.evaluate(x=xa, y=ya, quantity=False)
        return self._finish(result, quantity)

    def _render_array(self, bbox: Box) -> np.ndarray:
        result = np.ones(tuple(bbox.shape), dtype=np.float64)
        for operand in self._operands:
            result *= operand._render_array(bbox)
        return result

    def multiply_constant(self, factor: Factor) -> ProductField:
        # Scaling one factor scales the product; we scale the last one so the
        # other operands stay shared (identical objects) with this field.
        *first, last = self._operands
        return ProductField([*first, last.multiply_constant(factor)])

    def serialize(self, archive: OutputArchive[Any]) -> ProductFieldSerializationModel:
        """Serialize every operand into the same archive and return the model.

        Operands are not nested under their own names: arrays of several
        operands share this field's archive path (FITS files then number the
        repeated extension names with EXTVER), as the reference layout does.
        """
        from ._models import ProductFieldSerializationModel

        return ProductFieldSerializationModel(
            operands=[operand.serialize(archive) for operand in self._operands]
        )

    @staticmethod
    def from_legacy(
        legacy: Any, unit: astropy.units.UnitBase | None = None, bounds: Bounds | None = None
    ) -> ProductField:
        """Convert an afw ``ProductBoundedField`` (needs the legacy stack at run time)."""
        from ._legacy import product_from_legacy

        return product_from_legacy(legacy, unit=unit, bounds=bounds)

    def to_legacy(self) -> Any:
        """Convert to an afw ``ProductBoundedField`` (needs the legacy stack at run time)."""
        from ._legacy import product_to_legacy

        return product_to_legacy(self)

    def __repr__(self) -> str:
        return f"ProductField({list(self._operands)!r})"
