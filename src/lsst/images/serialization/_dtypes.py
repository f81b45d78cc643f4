"""The closed set of array element types that archives can store."""

from __future__ import annotations

__all__ = (
    "FloatType",
    "IntegerType",
    "NumberType",
    "SignedIntegerType",
    "UnsignedIntegerType",
    "is_integer",
)

import enum
from typing import Literal, TypeGuard

import numpy as np
import numpy.typing as npt


class NumberType(enum.StrEnum):
    """Element types an archive can store, spelled as numpy type names.

    The names double as the ``datatype`` strings of the ASDF-like array models,
    so the enum value is exactly what appears in the JSON tree.  Byte order is
    not part of the type: archives always record big-endian storage.
    """

    bool = "bool"
    uint8 = "uint8"
    uint16 = "uint16"
    uint32 = "uint32"
    uint64 = "uint64"
    int8 = "int8"
    int16 = "int16"
    int32 = "int32"
    int64 = "int64"
    float32 = "float32"
    float64 = "float64"

    @classmethod
    def from_numpy(cls, dtype: npt.DTypeLike) -> NumberType:
        """Return the member for a numpy scalar dtype.

        Parameters
        ----------
        dtype
            Anything `numpy.dtype` accepts; byte order is ignored.

        Raises
        ------
        TypeError
            If ``dtype`` is a sub-array dtype (use `from_numpy_with_shape`).
        ValueError
            If the element type is not one of the supported types (e.g.
            float16, complex, strings, structured or object dtypes).
        """
        dt = np.dtype(dtype)
        if dt.subdtype is not None:
            raise TypeError(f"{dtype!r} is not a scalar type.")
        return cls(dt.name)

    @classmethod
    def from_numpy_with_shape(cls, dtype: npt.DTypeLike) -> tuple[NumberType, tuple[int, ...]]:
        """Return the member and the per-element shape of a possibly sub-array dtype.

        Table columns whose cells are fixed-shape arrays have sub-array dtypes
        such as ``('f4', (2, 3))``; this splits them into element type and
        cell shape (``()`` for scalar dtypes).
        """
        dt = np.dtype(dtype)
        if dt.subdtype is not None:
            base, shape = dt.subdtype
            return cls.from_numpy(base), tuple(shape)
        return cls.from_numpy(dt), ()

    def to_numpy(self) -> type:
        """Return the corresponding numpy scalar type (e.g. `numpy.float32`)."""
        return np.dtype(self.value).type

    def require_integer(self) -> IntegerType:
        """Return ``self`` if it is an integer type.

        Raises
        ------
        TypeError
            If this is a floating-point or boolean type.
        """
        if not is_integer(self):
            raise TypeError(f"{self} is not an integer type.")
        return self


SignedIntegerType = (
    Literal[NumberType.int8]
    | Literal[NumberType.int16]
    | Literal[NumberType.int32]
    | Literal[NumberType.int64]
)
"""Signed integer `NumberType` members."""

UnsignedIntegerType = (
    Literal[NumberType.bool]
    | Literal[NumberType.uint8]
    | Literal[NumberType.uint16]
    | Literal[NumberType.uint32]
    | Literal[NumberType.uint64]
)
"""Unsigned integer `NumberType` members (bool is grouped here for typing)."""

IntegerType = SignedIntegerType | UnsignedIntegerType
"""Signed or unsigned integer `NumberType` members."""

FloatType = Literal[NumberType.float32] | Literal[NumberType.float64]
"""Floating-point `NumberType` members."""

_INTEGER_TYPES = frozenset(
    {
        NumberType.uint8,
        NumberType.uint16,
        NumberType.uint32,
        NumberType.uint64,
        NumberType.int8,
        NumberType.int16,
        NumberType.int32,
        NumberType.int64,
    }
)


def is_integer(t: NumberType) -> TypeGuard[IntegerType]:
    """Return whether ``t`` is a true integer type.

    ``bool`` is deliberately *not* an integer here (as in the reference
    implementation): code that needs bit-packing, such as masks, must not
    silently accept boolean storage.
    """
    return t in _INTEGER_TYPES
