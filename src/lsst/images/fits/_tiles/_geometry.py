"""Tiling of a 2-D image and planning which tiles a region needs.

Tiles are numbered in storage order (row-major over the tile grid), which is also the
row order of the compressed BINTABLE.  Edge tiles are smaller when the image size is
not a multiple of the tile size.
"""

from __future__ import annotations

__all__ = ("TileGrid",)

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class TileGrid:
    """A ``(height, width)`` image cut into ``(tile_h, tile_w)`` tiles."""

    shape: tuple[int, int]
    tile: tuple[int, int]

    def __post_init__(self) -> None:
        if min(self.tile) < 1:
            raise ValueError(f"tile shape must be positive, not {self.tile}")

    @property
    def counts(self) -> tuple[int, int]:
        """Number of tiles along y and x."""
        return (-(-self.shape[0] // self.tile[0]), -(-self.shape[1] // self.tile[1]))

    @property
    def n_tiles(self) -> int:
        ny, nx = self.counts
        return ny * nx

    @property
    def full_width(self) -> bool:
        """True when every tile spans whole image rows (so tiles are row blocks)."""
        return self.tile[1] >= self.shape[1]

    def bounds(self, index: int) -> tuple[int, int, int, int]:
        """``(y0, y1, x0, x1)`` of tile ``index`` (storage order)."""
        j, i = divmod(index, self.counts[1])
        th, tw = self.tile
        return (j * th, min((j + 1) * th, self.shape[0]), i * tw, min((i + 1) * tw, self.shape[1]))

    def tile_size(self, index: int) -> int:
        """Number of pixels in tile ``index``."""
        y0, y1, x0, x1 = self.bounds(index)
        return (y1 - y0) * (x1 - x0)

    def tiles_for(self, region: tuple[slice, slice]) -> np.ndarray:
        """Storage indices (ascending) of the tiles intersecting ``region``."""
        ys, xs = region
        if ys.stop <= ys.start or xs.stop <= xs.start:
            return np.zeros(0, dtype=np.int64)
        th, tw = self.tile
        rows = np.arange(ys.start // th, (ys.stop - 1) // th + 1)
        cols = np.arange(xs.start // tw, (xs.stop - 1) // tw + 1)
        return (rows[:, None] * self.counts[1] + cols[None, :]).ravel().astype(np.int64)


def normalize_region(region: tuple[slice, slice] | None, shape: tuple[int, int]) -> tuple[slice, slice]:
    """Check ``region`` (two step-1 slices, resolved against ``shape``) and return it bounded."""
    if region is None:
        return (slice(0, shape[0]), slice(0, shape[1]))
    if len(region) != 2:
        raise ValueError(f"region must be two slices (y, x), not {region!r}")
    out = []
    for s, n in zip(region, shape, strict=True):
        if not isinstance(s, slice):
            raise TypeError(f"region entries must be slices, not {s!r}")
        if s.step not in (None, 1):
            raise ValueError(f"region slices must have step 1, not {s!r}")
        start = 0 if s.start is None else int(s.start)
        stop = n if s.stop is None else int(s.stop)
        if not 0 <= start <= stop <= n:
            raise IndexError(f"region {region!r} is not inside the image of shape {shape}")
        out.append(slice(start, stop))
    return (out[0], out[1])
