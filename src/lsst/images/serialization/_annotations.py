"""Annotated types that let pydantic models hold astropy/numpy objects directly.

Each annotation validates either the in-memory object or its serialized model,
and serializes through the model, so user models can declare e.g.
``scale: Quantity`` and still produce the ASDF-like JSON nodes.
"""

from __future__ import annotations

__all__ = ("InlineArray", "InlineArrayQuantity", "Quantity")

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import numpy as np
import pydantic
from pydantic_core import core_schema

from .._lazy import is_instance_if_loaded
from ._models import InlineArrayModel, InlineArrayQuantityModel, QuantityModel

if TYPE_CHECKING:
    import astropy.units as u
else:
    from .._lazy import astropy_units as u


def annotated_schema(
    handler: pydantic.GetCoreSchemaHandler,
    py_type: type | Callable[[Any], bool],
    model_type: type[pydantic.BaseModel],
    from_model: Callable[[Any], Any],
    to_model: Callable[[Any], Any],
) -> core_schema.CoreSchema:
    """Core schema accepting ``py_type`` instances or ``model_type`` data, serializing via the model.

    ``py_type`` may instead be a predicate, for types whose class is not imported yet
    (astropy's): objects it accepts pass through unchanged.
    """
    model_schema = handler.generate_schema(model_type)
    from_model_schema = core_schema.chain_schema(
        [model_schema, core_schema.no_info_plain_validator_function(from_model)]
    )
    if isinstance(py_type, type):
        instance_schema = core_schema.is_instance_schema(py_type)
    else:
        instance_schema = core_schema.no_info_plain_validator_function(_instance_check(py_type))
    return core_schema.json_or_python_schema(
        json_schema=from_model_schema,
        python_schema=core_schema.union_schema([instance_schema, from_model_schema]),
        # No return schema: the returned model is then serialized with its *own* config, so NaN
        # and infinities stay ``NaN``/``Infinity`` tokens even inside models without that config.
        serialization=core_schema.plain_serializer_function_ser_schema(to_model),
    )


def _instance_check(predicate: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if predicate(value):
            return value
        raise ValueError(f"Unexpected {type(value).__name__}.")

    return check


def _is_quantity(value: object) -> bool:
    return is_instance_if_loaded(value, "astropy.units", "Quantity")


class ModelBackedAnnotation:
    """Base of the annotation markers: the JSON schema of the type is that of its model.

    (The core schema ends in plain validator/serializer functions, for which
    pydantic cannot derive a JSON schema by itself.)
    """

    model_type: ClassVar[type[pydantic.BaseModel]]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: pydantic.GetJsonSchemaHandler
    ) -> Any:
        return handler(cls.model_type.__pydantic_core_schema__)


def _quantity_to_model(q: u.Quantity) -> QuantityModel:
    if not q.isscalar:
        raise ValueError(f"Quantity annotation requires a scalar, got shape {q.shape}.")
    return QuantityModel(value=float(q.value), unit=q.unit)


def _quantity_from_model(model: QuantityModel) -> u.Quantity:
    return u.Quantity(model.value, model.unit)


class _QuantitySerialization(ModelBackedAnnotation):
    """Pydantic hooks storing a scalar Quantity as a `QuantityModel`."""

    model_type = QuantityModel

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: pydantic.GetCoreSchemaHandler) -> Any:
        return annotated_schema(
            handler, _is_quantity, QuantityModel, _quantity_from_model, _quantity_to_model
        )


def _array_to_model(array: np.ndarray) -> InlineArrayModel:
    return InlineArrayModel.from_array(np.asarray(array))


class _InlineArraySerialization(ModelBackedAnnotation):
    """Pydantic hooks storing a numpy array as an `InlineArrayModel`."""

    model_type = InlineArrayModel

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: pydantic.GetCoreSchemaHandler) -> Any:
        return annotated_schema(
            handler, np.ndarray, InlineArrayModel, InlineArrayModel.to_array, _array_to_model
        )


def _array_quantity_to_model(q: u.Quantity) -> InlineArrayQuantityModel:
    return InlineArrayQuantityModel(value=InlineArrayModel.from_array(np.asarray(q.value)), unit=q.unit)


def _array_quantity_from_model(model: InlineArrayQuantityModel) -> u.Quantity:
    return u.Quantity(model.value.to_array(), model.unit, copy=False)


class _InlineArrayQuantitySerialization(ModelBackedAnnotation):
    """Pydantic hooks storing an array Quantity as an `InlineArrayQuantityModel`."""

    model_type = InlineArrayQuantityModel

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: pydantic.GetCoreSchemaHandler) -> Any:
        return annotated_schema(
            handler,
            _is_quantity,
            InlineArrayQuantityModel,
            _array_quantity_from_model,
            _array_quantity_to_model,
        )


if TYPE_CHECKING:
    Quantity = Annotated[u.Quantity, _QuantitySerialization]
    InlineArrayQuantity = Annotated[u.Quantity, _InlineArrayQuantitySerialization]
else:
    # The runtime annotation names no astropy class, so defining models does not import it.
    Quantity = Annotated[object, _QuantitySerialization]
    InlineArrayQuantity = Annotated[object, _InlineArrayQuantitySerialization]
# Quantity: a scalar astropy Quantity serialized as a `QuantityModel` ``{value, unit}``.
# InlineArrayQuantity: an array astropy Quantity serialized as an `InlineArrayQuantityModel`.

InlineArray = Annotated[np.ndarray, _InlineArraySerialization]
"""Numpy array serialized inline as an `InlineArrayModel` ``{data, datatype}``."""
