"""`write` and `read`: whole NDF files, and where each image type puts its planes."""

from __future__ import annotations

__all__ = ("read", "write")

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..serialization import ArchiveTree, ButlerInfo, MetadataValue, ReadResult
from ..serialization._archive import serialize_top_level
from ._common import DEFAULT_LSST_PATH, NdfPointerModel
from ._input import NdfInputArchive
from ._output import NdfOutputArchive
from ._starlink import from_starlink

if TYPE_CHECKING:
    from lsst.resources import ResourcePathExpression

T = TypeVar("T")

_MASK = f"{DEFAULT_LSST_PATH}/MASK/DATA_ARRAY"


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where an object's planes go in the NDF hierarchy (the archive constructor's layout keywords)."""

    root: str = "NDF"
    lsst_path: str = DEFAULT_LSST_PATH
    direct_ndf_array_paths: Mapping[str, str] = dataclasses.field(default_factory=dict)
    wcs_ndf_paths: tuple[str, ...] = ()

    def keywords(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _layout(obj: Any) -> _Layout:
    """The layout of the reference (30.2026.2100) for the image types; other objects only get a tree.

    * `Image`: ``DATA_ARRAY``;
    * `Mask`: the native mask sub-NDF ``MORE.LSST.MASK`` (and ``QUALITY``), no ``DATA_ARRAY``;
    * `MaskedImage` and `VisitImage`: ``DATA_ARRAY``, ``VARIANCE``, ``MORE.LSST.MASK``;
    * `ColorImage`: an ``EXT`` root with one NDF per channel (``RED``, ``GREEN``, ``BLUE``)
      and the tree at ``LSST.JSON``.
    """
    from .._color_image import ColorImage
    from .._image import Image
    from .._mask import Mask
    from .._masked_image import MaskedImage

    if isinstance(obj, ColorImage):
        channels = ("RED", "GREEN", "BLUE")
        return _Layout(
            root="EXT",
            lsst_path="/LSST",
            direct_ndf_array_paths={c.lower(): f"/{c}/DATA_ARRAY" for c in channels},
            wcs_ndf_paths=tuple(f"/{c}" for c in channels),
        )
    if isinstance(obj, MaskedImage):
        direct = {"image": "/DATA_ARRAY", "variance": "/VARIANCE", "mask": _MASK}
        return _Layout(direct_ndf_array_paths=direct, wcs_ndf_paths=("/",))
    if isinstance(obj, Image):
        return _Layout(direct_ndf_array_paths={"image": "/DATA_ARRAY"}, wcs_ndf_paths=("/",))
    if isinstance(obj, Mask):
        return _Layout(direct_ndf_array_paths={"mask": _MASK}, wcs_ndf_paths=("/",))
    return _Layout()


def write(
    obj: Any,
    filename: str | Path | None = None,
    *,
    metadata: dict[str, MetadataValue] | None = None,
    butler_info: ButlerInfo | None = None,
    compression_options: Mapping[str, Any] | None = None,
) -> ArchiveTree:
    """Write ``obj`` as an NDF (HDS-on-HDF5) file and return its serialized tree.

    Parameters
    ----------
    obj
        Any object with ``serialize(archive)``.  Image types are laid out as
        Starlink NDFs (see the package documentation); FITS primary-header cards it
        carries from a FITS read (``_opaque_metadata``) become ``MORE.FITS``.
    filename
        Target file, replaced atomically if it exists; `None` builds the file in
        memory only (the tree is still returned).
    metadata
        Extra entries merged into the tree's metadata.
    butler_info
        Butler information stored in the tree.
    compression_options
        h5py dataset keywords for the arrays, e.g. ``{"compression": "gzip"}``.
    """
    layout = _layout(obj)
    with NdfOutputArchive.open(
        filename,
        compression_options=compression_options,
        opaque_metadata=getattr(obj, "_opaque_metadata", None),
        **layout.keywords(),
    ) as archive:
        tree = serialize_top_level(obj, archive, metadata=metadata, butler_info=butler_info)
        archive.add_tree(
            tree,
            projection=getattr(obj, "projection", None),
            bbox=getattr(obj, "bbox", None),
            unit=getattr(obj, "unit", None),
            root_name=getattr(obj, "_archive_default_name", None) or type(obj).__name__,
        )
    return tree


def read(cls: type[T], path: ResourcePathExpression | os.PathLike[str], **kwargs: Any) -> ReadResult[T]:
    """Read an object of type ``cls`` from an NDF file.

    Files with an lsst.images JSON tree (written by `write` or the reference library)
    are rebuilt from it; plain Starlink NDFs are read as an `Image` or `MaskedImage`
    from their standard components (see `read_starlink`).

    Parameters
    ----------
    cls
        Type to read.
    path
        Local path, URI or binary stream.
    **kwargs
        Read options for the type's ``deserialize`` (e.g. ``bbox=``); a sub-image
        read fetches only those pixels from the file.

    Raises
    ------
    ArchiveReadError
        If the file is not HDF5, its tree does not describe a ``cls``, an array it
        references is missing, or a plain NDF cannot be read as ``cls``.
    """
    with NdfInputArchive.open(path) as archive:
        if not archive.has_tree:
            if kwargs:
                raise archive._error(f"read options {sorted(kwargs)} need an lsst.images tree")
            return ReadResult(from_starlink(cls, archive), {}, None)
        tree = archive.get_tree(cls._get_archive_tree_type(NdfPointerModel))  # type: ignore[attr-defined]
        obj = tree.deserialize(archive, **kwargs)
        opaque = archive.get_opaque_metadata()
        if opaque is not None:
            try:
                obj._opaque_metadata = opaque
            except AttributeError:
                pass
        return ReadResult(obj, dict(tree.metadata or {}), tree.butler_info)
