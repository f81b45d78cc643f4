"""Pixel boxes covering circles on the sky (for cut-outs around a sky position)."""

from __future__ import annotations

__all__ = ("box_from_sky_circle",)

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._geom import Box, Interval

if TYPE_CHECKING:
    import astropy.units as u
    from astropy.coordinates import Angle, SkyCoord

    from ._projection import Projection
else:
    from .._lazy import astropy_units as u


def box_from_sky_circle(
    center: SkyCoord, radius: Angle | u.Quantity, projection: Projection[Any], *, n_points: int = 64
) -> Box:
    """Return the smallest Box whose pixels cover a circle on the sky.

    Parameters
    ----------
    center
        Centre of the circle (any celestial frame).
    radius
        Angular radius of the circle.
    projection
        Projection defining the pixel grid.
    n_points
        Number of points sampled along the circle.  The circle's image in
        pixel space is convex and smooth for any practical projection, so
        the sampled points plus a margin of the largest chord sagitta bound it.

    Returns
    -------
    Box
        Box in the projection's absolute pixel coordinates (it is not clipped
        to any image).

    Raises
    ------
    ValueError
        If the radius is not positive or points of the circle cannot be
        mapped to pixels.
    """
    radius_rad = u.Quantity(radius).to_value(u.rad)
    if not radius_rad > 0:
        raise ValueError(f"The circle radius must be positive, not {radius}.")
    icrs = center.icrs
    position_angles = np.linspace(0.0, 2.0 * math.pi, n_points, endpoint=False)
    boundary = icrs.directional_offset_by(position_angles * u.rad, radius_rad * u.rad)
    x, y = projection.sky_to_pixel(boundary)
    cx, cy = projection.sky_to_pixel(icrs)
    x = np.append(x, cx)
    y = np.append(y, cy)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("The sky circle does not map to finite pixel coordinates.")
    # Between two samples the true boundary bulges out by at most r (1 - cos(π / n)) of the local radius.
    margin = float(np.max(np.hypot(x[:-1] - cx, y[:-1] - cy))) * (1.0 - math.cos(math.pi / n_points))
    return Box(
        Interval(math.floor(np.min(y) - margin + 0.5), math.ceil(np.max(y) + margin - 0.5) + 1),
        Interval(math.floor(np.min(x) - margin + 0.5), math.ceil(np.max(x) + margin - 0.5) + 1),
    )
