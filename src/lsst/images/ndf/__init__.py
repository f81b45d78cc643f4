"""Starlink NDF files (HDS on HDF5): `write` and `read` lsst.images objects as NDFs.

Needs the optional ``h5py`` package (``pip install 'lsst-images-py[ndf]'``); importing
this module without it raises `ImportError` naming that extra, and ``import lsst.images``
never imports it.

Layout
------
The file follows Starlink's HDS v5 conventions (an HDS structure is an HDF5 group with a
``CLASS`` attribute, HDS dimensions are the HDF5 shape reversed) and the layout of
Rubin's lsst-images 30.2026.2100, so each library reads the other's files:

* an `Image`, `MaskedImage` or `VisitImage` is a root ``NDF`` with ``DATA_ARRAY``
  (``DATA`` + ``ORIGIN`` = bbox start, x first), ``VARIANCE``, ``UNITS``, a ``WCS``
  (AST FrameSet records; GRID base frame, PIXEL and ICRS sky frames), ``QUALITY`` (the
  mask byte when a pixel's mask fits in one byte, else 1 where any bit is set) and
  ``MORE``: ``FITS`` (FITS primary-header cards the object carries) and ``LSST`` with
  ``JSON`` (the object's full archive tree, arrays referenced as ``"ndf:/<path>"``), the
  native mask as the sub-NDF ``MASK`` (HDS axes x, y, mask element) and every other array
  as a sub-NDF at its upper-cased archive path (``BACKGROUNDS/FIELDS/FINE_SPLINE/DATA``);
* a `Mask` is the same without ``DATA_ARRAY``;
* a `ColorImage` is an ``EXT`` root holding the NDFs ``RED``, ``GREEN``, ``BLUE`` and the
  tree at ``LSST/JSON``;
* any other serializable object is just the tree and its hoisted arrays.

`read` rebuilds objects from the JSON tree (sub-image reads fetch only the requested
pixels); a file without one (written by Starlink software) is read as an `Image` or
`MaskedImage` from its standard components (`read_starlink`).

Differences from the 30.2026.2100 reference
-------------------------------------------
These fix reference bugs; files stay readable by the reference:

* The native mask's 3-d ``WCS`` links GRID → PIXEL with an *inverted* shift, so GRID
  (1, 1, 1) is PIXEL ``(x0, y0, 0)``; the reference applies the PIXEL → GRID shift in
  the wrong direction, putting the mask's sky coordinates ``2 (x0 - 1)`` pixels off.
* Every lsst.images pixel type is written: ``int8`` (HDS ``_BYTE``) and ``uint16``
  (``_UWORD``) as the HDS types the reference lacks, ``uint32``/``uint64`` as plain HDF5
  unsigned integers (no HDS type exists; Starlink tools cannot use them), and
  non-native byte order (e.g. arrays read from uncompressed FITS) converted to native.
  The reference raises `NotImplementedError` for all of these.
* Two arrays with the same archive path get ``_2``, ``_3``… sub-NDFs instead of
  overwriting each other, and components longer than HDS's 15 characters are shortened
  (`HdsNameShrinker`) instead of raising.
"""

from __future__ import annotations

try:
    import h5py  # noqa: F401
except ImportError as err:
    raise ImportError(
        "lsst.images.ndf needs the optional h5py package: pip install 'lsst-images-py[ndf]'."
    ) from err

from ._common import (
    HdsNameShrinker,
    NdfPointerModel,
    archive_path_to_hdf5_path,
    archive_path_to_hdf5_path_components,
)
from ._input import InvalidNdfArchiveError, NdfInputArchive
from ._io import read, write
from ._output import NdfOutputArchive
from ._starlink import read_starlink

__all__ = (
    "HdsNameShrinker",
    "InvalidNdfArchiveError",
    "NdfInputArchive",
    "NdfOutputArchive",
    "NdfPointerModel",
    "archive_path_to_hdf5_path",
    "archive_path_to_hdf5_path_components",
    "read",
    "read_starlink",
    "write",
)
