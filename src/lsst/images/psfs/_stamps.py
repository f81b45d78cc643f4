"""Small helpers shared by the PSF models for placing odd-sized square stamps."""

from __future__ import annotations

__all__ = ("centered_box", "validate_stamp_size")

import math

from .._geom import Box, Interval


def validate_stamp_size(stamp_size: int) -> int:
    """Check that a stamp size is a positive odd integer and return it as an `int`."""
    if int(stamp_size) != stamp_size:
        raise ValueError(f"stamp_size must be an integer; got {stamp_size!r}.")
    stamp_size = int(stamp_size)
    if stamp_size <= 0:
        raise ValueError(f"stamp_size must be positive; got {stamp_size}.")
    if stamp_size % 2 == 0:
        raise ValueError(f"stamp_size must be an odd number; got {stamp_size}.")
    return stamp_size


def centered_box(*, x: float, y: float, radius: int) -> Box:
    """Square box of half-width ``radius`` centred on the pixel nearest ``(x, y)``.

    Ties round up (``floor(v + 0.5)``), the convention of every PSF model here,
    so a star exactly between two pixels is centred on the higher one.
    """
    cx = math.floor(x + 0.5)
    cy = math.floor(y + 0.5)
    return Box(Interval(cy - radius, cy + radius + 1), Interval(cx - radius, cx + radius + 1))
