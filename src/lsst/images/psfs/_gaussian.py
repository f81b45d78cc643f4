"""Spatially constant circular Gaussian PSF."""

from __future__ import annotations

__all__ = ("GaussianPointSpreadFunction",)

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._geom import Box
from ._stamps import SquareStampPSF

if TYPE_CHECKING:
    from .._geom import Bounds
    from .._image import Image
    from ..serialization import OutputArchive
    from ._models import GaussianPSFSerializationModel


class GaussianPointSpreadFunction(SquareStampPSF):
    """A circular Gaussian PSF, the same everywhere, rendered into square stamps.

    Parameters
    ----------
    sigma
        Gaussian standard deviation in pixels (must be positive and finite).
    bounds
        Validity region.
    stamp_size
        Width of the (square) kernel and stellar images; a positive odd
        number.

    Notes
    -----
    Images sample ``exp(-t²/(2σ²))`` at pixel centres (separately in x and
    y, then as an outer product) and are normalized to unit sum; they are not
    integrated over pixels.
    """

    def __init__(self, sigma: float, bounds: Bounds, stamp_size: int) -> None:
        sigma = float(sigma)
        if not (sigma > 0 and math.isfinite(sigma)):
            raise ValueError(f"sigma must be positive and finite; got {sigma}.")
        self._sigma = sigma
        super().__init__(bounds, stamp_size)

    @property
    def sigma(self) -> float:
        """Gaussian standard deviation in pixels."""
        return self._sigma

    def _profile(self, t: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * t**2 / self._sigma**2)

    def _render(self, bbox: Box, *, x: float, y: float) -> Image:
        from .._image import Image

        gy = self._profile(np.arange(bbox.y.start, bbox.y.stop, dtype=np.float64) - y)
        gx = self._profile(np.arange(bbox.x.start, bbox.x.stop, dtype=np.float64) - x)
        array = np.outer(gy, gx)
        array /= array.sum()
        return Image(array, bbox=bbox)

    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        # The model does not vary, so the position is irrelevant.
        return self._render(self.kernel_bbox, x=0.0, y=0.0)

    def compute_stellar_image(self, *, x: float, y: float) -> Image:
        return self._render(self.compute_stellar_bbox(x=x, y=y), x=float(x), y=float(y))

    def serialize(self, archive: OutputArchive[Any]) -> GaussianPSFSerializationModel:
        """Return the pydantic model describing this PSF (no arrays are written)."""
        from ._models import GaussianPSFSerializationModel

        return GaussianPSFSerializationModel(
            sigma=self._sigma, stamp_size=self._stamp_size, bounds=self._bounds.serialize()
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[GaussianPSFSerializationModel]:
        from ._models import GaussianPSFSerializationModel

        return GaussianPSFSerializationModel

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GaussianPointSpreadFunction):
            return NotImplemented
        return (
            self._sigma == other._sigma
            and self._stamp_size == other._stamp_size
            and self._bounds == other._bounds
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"GaussianPointSpreadFunction({self._sigma!r}, stamp_size={self._stamp_size!r}, "
            f"bounds={self._bounds!r})"
        )
