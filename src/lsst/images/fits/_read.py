"""`read`: open a FITS archive, validate its tree and rebuild the object it describes.

This is the path every ``read_fits`` takes.  The archive itself (`FitsInputArchive`) only
answers questions about the file; here the tree is parsed into the type's model, the
arrays the object will need are announced to remote readers ahead of time, and errors
are attributed either to the file (damaged or unsupported) or to the caller (a ``bbox``
outside the stored image).
"""

from __future__ import annotations

__all__ = ("deserialize_tree", "read")

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import pydantic

from ..serialization import ArrayReferenceModel, ReadResult
from ..serialization._archive import ArrayRequest
from ..serialization._guard import content_errors, mark_caller_error
from ._common import InvalidFitsArchiveError, PointerModel
from ._input import FitsInputArchive, stored_shape
from ._opaque import ExtensionKey

T = TypeVar("T")


def read(
    cls: type[T],
    path: Any,
    *,
    page_size: int = 144000,
    partial: bool | None = None,
    threads: int | None = None,
    verify: bool = True,
    **kwargs: Any,
) -> ReadResult[T]:
    """Read an object of type ``cls`` from a FITS archive.

    Parameters
    ----------
    cls
        Type to read (must provide ``_get_archive_tree_type``).
    path
        Local path, ``file://`` URL, or anything `lsst.resources.ResourcePath` opens.
    page_size, partial
        Accepted for compatibility; ranged reads always fetch only what is needed.
    threads
        Tile-decompression worker threads.
    verify
        Verify ``DATASUM``/``CHECKSUM`` where the file carries them (default); a
        mismatch raises `InvalidFitsArchiveError` naming the file and HDU.
    **kwargs
        Forwarded to the tree's ``deserialize`` (e.g. ``bbox=``).

    Returns
    -------
    ReadResult
        ``(deserialized, metadata, butler_info)``; the object also gets
        ``_opaque_metadata`` (a `FitsOpaqueMetadata`).
    """
    with (
        FitsInputArchive.open(
            path, page_size=page_size, partial=bool(partial), threads=threads, verify=verify
        ) as archive,
        content_errors(archive.name, InvalidFitsArchiveError),
    ):
        tree_type = cls._get_archive_tree_type(PointerModel)  # type: ignore[attr-defined]
        tree = archive.get_tree(tree_type)
        obj = deserialize_tree(archive, tree, **kwargs)
        return ReadResult(obj, dict(getattr(tree, "metadata", {}) or {}), getattr(tree, "butler_info", None))


def deserialize_tree(archive: FitsInputArchive, tree: Any, **kwargs: Any) -> Any:
    """Rebuild the object of a parsed tree: the body of `read`, shared with `serialization.open_archive`.

    Remote archives first fetch the arrays the read will load, concurrently; the object
    gets the file's opaque metadata (header cards to carry to the next write).
    """
    if archive._reads_ahead:
        archive.prefetch_arrays(_announced_arrays(tree, archive, kwargs))
    try:
        obj = tree.deserialize(archive, **kwargs)
    except IndexError as err:
        if _outside_stored_image(tree, kwargs.get("bbox"), archive):
            mark_caller_error(err)  # the documented IndexError for a bbox outside the image
        raise
    opaque = archive.get_opaque_metadata()
    with contextlib.suppress(AttributeError):
        obj._opaque_metadata = opaque
    if getattr(tree, "butler_info", None) is not None and hasattr(obj, "_butler_info"):
        obj._butler_info = tree.butler_info
    return obj


def _outside_stored_image(tree: Any, bbox: Any, archive: FitsInputArchive) -> bool:
    """Whether a requested ``bbox`` is not inside the image the file holds.

    That is the caller's mistake only if the tree's bounding box agrees with the stored
    pixels: a tree claiming another shape than its HDU is a damaged file.
    """
    if bbox is None:
        return False
    try:
        model = tree.image if hasattr(tree, "image") else tree
        stored = model.bbox
        data = getattr(model.data, "value", model.data)  # (a quantity wraps the reference)
        header = archive._header_values(ExtensionKey.from_str(data.source))
        if stored_shape(header) != tuple(int(n) for n in data.shape):
            return False
        return not (
            stored.y.start <= bbox.y.start
            and bbox.y.stop <= stored.y.stop
            and stored.x.start <= bbox.x.start
            and bbox.x.stop <= stored.x.stop
        )
    except Exception:
        return False


#: HDUs up to this size are loaded ahead whole: component data (fields, PSF stamps).
_SMALL_HDU = 1 << 20


def _announced_arrays(tree: Any, archive: FitsInputArchive, kwargs: Mapping[str, Any]) -> list[ArrayRequest]:
    """The arrays a tree's ``deserialize(**kwargs)`` is about to load, with their slices.

    The pixel planes come from the tree itself (``array_requests``, which knows how a
    ``bbox`` maps to slices); every other array in small HDUs is read whole.
    """
    requests: list[ArrayRequest] = []
    planned = getattr(tree, "array_requests", None)
    if planned is not None:
        with contextlib.suppress(Exception):
            requests.extend(planned(bbox=kwargs.get("bbox")))
    seen = {id(model) for model, _ in requests}
    for model in _array_references(tree):
        if id(model) in seen or len(model.shape) != 2:
            continue
        with contextlib.suppress(Exception):
            if archive._entry(ExtensionKey.from_str(model.source)).datsize <= _SMALL_HDU:
                requests.append((model, ...))
    return requests


def _array_references(node: Any, depth: int = 0) -> Iterator[ArrayReferenceModel]:
    """Every `ArrayReferenceModel` with a ``fits:`` source inside a tree (depth-limited)."""
    if depth > 32:
        return
    if isinstance(node, ArrayReferenceModel):
        if isinstance(node.source, str) and node.source.startswith("fits:"):
            yield node
        return
    if isinstance(node, pydantic.BaseModel):
        children: Iterable[Any] = vars(node).values()
    elif isinstance(node, Mapping):
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return
    for child in children:
        yield from _array_references(child, depth + 1)
