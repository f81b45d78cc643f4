"""An astropy APE-14 WCS view of a projection, in array-local pixel coordinates.

Astropy tools (``WCSAxes``, ``Cutout2D``, ``reproject``, ...) expect a WCS
whose pixel coordinates are 0-based indices into one particular array.  The
view shifts those local coordinates by the array's bbox start before handing
them to the AST pixel → sky mapping, and reports sky coordinates in degrees.
"""

from __future__ import annotations

__all__ = ("ProjectionAstropyView",)

from typing import TYPE_CHECKING, Any

import numpy as np
from astropy.wcs.wcsapi import BaseLowLevelWCS, HighLevelWCSMixin

from .._geom import XY, YX
from ._transform import _evaluate

if TYPE_CHECKING:
    from starlink import Ast

    from .._geom import Box

_RAD_TO_DEG = 180.0 / np.pi


class ProjectionAstropyView(BaseLowLevelWCS, HighLevelWCSMixin):
    """APE-14 low- and high-level WCS for a pixel → ICRS AST mapping.

    Parameters
    ----------
    ast_pixel_to_sky
        AST mapping from absolute pixel coordinates to ICRS (radians).
    bbox
        Box of the array the local pixel coordinates index; `None` means
        local and absolute coordinates coincide and the shape is unknown.
    """

    def __init__(self, ast_pixel_to_sky: Ast.Mapping, bbox: Box | None):
        self._mapping = ast_pixel_to_sky
        self._bbox = bbox
        self._x0 = 0.0 if bbox is None else float(bbox.x.start)
        self._y0 = 0.0 if bbox is None else float(bbox.y.start)

    def __reduce__(self) -> tuple[Any, ...]:
        # AST objects cannot be pickled directly; the mapping travels as its AST text.
        from ._ast_utils import ast_to_text

        return (_unpickle_view, (ast_to_text(self._mapping), self._bbox))

    # --- APE-14 low-level properties ------------------------------------------------------------------

    @property
    def pixel_n_dim(self) -> int:
        """Two pixel axes (x, y)."""
        return 2

    @property
    def world_n_dim(self) -> int:
        """Two world axes (RA, Dec)."""
        return 2

    @property
    def world_axis_physical_types(self) -> tuple[str, str]:
        """UCDs of right ascension and declination."""
        return ("pos.eq.ra", "pos.eq.dec")

    @property
    def world_axis_units(self) -> tuple[str, str]:
        """Degrees for both world axes."""
        return ("deg", "deg")

    @property
    def world_axis_names(self) -> tuple[str, str]:
        """Names of the world axes."""
        return ("ra", "dec")

    @property
    def pixel_axis_names(self) -> XY[str]:
        """Names of the pixel axes."""
        return XY("x", "y")

    @property
    def axis_correlation_matrix(self) -> np.ndarray:
        """Both world axes depend on both pixel axes."""
        return np.ones((2, 2), dtype=bool)

    @property
    def serialized_classes(self) -> bool:
        """`False`: `world_axis_object_classes` holds real classes."""
        return False

    @property
    def world_axis_object_components(self) -> list[tuple[str, int, str]]:
        """How to build a `SkyCoord` from the world values."""
        return [("celestial", 0, "spherical.lon.degree"), ("celestial", 1, "spherical.lat.degree")]

    @property
    def world_axis_object_classes(self) -> dict[str, tuple[type, tuple[()], dict[str, Any]]]:
        """`SkyCoord` in ICRS, degrees."""
        import astropy.units as u
        from astropy.coordinates import ICRS, SkyCoord

        return {"celestial": (SkyCoord, (), {"frame": ICRS(), "unit": (u.deg, u.deg)})}

    @property
    def array_shape(self) -> YX[int] | None:
        """``(ny, nx)`` of the array, or `None` without a bbox."""
        return None if self._bbox is None else YX(self._bbox.y.size, self._bbox.x.size)

    @property
    def pixel_shape(self) -> XY[int] | None:
        """``(nx, ny)`` of the array, or `None` without a bbox."""
        return None if self._bbox is None else XY(self._bbox.x.size, self._bbox.y.size)

    @property
    def pixel_bounds(self) -> XY[tuple[int, int]] | None:
        """Inclusive local pixel-index range of each axis, or `None` without a bbox."""
        if self._bbox is None:
            return None
        return XY((0, self._bbox.x.size - 1), (0, self._bbox.y.size - 1))

    @property
    def low_level_wcs(self) -> ProjectionAstropyView:
        """This object (it is both the low- and high-level WCS)."""
        return self

    # --- APE-14 low-level methods ---------------------------------------------------------------------

    def pixel_to_world_values(self, x: Any, y: Any) -> XY[Any]:
        """Map local pixel coordinates to (RA, Dec) in degrees (RA in ``[0, 360)``)."""
        ra, dec = _evaluate(
            self._mapping, True, np.add(x, self._x0, dtype=np.float64), np.add(y, self._y0, dtype=np.float64)
        )
        return XY(np.mod(np.multiply(ra, _RAD_TO_DEG), 360.0), np.multiply(dec, _RAD_TO_DEG))

    def world_to_pixel_values(self, ra: Any, dec: Any) -> XY[Any]:
        """Map (RA, Dec) in degrees to local pixel coordinates."""
        x, y = _evaluate(self._mapping, False, np.radians(ra), np.radians(dec))
        return XY(np.subtract(x, self._x0), np.subtract(y, self._y0))

    def __repr__(self) -> str:
        return f"ProjectionAstropyView(bbox={self._bbox!r})"


def _unpickle_view(text: str, bbox: Box | None) -> ProjectionAstropyView:
    from ._ast_utils import ast_from_text

    return ProjectionAstropyView(ast_from_text(text), bbox)
