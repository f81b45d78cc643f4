"""What a butler write adds to a file: recipes, provenance, the compression seed, the layout.

Write recipes come from daf_butler's ``datastore.writeRecipes`` configuration,
keyed by this formatter's dotted name; the shipped ``lossy16`` maps plane names to
FITS compression options.  The dataset reference and provenance are stored twice:
as the tree's ``butler_info`` (read back as ``SerializedDatasetRef`` /
``DatasetProvenance``) and, for FITS, as ``HIERARCH LSST BUTLER ...`` primary-header
cards that other FITS tools can see.  Lossy compression is dithered with a seed
derived from the data ID, so rewriting the same dataset gives the same bytes.
"""

from __future__ import annotations

__all__ = (
    "compression_seed",
    "fits_layout",
    "make_butler_info",
    "provenance_header_updater",
    "select_recipe",
    "validate_recipes",
)

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..fits._options import FitsCompressionOptions
from ..serialization import ButlerInfo

if TYPE_CHECKING:
    import astropy.io.fits
    from lsst.daf.butler import DatasetProvenance, DatasetRef

#: Prefix of the provenance cards (``LSST BUTLER ID``, ``LSST BUTLER INPUT 0 RUN``, ...).
CARD_PREFIX = "LSST BUTLER"


def validate_recipes(
    recipes: Mapping[str, Any] | None,
) -> dict[str, dict[str, FitsCompressionOptions | None]]:
    """Validate write recipes: recipe name -> plane name -> compression options (or None).

    Raises
    ------
    ValueError
        Naming the recipe and plane whose options are not valid.
    """
    validated: dict[str, dict[str, FitsCompressionOptions | None]] = {}
    for name, planes in (recipes or {}).items():
        if not isinstance(planes, Mapping):
            raise ValueError(f"Write recipe {name!r} must map plane names to compression options.")
        validated[name] = {}
        for plane, options in planes.items():
            if options is None or isinstance(options, FitsCompressionOptions):
                validated[name][plane] = options
                continue
            try:
                validated[name][plane] = FitsCompressionOptions.model_validate(dict(options))
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"Write recipe {name!r}, plane {plane!r}: invalid compression options: {err}"
                ) from err
    return validated


def select_recipe(
    recipes: Mapping[str, dict[str, FitsCompressionOptions | None]], name: str | None
) -> dict[str, FitsCompressionOptions | None] | None:
    """The recipe named by the ``recipe`` write parameter, else the ``default`` one, else None.

    Raises
    ------
    ValueError
        If ``name`` is not a known recipe.
    """
    if name is None:
        return recipes.get("default")
    if name not in recipes:
        raise ValueError(f"Unknown write recipe {name!r}; known recipes: {sorted(recipes)}.")
    return recipes[name]


def compression_seed(ref: DatasetRef) -> int:
    """Dither seed in 1..9999 from the data ID's required values (the same as Rubin's formatter)."""
    values = list(ref.dataId.required.values())
    digest = hashlib.md5(json.dumps(values).encode(), usedforsecurity=False).hexdigest()
    return int(digest, 16) % 9999 + 1


def make_butler_info(ref: DatasetRef, provenance: DatasetProvenance | None) -> ButlerInfo:
    """The tree's record of the dataset and its provenance (as JSON values)."""
    from lsst.daf.butler import DatasetProvenance

    prov = provenance if provenance is not None else DatasetProvenance()
    return ButlerInfo(
        dataset=ref.to_simple().model_dump(mode="json"), provenance=prov.model_dump(mode="json")
    )


def provenance_header_updater(
    ref: DatasetRef, provenance: DatasetProvenance | None
) -> Callable[[astropy.io.fits.Header], None]:
    """A primary-header hook: drop stale ``LSST BUTLER`` cards, add this write's provenance.

    Without provenance (a plain ``butler.put``) no cards are added, as in Rubin's formatter.
    """
    cards = (
        {}
        if provenance is None
        else provenance.to_flat_dict(ref, prefix=CARD_PREFIX, sep=" ", simple_types=True)
    )

    def update(header: astropy.io.fits.Header) -> None:
        from astropy.io.fits.verify import VerifyWarning

        for key in [k for k in header if str(k).upper().startswith(CARD_PREFIX)]:
            del header[key]
        with warnings.catch_warnings():
            # Long provenance values make astropy truncate (empty) comments: harmless.
            warnings.simplefilter("ignore", VerifyWarning)
            for key, value in cards.items():
                header[f"HIERARCH {key}"] = value

    return update


def fits_layout(obj: Any) -> str:
    """The FITS layout to write: Rubin 4300's (what the 4300 butler's readers expect) where it exists."""
    from .. import DifferenceImage, Image, Mask, MaskedImage, VisitImage
    from ..cells import CellCoadd

    if type(obj) in (Image, Mask, MaskedImage, CellCoadd):
        return "4300"
    if type(obj) is DifferenceImage:
        return "4300"
    if type(obj) is VisitImage and obj.band is not None:
        return "4300"
    return "2100"
