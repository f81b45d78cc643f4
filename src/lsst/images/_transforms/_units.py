"""Unit annotation for frame models.

Frames need an astropy unit field that serializes as a unit string.  The
package-wide `lsst.images.serialization.Unit` type is used when it is
available; this module only re-exports it so the frame module has one import.
"""

from __future__ import annotations

__all__ = ("Unit",)

from typing import Annotated, Any

import astropy.units as u
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class _UnitSerialization:
    """Pydantic hooks: accept a unit or a unit string, write the FITS-style string."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        from_str = core_schema.no_info_after_validator_function(
            lambda s: u.Unit(s, parse_strict="silent"), core_schema.str_schema()
        )
        return core_schema.json_or_python_schema(
            json_schema=from_str,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(u.UnitBase), from_str]),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda unit: unit.to_string()),
        )


Unit = Annotated[u.UnitBase, _UnitSerialization]
