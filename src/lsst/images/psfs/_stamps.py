"""Small helpers shared by the PSF models for placing odd-sized square stamps."""

from __future__ import annotations

__all__ = ("SquareStampPSF", "centered_box", "validate_stamp_size")

import math
from functools import cached_property
from typing import TYPE_CHECKING

from .._geom import Box, Interval
from ._base import PointSpreadFunction

if TYPE_CHECKING:
    from .._geom import Bounds


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


class SquareStampPSF(PointSpreadFunction):
    """Base of the PSF models drawn into square stamps of one fixed odd width.

    The kernel box is ``[-r, r]`` in both directions and the stellar box the
    same square centred on the pixel nearest the star, with
    ``r = stamp_size // 2``; subclasses only draw the pixels.

    Parameters
    ----------
    bounds
        Validity region.
    stamp_size
        Width of the (square) kernel and stellar images; a positive odd
        number.
    """

    def __init__(self, bounds: Bounds, stamp_size: int) -> None:
        self._bounds = bounds
        self._stamp_size = validate_stamp_size(stamp_size)

    @property
    def stamp_size(self) -> int:
        """Width of the square stamps."""
        return self._stamp_size

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @cached_property
    def kernel_bbox(self) -> Box:
        """Box ``[-r, r]`` in both directions, with ``r = stamp_size // 2``."""
        return centered_box(x=0.0, y=0.0, radius=self._stamp_size // 2)

    def compute_stellar_bbox(self, *, x: float, y: float) -> Box:
        return centered_box(x=x, y=y, radius=self._stamp_size // 2)
