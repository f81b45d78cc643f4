"""Archive pointers validated through the validation context instead of generic parameters.

Tree models are generic in the archive's pointer type ``P`` (`PointerModel` in FITS
files, `JsonRef` in JSON files).  Parametrizing a large tree model with a concrete
pointer type makes pydantic re-create every generic sub-model and rebuild the whole
validator, which was most of the first-read cost of a process (tens of milliseconds for
a `VisitImage`, for a handful of pointer fields deep inside its projection).  So fields
that hold pointers are typed with `pointer_field`, which validates a pointer against
the type the reading archive names in the validation context (`pointer_context`), and
`parametrized` returns a model unchanged when none of its fields depends on ``P``.
Nothing goes unvalidated: an archive that reads a tree always passes its pointer type.
"""

from __future__ import annotations

__all__ = ("models_using_pointer", "pointer_context", "pointer_field", "pointer_type_from")

import functools
import typing
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic

from ._archive import P

_CONTEXT_KEY = "lsst.images.pointer_type"


def pointer_context(pointer_type: Any, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The validation context telling `pointer_field` values which pointer type to expect."""
    return {**(context or {}), _CONTEXT_KEY: pointer_type}


def pointer_type_from(info: pydantic.ValidationInfo) -> Any:
    """The pointer type named by the validation context, or None."""
    context = info.context
    return context.get(_CONTEXT_KEY) if isinstance(context, Mapping) else None


def pointer_field(*alternatives: type[pydantic.BaseModel]) -> Any:
    """An annotated type: one of the ``alternatives`` models, or a pointer of the archive's type.

    A mapping that validates as one of ``alternatives`` (tried in order) is that model;
    anything else must validate as the pointer type of the validation context.  Without a
    context (trees built in code, or validated by a caller that names no archive) pointer
    instances and unrecognized mappings are kept as they are, as an unparametrized generic
    model would keep them.
    """

    def validate(value: Any, info: pydantic.ValidationInfo) -> Any:
        if isinstance(value, alternatives):
            return value
        pointer_type = pointer_type_from(info)
        if pointer_type is not None and isinstance(value, pointer_type):
            return value
        errors = []
        if isinstance(value, Mapping):
            for model in alternatives:
                try:
                    return model.model_validate(value, context=info.context)
                except pydantic.ValidationError as err:
                    errors.append(err)
        if pointer_type is None or pointer_type is Any:
            return value
        try:
            return _adapter(pointer_type).validate_python(value, context=info.context)
        except pydantic.ValidationError as err:
            expected = ", ".join(m.__name__ for m in (*alternatives, pointer_type))
            raise ValueError(f"expected one of {expected}: {err}") from None

    schema = {"anyOf": [{"$ref": f"#/$defs/{m.__name__}"} for m in alternatives] + [{"type": "object"}]}
    return Annotated[
        Any,
        pydantic.PlainValidator(validate),
        pydantic.WithJsonSchema(schema),
    ]


@functools.cache
def _adapter(pointer_type: Any) -> pydantic.TypeAdapter[Any]:
    """One validator per pointer type and process."""
    return pydantic.TypeAdapter(pointer_type)


@functools.cache
def models_using_pointer(model: type[pydantic.BaseModel]) -> bool:
    """Whether a field of ``model`` (or of a model it contains) is typed with the pointer TypeVar ``P``."""
    return _mentions_pointer(model, set())


def _mentions_pointer(annotation: Any, seen: set[int]) -> bool:
    if annotation is P:
        return True
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if id(annotation) in seen:
            return False
        seen.add(id(annotation))
        return any(_mentions_pointer(field.annotation, seen) for field in annotation.model_fields.values())
    return any(_mentions_pointer(arg, seen) for arg in typing.get_args(annotation))
