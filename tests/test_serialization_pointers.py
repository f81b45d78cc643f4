"""Archive pointers validated through the validation context (``serialization._pointers``)."""

from __future__ import annotations

from typing import Generic

import pydantic
import pytest

from lsst.images import MaskedImageSerializationModel, VisitImageSerializationModel
from lsst.images._transforms._models import (
    MappingSerializationModel,
    ProjectionSerializationModel,
    TransformSerializationModel,
)
from lsst.images.fits import PointerModel
from lsst.images.serialization import JsonRef, parametrized
from lsst.images.serialization._archive import P
from lsst.images.serialization._pointers import models_using_pointer, pointer_context

#: A FITS pointer as the writer stores it: row 3 of the JSON HDU's byte column.
FITS_POINTER = {
    "column": {"data": {"source": "fits:JSON", "shape": [], "datatype": "uint8"}, "name": "JSON"},
    "row": 3,
}


def _validate(entry: object, pointer_type: object) -> object:
    tree = {"mappings": [entry]}
    return TransformSerializationModel.model_validate(tree, context=pointer_context(pointer_type)).mappings[0]


def test_fits_pointer_entries_are_validated_as_fits_pointers() -> None:
    got = _validate(FITS_POINTER, PointerModel)
    assert isinstance(got, PointerModel) and got.row == 3 and got.column.name == "JSON"
    with pytest.raises(pydantic.ValidationError, match="PointerModel"):
        _validate({**FITS_POINTER, "row": "not a row"}, PointerModel)
    with pytest.raises(pydantic.ValidationError):
        _validate({"$ref": "#/indirect/0"}, PointerModel)  # a JSON pointer is no FITS pointer
    with pytest.raises(pydantic.ValidationError):
        _validate(17, PointerModel)


def test_json_pointer_entries_are_validated_as_json_refs() -> None:
    got = _validate({"$ref": "#/indirect/0"}, JsonRef)
    assert got == JsonRef(ref="#/indirect/0")
    with pytest.raises(pydantic.ValidationError, match="JsonRef"):
        _validate(FITS_POINTER, JsonRef)


def test_inline_mappings_and_instances() -> None:
    assert _validate({"ast": "text"}, PointerModel) == MappingSerializationModel(ast="text")
    pointer = PointerModel.model_validate(FITS_POINTER)
    assert _validate(pointer, PointerModel) is pointer
    # Without a context (trees built in code) pointer instances are kept as they are.
    model = TransformSerializationModel(mappings=[pointer, MappingSerializationModel(ast="x")])
    assert model.mappings[0] is pointer
    assert model.model_dump()["mappings"] == [pointer.model_dump(), {"ast": "x"}]


class _WithPointer(pydantic.BaseModel, Generic[P]):
    ref: P | None = None


class _Nested(pydantic.BaseModel, Generic[P]):
    inner: _WithPointer[P]


def test_only_models_with_pointer_fields_are_parametrized() -> None:
    for model in (
        TransformSerializationModel,
        ProjectionSerializationModel,
        MaskedImageSerializationModel,
        VisitImageSerializationModel,
    ):
        assert not models_using_pointer(model), model
        assert parametrized(model, PointerModel) is model
    assert models_using_pointer(_WithPointer) and models_using_pointer(_Nested)
    concrete = parametrized(_Nested, JsonRef)
    assert concrete is not _Nested and concrete is parametrized(_Nested, JsonRef)
    assert concrete.model_validate({"inner": {"ref": {"$ref": "#/x"}}}).inner.ref == JsonRef(ref="#/x")
    with pytest.raises(pydantic.ValidationError):
        concrete.model_validate({"inner": {"ref": {"row": 1}}})
