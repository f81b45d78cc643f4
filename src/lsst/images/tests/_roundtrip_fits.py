"""`RoundtripFits`: write an object to a temporary FITS archive and read it back in tests."""

from __future__ import annotations

__all__ = ("RoundtripFits",)

import shutil
import tempfile
import unittest
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    import astropy.io.fits

T = TypeVar("T")

#: Metadata injected into image-like objects to check that metadata survives the trip.
_INJECTED = {
    "roundtrip_test_int": 7,
    "roundtrip_test_float": 0.25,
    "roundtrip_test_str": "round trip",
    "roundtrip_test_bool": True,
    "roundtrip_test_none": None,
}


class RoundtripFits(Generic[T]):
    """Context manager writing ``original`` with `lsst.images.fits.write` and reading it back.

    On entry the object is written to a temporary file (together with five
    ``roundtrip_test_*`` metadata keys for image-like objects) and read back with
    `lsst.images.fits.read`; the keys are checked and removed again, so ``result``
    can be compared directly with ``original``.  ``result`` stays usable after exit.

    Parameters
    ----------
    tc
        The running test case (used for assertions and skips).
    original
        Object to round-trip.
    storage_class
        Butler storage class; only meaningful with lsst.daf.butler, which this
        implementation does not use (component reads then raise `unittest.SkipTest`).
    """

    def __init__(self, tc: unittest.TestCase, original: T, storage_class: str | None = None) -> None:
        self._tc = tc
        self._original = original
        self._storage_class = storage_class
        self._tmpdir: str | None = None
        self.filename: str = ""
        self.serialized: Any = None
        self.result: T | None = None

    def _is_image_like(self) -> bool:
        return hasattr(self._original, "metadata") and hasattr(self._original, "bbox")

    def __enter__(self) -> Self:
        from .. import fits

        self._tmpdir = tempfile.mkdtemp(prefix="lsst-images-roundtrip-")
        self.filename = f"{self._tmpdir}/roundtrip.fits"
        inject = dict(_INJECTED) if self._is_image_like() else None
        self.serialized = fits.write(self._original, self.filename, metadata=inject)
        if inject:
            # fits.write merges the keys into the tree; keep the caller's object clean.
            for key in inject:
                self.serialized.metadata.pop(key, None)
        result = fits.read(type(self._original), self.filename).deserialized
        if inject:
            metadata = result.metadata  # type: ignore[attr-defined]
            for key, value in inject.items():
                self._tc.assertIn(key, metadata)
                self._tc.assertEqual(metadata[key], value)
                del metadata[key]
        self.result = result
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def get(self, component: str | None = None, storageClass: str | None = None, **kwargs: Any) -> Any:  # noqa: N803
        """Read the written file again, e.g. ``get(bbox=box)`` for a sub-image.

        Component and storage-class reads need a butler and raise `unittest.SkipTest`.
        """
        from .. import fits

        if component is not None or storageClass is not None:
            raise unittest.SkipTest("component/storageClass reads need lsst.daf.butler")
        if self._tmpdir is None:
            raise RuntimeError("RoundtripFits.get() must be called inside the 'with' block")
        result = fits.read(type(self._original), self.filename, **kwargs).deserialized
        metadata = getattr(result, "metadata", None)
        if isinstance(metadata, dict):
            for key in _INJECTED:
                metadata.pop(key, None)
        return result

    def inspect(self) -> astropy.io.fits.HDUList:
        """Open the written file with astropy, image compression disabled (raw BINTABLEs)."""
        from astropy.io import fits as afits

        return afits.open(self.filename, disable_image_compression=True)
