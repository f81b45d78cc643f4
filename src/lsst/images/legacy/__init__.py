"""Reading files written by Rubin's C++ ``lsst.afw`` library, without ``lsst.afw``.

`read_visit_image` reads an afw ``Exposure`` FITS file (``calexp``,
``visit_image``) as a `~lsst.images.VisitImage` or one of its components;
`read_masked_image`, `read_image` and `read_mask` read the plain afw image
types.  Every component is decoded from the file itself: AST text via
starlink-pyast, YAML with ``yaml.safe_load``, ObservationInfo via
astro-metadata-translator and Piff PSFs through an allow-list unpickler (with
the optional ``piff`` extra).

`visit_image_from_legacy` / `visit_image_to_legacy` convert in-memory afw
objects (duck-typed; afw is only imported when building afw objects).
"""

from ._convert import visit_image_from_legacy, visit_image_to_legacy
from ._errors import LegacyFormatError, UnsupportedLegacyObjectError
from ._reader import read_image, read_mask, read_masked_image
from ._visit_reader import read_visit_image

__all__ = (
    "LegacyFormatError",
    "UnsupportedLegacyObjectError",
    "read_image",
    "read_mask",
    "read_masked_image",
    "read_visit_image",
    "visit_image_from_legacy",
    "visit_image_to_legacy",
)
