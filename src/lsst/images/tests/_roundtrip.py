"""Round-trip context managers: write an object to a temporary archive and read it back.

`RoundtripBase` holds the format-independent logic (temporary folder, injected
metadata checks, re-reads); a format only supplies how to write, read and
inspect a file.  `RoundtripJson` is the pure-JSON flavour.
"""

from __future__ import annotations

__all__ = ("RoundtripBase", "RoundtripJson")

import shutil
import tempfile
import unittest
from abc import ABC, abstractmethod
from typing import Any, Generic, Self, TypeVar

from ..serialization import ArchiveTree, MetadataValue, ReadResult
from ._compat import DEFAULT_TEST_CASE

T = TypeVar("T")

#: Metadata injected into image-like objects to check that metadata survives the trip (the reference's
#: keys and values: one of each JSON scalar type).
INJECTED_METADATA: dict[str, MetadataValue] = {
    "roundtrip_test_1": 1,
    "roundtrip_test_2": 2.5,
    "roundtrip_test_3": "three",
    "roundtrip_test_4": True,
    "roundtrip_test_5": None,
}


class RoundtripBase(ABC, Generic[T]):
    """Context manager that writes ``original`` on entry and reads it back.

    For image-like originals (objects with ``metadata`` and ``bbox``) five
    ``roundtrip_test_*`` metadata keys are written with the object, checked
    on the result and removed again, so ``result`` compares equal to
    ``original``.  The temporary folder is deleted on exit; ``result`` stays
    usable.

    Parameters
    ----------
    tc
        The running test case (used for assertions and skips).  It may be
        left out, as Rubin's 4300 release does: ``RoundtripFits(obj)``.
    original
        Object to round-trip.
    storage_class
        Butler storage class; without a butler it only matters for `get`
        with a component, which raises `unittest.SkipTest`.
    recipe
        Butler write recipe (4300's keyword); unused without a butler.

    Notes
    -----
    Two deliberate differences from the reference: the temporary file has
    its own format's extension (the reference names every file ``.fits``),
    and `get` re-reads with the same format that wrote the file (the
    reference always uses the FITS reader, which fails on JSON and NDF
    files).
    """

    suffix: str = ""
    """File-name extension of the format (with the dot)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], unittest.TestCase):
            tc, args = args[0], args[1:]
        else:
            tc = kwargs.pop("tc", DEFAULT_TEST_CASE)
        self._init(tc, *args, **kwargs)

    def _init(
        self,
        tc: unittest.TestCase,
        original: T,
        storage_class: str | None = None,
        recipe: str | None = None,
    ) -> None:
        self._tc = tc
        self._original = original
        self._storage_class = storage_class
        self._recipe = recipe
        self._tmpdir: str | None = None
        self._filename = ""
        self._serialized: ArchiveTree | None = None
        self._handles: list[Any] = []
        self.result: T | None = None

    @property
    def filename(self) -> str:
        """Path of the temporary file (valid inside the ``with`` block)."""
        return self._filename

    @property
    def serialized(self) -> ArchiveTree | None:
        """The tree returned by the writer (without the injected metadata)."""
        return self._serialized

    @abstractmethod
    def _write(self, obj: Any, path: str, metadata: dict[str, MetadataValue] | None) -> ArchiveTree:
        """Write ``obj`` to ``path`` and return the tree."""
        raise NotImplementedError()

    @abstractmethod
    def _read(self, cls: type[T], path: str, **kwargs: Any) -> ReadResult[T]:
        """Read an object of type ``cls`` from ``path``."""
        raise NotImplementedError()

    def _is_image_like(self) -> bool:
        return hasattr(self._original, "metadata") and hasattr(self._original, "bbox")

    def __enter__(self) -> Self:
        self._tmpdir = tempfile.mkdtemp(prefix="lsst-images-roundtrip-")
        self._filename = f"{self._tmpdir}/roundtrip{self.suffix}"
        inject = dict(INJECTED_METADATA) if self._is_image_like() else None
        tree = self._write(self._original, self._filename, inject)
        if inject:
            # The writer merged the keys into the tree; report the tree as the object alone would give it.
            tree.metadata = {k: v for k, v in tree.metadata.items() if k not in inject}
        self._serialized = tree
        result = self._read(type(self._original), self._filename).deserialized
        if inject:
            metadata = result.metadata  # type: ignore[attr-defined]
            for key, value in inject.items():
                self._tc.assertIn(key, metadata)
                self._tc.assertEqual(metadata[key], value)
                del metadata[key]
        self.result = result
        return self

    def _keep_open(self, handle: Any) -> Any:
        """Remember a handle returned by `inspect`, so that it is closed when the context exits."""
        self._handles.append(handle)
        return handle

    def __exit__(self, *exc_info: Any) -> None:
        while self._handles:
            self._handles.pop().close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def get(self, component: str | None = None, storageClass: str | None = None, **kwargs: Any) -> Any:  # noqa: N803
        """Read the written file again with read options, e.g. ``get(bbox=box)``.

        Component and storage-class reads go through a butler, which is not
        available here, so they raise `unittest.SkipTest`.
        """
        if component is not None or storageClass is not None:
            raise unittest.SkipTest("component/storageClass reads need lsst.daf.butler")
        if self._tmpdir is None:
            raise RuntimeError(f"{type(self).__name__}.get() must be called inside the 'with' block")
        result = self._read(type(self._original), self._filename, **kwargs).deserialized
        metadata = getattr(result, "metadata", None)
        if isinstance(metadata, dict):
            for key in INJECTED_METADATA:
                metadata.pop(key, None)
        return result


class RoundtripJson(RoundtripBase[T]):
    """Round trip through `lsst.images.json.write` / `lsst.images.json.read`."""

    suffix = ".json"

    def _write(self, obj: Any, path: str, metadata: dict[str, MetadataValue] | None) -> ArchiveTree:
        from .. import json

        return json.write(obj, path, metadata=metadata)

    def _read(self, cls: type[T], path: str, **kwargs: Any) -> ReadResult[T]:
        from .. import json

        return json.read(cls, path, **kwargs)

    def inspect(self) -> dict[str, Any]:
        """Return the written JSON document parsed into Python objects (NaN tokens accepted)."""
        import json

        with open(self._filename, "rb") as stream:
            return json.load(stream)
