"""Crash-safe file replacement: the one write path of every file format in the package.

A file is written to a temporary file in the destination folder, flushed and
``fsync``'ed, then renamed over the destination (and the folder ``fsync``'ed so the
rename itself is durable).  Readers therefore see either the old file or the complete
new one, never a partial file -- also when the writer is killed (``SIGKILL``), runs
out of disk space, or the machine loses power after the write returned.

Where Linux allows it the temporary file is *anonymous* (``O_TMPFILE``): it has no name
until it is complete, so a writer killed while writing leaves nothing behind.  It is
linked under a temporary name only for the instant before the rename.  Elsewhere a
named temporary (``.<name>.<pid>-<random>.tmp``) is used, and temporaries left by
writers that no longer run are removed by the next write into the same folder.
"""

from __future__ import annotations

__all__ = ("atomic_output", "remove_stale_temporaries", "start_writeback")

import contextlib
import errno
import functools
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import IO

#: Temporary names: ``.<target name>.<pid>-<random>.tmp``.
_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a seekable binary stream whose contents replace ``path`` on success.

    The stream is opened for reading and writing (a writer may patch what it wrote).
    When the ``with`` block ends normally the data are made durable and renamed over
    ``path``; when it raises, the temporary file is discarded and ``path`` is left as it
    was.  An `OSError` while writing (disk full, file size limit) is re-raised with a
    message naming ``path``.

    Parameters
    ----------
    path
        Destination file (its folder must exist).
    """
    target = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(target)
    remove_stale_temporaries(folder, base)
    fd, name = _open_temporary(folder, base)
    committed = False
    try:
        with os.fdopen(fd, "w+b") as stream:
            try:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
                if name is None:
                    name = _link_anonymous(stream.fileno(), folder, base)
                _replace(name, target)
                committed = True
            except OSError as err:
                if err.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT):
                    raise OSError(
                        err.errno, f"cannot write {target}: {err.strerror}; the previous file is unchanged"
                    ) from err
                raise
        _fsync_folder(folder)
    finally:
        if not committed and name is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing ``length`` bytes at ``offset`` of ``fd`` to disk, now.

    A large file is written in pieces (one HDU at a time, each after seconds of
    compression work); starting the writeback of each piece as soon as it is written
    (Linux ``sync_file_range``, which neither waits nor drops cached pages) lets the disk
    work while the next piece is compressed, so the final ``fsync`` of `atomic_output`
    only waits for the last piece.  Elsewhere, or on any error, this does nothing: the
    final ``fsync`` alone still makes the file durable.
    """
    sync_file_range = _sync_file_range()
    if sync_file_range is not None and length > 0:
        sync_file_range(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE; failures are harmless


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range`` (Linux), or None."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return None
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _temporary_name(folder: str, base: str) -> str:
    return os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}")


def _open_temporary(folder: str, base: str) -> tuple[int, str | None]:
    """Open the temporary file: anonymous if possible (name None), else a new named one."""
    mode = 0o666 & ~_umask()
    if hasattr(os, "O_TMPFILE"):
        try:
            return os.open(folder, os.O_TMPFILE | os.O_RDWR, mode), None
        except OSError:
            pass  # filesystem without O_TMPFILE support
    name = _temporary_name(folder, base)
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    return fd, name


def _link_anonymous(fd: int, folder: str, base: str) -> str:
    """Give the anonymous temporary file a (temporary) name so it can be renamed into place."""
    name = _temporary_name(folder, base)
    try:
        os.link(f"/proc/self/fd/{fd}", name)
        return name
    except OSError:
        pass
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, at_empty_path = -100, 0x1000
    if libc.linkat(fd, b"", at_fdcwd, os.fsencode(name), at_empty_path) != 0:
        code = ctypes.get_errno()
        raise OSError(
            code, f"cannot link the temporary file for {os.path.join(folder, base)}: {os.strerror(code)}"
        )
    return name


def _replace(tmp: str, path: str) -> None:
    """Rename ``tmp`` over ``path``, releasing the replaced file's storage in the background.

    Replacing a large file makes the kernel drop its cached pages and free its blocks
    when the last reference goes, which takes tens of milliseconds for a visit image.
    Holding the old file open across the rename moves that work to the moment a
    background thread closes it; the rename itself stays atomic.
    """
    old = None
    if os.name == "posix":
        try:
            old = os.open(path, os.O_RDONLY)
        except OSError:
            old = None
    try:
        os.replace(tmp, path)
    finally:
        if old is not None:
            threading.Thread(target=os.close, args=(old,), name="lsst-images-release", daemon=True).start()


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX only; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(folder: str, base: str) -> list[str]:
    """Remove temporaries for ``base`` left in ``folder`` by writers that no longer run.

    Only names of the form ``.<base>.<pid>-<hex>.tmp`` whose process is gone are
    removed; a concurrent writer's temporary is never touched.  Returns the removed paths.
    """
    prefix = f".{base}."
    removed = []
    try:
        entries = [
            e.name for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(_SUFFIX)
        ]
    except OSError:
        return removed
    for entry in entries:
        tag = entry[len(prefix) : -len(_SUFFIX)]
        pid_text, _, token = tag.partition("-")
        if not pid_text.isdigit() or not token or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, entry))
            removed.append(os.path.join(folder, entry))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
