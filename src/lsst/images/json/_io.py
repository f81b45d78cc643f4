"""`read` and `write`: whole JSON archive files."""

from __future__ import annotations

__all__ = ("read", "write")

from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from ..serialization import (
    ArchiveReadError,
    ArchiveTree,
    ButlerInfo,
    JsonRef,
    MetadataValue,
    ReadResult,
    dump_tree_json,
)
from ..serialization._pointers import pointer_context
from ._input import JsonInputArchive
from ._output import JsonOutputArchive

if TYPE_CHECKING:
    from lsst.resources import ResourcePathExpression

T = TypeVar("T")


def write(
    obj: Any,
    path: ResourcePathExpression | None = None,
    metadata: dict[str, MetadataValue] | None = None,
    butler_info: ButlerInfo | None = None,
) -> ArchiveTree:
    """Serialize ``obj`` into a pure-JSON tree and optionally write it to ``path``.

    Parameters
    ----------
    obj
        Any object implementing the archive protocol (``serialize(archive)``).
    path
        Local path or URI (anything `lsst.resources.ResourcePath` accepts).
        Local files are written atomically (`lsst.images._atomic.atomic_output`):
        a temporary file in the same folder, fsync'ed and renamed into place, so a
        failure or a killed process never leaves a partial file.
    metadata
        Extra entries merged into the tree's ``metadata`` (the object's own
        metadata dict is not modified).
    butler_info
        Butler information to store in the tree.

    Returns
    -------
    ArchiveTree
        The tree, with out-of-line subtrees in its ``indirect`` list.
    """
    archive = JsonOutputArchive()
    tree = archive.finish(obj.serialize(archive))
    if metadata:
        tree.metadata = {**tree.metadata, **metadata}
    if butler_info is not None:
        tree.butler_info = butler_info
    if path is not None:
        _write_bytes(path, dump_tree_json(tree))
    return tree


def read(cls: type[T], target: ResourcePathExpression | ArchiveTree, **kwargs: Any) -> ReadResult[T]:
    """Read an object of type ``cls`` from a JSON archive file or an already-parsed tree.

    Parameters
    ----------
    cls
        Type to read; its ``_get_archive_tree_type(JsonRef)`` gives the model
        to parse.
    target
        Path/URI of a file written by `write`, or a tree it returned.
    **kwargs
        Read options forwarded to the tree's ``deserialize``.

    Raises
    ------
    ArchiveReadError
        If the file is empty, is not valid JSON, or does not match the model.
    """
    if isinstance(target, ArchiveTree):
        tree = target
    else:
        tree_type = cls._get_archive_tree_type(JsonRef)  # type: ignore[attr-defined]
        name, data = _read_bytes(target)
        if not data.strip():
            raise ArchiveReadError(f"JSON archive {name} is empty.")
        try:
            tree = tree_type.model_validate_json(data, context=pointer_context(JsonRef))
        except pydantic.ValidationError as err:
            raise ArchiveReadError(
                f"JSON archive {name} is not a valid {tree_type.__name__} tree: {err}"
            ) from err
    archive = JsonInputArchive(tree.indirect)
    obj = tree.deserialize(archive, **kwargs)
    return ReadResult(obj, tree.metadata, tree.butler_info)


def _read_bytes(target: ResourcePathExpression) -> tuple[str, bytes]:
    from lsst.resources import ResourcePath

    uri = ResourcePath(target, forceDirectory=False)
    try:
        return str(uri), uri.read()
    except FileNotFoundError:
        raise
    except OSError as err:
        raise ArchiveReadError(f"Cannot read JSON archive {uri}: {err}") from err


def _write_bytes(path: ResourcePathExpression, data: bytes) -> None:
    from lsst.resources import ResourcePath

    uri = ResourcePath(path, forceDirectory=False)
    if not uri.isLocal:
        uri.write(data, overwrite=True)
        return
    from .._atomic import atomic_output

    with atomic_output(uri.ospath) as stream:
        stream.write(data)
