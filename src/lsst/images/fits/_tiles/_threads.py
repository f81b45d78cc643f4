"""The tile engine's worker threads, chunking and per-thread scratch buffers.

Work is split into *chunks* of consecutive tiles (bounded in raw bytes, several per
worker) that run in a shared `~concurrent.futures.ThreadPoolExecutor`: deflate/inflate
(zlib, isal), the RICE coder and numpy's copies release the GIL, so chunks proceed in
parallel, and per-tile Python overhead is paid once per chunk, not per thread hop.
Encoding (`._encode`) and decoding (`._engine`) share the pools.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ._geometry import TileGrid

#: Upper bound of raw (decoded) bytes handled by one chunk; bounds transient memory.
_CHUNK_MAX = 1 << 20
#: Lower bound, so that small tiles are batched (amortizes thread and call overhead).
_CHUNK_MIN = 64 << 10


def _workers(threads: int | None) -> int:
    return max(1, threads if threads is not None else (os.cpu_count() or 1))


#: Worker pools by size, created on first use and shared by every encode/decode (starting
#: threads for each HDU costs about a millisecond, which matters for small cut-outs).
_POOLS: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = concurrent.futures.ThreadPoolExecutor(
                workers, thread_name_prefix="lsst-images-tiles"
            )
        return pool


def _forget_pools() -> None:
    """In a forked child the parent's worker threads do not exist: start afresh."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _run(func: Callable[[Any], Any], items: Sequence[Any], threads: int | None) -> list[Any]:
    """``[func(item) for item in items]``, in worker threads when that can help.

    Work items never submit work themselves, so a shared pool cannot deadlock; callers
    in several threads at once simply share its workers.
    """
    workers = min(_workers(threads), len(items))
    if workers <= 1:
        return [func(item) for item in items]
    pool = _pool(_workers(threads))
    return list(pool.map(func, items))


def _chunks(grid: TileGrid, tiles: np.ndarray, itemsize: int, threads: int | None) -> list[np.ndarray]:
    """Split ``tiles`` into runs of consecutive work bounded in raw bytes."""
    if len(tiles) == 0:
        return []
    tile_bytes = grid.tile[0] * min(grid.tile[1], grid.shape[1]) * itemsize
    total = tile_bytes * len(tiles)
    target = min(_CHUNK_MAX, max(_CHUNK_MIN, total // (4 * _workers(threads))))
    per_chunk = max(1, target // max(1, tile_bytes))
    return [tiles[i : i + per_chunk] for i in range(0, len(tiles), per_chunk)]


def _run_lazily(func: Callable[[Any], Any], items: Sequence[Any], threads: int | None) -> Iterator[Any]:
    """Like `_run`, but yield the results in order as they are ready."""
    workers = min(_workers(threads), len(items))
    if workers <= 1:
        return (func(item) for item in items)
    return _pool(_workers(threads)).map(func, items)


#: Per-thread buffers for the compressed and the inflated tiles of a chunk (see `_scratch`).
_SCRATCH = threading.local()
#: Largest buffer kept for reuse; bigger chunks (huge tiles) get a fresh array each time.
_SCRATCH_KEEP = 4 * _CHUNK_MAX


def _scratch(nbytes: int, slot: str) -> np.ndarray:
    """A uint8 work buffer of ``nbytes`` owned by the calling thread, reused by its next chunk.

    A chunk's compressed bytes and its inflated tiles are only waypoints between the
    file and the destination array.  Fresh ~1 MiB buffers per chunk would be new memory
    mappings each time (allocations that size bypass malloc's heap), so every chunk of a
    read would pay for page faults on untouched memory -- about a third of the time of a
    full read in a fresh process.  ``slot`` names one of the thread's buffers; it must
    not be used after the chunk that asked for it.
    """
    if nbytes > _SCRATCH_KEEP:
        return np.empty(nbytes, dtype=np.uint8)
    buffer = getattr(_SCRATCH, slot, None)
    if buffer is None or buffer.size < nbytes:
        buffer = np.empty(max(nbytes, _CHUNK_MAX), dtype=np.uint8)
        setattr(_SCRATCH, slot, buffer)
    return buffer[:nbytes]
