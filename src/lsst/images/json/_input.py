"""`JsonInputArchive`: resolves a pure-JSON tree's inline arrays and ``#/indirect/N`` pointers."""

from __future__ import annotations

__all__ = ("JsonInputArchive",)

from collections.abc import Callable
from types import EllipsisType
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from ..serialization import (
    ArchiveReadError,
    ArrayReferenceModel,
    InlineArrayModel,
    InputArchive,
    JsonRef,
    TableModel,
    no_header_updates,
)
from ..serialization._pointers import pointer_context

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.table
    import numpy as np

    from .._transforms import FrameSet

U = TypeVar("U")
V = TypeVar("V")

_PREFIX = "#/indirect/"


class JsonInputArchive(InputArchive[JsonRef]):
    """Input archive for trees written by `JsonOutputArchive`.

    Parameters
    ----------
    indirect
        The tree's ``indirect`` list: raw JSON values (from a file) or models
        (from a tree that was just written).  Pointers ``#/indirect/N`` index it.
    """

    def __init__(self, indirect: list[Any] | None = None):
        self._indirect = list(indirect or [])
        self._cache: dict[str, Any] = {}

    def _index(self, pointer: JsonRef) -> int:
        ref = pointer.ref
        if ref.startswith(_PREFIX) and ref[len(_PREFIX) :].isdigit():
            index = int(ref[len(_PREFIX) :])
            if index < len(self._indirect):
                return index
        raise ArchiveReadError(
            f"JSON reference {ref!r} does not point into the tree's 'indirect' list "
            f"({len(self._indirect)} entries)."
        )

    def deserialize_pointer(
        self, pointer: JsonRef, model_type: type[U], deserializer: Callable[[U, InputArchive[JsonRef]], V]
    ) -> V:
        if pointer.ref in self._cache:
            return self._cache[pointer.ref]
        entry = self._indirect[self._index(pointer)]
        if isinstance(entry, model_type):
            model = entry
        else:
            try:
                if isinstance(model_type, type) and issubclass(model_type, pydantic.BaseModel):
                    model = model_type.model_validate(entry, context=pointer_context(JsonRef))
                else:  # e.g. a union of model types
                    model = pydantic.TypeAdapter(model_type).validate_python(
                        entry, context=pointer_context(JsonRef)
                    )
            except pydantic.ValidationError as err:
                raise ArchiveReadError(f"Invalid JSON subtree at {pointer.ref!r}: {err}") from err
        result = deserializer(model, self)
        self._cache[pointer.ref] = result
        return result

    def get_array(
        self,
        model: ArrayReferenceModel | InlineArrayModel,
        *,
        slices: tuple[slice, ...] | EllipsisType = ...,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> np.ndarray:
        if not isinstance(model, InlineArrayModel):
            raise ArchiveReadError(
                f"A JSON archive stores arrays inline; cannot resolve external array source {model.source!r}."
            )
        try:
            array = model.to_array()
        except ValueError as err:
            raise ArchiveReadError(f"Inline {model.datatype} array is malformed: {err}") from err
        return array if slices is ... else array[slices]

    def get_structured_array(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> np.ndarray:
        try:
            return model._inline_structured_array()
        except NotImplementedError as err:
            raise ArchiveReadError(f"Cannot read table from JSON archive: {err}") from err

    def get_table(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> astropy.table.Table:
        return model._to_table(self.get_structured_array(model))

    def get_frame_set(self, ref: JsonRef) -> FrameSet:
        try:
            return self._cache[ref.ref]
        except KeyError:
            raise ArchiveReadError(
                f"Frame set {ref.ref!r} is referenced before it was read; "
                "frame sets must be deserialized before the transforms that use them."
            ) from None
