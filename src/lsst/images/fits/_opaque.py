"""Header cards and compressed pixels that an object carries from one FITS file to the next.

When a FITS archive is read, every header card that the reader did not itself
understand (everything except structural, tile-compression, locator, WCS, unit and
mask-plane cards) is kept, per HDU, in a `FitsOpaqueMetadata` attached to the object
(``obj._opaque_metadata``).  Writing the object again re-emits those cards, so
provenance such as ``PLATFORM`` or ``HIERARCH LSST ISR UNITS`` survives round trips.
"""

from __future__ import annotations

__all__ = ("ExtensionKey", "FitsOpaqueMetadata", "PrecompressedImage", "EXTNAME_REGEX", "FITS_SOURCE_REGEX")

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.units

    from .._geom import Box

#: Pattern matching ``fits:EXTNAME[,EXTVER][[column]]`` array-reference sources.
FITS_SOURCE_REGEX = re.compile(r"fits:(?P<extname>[\w/\-]+)(,(?P<extver>\d+))?(\[\d+\])?")

#: Characters allowed in an EXTNAME written by the archive (FORMAT.md §3.1).
EXTNAME_REGEX = re.compile(r"[A-Za-z0-9_/\-]+")


def _archive_read_error(message: str) -> Exception:
    try:
        from ..serialization import ArchiveReadError
    except ImportError:  # pragma: no cover - serialization not yet available
        return RuntimeError(message)
    return ArchiveReadError(message)


@dataclasses.dataclass(frozen=True)
class ExtensionKey:
    """Identifier of one HDU: its EXTNAME and EXTVER (``ExtensionKey()`` is the primary)."""

    name: str = ""
    """EXTNAME ('' for the primary HDU)."""

    ver: int = 1
    """EXTVER (default 1)."""

    def check(self) -> None:
        """Raise `ValueError` unless the name only uses the characters FITS archives allow."""
        if self.name and not EXTNAME_REGEX.fullmatch(self.name):
            raise ValueError(
                f"EXTNAME {self.name!r} has characters other than letters, digits, '_', '-' and '/'"
            )
        if self.ver < 1:
            raise ValueError(f"EXTVER must be >= 1, not {self.ver}")

    @classmethod
    def from_index_row(cls, row: Any) -> ExtensionKey:
        """Build from a row of the archive's INDEX table (fields EXTNAME, EXTVER)."""
        name = row["EXTNAME"]
        if isinstance(name, bytes):
            name = name.decode("ascii")
        return cls(str(name).strip(), int(row["EXTVER"]))

    @classmethod
    def from_str(cls, source: str) -> ExtensionKey:
        """Parse a ``fits:NAME[,VER]`` source string (`ArchiveReadError` if malformed)."""
        match = FITS_SOURCE_REGEX.fullmatch(source) if isinstance(source, str) else None
        if match is None:
            raise _archive_read_error(f"Malformed FITS array source {source!r}; expected 'fits:NAME[,VER]'.")
        ver = match.group("extver")
        return cls(match.group("extname").upper(), int(ver) if ver else 1)

    def __str__(self) -> str:
        return f"fits:{self.name}" if self.ver == 1 else f"fits:{self.name},{self.ver}"


@dataclasses.dataclass(eq=False)
class PrecompressedImage:
    """Header and raw tile table of a compressed image HDU kept for a bit-exact rewrite.

    Legacy readers that preserve quantization keep the compressed bytes of a lossy
    plane so that writing it again does not quantize the pixels a second time.
    """

    header: astropy.io.fits.Header
    """Original (raw, BINTABLE) HDU header."""

    data: Any
    """Raw compressed table data (an astropy ``FITS_rec`` including its heap)."""

    @classmethod
    def from_bintable(cls, hdu: astropy.io.fits.BinTableHDU) -> Self:
        """Capture from a compressed-image BINTABLE HDU (opened with compression disabled)."""
        return cls(hdu.header.copy(), hdu.data)

    def to_bintable(self, name: str) -> astropy.io.fits.BinTableHDU:
        """Rebuild an astropy BINTABLE HDU named ``name`` from the stored pieces."""
        from astropy.io import fits

        header = self.header.copy()
        header["EXTNAME"] = name
        return fits.BinTableHDU(data=self.data, header=header)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrecompressedImage):
            return NotImplemented
        return self.header.tostring() == other.header.tostring() and bytes(self.data) == bytes(other.data)

    __hash__ = None  # type: ignore[assignment]


#: Primary-header keywords that describe butler provenance and become wrong in a derived file.
_BUTLER_PREFIXES = ("LSST BUTLER",)

#: afw bookkeeping keywords dropped from legacy primary headers (archive ids, HDU typing, ...).
_LEGACY_EXPOSURE_PREFIXES = ("AR_HDU", "PSF_ID", "WCS_ID", "TRANSMISSIONCURVE_ID", "DETECTOR_ID")
_LEGACY_EXPOSURE_KEYS = frozenset(
    {
        "EXTTYPE",
        "EXTNAME",
        "EXTVER",
        "INHERIT",
        "AR_ID",
        "COADDINPUTS_ID",
        "VALIDPOLYGON_ID",
        "AP_CORR_MAP_ID",
        "PHOTOCALIB_ID",
        "FILTER_ID",
        "SKYWCS_ID",
        "SUMMARYSTATS_ID",
        "FILTERLABEL_ID",
        "VISITINFO_ID",
        "LTV1",
        "LTV2",
        "LTM1_1",
        "LTM2_2",
        "LTM1_2",
        "LTM2_1",
        "CHECKSUM",
        "DATASUM",
        "ZCHECKSUM",
        "ZDATASUM",
    }
)


def strip_butler_cards(header: astropy.io.fits.Header) -> None:
    """Remove butler provenance cards (``LSST BUTLER ...``) that would be wrong in a derived file."""
    for key in [k for k in header.keys() if k.upper().startswith(_BUTLER_PREFIXES)]:
        del header[key]


def strip_legacy_exposure_cards(header: astropy.io.fits.Header) -> None:
    """Remove the bookkeeping cards afw adds when writing an Exposure (archive ids, etc.)."""
    for key in list(header.keys()):
        upper = key.upper()
        if upper in _LEGACY_EXPOSURE_KEYS or upper.startswith(_LEGACY_EXPOSURE_PREFIXES):
            header.remove(key, ignore_missing=True, remove_all=True)


class _Deferred:
    """A header to be built from the file's bytes the first time it is asked for."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], astropy.io.fits.Header]) -> None:
        self.build = build


class HeaderMap(MutableMapping[ExtensionKey, "astropy.io.fits.Header"]):
    """``ExtensionKey -> Header`` mapping whose entries may be built on first access.

    A reader records every HDU's leftover cards, but most objects read are never written
    back; parsing those cards with astropy for each HDU was a sizeable part of a small
    cut-out read, so the reader stores how to build them (`defer`) instead.
    """

    def __init__(self, items: Mapping[ExtensionKey, Any] | Iterable[tuple[ExtensionKey, Any]] = ()) -> None:
        self._items: dict[ExtensionKey, Any] = {}
        if isinstance(items, HeaderMap):
            self._items.update(items._items)
        else:
            self._items.update(items)

    def defer(self, key: ExtensionKey, build: Callable[[], astropy.io.fits.Header]) -> None:
        """Record how to build the header of ``key`` (unless it already has one)."""
        self._items.setdefault(key, _Deferred(build))

    def add_missing(self, other: HeaderMap) -> None:
        """Take the entries of ``other`` for keys not yet here, without building them."""
        for key, value in other._items.items():
            self._items.setdefault(key, value)

    def __getitem__(self, key: ExtensionKey) -> astropy.io.fits.Header:
        value = self._items[key]
        if isinstance(value, _Deferred):
            value = self._items[key] = value.build()
        return value

    def __setitem__(self, key: ExtensionKey, value: astropy.io.fits.Header) -> None:
        self._items[key] = value

    def __delitem__(self, key: ExtensionKey) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[ExtensionKey]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __repr__(self) -> str:
        return f"HeaderMap({list(self._items)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Deferred entries are closures over the reader's bytes: pickle the built headers.
        return (HeaderMap, (dict(self.items()),))


@dataclasses.dataclass(eq=True)
class FitsOpaqueMetadata:
    """Per-HDU header cards (and optionally compressed pixels) to re-emit on the next write."""

    headers: MutableMapping[ExtensionKey, astropy.io.fits.Header] = dataclasses.field(
        default_factory=HeaderMap
    )
    """Header cards keyed by the HDU they belong to (``ExtensionKey()`` = primary)."""

    precompressed: dict[str, PrecompressedImage] = dataclasses.field(default_factory=dict)
    """EXTNAME → compressed HDU to write verbatim instead of re-compressing."""

    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if not isinstance(self.headers, HeaderMap):
            self.headers = HeaderMap(self.headers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FitsOpaqueMetadata):
            return NotImplemented
        if self.headers.keys() != other.headers.keys():
            return False
        for key, header in self.headers.items():
            if header.tostring() != other.headers[key].tostring():
                return False
        return self.precompressed == other.precompressed

    def add_header(
        self,
        header: astropy.io.fits.Header,
        name: str | None = None,
        ver: int | None = None,
        key: ExtensionKey | None = None,
    ) -> None:
        """Record the leftover cards of one HDU unless that HDU already has an entry.

        EXTNAME and EXTVER are dropped: the writer derives them from the archive path.
        """
        if key is None:
            key = ExtensionKey(name or "", ver or 1)
        if key in self.headers:
            return
        header = header.copy()
        from ._headers import remove_cards

        remove_cards(header, ("EXTNAME", "EXTVER").__contains__)
        self.headers[key] = header

    def copy(self) -> FitsOpaqueMetadata:
        """Return what a copied object should carry: headers (copied), no precompressed pixels."""
        headers = HeaderMap()
        for key in self.headers:
            headers.defer(key, lambda key=key: self.headers[key].copy())
        return FitsOpaqueMetadata(headers)

    def subset(self, bbox: Box) -> FitsOpaqueMetadata:
        """Return what a sub-image should carry: the headers, but not the full-size compressed pixels."""
        return FitsOpaqueMetadata(HeaderMap(self.headers))

    def extract_legacy_primary_header(self, header: astropy.io.fits.Header) -> None:
        """Keep an afw primary header as this object's primary cards, minus bookkeeping.

        WCS cards, afw archive bookkeeping, butler provenance and structural cards are
        removed; everything else (observatory and ISR cards, ...) is kept verbatim.
        """
        from ._headers import strip_structural_cards, strip_wcs_cards

        header = header.copy()
        strip_structural_cards(header)
        strip_wcs_cards(header)
        strip_legacy_exposure_cards(header)
        strip_butler_cards(header)
        self.headers[ExtensionKey()] = header

    def get_instrumental_unit(self) -> astropy.units.UnitBase | None:
        """Return the unit named by the primary ``LSST ISR UNITS`` card, or None."""
        header = self.headers.get(ExtensionKey())
        if header is None:
            return None
        for key in ("HIERARCH LSST ISR UNITS", "LSST ISR UNITS"):
            if key in header:
                import astropy.units as u

                return u.Unit(header[key], parse_strict="silent")
        return None

    def maybe_use_precompressed(self, name: str) -> astropy.io.fits.BinTableHDU | None:
        """Return the stored compressed HDU for ``name`` (to write verbatim), or None."""
        pre = self.precompressed.get(name.upper())
        if pre is None:
            pre = self.precompressed.get(name)
        return None if pre is None else pre.to_bintable(name.upper())
