"""Abstract interface shared by every point-spread-function model."""

from __future__ import annotations

__all__ = ("PointSpreadFunction",)

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._geom import Bounds, Box
    from .._image import Image


class PointSpreadFunction(ABC):
    """A model of the point-spread function of an image.

    Every model offers two renderings: a *kernel* image, centred on pixel
    (0, 0) and suitable for convolution, and a *stellar* image showing how a
    point source at a sub-pixel position would appear on the image's own
    pixel grid.  Both are normalized to unit sum.
    """

    def _repr_html_(self) -> str:
        """Notebook display: a summary table (and a small thumbnail where there are pixels)."""
        from ..display._html import repr_html

        return repr_html(self)

    @property
    @abstractmethod
    def bounds(self) -> Bounds:
        """Region where the model is valid (a `Bounds`)."""
        raise NotImplementedError()

    @property
    @abstractmethod
    def kernel_bbox(self) -> Box:
        """Bounding box (centred on 0, 0) of every image from `compute_kernel_image`."""
        raise NotImplementedError()

    @abstractmethod
    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        """Return the PSF at ``(x, y)`` as a convolution kernel.

        Parameters
        ----------
        x, y
            Position in the image (absolute pixel coordinates) at which the
            PSF is evaluated.

        Returns
        -------
        Image
            Image with bbox `kernel_bbox`, centred on pixel (0, 0), with unit
            sum.
        """
        raise NotImplementedError()

    @abstractmethod
    def compute_stellar_bbox(self, *, x: float, y: float) -> Box:
        """Return the bounding box of the image `compute_stellar_image` would return at ``(x, y)``."""
        raise NotImplementedError()

    @abstractmethod
    def compute_stellar_image(self, *, x: float, y: float) -> Image:
        """Return the PSF as a star centred at ``(x, y)`` would appear.

        Parameters
        ----------
        x, y
            Sub-pixel position of the star (absolute pixel coordinates).

        Returns
        -------
        Image
            Image on the pixel grid ``compute_stellar_bbox(x=x, y=y)``, with
            unit sum.
        """
        raise NotImplementedError()

    @classmethod
    def from_legacy(cls, legacy_psf: Any, bounds: Bounds) -> PointSpreadFunction:
        """Wrap an afw ``Psf``, choosing the most specific wrapper available.

        Piff PSFs become `PiffWrapper`, PSFEx PSFs `PSFExWrapper`, a cell coadd's
        ``StitchedPsf`` a `~lsst.images.cells.CellPointSpreadFunction` and anything
        else a generic `LegacyPointSpreadFunction`.
        """
        type_name = type(legacy_psf).__name__
        if type_name == "StitchedPsf":
            from ..cells import CellGridBounds, CellPointSpreadFunction

            return CellPointSpreadFunction.from_legacy(
                legacy_psf, bounds if isinstance(bounds, CellGridBounds) else None
            )
        if type_name == "PiffPsf":
            from ._piff import PiffWrapper

            return PiffWrapper.from_legacy(legacy_psf, bounds)
        if type_name == "PsfexPsf":
            from ._psfex import PSFExWrapper

            return PSFExWrapper.from_legacy(legacy_psf, bounds)
        from ._legacy import LegacyPointSpreadFunction

        return LegacyPointSpreadFunction.from_legacy(legacy_psf, bounds)
