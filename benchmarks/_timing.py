"""Timing helper shared by the benchmark scripts in this folder (run them as scripts)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], desc: str) -> Iterator[T]:
    """Iterate over ``items`` with the CLI's progress bar (drawn only on a terminal).

    Benchmarks run for minutes; the bar says how far along they are.  It is silent when
    stderr is not a TTY (logs, CI) or when ``LSST_IMAGES_QUIET`` is set, and without
    tqdm installed, exactly like ``lsst-images ... --quiet``.
    """
    from lsst.images.cli._progress import progress as bar

    return bar(items, desc=desc, quiet=bool(os.environ.get("LSST_IMAGES_QUIET")))


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Return the shortest wall time in seconds of ``repeat`` calls of ``func``.

    The minimum, not the mean, is the figure least disturbed by other work on
    the machine.
    """
    best = float("inf")
    for _ in progress(range(repeat), "runs"):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best
