"""`write`: serialize an object into a new FITS archive, in either layout.

`FitsOutputArchive` knows how to lay out HDUs; this is where an object's own
preparation (per-layout content, per-HDU compression options), its opaque metadata from
the file it was read from, and the 4300 schema conversion of its tree come together.
"""

from __future__ import annotations

__all__ = ("write",)

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..serialization import ButlerInfo, MetadataValue, no_header_updates
from ..serialization._archive import serialize_top_level
from ._options import FitsCompressionOptions
from ._output import FitsOutputArchive

if TYPE_CHECKING:
    import astropy.io.fits


def write(
    obj: Any,
    path: str,
    compression_options: Mapping[str, FitsCompressionOptions | None] | None = None,
    update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    compression_seed: int | None = None,
    metadata: dict[str, MetadataValue] | None = None,
    butler_info: ButlerInfo | None = None,
    *,
    layout: str | None = None,
    threads: int | None = None,
    checksum: bool = True,
) -> Any:
    """Write ``obj`` to a new FITS archive at ``path`` and return the serialized tree.

    Parameters
    ----------
    obj
        Any object with ``serialize(archive)`` (Image, Mask, MaskedImage, VisitImage...).
    path
        Target file; written atomically (temporary file renamed into place).
    compression_options
        Per-path options (``{"image": FitsCompressionOptions.LOSSY, "mask": None}``);
        unlisted arrays use lossless GZIP_2 row tiles.
    update_header
        Callback adding cards to the primary header.
    compression_seed
        Seed for quantized planes without their own (incremented per plane, §8.1).
    metadata
        Extra metadata merged into the tree's ``metadata``.
    butler_info
        Butler provenance stored in the tree.
    layout
        ``"2100"`` (the layout of lsst-images 30.2026.2100) or ``"4300"`` (the
        schema-versioned DP2 layout; the object must provide what that layout requires).
        The default is the object's ``_fits_default_layout`` (``"4300"`` for the DP2
        products `CellCoadd` and `DifferenceImage`), else ``"2100"``.
    threads
        Tile-compression worker threads (None = engine default).
    checksum
        Write ``DATASUM``/``CHECKSUM`` cards on every HDU (default; readers verify them).
    """
    from ._layout import data_model_url, to_4300

    if layout is None:
        layout = getattr(obj, "_fits_default_layout", "2100")
    prepare = getattr(obj, "_prepare_fits_write", None)
    if prepare is not None:
        # Objects whose layouts differ in content, or whose plane options apply to several
        # HDUs (a coadd's noise realizations), give what to serialize and per-HDU options.
        obj, compression_options = prepare(compression_options, layout)
    opaque = getattr(obj, "_opaque_metadata", None)
    data_model = None
    if layout == "4300":
        data_model = data_model_url(obj)
    with FitsOutputArchive.open(
        path,
        compression_options=compression_options,
        opaque_metadata=opaque,
        update_header=update_header,
        compression_seed=compression_seed,
        layout=layout,
        data_model=data_model,
        threads=threads,
        checksum=checksum,
    ) as archive:
        tree = serialize_top_level(obj, archive, metadata=metadata, butler_info=butler_info)
        if layout == "4300":
            archive.add_tree(to_4300(tree, obj))
        else:
            archive.add_tree(tree)
    return tree
