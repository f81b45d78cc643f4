"""Shared machinery of the lazy fields built from other fields (sums and products)."""

from __future__ import annotations

__all__ = ("CompositeField",)

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np

from ..serialization._units import stored_unit
from ._base import BaseField, StoredUnitMixin, as_coordinate_arrays

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds, Box
    from ..serialization import ArchiveTree, OutputArchive
    from . import Field
else:
    from .._lazy import astropy_units as u


class CompositeField(StoredUnitMixin, BaseField):
    """A field that combines the values of several operand fields, evaluated lazily.

    Subclasses decide how operand values are combined (`_combine`), which unit
    the result has and which model they serialize to; the bookkeeping of the
    operands (their bounds intersection, evaluation and rendering on the same
    coordinates) lives here so that every composite treats them alike.

    Parameters
    ----------
    operands
        Non-empty iterable of fields.
    unit
        Unit of the combined values, or `None`.

    Raises
    ------
    ValueError
        If ``operands`` is empty.
    """

    def __init__(self, operands: tuple[Field, ...], unit: u.UnitBase | None):
        self._operands = operands
        self._unit = stored_unit(unit)
        self._bounds = reduce(lambda a, b: a.intersection(b), (op.bounds for op in operands))

    @staticmethod
    def _check_operands(operands: Iterable[Field], kind: str) -> tuple[Field, ...]:
        """Return ``operands`` as a tuple, refusing an empty one (``kind`` names the field type)."""
        operands = tuple(operands)
        if not operands:
            raise ValueError(f"{kind} needs at least one operand.")
        return operands

    @property
    def operands(self) -> tuple[Field, ...]:
        """The combined fields, as a tuple."""
        return self._operands

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @abstractmethod
    def _combine(self, values: Iterator[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        """Combine the operands' float64 values (one array per operand, in order) into a new array."""
        raise NotImplementedError()

    @staticmethod
    @abstractmethod
    def _model_type() -> type[ArchiveTree]:
        """Serialization model of this composite (it has a single ``operands`` field)."""
        raise NotImplementedError()

    def evaluate(self, *, x: np.ndarray, y: np.ndarray, quantity: bool = False) -> np.ndarray | u.Quantity:
        xa, ya = as_coordinate_arrays(x, y)
        values = (operand.evaluate(x=xa, y=ya, quantity=False) for operand in self._operands)
        return self._finish(self._combine(values, xa.shape), quantity)

    def _render_array(self, bbox: Box) -> np.ndarray:
        values = (operand._render_array(bbox) for operand in self._operands)
        return self._combine(values, tuple(bbox.shape))

    @classmethod
    def _get_archive_tree_type(cls, pointer_type: type[Any]) -> type[ArchiveTree]:
        """Return the model to parse for this field stored on its own (any pointer type)."""
        return cls._model_type()

    def serialize(self, archive: OutputArchive[Any]) -> Any:
        """Serialize every operand into the same archive and return the model.

        Operands are not nested under their own names: arrays of several
        operands share this field's archive path (FITS files then number the
        repeated extension names with EXTVER), as the reference layout does.
        """
        return self._model_type()(operands=[operand.serialize(archive) for operand in self._operands])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._operands)!r})"
