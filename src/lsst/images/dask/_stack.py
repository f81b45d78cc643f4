"""`FitsStack`: the same plane of several files, stacked along a new first axis.

What `lsst.images.dask.stack` hands to ``dask.array.from_array``.  By default one chunk
holds a band of rows of *every* file, so that reductions along the stack
(``dask.array.median(stack, axis=0)``, which needs all of that axis in one chunk) run
band by band in parallel without rechunking: rechunking would merge the bands back
into chunks of dask's ``array.chunk-size`` (128 MiB), i.e. a single task for a stack of
a few visits.
"""

from __future__ import annotations

__all__ = ("FitsStack", "default_stack_chunks")

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._indexing import axis_part, expand_index, result_shape
from ._plane import FitsPlane, cut_sizes, default_chunks

#: Bytes aimed at for one default chunk of a stack (a band of rows of every file).
STACK_CHUNK_BYTES = 16 << 20
#: Smallest band of one file in a default stack chunk: below it, opening files and
#: reading their tile tables would cost more than decoding.
MIN_BAND_BYTES = 512 << 10


class FitsStack:
    """Planes of several files with one shape and dtype, indexed as one ``(N, ...)`` array.

    Parameters
    ----------
    planes
        The planes, one per step along axis 0.
    """

    def __init__(self, planes: Sequence[FitsPlane]) -> None:
        self.planes = tuple(planes)
        first = self.planes[0]
        self.dtype = first.dtype
        self.shape: tuple[int, ...] = (len(self.planes),) + first.shape
        self.ndim = len(self.shape)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FitsStack, (self.planes,))

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return ("lsst.images.FitsStack",) + tuple(plane.__dask_tokenize__() for plane in self.planes)

    def __repr__(self) -> str:
        return f"FitsStack({len(self.planes)} x {self.planes[0]!r})"

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        """numpy indexing; each selected file reads only the box the rest of the index covers."""
        index = expand_index(index, self.ndim)
        which, rest = index[0], index[1:]
        if not isinstance(which, (slice, int, np.integer)) and any(
            not isinstance(item, (slice, int, np.integer)) for item in rest
        ):
            raise TypeError("a stack takes an array index along one axis at a time")
        part = axis_part(which, len(self.planes))
        if part is None:
            return np.empty(result_shape(self.shape, index), self.dtype)
        start, stop, shifted = part
        selected = np.arange(start, stop)[shifted]
        if selected.ndim == 0:
            return self.planes[int(selected)][rest]
        return np.stack([self.planes[int(i)][rest] for i in selected])


def default_stack_chunks(plane: FitsPlane, n: int) -> tuple[tuple[int, ...], ...]:
    """Default chunks of a stack of ``n`` planes like ``plane``: bands of all files at once.

    Each file's band follows its compression tiles (`default_chunks`) and is about
    ``STACK_CHUNK_BYTES / n`` (at least `MIN_BAND_BYTES`); a stack too deep for one
    chunk of that size is split into groups of files.
    """
    per_file = max(MIN_BAND_BYTES, STACK_CHUNK_BYTES // max(1, n))
    files = max(1, STACK_CHUNK_BYTES // per_file)
    return (cut_sizes(0, n, files), *default_chunks(plane, target=per_file))
