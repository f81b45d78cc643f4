"""Lazy sums of fields."""

from __future__ import annotations

__all__ = ("SumField",)

from collections.abc import Iterable
from functools import reduce
from typing import TYPE_CHECKING, Any

import astropy.units
import numpy as np

from ._base import BaseField, Factor, as_coordinate_arrays

if TYPE_CHECKING:
    from .._geom import Bounds, Box
    from ..serialization import OutputArchive
    from . import Field
    from ._models import SumFieldSerializationModel


class SumField(BaseField):
    """The sum of several fields, evaluated lazily.

    Parameters
    ----------
    operands
        Non-empty iterable of fields.  They must all be unitless, or all have
        units convertible to the first operand's unit (the unit of the sum).

    Raises
    ------
    ValueError
        If ``operands`` is empty.
    astropy.units.UnitConversionError
        If the operands' units cannot be added.
    """

    def __init__(self, operands: Iterable[Field]):
        operands = tuple(operands)
        if not operands:
            raise ValueError("SumField needs at least one operand.")
        unit = operands[0].unit
        scales = []
        for operand in operands:
            if (operand.unit is None) != (unit is None):
                raise astropy.units.UnitConversionError(
                    "Cannot add a field with no units to a field with units."
                )
            # Conversion factors are fixed at construction so evaluation is a
            # plain weighted sum.
            scales.append(1.0 if unit is None else operand.unit.to(unit))
        self._operands = operands
        self._unit = unit
        self._scales = tuple(scales)
        self._bounds = reduce(lambda a, b: a.intersection(b), (op.bounds for op in operands))

    @property
    def operands(self) -> tuple[Field, ...]:
        """The summed fields, as a tuple."""
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
        total = np.zeros(xa.shape, dtype=np.float64)
        for operand, scale in zip(self._operands, self._scales, strict=True):
            values = operand.evaluate(x=xa, y=ya, quantity=False)
            total += values if scale == 1.0 else values * scale
        return self._finish(total, quantity)

    def _render_array(self, bbox: Box) -> np.ndarray:
        total = np.zeros(tuple(bbox.shape), dtype=np.float64)
        for operand, scale in zip(self._operands, self._scales, strict=True):
            values = operand._render_array(bbox)
            total += values if scale == 1.0 else values * scale
        return total

    def multiply_constant(self, factor: Factor) -> SumField:
        # Every term is scaled so the sum keeps consistent operand units.
        return SumField(operand.multiply_constant(factor) for operand in self._operands)

    def serialize(self, archive: OutputArchive[Any]) -> SumFieldSerializationModel:
        """Serialize every operand into the same archive and return the model.

        Operands are not nested under their own names: arrays of several
        operands share this field's archive path (FITS files then number the
        repeated extension names with EXTVER), as the reference layout does.
        """
        from ._models import SumFieldSerializationModel

        return SumFieldSerializationModel(operands=[operand.serialize(archive) for operand in self._operands])

    @staticmethod
    def from_legacy_background(
        legacy_background: Any, bounds: Bounds | None = None, unit: astropy.units.UnitBase | None = None
    ) -> SumField:
        """Convert an afw ``BackgroundList`` (a sum of backgrounds; needs the legacy stack)."""
        from ._legacy import sum_from_legacy_background

        return sum_from_legacy_background(legacy_background, bounds=bounds, unit=unit)

    def __repr__(self) -> str:
        return f"SumField({list(self._operands)!r})"
