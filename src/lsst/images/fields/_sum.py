"""Lazy sums of fields."""

from __future__ import annotations

__all__ = ("SumField",)

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import Factor
from ._composite import CompositeField

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds
    from . import Field
    from ._models import SumFieldSerializationModel
else:
    from .._lazy import astropy_units as u


class SumField(CompositeField):
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
    u.UnitConversionError
        If the operands' units cannot be added.
    """

    def __init__(self, operands: Iterable[Field]):
        operands = self._check_operands(operands, "SumField")
        unit = operands[0].unit
        scales = []
        for operand in operands:
            if (operand.unit is None) != (unit is None):
                raise u.UnitConversionError("Cannot add a field with no units to a field with units.")
            # Conversion factors are fixed at construction so evaluation is a
            # plain weighted sum.
            scales.append(1.0 if unit is None else operand.unit.to(unit))
        super().__init__(operands, unit)
        self._scales = tuple(scales)

    def _combine(self, values: Iterator[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        total = np.zeros(shape, dtype=np.float64)
        for value, scale in zip(values, self._scales, strict=True):
            total += value if scale == 1.0 else value * scale
        return total

    @staticmethod
    def _model_type() -> type[SumFieldSerializationModel]:
        from ._models import SumFieldSerializationModel

        return SumFieldSerializationModel

    def multiply_constant(self, factor: Factor) -> SumField:
        # Every term is scaled so the sum keeps consistent operand units.
        return SumField(operand.multiply_constant(factor) for operand in self._operands)

    @staticmethod
    def from_legacy_background(
        legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
    ) -> SumField:
        """Convert an afw ``BackgroundList`` (a sum of backgrounds; needs the legacy stack)."""
        from ._legacy import sum_from_legacy_background

        return sum_from_legacy_background(legacy_background, bounds=bounds, unit=unit)
