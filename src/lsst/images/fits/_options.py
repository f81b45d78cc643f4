"""Tile-compression settings of the FITS archive (algorithm, tile shape, quantization).

The options are small frozen pydantic models so that they can be hashed, compared,
stored in configuration and validated from plain dictionaries such as
``{"algorithm": "RICE_1", "quantization": {"dither": "SUBTRACTIVE_DITHER_2", "level": 16}}``.
The seed rules of FORMAT.md §8.1 (explicit seed, else the archive-wide
``compression_seed`` incremented per quantized plane) live in `SeedSequence`, because
they need state shared by all planes of one write.
"""

from __future__ import annotations

__all__ = (
    "FitsCompressionAlgorithm",
    "FitsCompressionOptions",
    "FitsDitherAlgorithm",
    "FitsQuantizationOptions",
    "SeedSequence",
)

import enum
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pydantic

if TYPE_CHECKING:
    import astropy.io.fits


class FitsCompressionAlgorithm(enum.StrEnum):
    """Tile-compression algorithms of the FITS tiled-image convention that we write."""

    GZIP_1 = "GZIP_1"
    GZIP_2 = "GZIP_2"
    RICE_1 = "RICE_1"


class FitsDitherAlgorithm(enum.StrEnum):
    """Dithering methods for lossy quantization of floating-point tiles."""

    NO_DITHER = "NO_DITHER"
    SUBTRACTIVE_DITHER_1 = "SUBTRACTIVE_DITHER_1"
    SUBTRACTIVE_DITHER_2 = "SUBTRACTIVE_DITHER_2"

    def to_astropy_quantize_method(self) -> int:
        """Return the integer code astropy's ``CompImageHDU(quantize_method=...)`` expects."""
        return _ASTROPY_QUANTIZE_METHODS[self]


_ASTROPY_QUANTIZE_METHODS = {
    FitsDitherAlgorithm.NO_DITHER: -1,
    FitsDitherAlgorithm.SUBTRACTIVE_DITHER_1: 1,
    FitsDitherAlgorithm.SUBTRACTIVE_DITHER_2: 2,
}


class FitsQuantizationOptions(pydantic.BaseModel, frozen=True):
    """Lossy quantization of floating-point pixels before tile compression.

    ``level > 0`` sets the quantization step to the tile's noise estimate divided by
    ``level``; ``level < 0`` fixes the step to ``-level``.  ``seed`` (1..10000) selects
    the dither sequence; ``None`` or ``0`` defers to the archive's ``compression_seed``.
    """

    dither: FitsDitherAlgorithm
    level: float
    seed: int | None = None

    @pydantic.field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 10000:
            raise ValueError(f"quantization seed must be in 0..10000 (0 or None = unset), not {value}")
        return value


class FitsCompressionOptions(pydantic.BaseModel, frozen=True):
    """Tile-compression settings for one stored array.

    ``tile_shape`` is ``(y, x)``; ``None`` means one tile per image row (the layout Rubin
    writes by default, and what the tiled-image convention calls ``ZTILE = (width, 1)``).
    """

    algorithm: FitsCompressionAlgorithm = FitsCompressionAlgorithm.GZIP_2
    tile_shape: tuple[int, ...] | None = None
    quantization: FitsQuantizationOptions | None = None

    DEFAULT: ClassVar[FitsCompressionOptions]
    LOSSY: ClassVar[FitsCompressionOptions]

    @pydantic.field_validator("tile_shape")
    @classmethod
    def _check_tile_shape(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and (len(value) != 2 or any(int(v) < 1 for v in value)):
            raise ValueError(f"tile_shape must be two positive integers (y, x), not {value}")
        return value

    def make_hdu(self, data: np.ndarray, name: str) -> astropy.io.fits.CompImageHDU:
        """Return an astropy ``CompImageHDU`` for ``data`` with these settings.

        This is a convenience for code that builds HDUs with astropy directly; the
        archive writer itself uses the project's own tile engine.
        """
        from astropy.io import fits

        kwargs: dict[str, Any] = {"compression_type": self.algorithm.value, "name": name}
        if self.tile_shape is not None:
            kwargs["tile_shape"] = tuple(self.tile_shape)
        else:
            kwargs["tile_shape"] = (1, data.shape[-1])
        if self.quantization is not None:
            kwargs["quantize_level"] = self.quantization.level
            kwargs["quantize_method"] = self.quantization.dither.to_astropy_quantize_method()
            if self.quantization.seed:
                kwargs["dither_seed"] = self.quantization.seed
        elif np.issubdtype(data.dtype, np.floating):
            # Lossless: astropy needs quantize_level 0 to keep raw IEEE values.
            kwargs["quantize_level"] = 0.0
        return fits.CompImageHDU(data, **kwargs)

    def to_tile_compression(self, seed: int | None) -> Any:
        """Translate to the tile engine's ``TileCompression`` (``seed`` already resolved)."""
        from ._engine import TileCompression

        q = self.quantization
        return TileCompression(
            self.algorithm.value,
            tile_shape=None
            if self.tile_shape is None
            else (int(self.tile_shape[0]), int(self.tile_shape[1])),
            dither=None if q is None else q.dither.value,
            level=0.0 if q is None else float(q.level),
            seed=seed,
        )


FitsCompressionOptions.DEFAULT = FitsCompressionOptions()
FitsCompressionOptions.LOSSY = FitsCompressionOptions(
    algorithm=FitsCompressionAlgorithm.RICE_1,
    quantization=FitsQuantizationOptions(dither=FitsDitherAlgorithm.SUBTRACTIVE_DITHER_2, level=16.0),
)


class SeedSequence:
    """Hand out dither seeds for the quantized planes of one write (FORMAT.md §8.1).

    An explicit options seed in 1..10000 is used as is.  Otherwise the archive-wide
    ``compression_seed`` is used and then advanced by one for the next quantized plane,
    wrapping from 10000 back to 1.  A dithered plane that ends up without any seed is an
    error, because the dither sequence (and hence the stored values) would be arbitrary;
    NO_DITHER planes use no random sequence and may go without one.
    """

    def __init__(self, compression_seed: int | None) -> None:
        if compression_seed is not None and not 1 <= compression_seed <= 10000:
            # Fold arbitrary integers into the valid range instead of failing late.
            compression_seed = (int(compression_seed) - 1) % 10000 + 1
        self._next = compression_seed

    def resolve(self, options: FitsCompressionOptions | None, name: str) -> int | None:
        """Return the seed for a plane written with ``options`` (None when not quantized)."""
        if options is None or options.quantization is None:
            return None
        seed = options.quantization.seed
        if seed:
            return seed
        if self._next is None:
            if options.quantization.dither == FitsDitherAlgorithm.NO_DITHER:
                # Without dithering no random sequence is used, so no seed is needed.
                return None
            raise ValueError(
                f"array {name!r} is written with lossy quantization but has no dither seed: "
                "set FitsQuantizationOptions.seed or pass compression_seed"
            )
        seed = self._next
        self._next = 1 if seed >= 10000 else seed + 1
        return seed
