"""Tile grids of tile-compressed images and planning of region reads.

Tiles are stored in row-major order (x fastest, FITS ``ZTILE1`` is the x size), and
edge tiles are truncated to the image.  A region read needs exactly the tiles that
intersect the region; consecutive tile rows of one tile row band are adjacent in the
heap, which is what makes coalesced reads effective.
"""

from __future__ import annotations

__all__ = ("TileGrid", "full_region", "intersect")

import dataclasses

import numpy as np

Region = tuple[slice, slice]


@dataclasses.dataclass(frozen=True)
class TileGrid:
    """Tiling of an image of ``shape`` (y, x) into tiles of ``tile`` (y, x)."""

    shape: tuple[int, int]
    tile: tuple[int, int]

    def __post_init__(self) -> None:
        if self.tile[0] <= 0 or self.tile[1] <= 0:
            raise ValueError(f"tile shape must be positive, not {self.tile}")

    @property
    def counts(self) -> tuple[int, int]:
        """Number of tiles along (y, x)."""
        return -(-self.shape[0] // self.tile[0]), -(-self.shape[1] // self.tile[1])

    @property
    def n_tiles(self) -> int:
        ny, nx = self.counts
        return ny * nx

    @property
    def is_row_tiles(self) -> bool:
        """True for one tile per image row (the FITS default, and ours)."""
        return self.tile == (1, self.shape[1])

    def box(self, index: int) -> Region:
        """Pixel slices (y, x) covered by tile ``index`` (storage order)."""
        j, i = divmod(int(index), self.counts[1])
        ty, tx = self.tile
        return (
            slice(j * ty, min((j + 1) * ty, self.shape[0])),
            slice(i * tx, min((i + 1) * tx, self.shape[1])),
        )

    def tile_shape_of(self, index: int) -> tuple[int, int]:
        ys, xs = self.box(index)
        return ys.stop - ys.start, xs.stop - xs.start

    def boxes(self) -> list[Region]:
        """Slices of every tile, in storage order."""
        return [self.box(k) for k in range(self.n_tiles)]

    def tiles_in(self, region: Region) -> np.ndarray:
        """Storage indices (increasing) of the tiles intersecting ``region``."""
        ys, xs = region
        if ys.stop <= ys.start or xs.stop <= xs.start:
            return np.zeros(0, dtype=np.int64)
        ty, tx = self.tile
        rows = np.arange(ys.start // ty, (ys.stop - 1) // ty + 1, dtype=np.int64)
        cols = np.arange(xs.start // tx, (xs.stop - 1) // tx + 1, dtype=np.int64)
        return (rows[:, None] * self.counts[1] + cols[None, :]).ravel()


def full_region(shape: tuple[int, int]) -> Region:
    return slice(0, shape[0]), slice(0, shape[1])


def intersect(a: Region, b: Region) -> Region:
    """Intersection of two regions (may be empty)."""
    return (
        slice(max(a[0].start, b[0].start), min(a[0].stop, b[0].stop)),
        slice(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop)),
    )


def check_region(region: Region | None, shape: tuple[int, int]) -> Region:
    """Validate a (y, x) region of step-1 slices with explicit bounds inside ``shape``."""
    if region is None:
        return full_region(shape)
    if len(region) != 2:
        raise ValueError(f"region must have two slices, not {region!r}")
    out = []
    for s, n in zip(region, shape, strict=True):
        start, stop, step = s.indices(n)
        if step != 1:
            raise ValueError(f"region slices must have step 1, not {s!r}")
        if s.start is not None and not 0 <= s.start <= n or s.stop is not None and not 0 <= s.stop <= n:
            raise IndexError(f"region {region!r} is outside the image of shape {shape}")
        out.append(slice(start, max(start, stop)))
    return out[0], out[1]
