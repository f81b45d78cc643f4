"""`RoundtripFits`: write an object to a temporary FITS archive and read it back in tests."""

from __future__ import annotations

__all__ = ("RoundtripFits",)

from typing import TYPE_CHECKING, Any, TypeVar

from ._roundtrip import RoundtripBase

if TYPE_CHECKING:
    import astropy.io.fits

    from ..serialization import ArchiveTree, MetadataValue, ReadResult

T = TypeVar("T")


class RoundtripFits(RoundtripBase[T]):
    """Round trip through `lsst.images.fits.write` and `lsst.images.fits.read`.

    Use as ``with RoundtripFits(self, obj) as rt: ...``; ``rt.result`` is the object
    read back, ``rt.get(bbox=box)`` re-reads a sub-image from the same file and
    ``rt.inspect()`` opens the file with astropy (compressed HDUs as raw tables).
    """

    suffix = ".fits"

    def _write(self, obj: Any, path: str, metadata: dict[str, MetadataValue] | None) -> ArchiveTree:
        from .. import fits

        return fits.write(obj, path, metadata=metadata)

    def _read(self, cls: type[T], path: str, **kwargs: Any) -> ReadResult[T]:
        from .. import fits

        return fits.read(cls, path, **kwargs)

    def inspect(self) -> astropy.io.fits.HDUList:
        """Open the written file with astropy, image compression disabled (raw BINTABLEs).

        The HDU list is closed when the context exits.
        """
        from astropy.io import fits as afits

        return self._keep_open(afits.open(self.filename, disable_image_compression=True))
