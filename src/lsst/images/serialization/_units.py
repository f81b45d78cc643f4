"""The `Unit` annotated type: astropy units stored as strings."""

from __future__ import annotations

__all__ = ("Unit", "format_unit", "parse_unit")

import functools
import warnings
from typing import Annotated, Any

import astropy.units
import pydantic
from pydantic_core import core_schema


@functools.lru_cache(maxsize=512)
def format_unit(unit: astropy.units.UnitBase) -> str:
    """Spell a unit the way archives store it.

    The VOUnit spelling (``nJy``, ``nJy**2``, ``m.s**-1``) is preferred because
    it is a published standard that other tools can parse; units VOUnit cannot
    express (``electron``, ``nJy / electron``) fall back to astropy's generic
    format, which `parse_unit` reads back.  Cached, as for `parse_unit`: a unit VOUnit
    rejects costs milliseconds of astropy's error message.
    """
    try:
        with warnings.catch_warnings():
            # Deprecated-but-valid VOUnit spellings (e.g. 'erg') only warn.
            warnings.simplefilter("ignore", astropy.units.UnitsWarning)
            return unit.to_string(format="vounit")
    except (ValueError, TypeError):
        return unit.to_string(format="generic")


@functools.lru_cache(maxsize=512)
def parse_unit(text: str) -> astropy.units.UnitBase:
    """Parse a unit string written by `format_unit` (its VOUnit spelling, or else the generic one).

    Results are cached: units are immutable and files repeat the same few spellings.
    The first VOUnit parse in a process costs ~10 ms (astropy builds its VOUnit tables),
    and a unit VOUnit cannot express (``nJy / electron``) tens of milliseconds of "did
    you mean" suggestions in astropy's error message, whether parsing or formatting.  So
    the generic parser (precompiled, microseconds) goes first, and its result is taken
    when that unit's generic or VOUnit spelling is exactly the stored text -- which is
    what `format_unit` wrote.  Other text goes through VOUnit, then generic, as before.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", astropy.units.UnitsWarning)
        try:
            unit = astropy.units.Unit(text, format="generic")
        except ValueError:
            unit = None
        if unit is not None and (unit.to_string(format="generic") == text or format_unit(unit) == text):
            return unit
        try:
            return astropy.units.Unit(text, format="vounit")
        except ValueError:
            pass
        try:
            return astropy.units.Unit(text, format="generic")
        except ValueError as err:
            raise ValueError(f"Cannot parse unit string {text!r}: {err}") from None


class _UnitSerialization:
    """Pydantic hooks that store an astropy unit as its string spelling."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: pydantic.GetCoreSchemaHandler) -> Any:
        from_str = core_schema.chain_schema(
            [core_schema.str_schema(), core_schema.no_info_plain_validator_function(parse_unit)]
        )
        return core_schema.json_or_python_schema(
            json_schema=from_str,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(astropy.units.UnitBase), from_str]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                format_unit, return_schema=core_schema.str_schema()
            ),
        )


Unit = Annotated[
    astropy.units.UnitBase,
    _UnitSerialization,
    pydantic.WithJsonSchema({"type": "string", "description": "Astropy unit string (VOUnit when possible)."}),
]
"""Astropy unit serialized as a unit string (VOUnit spelling when possible, else generic)."""
