"""Known data IDs and small random-object factories for tests.

The random makers build fully in-memory objects (no files, no optional
packages) so that any test can get a realistic image in one line while staying
reproducible through an explicit `numpy.random.Generator`.
"""

from __future__ import annotations

__all__ = (
    "DP2_COADD_DATA_ID",
    "DP2_COADD_MISSING_CELL",
    "DP2_VISIT_DETECTOR_DATA_ID",
    "make_random_image",
    "make_random_mask",
    "make_random_masked_image",
)

from typing import Any

import astropy.units as u
import numpy as np
import numpy.typing as npt

from .._geom import Box
from .._image import Image
from .._mask import Mask, MaskPlane, MaskSchema
from .._masked_image import MaskedImage

DP2_VISIT_DETECTOR_DATA_ID: dict[str, Any] = {"instrument": "LSSTCam", "visit": 2025052000177, "detector": 85}
"""Data ID of the DP2 test visit/detector."""

DP2_COADD_DATA_ID: dict[str, Any] = {"skymap": "lsst_cells_v2", "tract": 9813, "patch": 43, "band": "r"}
"""Data ID of the DP2 test coadd patch."""

DP2_COADD_MISSING_CELL: dict[str, int] = {"i": 8, "j": 6}
"""Cell index known to be missing in the DP2 test coadd."""


def make_random_image(
    rng: np.random.Generator,
    bbox: Box,
    *,
    dtype: npt.DTypeLike = np.float32,
    unit: u.UnitBase | None = None,
    projection: Any = None,
) -> Image:
    """Return an Image of standard-normal noise (or random integers for integer dtypes)."""
    dt = np.dtype(dtype)
    shape = tuple(bbox.shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        array = rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, endpoint=True).astype(dt)
    else:
        array = rng.standard_normal(shape).astype(dt)
    return Image(array, bbox=bbox, unit=unit, projection=projection)


def make_random_mask(
    rng: np.random.Generator,
    bbox: Box,
    schema: MaskSchema | None = None,
    *,
    fraction: float = 0.1,
    projection: Any = None,
) -> Mask:
    """Return a Mask where each named plane is set on a random ``fraction`` of pixels."""
    if schema is None:
        schema = MaskSchema(
            [MaskPlane("BAD", "Bad pixel."), MaskPlane("SAT", "Saturated."), MaskPlane("CR", "Cosmic ray.")]
        )
    mask = Mask(schema=schema, bbox=bbox, projection=projection)
    for name in schema.names:
        mask.set(name, rng.random(tuple(bbox.shape)) < fraction)
    return mask


def make_random_masked_image(
    rng: np.random.Generator,
    bbox: Box,
    schema: MaskSchema | None = None,
    *,
    unit: u.UnitBase | None = u.nJy,
    projection: Any = None,
) -> MaskedImage:
    """Return a MaskedImage with noise pixels, a random mask and positive variance."""
    image = make_random_image(rng, bbox, unit=unit, projection=projection)
    mask = make_random_mask(rng, bbox, schema, projection=projection)
    variance = Image(
        rng.uniform(0.5, 2.0, size=tuple(bbox.shape)).astype(np.float32),
        bbox=bbox,
        unit=None if unit is None else unit**2,
        projection=projection,
    )
    return MaskedImage(image, mask=mask, variance=variance)
