"""Arrays with more than two axes (cell PSF kernels, convolution-kernel bases) in image HDUs.

The tile engine works on 2-d images.  An ``(..., h, w)`` array tiled one row per tile
(``ZTILE = [w, 1, 1, ...]``, what lsst-images writes for these arrays) compresses to
exactly the bytes of the 2-d ``(prod(...) * h, w)`` array with row tiles: the tiles
come in the same order.  So N-d arrays are encoded as that 2-d array, with the N-d
axis cards written in the header, and decoded through the equivalent 2-d header.  A
read of a block of the leading axes (the kernels of a few cells) decodes only the
rows of that block.
"""

from __future__ import annotations

__all__ = ("decode_ndarray", "encode_ndarray", "flat_header")

import itertools
import math
from collections.abc import Mapping
from types import EllipsisType
from typing import Any

import numpy as np


def _rewrite_axes(cards: list[tuple[str, Any, str]], prefix: str, shape: tuple[int, ...]) -> list:
    """Replace the 2-d ``{prefix}NAXIS*`` / ``ZTILE*`` cards by N-d ones (FITS axis order)."""
    n = len(shape)
    fits_axes = list(reversed(shape))
    out: list[tuple[str, Any, str]] = []
    for key, value, comment in cards:
        if key == f"{prefix}NAXIS":
            out.append((key, n, comment))
        elif key == f"{prefix}NAXIS2":
            out.append((key, fits_axes[1], comment))
            out.extend((f"{prefix}NAXIS{k}", fits_axes[k - 1], comment) for k in range(3, n + 1))
        elif key == "ZTILE2" and prefix == "Z":
            out.append((key, value, comment))
            out.extend((f"ZTILE{k}", 1, comment) for k in range(3, n + 1))
        else:
            out.append((key, value, comment))
    return out


def encode_ndarray(array: np.ndarray, compression: Any, *, threads: int | None = None) -> Any:
    """Encode an array of three or more axes as an image HDU (one row per tile).

    Raises
    ------
    ValueError
        If the compression asks for tiles other than single rows.
    """
    from ._engine import encode_image

    if compression is not None and compression.tile_shape not in (None, (1, array.shape[-1])):
        raise ValueError(
            f"arrays with {array.ndim} axes are compressed one row per tile, not with tiles "
            f"{compression.tile_shape}"
        )
    flat = np.ascontiguousarray(array).reshape(-1, array.shape[-1])
    encoded = encode_image(flat, compression, threads=threads)
    encoded.cards = _rewrite_axes(encoded.cards, "Z" if compression is not None else "", array.shape)
    return encoded


def flat_header(header: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Return the 2-d header equivalent to an N-d image header, and the N-d shape.

    Raises
    ------
    ValueError
        If the tiles of the N-d image do not map onto 2-d tiles (a tile spanning
        several rows that does not divide the second axis, or spanning the third and
        further axes).
    """
    compressed = bool(header.get("ZIMAGE", False))
    prefix = "ZNAXIS" if compressed else "NAXIS"
    n = int(header[prefix])
    fits_axes = [int(header[f"{prefix}{k}"]) for k in range(1, n + 1)]
    shape = tuple(reversed(fits_axes))
    flat = dict(header)
    for k in range(3, n + 1):
        flat.pop(f"{prefix}{k}", None)
    flat[prefix] = 2
    flat[f"{prefix}2"] = math.prod(fits_axes[1:])
    if compressed:
        tiles = [int(header.get(f"ZTILE{k}", 1)) for k in range(1, n + 1)]
        if any(t != 1 for t in tiles[2:]) or (tiles[1] != 1 and fits_axes[1] % tiles[1]):
            raise ValueError(f"unsupported tiling {tiles} of an image with axes {fits_axes}")
        for k in range(3, n + 1):
            flat.pop(f"ZTILE{k}", None)
    return flat, shape


def _leading_slices(slices: tuple[Any, ...] | EllipsisType, shape: tuple[int, ...]) -> list[range]:
    """Index ranges along the leading axes (the last two are always read whole)."""
    if slices is ... or slices is None:
        return [range(n) for n in shape[:-2]]
    if not isinstance(slices, tuple) or len(slices) != len(shape):
        raise IndexError(f"reads of an array of shape {shape} need {len(shape)} slices, got {slices!r}")
    for s, n in zip(slices[-2:], shape[-2:], strict=True):
        if not isinstance(s, slice) or s.indices(n) != (0, n, 1):
            raise IndexError(
                f"only the leading axes of an array of shape {shape} can be sliced, not {slices!r}"
            )
    ranges = []
    for s, n in zip(slices[:-2], shape[:-2], strict=True):
        if not isinstance(s, slice) or s.step not in (None, 1):
            raise IndexError(f"only contiguous slices are supported, got {s!r}")
        start, stop, _ = s.indices(n)
        if (
            (s.start is not None and not 0 <= s.start < n)
            or (s.stop is not None and not 0 < s.stop <= n)
            or start >= stop
        ):
            raise IndexError(f"slice {s!r} is not inside an axis of size {n}")
        ranges.append(range(start, stop))
    return ranges


def decode_ndarray(
    header: Mapping[str, Any],
    reader: Any,
    data_offset: int,
    slices: tuple[Any, ...] | EllipsisType,
    *,
    threads: int | None = None,
) -> np.ndarray:
    """Decode an N-d image HDU, or a block of its leading axes (``slices``).

    Each contiguous run of rows of the requested block is decoded on its own, so only
    the tiles of the block are read.
    """
    from ._engine import decode_image

    flat, shape = flat_header(header)
    ranges = _leading_slices(slices, shape)
    h, w = shape[-2:]
    # Row-of-slabs index of a leading-axes index: sum of index[k] * prod(shape[k+1:lead]).
    lead = len(shape) - 2
    strides = [math.prod(shape[k + 1 : lead]) for k in range(lead)]
    last = ranges[-1]
    rows = math.prod(shape[:-1])
    blocks = []
    for prefix in itertools.product(*ranges[:-1]):
        base = sum(i * s for i, s in zip(prefix, strides, strict=False))
        y0, y1 = (base + last.start) * h, (base + last.stop) * h
        region = None if (y0, y1) == (0, rows) else (slice(y0, y1), slice(0, w))
        blocks.append(decode_image(flat, reader, data_offset, region=region, threads=threads))
    out_shape = tuple(len(r) for r in ranges) + (h, w)
    array = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    return array.reshape(out_shape)
