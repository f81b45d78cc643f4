"""Small numeric helpers shared across the package.

Python's built-in `round` uses banker's rounding (half to even), which is
rarely what pixel arithmetic wants: converting a floating-point pixel position
to the index of the pixel that contains it needs a rule that is consistent on
both sides of zero.  These helpers make the tie-breaking rule explicit.
"""

from __future__ import annotations

__all__ = ("is_none", "round_half_away_from_zero", "round_half_down", "round_half_up")

import math


def is_none(x: object) -> bool:
    """Return `True` if ``x`` is `None`.

    Used as a pydantic ``exclude_if`` predicate so optional fields are omitted
    from serialized trees when unset.
    """
    return x is None


def round_half_up(x: float) -> int:
    """Round to the nearest integer, with exact halves going up (toward +inf).

    ``1.5 -> 2``, ``-1.5 -> -1``, ``-0.5 -> 0``.
    """
    return int(math.floor(x + 0.5))


def round_half_down(x: float) -> int:
    """Round to the nearest integer, with exact halves going down (toward -inf).

    ``1.5 -> 1``, ``-1.5 -> -2``.
    """
    return int(math.ceil(x - 0.5))


def round_half_away_from_zero(x: float) -> int:
    """Round to the nearest integer, with exact halves going away from zero.

    ``1.5 -> 2``, ``-1.5 -> -2``.
    """
    if x < 0:
        return -int(math.floor(-x + 0.5))
    return int(math.floor(x + 0.5))
