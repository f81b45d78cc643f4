"""Writing many buffers to a file without joining them: ``os.writev`` and early writeback.

A tile-compressed HDU is thousands of small payloads; joining them would copy the whole
file once more and writing them one by one would cost a system call each.
"""

from __future__ import annotations

__all__ = ("file_descriptor", "write_buffers")

import io
import os
from collections.abc import Sequence
from typing import IO, Any

from .._atomic import start_writeback


#: Buffers handed to one ``os.writev`` call (POSIX guarantees at least 16; Linux takes 1024).
def _iov_max() -> int:
    try:
        return max(16, min(1024, os.sysconf("SC_IOV_MAX")))
    except (AttributeError, ValueError, OSError):
        return 16


_IOV_MAX = _iov_max()


def write_buffers(stream: IO[bytes], buffers: Sequence[Any], *, direct: bool = False) -> None:
    """Write ``buffers`` to ``stream`` in order without joining them first.

    On a real file the buffers go to the kernel with ``os.writev`` (a tile-compressed
    HDU is thousands of small payloads: joining them would copy the whole file once
    more, and writing them one by one would cost a system call each); other streams
    get one ``write`` per buffer.  Short writes are resumed where they stopped.
    ``direct`` takes the ``os.writev`` path (which also starts the kernel's writeback of
    what was written) even for one or two buffers, for callers writing large blocks.
    """
    views = [b if type(b) is bytes else memoryview(b).cast("B") for b in buffers]
    views = [v for v in views if len(v)]
    fd = file_descriptor(stream) if len(views) > 2 or (direct and views) else None
    if fd is None:
        for view in views:
            stream.write(view)
        return
    stream.flush()
    position = stream.tell()
    total = 0
    i = 0
    while i < len(views):
        batch = views[i : i + _IOV_MAX]
        written = os.writev(fd, batch)
        total += written
        for view in batch:
            if written >= len(view):
                written -= len(view)
                i += 1
            else:
                views[i] = memoryview(view)[written:]
                break
    # The buffered stream does not know the descriptor moved: tell it.
    stream.seek(position + total)
    start_writeback(fd, position, total)


def file_descriptor(stream: IO[bytes]) -> int | None:
    """The OS file descriptor behind ``stream`` if it is a plain file opened for writing."""
    if not hasattr(os, "writev") or not isinstance(stream, (io.BufferedWriter, io.BufferedRandom, io.FileIO)):
        return None
    try:
        return stream.fileno()
    except (OSError, ValueError):
        return None
