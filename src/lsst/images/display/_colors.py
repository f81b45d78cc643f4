"""Stable colours for mask planes.

A plane keeps its colour from one plot to the next, and from one file to the
next: well-known Rubin plane names have fixed colours chosen to match what
``afwDisplay`` users are used to (BAD red, SATURATED green, DETECTED blue, ...),
and any other name is mapped to a palette entry by a checksum of the name (not
Python's per-process randomized `hash`).
"""

from __future__ import annotations

__all__ = ("plane_color",)

import zlib

#: Fixed colours (RGB in 0..1) for the mask planes Rubin pipelines set.
KNOWN_PLANE_COLORS: dict[str, tuple[float, float, float]] = {
    "BAD": (1.0, 0.0, 0.0),
    "SAT": (0.0, 0.8, 0.0),
    "SATURATED": (0.0, 0.8, 0.0),
    "INTRP": (0.0, 0.8, 0.8),
    "INTERPOLATED": (0.0, 0.8, 0.8),
    "CR": (1.0, 0.0, 1.0),
    "COSMIC_RAY": (1.0, 0.0, 1.0),
    "EDGE": (1.0, 1.0, 0.0),
    "DETECTION_EDGE": (1.0, 1.0, 0.0),
    "DETECTED": (0.1, 0.3, 1.0),
    "DETECTED_NEGATIVE": (0.0, 1.0, 1.0),
    "SUSPECT": (1.0, 0.6, 0.0),
    "NO_DATA": (0.6, 0.3, 0.0),
    "CROSSTALK": (0.6, 0.0, 0.9),
    "NOT_DEBLENDED": (0.5, 0.5, 0.0),
    "VIGNETTED": (0.4, 0.4, 0.4),
    "UNMASKEDNAN": (1.0, 0.5, 0.5),
    "STREAK": (0.0, 0.5, 0.3),
}

#: Palette for other names (matplotlib's "tab10" without its greys), fixed here so that
#: colours do not depend on the matplotlib version.
_PALETTE: tuple[tuple[float, float, float], ...] = (
    (0.122, 0.467, 0.706),
    (1.000, 0.498, 0.055),
    (0.173, 0.627, 0.173),
    (0.839, 0.153, 0.157),
    (0.580, 0.404, 0.741),
    (0.549, 0.337, 0.294),
    (0.890, 0.467, 0.761),
    (0.737, 0.741, 0.133),
    (0.090, 0.745, 0.812),
)


def plane_color(name: str) -> tuple[float, float, float]:
    """Return the RGB colour (components in 0..1) used to draw a mask plane.

    Parameters
    ----------
    name
        Mask plane name; the same name always gets the same colour.
    """
    known = KNOWN_PLANE_COLORS.get(name.upper())
    if known is not None:
        return known
    return _PALETTE[zlib.crc32(name.encode()) % len(_PALETTE)]
