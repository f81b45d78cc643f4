"""Timing helper shared by the benchmark scripts in this folder (run them as scripts)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Return the shortest wall time in seconds of ``repeat`` calls of ``func``.

    The minimum, not the mean, is the figure least disturbed by other work on
    the machine.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best
