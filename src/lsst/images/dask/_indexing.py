"""numpy indexing of arrays that are read from files part by part.

Dask slices the arrays it wraps (`FitsPlane`, `FitsStack`) with numpy indices and fuses
slicing of the dask array into those reads, so ``array[a:b, c:d].compute()`` asks for
that box only.  Each index item is turned into the range of elements it touches (what
to read) and the same item shifted to the start of that range (what to apply to what
was read); indexing the part read with the shifted items gives exactly what numpy
gives for the whole array, for integers, slices of any step, integer and boolean
arrays alike.
"""

from __future__ import annotations

__all__ = ("axis_part", "expand_index", "result_shape")

import operator
from typing import Any

import numpy as np


def expand_index(index: Any, ndim: int) -> tuple[Any, ...]:
    """``index`` as a tuple of one item per axis (``...`` and omitted trailing axes expanded).

    Raises
    ------
    TypeError
        For items other than integers, slices, ``...`` and integer/boolean arrays
        (``None`` / `numpy.newaxis` included: dask never passes it to a reader).
    IndexError
        For more items than axes, or several ellipses.
    """
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if item is None or isinstance(item, (bool, np.bool_, str, float)):
            raise TypeError(f"only integers, slices, '...' and integer arrays index this array, not {item!r}")
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        at = ellipses[0]
        items = items[:at] + (slice(None),) * (ndim - (len(items) - 1)) + items[at + 1 :]
    if len(items) > ndim:
        raise IndexError(f"too many indices: the array has {ndim} dimensions, {len(items)} were given")
    return tuple(items) + (slice(None),) * (ndim - len(items))


def result_shape(shape: tuple[int, ...], index: tuple[Any, ...]) -> tuple[int, ...]:
    """The shape numpy gives ``array[index]`` for an array of ``shape`` (using no memory)."""
    return np.broadcast_to(np.empty((), np.uint8), shape)[index].shape


def axis_part(item: Any, n: int) -> tuple[int, int, Any] | None:
    """What one index item needs along an axis of length ``n``.

    Returns
    -------
    part
        ``(start, stop, shifted item)``: the range of elements to read, and the item
        that selects from that range what ``item`` selects from the whole axis; None
        if ``item`` selects nothing.

    Raises
    ------
    IndexError
        If an integer (or array element) is out of bounds, as numpy would.
    """
    if isinstance(item, slice):
        r = range(*item.indices(n))
        if len(r) == 0:
            return None
        lo = min(r[0], r[-1])
        return lo, max(r[0], r[-1]) + 1, slice(None) if r.step == 1 else slice(r[0] - lo, None, r.step)
    if isinstance(item, (int, np.integer)):
        i = operator.index(item)
        i = i + n if i < 0 else i
        if not 0 <= i < n:
            raise IndexError(f"index {item} is out of bounds for an axis of size {n}")
        return i, i + 1, 0
    values = np.asarray(item)
    if values.dtype == bool:
        if values.shape != (n,):
            raise IndexError(f"a boolean index of shape {values.shape} does not match an axis of size {n}")
        values = np.flatnonzero(values)
    elif values.dtype.kind not in "iu":
        raise TypeError(f"only integers, slices, '...' and integer arrays index this array, not {item!r}")
    if values.size == 0:
        return None
    values = np.where(values < 0, values + n, values)
    lo, hi = int(values.min()), int(values.max()) + 1
    if lo < 0 or hi > n:
        raise IndexError(f"index {item} is out of bounds for an axis of size {n}")
    return lo, hi, values - lo
