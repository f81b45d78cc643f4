"""PSF wrapper delegating to a legacy (afw) ``Psf`` object."""

from __future__ import annotations

__all__ = ("LegacyPointSpreadFunction",)

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .._geom import Box
from ._base import PointSpreadFunction

if TYPE_CHECKING:
    from .._geom import Bounds
    from .._image import Image


def _point(x: float, y: float) -> Any:
    try:
        import lsst.geom  # type: ignore[import-not-found]
    except ImportError as err:
        raise ImportError("Evaluating a legacy afw PSF needs the LSST stack (lsst.geom, lsst.afw).") from err
    return lsst.geom.Point2D(x, y)


class LegacyPointSpreadFunction(PointSpreadFunction):
    """A PSF backed by an afw ``Psf`` object (needs the legacy stack to evaluate).

    Parameters
    ----------
    impl
        The afw ``Psf``.
    bounds
        Validity region.

    Notes
    -----
    Images returned by afw are copied into new `Image` objects and
    normalized to unit sum, so callers see the same conventions as for the
    native models.
    """

    def __init__(self, impl: Any, bounds: Bounds):
        self._impl = impl
        self._bounds = bounds

    @classmethod
    def from_legacy(cls, legacy_psf: Any, bounds: Bounds) -> LegacyPointSpreadFunction:
        """Wrap an afw ``Psf``."""
        return cls(legacy_psf, bounds)

    @property
    def legacy_psf(self) -> Any:
        """The wrapped afw ``Psf``."""
        return self._impl

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @cached_property
    def kernel_bbox(self) -> Box:
        return self.compute_kernel_image(
            x=float(self._bounds.bbox.x.center), y=float(self._bounds.bbox.y.center)
        ).bbox

    @staticmethod
    def _to_image(legacy_image: Any) -> Image:
        from .._image import Image

        array = np.array(legacy_image.getArray(), dtype=np.float64)
        array /= array.sum()
        bbox = Box.from_legacy(legacy_image.getBBox())
        return Image(array, bbox=bbox)

    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        return self._to_image(self._impl.computeKernelImage(_point(x, y)))

    def compute_stellar_bbox(self, *, x: float, y: float) -> Box:
        return Box.from_legacy(self._impl.computeImageBBox(_point(x, y)))

    def compute_stellar_image(self, *, x: float, y: float) -> Image:
        return self._to_image(self._impl.computeImage(_point(x, y)))
