"""`RoundtripNdf`: write an object to a temporary NDF (HDS-on-HDF5) file and read it back in tests."""

from __future__ import annotations

__all__ = ("RoundtripNdf",)

from typing import TYPE_CHECKING, Any, TypeVar

from ._roundtrip import RoundtripBase

if TYPE_CHECKING:
    import h5py

    from ..serialization import ArchiveTree, MetadataValue, ReadResult

T = TypeVar("T")


class RoundtripNdf(RoundtripBase[T]):
    """Round trip through `lsst.images.ndf.write` and `lsst.images.ndf.read`.

    Use as ``with RoundtripNdf(self, obj) as rt: ...``; ``rt.result`` is the object
    read back, ``rt.get(bbox=box)`` re-reads a sub-image from the same file and
    ``rt.inspect()`` opens the file read-only with h5py.  Needs the ``ndf`` extra
    (h5py); without it entering the context skips the test.
    """

    suffix = ".sdf"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handles: list[h5py.File] = []

    def __enter__(self) -> RoundtripNdf[T]:
        import unittest

        try:
            import h5py  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("NDF round trips need h5py (the 'ndf' extra)") from None
        return super().__enter__()  # type: ignore[return-value]

    def __exit__(self, *exc_info: Any) -> None:
        while self._handles:
            self._handles.pop().close()
        super().__exit__(*exc_info)

    def _write(self, obj: Any, path: str, metadata: dict[str, MetadataValue] | None) -> ArchiveTree:
        from .. import ndf

        return ndf.write(obj, path, metadata=metadata)

    def _read(self, cls: type[T], path: str, **kwargs: Any) -> ReadResult[T]:
        from .. import ndf

        return ndf.read(cls, path, **kwargs)

    def inspect(self) -> h5py.File:
        """Open the written file read-only with h5py; it is closed when the context exits."""
        import h5py

        handle = h5py.File(self.filename, "r")
        self._handles.append(handle)
        return handle
