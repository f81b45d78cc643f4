"""Stretches, intervals and bounded-cost sampling shared by every picture.

The names accepted for ``stretch=`` and ``interval=`` are parsed here, once, so
that `show`, the notebook thumbnails and the ``lsst-images show`` command agree
and report the same list of valid names when given a wrong one.  The display
limits are computed from a strided sample of the finite pixels (at most
`MAX_LIMIT_SAMPLES` of them), so choosing limits costs the same for a 200-pixel
stamp and a 16-megapixel visit image.
"""

from __future__ import annotations

__all__ = (
    "INTERVALS",
    "STRETCHES",
    "display_limits",
    "parse_interval",
    "parse_stretch",
    "scaled",
    "strided",
)

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

#: Most pixels looked at to choose display limits.
MAX_LIMIT_SAMPLES = 1 << 18


def _stretches() -> dict[str, Callable[[], Any]]:
    from astropy import visualization as vis

    return {
        "linear": vis.LinearStretch,
        "sqrt": vis.SqrtStretch,
        "squared": vis.SquaredStretch,
        "log": vis.LogStretch,
        "asinh": lambda: vis.AsinhStretch(a=0.1),
        "sinh": vis.SinhStretch,
    }


#: Names accepted for ``stretch=`` (also an `astropy.visualization` stretch instance).
STRETCHES = ("linear", "sqrt", "squared", "log", "asinh", "sinh")

#: Names accepted for ``interval=``, besides ``"<p>%"`` percentiles (e.g. ``"99.5%"``),
#: a ``(vmin, vmax)`` pair or an `astropy.visualization` interval instance.
INTERVALS = ("zscale", "minmax")

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*%\s*$")


def parse_stretch(stretch: Any) -> Any:
    """Return an `astropy.visualization` stretch for a name (or pass an instance through).

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the valid names.
    """
    from astropy.visualization import BaseStretch

    if isinstance(stretch, BaseStretch):
        return stretch
    factories = _stretches()
    if not isinstance(stretch, str) or stretch.lower() not in factories:
        raise ValueError(f"unknown stretch {stretch!r}; valid stretches: {', '.join(STRETCHES)}")
    return factories[stretch.lower()]()


def parse_interval(interval: Any) -> Any:
    """Return an `astropy.visualization` interval for a name, percentile, pair or instance.

    Raises
    ------
    ValueError
        If the value is not understood; the message lists the valid forms.
    """
    from astropy import visualization as vis

    if isinstance(interval, vis.BaseInterval):
        return interval
    if isinstance(interval, tuple | list) and len(interval) == 2:
        low, high = (float(v) for v in interval)
        if not high > low:
            raise ValueError(f"interval (vmin, vmax) must have vmax > vmin, not {interval!r}")
        return vis.ManualInterval(low, high)
    if isinstance(interval, str):
        name = interval.lower().strip()
        if name == "zscale":
            return vis.ZScaleInterval()
        if name == "minmax":
            return vis.MinMaxInterval()
        match = _PERCENT.match(name)
        if match and 0 < float(match.group(1)) <= 100:
            return vis.PercentileInterval(float(match.group(1)))
    raise ValueError(
        f"unknown interval {interval!r}; valid intervals: {', '.join(INTERVALS)}, "
        "a percentile such as '99.5%', or a (vmin, vmax) pair"
    )


def strided(array: np.ndarray, max_size: int) -> np.ndarray:
    """Return a strided view of a 2-d (or ``(y, x, c)``) array at most ``max_size`` pixels on a side.

    This is a view (nearest-pixel decimation), so it costs nothing however large
    ``array`` is; it is what thumbnails and limit estimates look at.
    """
    step = max(1, math.ceil(max(array.shape[0], array.shape[1]) / max_size))
    return array[::step, ::step]


def display_limits(array: np.ndarray, interval: Any) -> tuple[float, float]:
    """Return ``(vmin, vmax)`` for ``array`` from an interval, ignoring non-finite pixels.

    At most `MAX_LIMIT_SAMPLES` pixels (a strided sample) are examined.  An
    image with no finite pixels, or a constant one, still gets a usable range.
    """
    interval = parse_interval(interval)
    side = max(1, math.isqrt(MAX_LIMIT_SAMPLES))
    sample = np.asarray(strided(array, side), dtype=np.float64).ravel()
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in interval.get_limits(sample))
    if not vmax > vmin:  # constant image: centre a unit range on the value
        vmin, vmax = vmin - 0.5, vmin + 0.5
    return vmin, vmax


def scaled(array: np.ndarray, stretch: Any, limits: tuple[float, float]) -> np.ndarray:
    """Map pixel values to 0..1 display values: clip to ``limits``, then apply the stretch.

    Non-finite pixels become NaN (drawn as the "bad" colour).
    """
    vmin, vmax = limits
    values = (np.asarray(array, dtype=np.float64) - vmin) / (vmax - vmin)
    bad = ~np.isfinite(values)
    values = np.clip(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    values = np.asarray(parse_stretch(stretch)(values, clip=True), dtype=np.float64)
    values[bad] = np.nan
    return values
