"""The `Unit` annotated type: astropy units stored as strings, and parsed only when used.

Reading a file must not import ``astropy.units`` (a fifth of a second in a fresh process,
several times a whole cut-out), so a unit read from a tree stays a validated string, a
`UnitText`, until an astropy unit is actually asked for.  Validation is not skipped:
text is accepted without astropy only when it is one of the spellings `format_unit`
produces for the units Rubin's files use (`KNOWN_SPELLINGS`, checked against astropy by
the test suite); any other text is parsed by astropy at validation time, as before, and
refused if astropy cannot read it.
"""

from __future__ import annotations

__all__ = ("KNOWN_SPELLINGS", "Unit", "UnitText", "format_unit", "parse_unit")
# (The helpers below -- stored_unit, resolved_unit, has_unit, squared_unit, units_equal,
# ResolvedUnit -- are for this package's containers and are imported from this module.)

import functools
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import pydantic
from pydantic_core import core_schema

from .._lazy import is_instance_if_loaded

if TYPE_CHECKING:
    import astropy.units as u
else:
    from .._lazy import astropy_units as u


@functools.lru_cache(maxsize=512)
def format_unit(unit: u.UnitBase) -> str:
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
            warnings.simplefilter("ignore", u.UnitsWarning)
            return unit.to_string(format="vounit")
    except (ValueError, TypeError):
        return unit.to_string(format="generic")


@functools.lru_cache(maxsize=512)
def parse_unit(text: str) -> u.UnitBase:
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
        warnings.simplefilter("ignore", u.UnitsWarning)
        try:
            unit = u.Unit(text, format="generic")
        except ValueError:
            unit = None
        if unit is not None and (unit.to_string(format="generic") == text or format_unit(unit) == text):
            return unit
        try:
            return u.Unit(text, format="vounit")
        except ValueError:
            pass
        try:
            return u.Unit(text, format="generic")
        except ValueError as err:
            raise ValueError(f"Cannot parse unit string {text!r}: {err}") from None


KNOWN_SPELLINGS = frozenset(
    {
        "", "nJy", "nJy**2", "nJy / electron", "Jy", "mag", "electron", "electron / adu",
        "adu", "adu / electron", "adu**2", "count", "rad", "deg", "deg**2", "arcsec",
        "arcsec**2", "pixel", "pixel**2", "mm", "um", "m", "s", "K", "Pa", "hPa",
    }
)  # fmt: skip
"""Unit spellings accepted without importing astropy: each is what `format_unit` writes
for the unit `parse_unit` reads from it (the test suite checks both against astropy)."""

_validated_spellings: set[str] = set(KNOWN_SPELLINGS)


class UnitText(str):
    """A unit read from a file: validated text that becomes an astropy unit on first use.

    It is a `str`, so astropy accepts it wherever it accepts a unit (``u.nJy == text``,
    ``quantity.to(text)``, ``Quantity(1.0, text)``); `to_unit` gives the
    astropy unit itself.  Containers that hold a unit keep it as text and convert in
    their ``unit`` property, so reading a file never imports ``astropy.units``.
    """

    __slots__ = ()

    def to_unit(self) -> u.UnitBase:
        """The astropy unit this text spells (parsed once per process and cached)."""
        return parse_unit(str(self))

    def __repr__(self) -> str:
        return f"UnitText({str.__repr__(self)})"

    def __bool__(self) -> bool:
        # A unit is there even when it is dimensionless (spelled ""), as with astropy's own.
        return True


def _unit_text(text: str) -> UnitText:
    """Validate unit text (against the known spellings, else with astropy) and wrap it."""
    if text not in _validated_spellings:
        parse_unit(text)  # Raises ValueError naming the text if astropy cannot read it.
        if len(_validated_spellings) < 4096:  # (bounded: files choose what goes in here)
            _validated_spellings.add(text)
    return text if type(text) is UnitText else UnitText(text)


def _is_astropy_unit(value: object) -> bool:
    return is_instance_if_loaded(value, "astropy.units", "UnitBase")


def stored_unit(value: Any) -> u.UnitBase | UnitText | None:
    """``value`` in the form a container keeps it: `UnitText` stays text, others become units.

    Containers store the result and pass it through `resolved_unit` in their ``unit``
    property, so a unit read from a file is parsed only if somebody looks at it, while a
    unit given by the caller is checked (and normalized) at once, as it always was.
    """
    if value is None or type(value) is UnitText or _is_astropy_unit(value):
        return value
    return u.Unit(value)


def resolved_unit(value: u.UnitBase | UnitText | None) -> u.UnitBase | None:
    """The astropy unit behind a `stored_unit` value (`None` stays `None`)."""
    return value.to_unit() if type(value) is UnitText else value


def has_unit(obj: Any) -> bool:
    """Whether an image or field has a unit, without parsing one read from a file.

    The containers of this package keep their unit in ``_unit`` (see `stored_unit`); other
    implementations are asked for their ``unit``.
    """
    stored = getattr(obj, "_unit", ...)
    return (obj.unit if stored is ... else stored) is not None


def squared_unit(value: u.UnitBase | UnitText) -> u.UnitBase | UnitText:
    """The square of a `stored_unit` value (a variance's unit), as text when that is known."""
    if type(value) is UnitText and value.isidentifier():
        square = f"{value}**2"
        if square in KNOWN_SPELLINGS:
            return UnitText(square)
    return resolved_unit(value) ** 2


def units_equal(a: u.UnitBase | UnitText | None, b: u.UnitBase | UnitText | None) -> bool:
    """Whether two `stored_unit` values are the same unit (identical text needs no astropy)."""
    if a is None or b is None:
        return a is b
    if type(a) is UnitText and type(b) is UnitText and a == b:
        return True
    return resolved_unit(a) == resolved_unit(b)


def _validate_unit(value: Any) -> Any:
    if isinstance(value, str):
        return _unit_text(value)
    if _is_astropy_unit(value):
        return value
    raise ValueError(f"Expected an astropy unit or a unit string, got {type(value).__name__}.")


def _serialize_unit(value: Any) -> str:
    if isinstance(value, str):
        return str(value) if value in KNOWN_SPELLINGS else format_unit(parse_unit(str(value)))
    return format_unit(value)


class _UnitSerialization:
    """Pydantic hooks that store an astropy unit as its string spelling (see the module docs)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: pydantic.GetCoreSchemaHandler) -> Any:
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema(
                [core_schema.str_schema(), core_schema.no_info_plain_validator_function(_unit_text)]
            ),
            python_schema=core_schema.no_info_plain_validator_function(_validate_unit),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_unit, return_schema=core_schema.str_schema()
            ),
        )


if TYPE_CHECKING:
    Unit = Annotated[u.UnitBase, _UnitSerialization]
else:
    Unit = Annotated[
        object,
        _UnitSerialization,
        pydantic.WithJsonSchema(
            {"type": "string", "description": "Astropy unit string (VOUnit when possible)."}
        ),
    ]
"""A unit serialized as a string (VOUnit spelling when possible, else generic); validated
values are astropy units, or `UnitText` for text (from files, or given as strings)."""

if TYPE_CHECKING:
    ResolvedUnit = Unit
else:
    ResolvedUnit = Annotated[Unit, pydantic.AfterValidator(resolved_unit)]
"""A `Unit` that is always an astropy unit once validated (text is parsed at validation).

For user-facing models whose ``unit`` attribute people use directly (coordinate frames);
tree models use `Unit`, so reading a file does not import astropy."""
