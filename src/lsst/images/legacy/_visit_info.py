"""Observation metadata of afw Exposures: VisitInfo header cards, FilterLabel, ObservationInfo.

afw writes its ``VisitInfo`` as primary-header cards; `astro_metadata_translator`
already knows how to read those (``VisitInfoTranslator``) as well as the raw
headers of several instruments, so this module only decides which translator
to use and then adds what the Exposure's other components know (detector and
filter), exactly as LEGACY.md §6.6 describes.
"""

from __future__ import annotations

__all__ = (
    "LegacyFilterLabel",
    "decode_filter_label",
    "filter_label_from_header",
    "observation_info_from_header",
)

import dataclasses
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import astropy.io.fits

    from ._archive import Catalog, LegacyArchive


@dataclasses.dataclass(frozen=True)
class LegacyFilterLabel:
    """An afw ``FilterLabel``: an optional abstract band and an optional physical filter."""

    band: str | None = None
    physical: str | None = None


def decode_filter_label(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyFilterLabel:
    """Archive factory for ``FilterLabel``."""
    catalog = catalogs[0]
    band = catalog.string("band") if catalog.flag("band_exists", default=True) else None
    physical = catalog.string("physical") if catalog.flag("physical_exists", default=True) else None
    return LegacyFilterLabel(band=band or None, physical=physical or None)


_BAND_NAMES = {"u", "g", "r", "i", "z", "y", "SH", "PH", "VR", "white"}
_BAND_PATTERN = re.compile(r"^(N\d+|I\d{2,})$")
_SPECIAL_FILTERS = {
    "r2": LegacyFilterLabel(band="r", physical="HSC-R2"),
    "i2": LegacyFilterLabel(band="i", physical="HSC-I2"),
    "SOLID": LegacyFilterLabel(physical="solid plate 0.0 0.0"),
}


def filter_label_from_header(header: astropy.io.fits.Header) -> LegacyFilterLabel | None:
    """Interpret the ``FILTER`` card of ExposureInfo version 0/1 files the way afw did.

    ``_unknown_`` (or a missing card) means no filter; a few names are
    aliases; names that look like bands become bands, anything else is a
    physical filter only.
    """
    value = header.get("FILTER")
    if not isinstance(value, str):
        return None
    name = value.rstrip()
    if not name or name == "_unknown_":
        return None
    if name in _SPECIAL_FILTERS:
        return _SPECIAL_FILTERS[name]
    if name in _BAND_NAMES or _BAND_PATTERN.match(name):
        return LegacyFilterLabel(band=name)
    return LegacyFilterLabel(physical=name)


def observation_info_from_header(
    header: astropy.io.fits.Header,
    *,
    filename: str | None = None,
    detector: Any = None,
    filter_label: LegacyFilterLabel | None = None,
) -> Any:
    """Translate an afw primary header into an `ObservationInfo`.

    A translator registered with astro-metadata-translator is tried first; if
    none recognises the header, the ``VisitInfo`` translator reads afw's own
    VisitInfo cards.  The detector number, serial and unique name then come
    from the Exposure's Detector, and the physical filter from its FilterLabel
    when that label has a band.

    Raises
    ------
    RuntimeError
        If a value derived from the Detector or FilterLabel disagrees with one
        the translator already produced.
    """
    import warnings

    from astro_metadata_translator import MetadataTranslator, ObservationInfo

    header = header.copy()
    for key in [k for k in header.keys() if k.startswith("LSST BUTLER")]:
        del header[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            info = ObservationInfo(header, filename=filename, pedantic=False, quiet=True)
        except ValueError:
            info = ObservationInfo(
                header,
                filename=filename,
                translator_class=MetadataTranslator.translators["VisitInfo"],
                pedantic=False,
                quiet=True,
            )
    updates: dict[str, Any] = {}
    if detector is not None:
        updates["detector_num"] = int(detector.id)
        updates["detector_serial"] = str(detector.serial)
        updates["detector_unique_name"] = str(detector.name)
    if filter_label is not None and filter_label.band is not None and filter_label.physical is not None:
        updates["physical_filter"] = filter_label.physical
    for key, value in list(updates.items()):
        existing = getattr(info, key)
        if existing is None:
            continue
        if existing != value:
            raise RuntimeError(
                f"ObservationInfo.{key} from the header is {existing!r}, but the Exposure's components say "
                f"{value!r}{f' in {filename!r}' if filename else ''}."
            )
        del updates[key]
    if updates:
        info = info.model_copy(update=updates)
    return info
