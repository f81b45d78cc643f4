"""One error contract for file content: whatever goes wrong inside a read names the file.

Readers validate what they can up front (sizes against the file length, offsets, tile
tables, JSON depth) and raise `ArchiveReadError` subclasses with precise messages.
`content_errors` is the backstop around a whole read: any other exception that file
content can provoke -- a ``ValueError`` from numpy on a shape the header lied about, a
``KeyError`` for a missing card, an astropy ``VerifyError``, a ``RecursionError`` or
``MemoryError`` -- is re-raised as the reader's `ArchiveReadError` subclass, naming the
file and keeping the original as ``__cause__``.

Where the original type is part of a documented contract (the legacy reader's
``ValueError`` for a file without a PSF, say) the new exception derives from *both*
the archive error and the original type, so ``except ValueError`` keeps working.

Errors that are not about the file's content pass through unchanged: a missing or
unreadable file, network failures, and errors the caller caused (marked with
`mark_caller_error`, e.g. a ``bbox`` outside the stored image).
"""

from __future__ import annotations

__all__ = ("content_errors", "mark_caller_error")

import contextlib
import errno
import functools
from collections.abc import Iterator

from ._errors import ArchiveReadError

#: OSErrors about the file system or the network, not about the bytes read.
_ENVIRONMENT_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
                       ConnectionError, TimeoutError, InterruptedError)  # fmt: skip
_ENVIRONMENT_ERRNOS = {errno.EIO, errno.ENOSPC, errno.EMFILE, errno.ENFILE, errno.ENOMEM}

_CALLER = "_lsst_images_caller_error"


def mark_caller_error(err: BaseException) -> BaseException:
    """Flag ``err`` as the caller's mistake so that `content_errors` lets it through."""
    setattr(err, _CALLER, True)
    return err


@functools.cache
def _combined(error_type: type[ArchiveReadError], original: type[BaseException]) -> type[ArchiveReadError]:
    """``error_type`` that is also an ``original`` (if their layouts and constructors allow it).

    Types whose instances cannot be made from one message (``UnicodeDecodeError``), that
    render it differently (``KeyError`` quotes it) or whose layout conflicts with ours
    (``OSError``) are left out: the error is then ``error_type`` alone.
    """
    if issubclass(original, (RecursionError, MemoryError)) or original in (Exception, RuntimeError):
        return error_type
    try:
        combined = type(error_type.__name__, (error_type, original), {"__module__": error_type.__module__})
        if str(combined("probe")) != "probe":
            return error_type
    except Exception:  # incompatible instance layouts or constructors
        return error_type
    return combined


def _passes(err: BaseException) -> bool:
    if isinstance(err, ArchiveReadError) or getattr(err, _CALLER, False):
        return True
    if isinstance(err, _ENVIRONMENT_ERRORS):
        return True
    return isinstance(err, OSError) and err.errno in _ENVIRONMENT_ERRNOS


@contextlib.contextmanager
def content_errors(name: str, error_type: type[ArchiveReadError] = ArchiveReadError) -> Iterator[None]:
    """Re-raise unexpected exceptions of the block as ``error_type`` naming file ``name``."""
    try:
        yield
    except Exception as err:
        if isinstance(err, ArchiveReadError) and str(name) not in str(err):
            # Raised by code that does not know the file (e.g. parsing a tree's reference).
            try:
                renamed = type(err)(f"{name}: {err}")
            except Exception:
                renamed = ArchiveReadError(f"{name}: {err}")
            raise renamed from err
        if _passes(err):
            raise
        if isinstance(err, RecursionError):
            problem = "its structure is nested too deeply to be read"
        elif isinstance(err, MemoryError):
            problem = "it declares sizes too large to be read (out of memory)"
        else:
            problem = f"{type(err).__name__}: {err}"
        text = problem if str(name) in problem else f"{name}: {problem}"
        raise _combined(error_type, type(err))(f"{text} (damaged or unsupported file)") from err
