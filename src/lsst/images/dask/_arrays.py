"""`from_fits` and `stack`: dask arrays over the planes of lsst.images files."""

from __future__ import annotations

__all__ = ("from_fits", "stack")

import concurrent.futures
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._geom import Box
from ._plane import FitsPlane, default_chunks, open_plane
from ._stack import FitsStack, default_stack_chunks

if TYPE_CHECKING:
    import dask.array

#: Files opened at once by `stack` (opening a remote file costs a few round trips).
_OPEN_THREADS = 8


def _dask_array() -> Any:
    """Import ``dask.array``, or explain which extra provides it."""
    try:
        import dask.array
    except ImportError as err:
        raise ImportError(
            "lsst.images.dask needs dask, which is not installed; install the 'dask' extra: "
            "pip install 'lsst-images-py[dask]'"
        ) from err
    return dask.array


def _as_dask(source: FitsPlane | FitsStack, chunks: Any, tile: tuple[int, ...]) -> dask.array.Array:
    """Wrap ``source`` in a dask array whose chunk tasks read their boxes from the file(s).

    Explicit ``chunks`` (``"auto"`` included) keep to multiples of ``tile`` (the
    compression tile, per axis) where they can.  Slicing the dask array is fused into
    these reads, so a cut-out decodes only its own tiles.
    """
    da = _dask_array()
    from dask.base import tokenize

    chunks = da.core.normalize_chunks(chunks, source.shape, dtype=source.dtype, previous_chunks=tile)
    return da.from_array(
        source,
        chunks=chunks,
        name="from-fits-" + tokenize(source, chunks),
        lock=False,
        asarray=False,
        meta=np.empty((0,) * source.ndim, dtype=source.dtype),
    )


def _tile(plane: FitsPlane) -> tuple[int, ...]:
    """The compression tile of a plane as dask chunk sizes (whole last axis of a packed mask)."""
    return plane.tile_shape + ((plane.mask_size,) if plane.mask_size is not None else ())


def from_fits(
    path_or_url: Any, plane: str = "image", *, bbox: Box | None = None, chunks: Any = None
) -> dask.array.Array:
    """Return one plane of an lsst.images FITS file as a lazy dask array.

    Building the array reads the file's headers and index, never pixels; each chunk's
    task opens the file, decodes only the compression tiles of its own box (through the
    same code as ``read_fits(bbox=...)``, so every slice equals the corresponding
    cut-out) and closes it again.  The graph holds no open files or arrays, so it runs
    on ``dask.distributed`` worker processes; each process keeps a small cache of parsed
    file indexes.  Chunks are checked as cut-outs are: header checksums and each gzip
    tile's CRC-32 (a chunk does not read a whole data part to check its ``DATASUM``).

    Parameters
    ----------
    path_or_url
        Local path, ``file://``/``http(s)://``/``s3://`` URL (anything `lsst.resources`
        opens) or `lsst.resources.ResourcePath`.  Remote files are read with range
        requests for just the tiles each chunk needs.
    plane
        ``"image"``, ``"variance"``, ``"mask"`` (the 3-d ``(y, x, mask_size)`` packed
        array of `Mask.array`) or ``"mask:NAME"`` (the boolean plane `Mask.get` returns).
        An `Image` file has only ``"image"``, a `Mask` file only the mask planes.
    bbox
        Absolute box to cover (default: the whole plane); index ``[0, 0]`` of the array
        is its start.
    chunks
        Dask chunks; by default bands of whole compression tiles of about 16 MiB, so
        that no tile is decoded by two chunks.  Anything ``dask.array`` accepts
        (``"auto"``, a tuple, ...) may be given instead.

    Returns
    -------
    array
        A ``dask.array.Array`` of the plane's dtype.

    Raises
    ------
    ImportError
        If dask is not installed (the ``dask`` extra).
    ValueError
        If the file has no such plane or ``bbox`` is not inside it (naming the file).
    lsst.images.serialization.ArchiveReadError
        If the file is not a readable lsst.images FITS file.
    """
    _dask_array()
    source = open_plane(path_or_url, plane, bbox)
    return _as_dask(source, default_chunks(source) if chunks is None else chunks, _tile(source))


def stack(
    paths_or_urls: Iterable[Any], plane: str = "image", *, bbox: Box | None = None, chunks: Any = None
) -> dask.array.Array:
    """Stack one plane of several files into a lazy ``(N, ny, nx)`` dask array.

    Step ``i`` along axis 0 is file ``i``; each is read lazily as by `from_fits`.  By
    default a chunk is a band of rows (whole compression tiles) of every file, so that
    reductions along the stack, ``dask.array.median(stack, axis=0)`` included, run band
    by band in parallel with no rechunking.

    Parameters
    ----------
    paths_or_urls
        The files (paths, URLs or `lsst.resources.ResourcePath` objects).
    plane
        As for `from_fits`.
    bbox
        Absolute box to take from every file; without it all files must have the
        same bbox.
    chunks
        Chunks of the ``(N, ...)`` array, or of one file's plane (then every chunk
        spans all files), in any form ``dask.array`` accepts.

    Raises
    ------
    ValueError
        If no files are given, or a file's bbox differs from the first file's (or does
        not contain ``bbox``), or its plane has a different shape or dtype; the message
        names that file.
    """
    _dask_array()
    paths = list(paths_or_urls)
    if not paths:
        raise ValueError("stack needs at least one file")
    if len(paths) == 1:
        planes = [open_plane(paths[0], plane, bbox)]
    else:
        with concurrent.futures.ThreadPoolExecutor(min(_OPEN_THREADS, len(paths))) as pool:
            planes = list(pool.map(lambda path: open_plane(path, plane, bbox), paths))
    first = planes[0]
    for other in planes[1:]:
        if other.bbox != first.bbox:
            raise ValueError(
                f"{other.location}: its {first.kind} plane has bbox {other.bbox}, but the first file "
                f"({first.location}) has {first.bbox}; pass bbox= to stack a region all files contain"
            )
        if other.shape != first.shape or other.dtype != first.dtype:
            raise ValueError(
                f"{other.location}: its {plane} plane is {other.dtype} of shape {other.shape}, but the "
                f"first file's ({first.location}) is {first.dtype} of shape {first.shape}"
            )
    if chunks is None:
        chunks = default_stack_chunks(first, len(planes))
    elif isinstance(chunks, tuple) and len(chunks) == first.ndim:
        chunks = (-1, *chunks)
    return _as_dask(FitsStack(planes), chunks, (1, *_tile(first)))
