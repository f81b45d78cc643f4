"""Pydantic models for array, quantity, time, table and pointer nodes of archive trees.

These mirror (a subset of) the ASDF schemas for ``ndarray``, ``quantity``,
``time`` and ``table``, so that the JSON trees stay readable by people who know
ASDF, while the actual bytes may live elsewhere (FITS HDUs, inline lists...).
"""

from __future__ import annotations

__all__ = (
    "ArrayReferenceModel",
    "ArrayReferenceQuantityModel",
    "ButlerInfo",
    "InlineArrayModel",
    "InlineArrayQuantityModel",
    "JsonRef",
    "MetadataValue",
    "QuantityModel",
    "TimeModel",
    "is_empty",
    "parametrized",
)

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pydantic

from ._dtypes import NumberType
from ._units import Unit

if TYPE_CHECKING:
    import astropy.units as u
    import numpy as np
else:
    from .._lazy import astropy_units as u


MetadataValue = (
    Annotated[int, pydantic.Strict()]
    | Annotated[float, pydantic.Strict()]
    | Annotated[str, pydantic.Strict()]
    | Annotated[bool, pydantic.Strict()]
    | None
)
"""Allowed metadata values: strict int, float, str, bool or None.

Strict validation keeps metadata from silently changing type on a round trip
(e.g. the string ``"1"`` never becomes the integer ``1``).
"""


@functools.cache
def parametrized(model: Any, pointer_type: Any) -> Any:
    """``model[pointer_type]``, built once per process and kept; ``model`` itself if no field uses ``P``.

    Pydantic caches parametrized generic models only weakly, so after a full garbage
    collection every read would rebuild the tree models of its type (validators and
    all, milliseconds each); holding them here makes that a one-time cost.  Models whose
    pointers are validated through the validation context (`pointer_field`) need no
    parametrization at all, which saves rebuilding every generic sub-model.
    """
    from ._pointers import models_using_pointer

    if not models_using_pointer(model):
        return model
    return model[pointer_type]


def is_empty(value: Any) -> bool:
    """Return whether a field value should be left out of serialized trees.

    Used as ``exclude_if`` for optional fields: `None`, empty containers and
    empty strings carry no information, and omitting them keeps trees (and
    the fixture files) compact.
    """
    return not value


# Every model that can hold floats needs this config itself: pydantic applies
# ``ser_json_inf_nan`` per model, not per dump call.
_CONFIG = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)


class ArrayReferenceModel(pydantic.BaseModel):
    """Reference to array data stored outside the tree (ASDF ndarray subset).

    ``source`` says where the bytes are (``"fits:IMAGE"``, ``"fits:NAME[2]"``
    for a table column, or an integer block index); ``shape`` is the full
    array shape (or the per-row cell shape for table columns).
    """

    model_config = _CONFIG

    source: str | int
    shape: list[int]
    datatype: NumberType
    byteorder: Literal["big"] = "big"

    def with_units(self, unit: u.UnitBase) -> ArrayReferenceQuantityModel:
        """Wrap this reference into a quantity model carrying ``unit``."""
        return ArrayReferenceQuantityModel(value=self, unit=unit)


class ArrayReferenceQuantityModel(pydantic.BaseModel):
    """An out-of-line array with a unit: ``{value: <array reference>, unit}``."""

    model_config = _CONFIG

    value: ArrayReferenceModel
    unit: Unit


class InlineArrayModel(pydantic.BaseModel):
    """Array stored directly in the tree as nested lists (ASDF inline ndarray).

    No shape is stored: it is implied by the list nesting, so it cannot
    disagree with the data.
    """

    model_config = _CONFIG

    data: list[Any]
    datatype: NumberType

    @classmethod
    def from_array(cls, array: np.ndarray) -> InlineArrayModel:
        """Build an inline model from a numpy array (values converted to Python scalars)."""
        return cls(data=array.tolist(), datatype=NumberType.from_numpy(array.dtype))

    def to_array(self) -> np.ndarray:
        """Rebuild the numpy array with the recorded element type and implied shape."""
        import numpy as np

        return np.array(self.data, dtype=self.datatype.to_numpy()).reshape(self.shape)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape implied by the nested lists (following first elements)."""
        shape: list[int] = []
        node: Any = self.data
        while isinstance(node, list):
            shape.append(len(node))
            if not node:
                break
            node = node[0]
        return tuple(shape)

    def with_units(self, unit: u.UnitBase) -> InlineArrayQuantityModel:
        """Wrap this array into a quantity model carrying ``unit``."""
        return InlineArrayQuantityModel(value=self, unit=unit)


class InlineArrayQuantityModel(pydantic.BaseModel):
    """An inline array with a unit: ``{value: <inline array>, unit}``."""

    model_config = _CONFIG

    value: InlineArrayModel
    unit: Unit


class QuantityModel(pydantic.BaseModel):
    """A scalar quantity ``{value, unit}``; the value is a strict float."""

    model_config = _CONFIG

    value: Annotated[float, pydantic.Strict()]
    unit: Unit


class TimeModel(pydantic.BaseModel):
    """A time instant as an ISO string in the UTC or TAI scale.

    Only two scales are stored because they are the ones observatory
    metadata uses; other scales are converted to TAI when serialized.
    """

    model_config = _CONFIG

    value: str
    scale: Literal["utc", "tai"]
    format: Literal["iso"] = "iso"


class JsonRef(pydantic.BaseModel):
    """JSON-reference pointer ``{"$ref": "#/indirect/N"}`` used by the JSON archive."""

    model_config = pydantic.ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, frozen=True
    )

    ref: str = pydantic.Field(alias="$ref")


class ButlerInfo(pydantic.BaseModel):
    """Butler dataset reference and provenance recorded in a tree.

    The fields hold the JSON forms of ``lsst.daf.butler``'s
    ``SerializedDatasetRef`` and ``DatasetProvenance``; they are kept as plain
    JSON values so that reading and writing never requires the butler.
    """

    model_config = _CONFIG

    dataset: Any
    provenance: Any = pydantic.Field(default_factory=dict)

    def dataset_ref(self) -> Any:
        """The dataset as a ``lsst.daf.butler.SerializedDatasetRef`` (its JSON form without the butler)."""
        return _as_butler_model("SerializedDatasetRef", self.dataset)

    def dataset_provenance(self) -> Any:
        """The provenance as a ``lsst.daf.butler.DatasetProvenance`` (its JSON form without the butler)."""
        return _as_butler_model("DatasetProvenance", self.provenance)


def _as_butler_model(name: str, value: Any) -> Any:
    """Validate a stored JSON value into the butler's model ``name`` when the butler is installed."""
    if value is None or isinstance(value, pydantic.BaseModel):
        return value
    try:
        import lsst.daf.butler as butler
    except ImportError:
        return value
    return getattr(butler, name).model_validate(value)
