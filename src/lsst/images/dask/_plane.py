"""`FitsPlane`: one plane of one lsst.images file, sliced like a numpy array.

This is what `lsst.images.dask.from_fits` gives to ``dask.array.from_array``.  It holds
only the file's location and signature, the plane's name, box and dtype, so it pickles
to a few hundred bytes, and every ``plane[index]`` reads exactly the box the index
covers through the plane's own tree model, ``deserialize(archive, bbox=box)``: the same
code (and tile engine) as ``Image.read_fits(bbox=...)`` / ``Mask.read_fits(bbox=...)``,
so a dask chunk always equals the corresponding ``read_fits`` cut-out.  Dask fuses
slicing into these reads, so ``array[a:b, c:d].compute()`` decodes only the tiles of
that box.
"""

from __future__ import annotations

__all__ = ("PLANE_KINDS", "FitsPlane", "cut_sizes", "default_chunks", "open_plane", "parse_plane")

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pydantic

from .._geom import Box
from ..fits._common import InvalidFitsArchiveError, PointerModel
from ..fits._input import FitsInputArchive
from ..fits._opaque import ExtensionKey
from ..serialization import ArrayReferenceModel
from ._files import FileSignature, ParsedFile, open_file, task_archive
from ._indexing import axis_part, expand_index, result_shape

#: The planes a file can be read as (``"mask:NAME"`` selects one mask plane).
PLANE_KINDS = ("image", "variance", "mask")

#: Bytes (in memory) aimed at for one default chunk of one plane: large enough that the
#: fixed cost of a task (a few ms of dask scheduling, opening the file, reading the tile
#: table) is small next to decoding and that a cut-out rarely straddles two chunks (each
#: costs a read), small enough for a 4k x 4k plane to split into a few parallel tasks.
#: (The tile engine already decodes one chunk with several threads.)
CHUNK_BYTES = 16 << 20


def parse_plane(plane: str) -> tuple[str, str | None]:
    """Split a plane argument into ``(kind, mask plane name or None)``.

    Raises
    ------
    ValueError
        If ``plane`` is not ``"image"``, ``"variance"``, ``"mask"`` or ``"mask:NAME"``.
    """
    if not isinstance(plane, str):
        raise TypeError(f"plane must be a string, not {type(plane).__name__}")
    kind, sep, name = plane.partition(":")
    if kind not in PLANE_KINDS or (sep and (kind != "mask" or not name)):
        raise ValueError(f"plane must be one of 'image', 'variance', 'mask' or 'mask:NAME', not {plane!r}")
    return kind, (name if sep else None)


def _plane_tree(parsed: ParsedFile, kind: str) -> dict[str, Any]:
    """The subtree of the file's tree that describes plane ``kind``."""
    tree = parsed.tree
    if all(isinstance(tree.get(key), dict) for key in PLANE_KINDS):  # MaskedImage, VisitImage, ...
        return tree[kind]
    if kind == "mask" and "planes" in tree:  # a Mask file
        return tree
    if kind == "image" and "data" in tree and "planes" not in tree:  # an Image file
        return tree
    from ..cli._info import guess_class

    what = guess_class(tree)
    raise ValueError(f"{parsed.name}: has no {kind!r} plane (the file holds an object of type {what})")


def plane_model(parsed: ParsedFile, kind: str) -> Any:
    """The validated tree model of plane ``kind`` (cached with the parsed file).

    The plane's projection and metadata are left out: a chunk needs only pixels.
    """
    model = parsed.models.get(kind)
    if model is None:
        from .._image import Image
        from .._mask import Mask

        node = {k: v for k, v in _plane_tree(parsed, kind).items() if k not in ("projection", "metadata")}
        model_type = (Mask if kind == "mask" else Image)._get_archive_tree_type(PointerModel)
        try:
            model = model_type.model_validate(node)
        except pydantic.ValidationError as err:
            raise InvalidFitsArchiveError(f"{parsed.name}: invalid {kind} plane tree: {err}") from err
        parsed.models[kind] = model
    return model


def _first_reference(model: Any, kind: str) -> Any:
    data = model.data[0] if kind == "mask" else model.data
    return getattr(data, "value", data)  # (unwrap a quantity)


def _tile_shape(archive: FitsInputArchive, reference: Any, shape: tuple[int, int]) -> tuple[int, int]:
    """Tile shape of the HDU holding a plane (row tiles for uncompressed or inline data)."""
    if not isinstance(reference, ArrayReferenceModel) or not isinstance(reference.source, str):
        return shape
    header = archive.get_header(ExtensionKey.from_str(reference.source))
    if not header.get("ZIMAGE", False):
        return (1, shape[1])
    return (int(header.get("ZTILE2", 1)), int(header.get("ZTILE1", shape[1])))


class FitsPlane:
    """One plane of one file, read box by box: a lazy, picklable numpy-like array.

    Parameters
    ----------
    location
        Absolute path or URL of the file (`._files.location_of`).
    signature
        Version of the file the reads must find.
    plane
        ``"image"``, ``"variance"``, ``"mask"`` or ``"mask:NAME"``.
    bbox
        Absolute box of the plane covered (index ``[0, 0]`` is its start).
    dtype
        Element type of what the reads return.
    mask_size
        Length of the last axis of a packed ``"mask"`` plane (None otherwise).
    tile_shape
        ``(y, x)`` compression tile of the stored plane, which `default_chunks` follows.
    stored_bbox
        Absolute box of the whole stored plane (tile boundaries are relative to it).
    """

    def __init__(
        self,
        location: str,
        signature: FileSignature,
        plane: str,
        bbox: Box,
        dtype: Any,
        mask_size: int | None = None,
        tile_shape: tuple[int, int] = (1, 1),
        stored_bbox: Box | None = None,
    ) -> None:
        self.location = location
        self.signature = FileSignature(*signature)
        self.plane = plane
        self.kind, self.mask_plane = parse_plane(plane)
        self.bbox = bbox
        self.dtype = np.dtype(dtype)
        self.mask_size = mask_size
        self.tile_shape = (int(tile_shape[0]), int(tile_shape[1]))
        self.stored_bbox = bbox if stored_bbox is None else stored_bbox
        self.shape: tuple[int, ...] = tuple(bbox.shape) + ((mask_size,) if mask_size is not None else ())
        self.ndim = len(self.shape)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            FitsPlane,
            (
                self.location,
                tuple(self.signature),
                self.plane,
                self.bbox,
                self.dtype.str,
                self.mask_size,
                self.tile_shape,
                self.stored_bbox,
            ),
        )

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        box = (self.bbox.y.start, self.bbox.y.stop, self.bbox.x.start, self.bbox.x.stop)
        return ("lsst.images.FitsPlane", self.location, tuple(self.signature), self.plane, box)

    def __repr__(self) -> str:
        return f"FitsPlane({self.location!r}, {self.plane!r}, {self.bbox}, {self.dtype})"

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, box: Box) -> np.ndarray:
        """Read the part of the plane inside ``box`` (absolute coordinates, within `bbox`)."""
        with task_archive(self.location, self.signature) as (parsed, archive):
            result = plane_model(parsed, self.kind).deserialize(archive, bbox=box)
        if self.mask_plane is not None:
            return result.get(self.mask_plane)
        return result.array

    def __getitem__(self, index: Any) -> np.ndarray:
        """numpy indexing that reads only the box the index covers (see `._indexing`)."""
        index = expand_index(index, self.ndim)
        parts = [axis_part(item, n) for item, n in zip(index[:2], self.shape[:2], strict=True)]
        if parts[0] is None or parts[1] is None:
            return np.empty(result_shape(self.shape, index), self.dtype)
        (y0, y1, py), (x0, x1, px) = parts
        start = self.bbox.start
        array = self.read(Box.factory[start.y + y0 : start.y + y1, start.x + x0 : start.x + x1])
        rest = (py, px) + index[2:]
        if all(isinstance(item, slice) and item == slice(None) for item in rest):
            return array
        return array[rest]


def open_plane(path_or_url: Any, plane: str = "image", bbox: Box | None = None) -> FitsPlane:
    """Open a file's plane (reading headers and the index, no pixels) for lazy reads.

    Raises
    ------
    ValueError
        If the file has no such plane, the mask has no plane of that name, or ``bbox``
        is not inside the plane; the message names the file.
    """
    kind, mask_plane = parse_plane(plane)
    with open_file(path_or_url) as (location, signature, parsed, archive):
        model = plane_model(parsed, kind)
        stored = model.bbox
        reference = _first_reference(model, kind)
        tile = _tile_shape(archive, reference, tuple(stored.shape))
    if bbox is None:
        bbox = stored
    elif not isinstance(bbox, Box):
        raise TypeError(f"bbox must be a Box, not {type(bbox).__name__}")
    elif not stored.contains(bbox):
        raise ValueError(f"{location}: bbox {bbox} is not inside the {kind} plane's bbox {stored}")
    mask_size = None
    if kind == "mask":
        schema = model.schema
        if mask_plane is None:
            dtype, mask_size = schema.dtype, schema.mask_size
        elif mask_plane not in schema.names:
            names = ", ".join(sorted(schema.names))
            raise ValueError(f"{location}: the mask has no plane {mask_plane!r} (its planes: {names})")
        else:
            dtype = np.dtype(bool)
    else:
        dtype = reference.datatype.to_numpy()
    return FitsPlane(location, signature, plane, bbox, dtype, mask_size, tile, stored)


def cut_sizes(start: int, stop: int, step: int) -> tuple[int, ...]:
    """Sizes of the pieces of ``[start, stop)`` cut at the multiples of ``step``."""
    edges = [start, *range((start // step + 1) * step, stop, step), stop]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))


def default_chunks(plane: FitsPlane, target: int | None = None) -> tuple[tuple[int, ...], ...]:
    """Chunks following the plane's compression tiles, about ``target`` bytes each.

    ``target`` defaults to `CHUNK_BYTES`.
    Row tiles give bands of whole rows (a multiple of the tile height); square-ish tiles
    give blocks of whole tiles.  Edges fall on tile boundaries of the stored plane, so
    no tile is decoded by two chunks, even for a ``bbox`` that starts mid-tile.
    """
    target = CHUNK_BYTES if target is None else target
    th, tw = plane.tile_shape
    ny, nx = plane.shape[:2]
    pixel = plane.dtype.itemsize * (plane.mask_size or 1)
    y0 = plane.bbox.y.start - plane.stored_bbox.y.start
    x0 = plane.bbox.x.start - plane.stored_bbox.x.start
    if tw >= plane.stored_bbox.shape.x or nx * pixel * th <= target:
        width = nx
    else:
        side = math.isqrt(max(1, target // pixel))
        width = min(nx, max(tw, side // tw * tw))
    height = max(th, target // (width * pixel) // th * th)
    xs = (nx,) if width >= nx else cut_sizes(x0, x0 + nx, width)
    chunks: Sequence[tuple[int, ...]] = (cut_sizes(y0, y0 + ny, height), xs)
    if plane.mask_size is not None:
        chunks = (*chunks, (plane.mask_size,))
    return tuple(chunks)
