"""Accepting a keyword argument under its 2100 and its 4300 spelling.

Rubin's lsst-images 30.2026.4300 renamed a few constructor keywords of the image
types (``projection`` -> ``sky_projection``, ``start`` -> ``yx0``).  Code written
against either release must run unchanged here, so the constructors take both
spellings as equals; `either` merges them and rejects calls that give both with
different values, where silently picking one would hide a bug in the caller.
"""

from __future__ import annotations

__all__ = ("either",)

from typing import Any


def either(old_name: str, old_value: Any, new_name: str, new_value: Any, *, unset: Any = None) -> Any:
    """Return the value of a keyword passed under either of its two names.

    Parameters
    ----------
    old_name, old_value
        The 2100 spelling and what was passed for it.
    new_name, new_value
        The 4300 spelling and what was passed for it.
    unset
        The parameters' default, meaning "not passed" (`None` for constructors,
        ``...`` for ``view``); returned when neither was passed.

    Raises
    ------
    TypeError
        If both spellings were passed with values that are neither the same object
        nor equal, since it is then unclear which one the caller meant.
    """
    if new_value is unset:
        return old_value
    if old_value is unset or old_value is new_value:
        return new_value
    try:
        same = bool(old_value == new_value)
    except Exception:
        same = False
    if not same:
        raise TypeError(f"Got both {old_name!r} and {new_name!r} (two spellings of one argument); pass one.")
    return new_value
