"""`ArchiveTree`: the abstract base of every top-level serialized model."""

from __future__ import annotations

__all__ = ("ArchiveTree", "dump_tree_json")

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import pydantic

from ._errors import InvalidComponentError
from ._models import ButlerInfo, MetadataValue, is_empty

if TYPE_CHECKING:
    from ._archive import InputArchive


class ArchiveTree(pydantic.BaseModel, ABC):
    """Base of every model that an archive stores as a (sub)tree.

    It carries the object's flat ``metadata`` dict, optional butler
    information, and the ``indirect`` list that pointer-based archives (JSON)
    fill with out-of-line subtrees.  All three are omitted from the serialized
    form when empty, so they cost nothing for the common case.

    The model config writes NaN and infinities as the bare ``NaN`` /
    ``Infinity`` / ``-Infinity`` tokens (which Python's `json` reads back) and
    bytes as base64.  Subclasses may also be generic in the archive pointer
    type, e.g. ``class Model(ArchiveTree, Generic[P])``.
    """

    model_config = pydantic.ConfigDict(
        ser_json_inf_nan="constants", ser_json_bytes="base64", val_json_bytes="base64", defer_build=True
    )

    metadata: dict[str, MetadataValue] = pydantic.Field(default_factory=dict, exclude_if=is_empty)
    butler_info: ButlerInfo | None = pydantic.Field(default=None, exclude_if=is_empty)
    indirect: list[Any] = pydantic.Field(default_factory=list, exclude_if=is_empty)

    @abstractmethod
    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Rebuild the in-memory object described by this tree.

        Parameters
        ----------
        archive
            Archive that resolves array references and pointers in the tree.
        **kwargs
            Type-specific read options (e.g. ``bbox``); unsupported ones
            should raise `InvalidParameterError`.
        """
        raise NotImplementedError()

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Rebuild only one component (a field of this model) of the stored object.

        The default handles the common cases: `None` stays `None`, nested
        archive trees are deserialized (with ``kwargs``) and anything else is
        returned as stored.  Types whose components need more context override
        this.

        Raises
        ------
        InvalidComponentError
            If ``component`` is not a field of this model.
        """
        if component not in type(self).model_fields:
            raise InvalidComponentError(
                f"Component {component!r} is not recognized by {type(self).__name__}."
            )
        value = getattr(self, component)
        if value is None:
            return None
        if isinstance(value, ArchiveTree):
            return value.deserialize(archive, **kwargs)
        return value


def dump_tree_json(tree: pydantic.BaseModel) -> bytes:
    """Serialize a tree to the compact UTF-8 JSON bytes archives store.

    This is exactly ``tree.model_dump_json()`` (compact separators, fields in
    declaration order, empty optional fields omitted, NaN/Infinity tokens from
    the model config) encoded as UTF-8; archives should call this rather than
    re-encoding through `json`, which would reorder nothing but could change
    float spellings.
    """
    return tree.__pydantic_serializer__.to_json(tree)
