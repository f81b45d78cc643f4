"""Table column and table models (ASDF-like) for structured data."""

from __future__ import annotations

__all__ = ("TableColumnModel", "TableModel")

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pydantic

from ._dtypes import NumberType
from ._errors import UnsupportedTableError
from ._models import ArrayReferenceModel, InlineArrayModel, is_empty
from ._units import Unit

if TYPE_CHECKING:
    import astropy.table

_ScalarMeta = int | float | str | bool | None


def _column_type(dtype: np.dtype, name: str) -> tuple[NumberType, tuple[int, ...]]:
    try:
        return NumberType.from_numpy_with_shape(dtype)
    except (TypeError, ValueError) as err:
        raise UnsupportedTableError(f"Column {name!r} has unsupported type {dtype}: {err}") from None


class TableColumnModel(pydantic.BaseModel):
    """One table column: its data (inline or referenced), name, description, unit and metadata.

    For referenced (non-inline) data, ``data.shape`` is the shape of one cell
    (``[]`` for scalar columns): the row count belongs to the table storage.
    """

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    data: InlineArrayModel | ArrayReferenceModel
    name: str
    description: str = pydantic.Field(default="", exclude_if=is_empty)
    unit: Unit | None = pydantic.Field(default=None, exclude_if=is_empty)
    meta: dict[str, _ScalarMeta] = pydantic.Field(
        default_factory=dict, exclude_if=is_empty, description="Free-form metadata for the column."
    )

    @classmethod
    def from_column(cls, column: astropy.table.Column, inline: bool = False) -> TableColumnModel:
        """Describe an astropy column; with ``inline`` the values are embedded."""
        array = np.asarray(column)
        datatype, cell_shape = _column_type(array.dtype, column.name)
        data: InlineArrayModel | ArrayReferenceModel
        if inline:
            data = InlineArrayModel(data=array.tolist(), datatype=datatype)
        else:
            data = ArrayReferenceModel(
                source="", shape=list(array.shape[1:]) + list(cell_shape), datatype=datatype
            )
        return cls(
            data=data,
            name=column.name,
            description=column.description or "",
            unit=column.unit,
            meta=dict(column.meta or {}),
        )

    @classmethod
    def from_record_dtype(cls, dtype: npt.DTypeLike) -> list[TableColumnModel]:
        """Column definitions (references with empty ``source``) for a structured dtype."""
        dt = np.dtype(dtype)
        if dt.names is None:
            raise UnsupportedTableError(f"dtype {dt} is not a structured dtype.")
        result = []
        for name in dt.names:
            datatype, shape = _column_type(dt.fields[name][0], name)
            result.append(
                cls(data=ArrayReferenceModel(source="", shape=list(shape), datatype=datatype), name=name)
            )
        return result

    @classmethod
    def from_record_array(cls, array: np.ndarray, inline: bool = False) -> list[TableColumnModel]:
        """Column models for a structured array; with ``inline`` the values are embedded."""
        columns = cls.from_record_dtype(array.dtype)
        if inline:
            for column in columns:
                column.data = InlineArrayModel(
                    data=array[column.name].tolist(), datatype=column.data.datatype
                )
        return columns

    @classmethod
    def from_table(cls, table: astropy.table.Table, inline: bool = False) -> list[TableColumnModel]:
        """Column models for every column of an astropy table."""
        return [cls.from_column(table[name], inline=inline) for name in table.colnames]

    def update_table(self, table: astropy.table.Table) -> None:
        """Apply this column's unit, description and metadata to the same-named table column."""
        column = table[self.name]
        if self.unit is not None:
            column.unit = self.unit
        if self.description:
            column.description = self.description
        if self.meta:
            column.meta.update(self.meta)


class TableModel(pydantic.BaseModel):
    """A table: its column models plus table-level scalar metadata."""

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    columns: list[TableColumnModel] = pydantic.Field(default_factory=list)
    meta: dict[str, _ScalarMeta] = pydantic.Field(default_factory=dict, exclude_if=is_empty)

    def _inline_structured_array(self) -> np.ndarray:
        """Assemble a structured array from fully inline columns (used by archives storing tables inline)."""

        def load(column: TableColumnModel) -> np.ndarray:
            if not isinstance(column.data, InlineArrayModel):
                raise UnsupportedTableError(f"Column {column.name!r} is not stored inline.")
            return column.data.to_array()

        return self._structured_array(load)

    def _structured_array(self, load: Callable[[TableColumnModel], np.ndarray]) -> np.ndarray:
        """Assemble a structured array from the values ``load`` returns for each column."""
        fields: list[tuple[Any, ...]] = []
        arrays = []
        for column in self.columns:
            values = load(column)
            arrays.append(values)
            fields.append((column.name, values.dtype, values.shape[1:]))
        nrows = arrays[0].shape[0] if arrays else 0
        if any(a.shape[0] != nrows for a in arrays):
            raise UnsupportedTableError("Table columns have different lengths.")
        result = np.zeros(nrows, dtype=fields)
        for (name, *_), values in zip(fields, arrays, strict=True):
            result[name] = values
        return result

    def _to_table(self, array: np.ndarray) -> astropy.table.Table:
        """An astropy table of the structured ``array`` with this model's units, descriptions and metadata."""
        import astropy.table

        table = astropy.table.Table(array)
        for column in self.columns:
            column.update_table(table)
        table.meta.update(self.meta)
        return table
