"""Progress bars for long command-line work (many files, many positions).

A bar is drawn with ``tqdm`` only when stderr is a terminal, ``--quiet`` was
not given and tqdm is installed (the ``progress`` extra); otherwise the items
pass through untouched, so logs and pipes stay clean.
"""

from __future__ import annotations

__all__ = ("progress",)

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, quiet: bool = False, stream: Any = None) -> Iterator[T]:
    """Iterate over ``items``, showing a progress bar on a terminal.

    Parameters
    ----------
    items
        What to iterate over (its ``len`` is used for the total when it has one).
    desc
        Label in front of the bar.
    quiet
        Never draw a bar.
    stream
        Where the bar goes (default `sys.stderr`); no bar unless it is a TTY.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if quiet or not (isatty is not None and isatty()):
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a convenience: without tqdm, work silently
        yield from items
        return
    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    yield from tqdm(items, desc=desc, total=total, file=stream, unit="item", leave=False, dynamic_ncols=True)
