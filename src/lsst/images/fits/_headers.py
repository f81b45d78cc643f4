"""FITS header helpers of the archive: locator cards, the offset WCS and card stripping.

Everything here works on `astropy.io.fits.Header` objects (imported lazily, because
importing astropy.io.fits costs more than the rest of the package) or on raw header
bytes.  The archive formats its headers with astropy so that card layout (value column,
comment placement, long strings) is exactly what astropy-based readers expect.
"""

from __future__ import annotations

__all__ = (
    "BLOCK",
    "LOCATOR_CARDS",
    "add_offset_wcs",
    "append_cards",
    "header_from_bytes",
    "header_to_bytes",
    "header_values",
    "header_without_structural_cards",
    "insert_extname",
    "padded",
    "remove_cards",
    "strip_offset_wcs",
    "strip_structural_cards",
    "strip_wcs_cards",
)

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import astropy.io.fits

    from ._opaque import ExtensionKey

#: FITS block size; headers and data parts are padded to multiples of it.
BLOCK = 2880

#: Locator cards of the primary header, with their comments (FORMAT.md §2).
LOCATOR_CARDS = (
    ("INDXADDR", "Offset in bytes to the HDU index."),
    ("INDXSIZE", "Size of the HDU index."),
    ("JSONADDR", "Offset in bytes to the JSON tree HDU."),
    ("JSONSIZE", "Size of the JSON tree HDU."),
)

#: Cards the 4300 layout adds and regenerates at every write.
LAYOUT_4300_CARDS = ("FMTVER", "DATE", "DATAMODL")

_STRUCTURAL = re.compile(
    r"^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|TFIELDS|T(TYPE|FORM|DIM|UNIT|NULL|SCAL|ZERO|DISP)\d+"
    r"|THEAP|BZERO|BSCALE|BLANK|EXTNAME|EXTVER|EXTLEVEL|INHERIT|CHECKSUM|DATASUM"
    r"|Z[A-Z0-9_]*|INDXADDR|INDXSIZE|JSONADDR|JSONSIZE)$"
)

_WCS_KEY = re.compile(
    r"^(WCSAXES|WCSNAME|CRPIX\d|CRVAL\d|CDELT\d|CUNIT\d|CTYPE\d|CROTA\d|CD\d_\d|PC\d_\d|PV\d_\d+|PS\d_\d+"
    r"|LONPOLE|LATPOLE|RADESYS|RADECSYS|EQUINOX|EPOCH|MJDREF|MJD-OBS|DATEREF|RESTFRQ|RESTWAV|SPECSYS|SSYSOBS"
    r"|VELOSYS|OBSGEO-[XYZ]|CNAME\d|CRDER\d|CSYER\d|MJDREFI|MJDREFF"
    r"|A_ORDER|B_ORDER|AP_ORDER|BP_ORDER|A_\d+_\d+|B_\d+_\d+|AP_\d+_\d+|BP_\d+_\d+|A_DMAX|B_DMAX"
    r"|LTV\d|LTM\d_\d)([A-Z]?)$"
)


def padded(n: int) -> int:
    """Return ``n`` rounded up to a whole number of 2880-byte FITS blocks."""
    return -(-n // BLOCK) * BLOCK


def header_to_bytes(header: astropy.io.fits.Header) -> bytes:
    """Serialize a header (with END) padded to whole blocks.

    Long EXTNAMEs push the standard comment past column 80; astropy truncates it with a
    warning, exactly as in the reference files, so the warning is not useful here.
    """
    import warnings

    from astropy.io.fits.verify import VerifyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        return header.tostring(padding=True).encode("ascii")


def header_from_bytes(data: bytes) -> astropy.io.fits.Header:
    """Parse raw header bytes (up to and including the END card)."""
    from astropy.io import fits

    return fits.Header.fromstring(data.decode("ascii", errors="replace"))


def find_header_end(data: bytes, start: int = 0) -> int | None:
    """Return the byte length of the header in ``data`` (through its END block), or None.

    ``start`` (a multiple of 80) lets callers skip cards they already scanned.
    """
    for offset in range(start, len(data) - 79, 80):
        if data[offset : offset + 8] == b"END     ":
            return padded(offset + 80)
    return None


def add_offset_wcs(header: astropy.io.fits.Header, *, x: int | float, y: int | float, key: str = "A") -> None:
    """Add the linear alternate WCS that maps FITS array pixels to logical pixels.

    FITS pixel 1 is logical pixel ``x`` (resp. ``y``), so tools such as ds9 can show
    the image's own coordinates (FORMAT.md §3.2, item 4).
    """
    header[f"CTYPE1{key}"] = "LINEAR"
    header[f"CTYPE2{key}"] = "LINEAR"
    header[f"CRPIX1{key}"] = 1.0
    header[f"CRPIX2{key}"] = 1.0
    header[f"CRVAL1{key}"] = float(x)
    header[f"CRVAL2{key}"] = float(y)
    header[f"CUNIT1{key}"] = "PIXEL"
    header[f"CUNIT2{key}"] = "PIXEL"


def read_offset_wcs(header: astropy.io.fits.Header, key: str = "A") -> tuple[int, int] | None:
    """Return the logical ``(y0, x0)`` of the first pixel from an offset WCS, or None."""
    # Some old afw files only carry CTYPE1A; accept a missing CTYPE2A.
    if header.get(f"CTYPE1{key}") != "LINEAR" or header.get(f"CTYPE2{key}", "LINEAR") != "LINEAR":
        return None
    try:
        x0 = float(header[f"CRVAL1{key}"]) - (float(header.get(f"CRPIX1{key}", 1.0)) - 1.0)
        y0 = float(header[f"CRVAL2{key}"]) - (float(header.get(f"CRPIX2{key}", 1.0)) - 1.0)
    except (KeyError, ValueError, TypeError):
        return None
    return round(y0), round(x0)


def remove_cards(header: astropy.io.fits.Header, drop: Callable[[str], Any]) -> None:
    """Remove every card whose keyword satisfies ``drop``, keeping the others in order.

    The header is rebuilt in one pass: astropy deletes cards one at a time in time
    linear in the header's length, which made stripping the interpreted cards (WCS,
    units, mask planes) a noticeable part of reading a small cut-out.
    """
    cards = list(header.cards)
    kept = [card for card in cards if not drop(card.keyword)]
    if len(kept) == len(cards):
        return
    header.clear()
    for card in kept:
        header.append(card, end=True)


def strip_offset_wcs(header: astropy.io.fits.Header, key: str = "A") -> None:
    """Remove the cards written by `add_offset_wcs`."""
    names = {f"{base}{axis}{key}" for axis in "12" for base in ("CTYPE", "CRPIX", "CRVAL", "CUNIT")}
    remove_cards(header, names.__contains__)


def strip_wcs_cards(header: astropy.io.fits.Header) -> None:
    """Remove FITS WCS cards (every alternate key, SIP terms, IRAF LTV/LTM) from a header."""
    remove_cards(header, _WCS_KEY.match)


def strip_structural_cards(header: astropy.io.fits.Header) -> None:
    """Remove cards that describe the HDU's storage rather than the object.

    Those are regenerated by every write: FITS structural keywords, tile-compression
    ``Z*`` keywords, scaling, naming, checksums and the archive's locator cards.
    """
    remove_cards(header, _STRUCTURAL.match)


def _cards(data: bytes) -> Iterator[bytes]:
    """The 80-byte cards of raw header bytes, up to (not including) END."""
    for offset in range(0, len(data) - 79, 80):
        card = data[offset : offset + 80]
        if card[:8] == b"END     ":
            return
        yield card


def header_without_structural_cards(data: bytes) -> astropy.io.fits.Header:
    """Parse raw header bytes, leaving out the cards `strip_structural_cards` removes.

    Same result as parsing then stripping, but the structural cards (most of a
    compressed image's header) are dropped before astropy parses anything.  A
    ``CONTINUE`` card follows the fate of the card it continues.
    """
    from astropy.io import fits

    kept = []
    keep = True
    for card in _cards(data):
        keyword = card[:8].rstrip().decode("ascii", "replace").upper()
        if keyword != "CONTINUE":
            keep = keyword == "HIERARCH" or not _STRUCTURAL.match(keyword)
        if keep:
            kept.append(card)
    return fits.Header.fromstring(b"".join(kept).decode("ascii", errors="replace"))


#: ``= value / comment`` of a plain card: a quoted string (``''`` escapes a quote) or a token.
_VALUE = re.compile(rb"\s*(?:'((?:[^']|'')*)'|([^/]*))")
_INTEGER = re.compile(rb"[+-]?\d+")


def header_values(data: bytes) -> dict[str, Any]:
    """``KEYWORD -> value`` for the plain ``KEYWORD = value`` cards of raw header bytes.

    A fast stand-in for astropy's header parsing where only values are needed (the
    tile engine reads a few dozen structural keywords per HDU, and astropy's lookups
    cost tens of microseconds each).  Strings lose trailing blanks, ``T``/``F`` become
    booleans, integers and reals (``D`` exponents too) become numbers, as astropy
    gives them; commentary, ``HIERARCH`` and ``CONTINUE`` cards are left out.  A later
    card wins over an earlier one with the same keyword.
    """
    values: dict[str, Any] = {}
    for card in _cards(data):
        if card[8:10] != b"= ":
            continue
        keyword = card[:8].rstrip().decode("ascii", "replace").upper()
        match = _VALUE.match(card, 10)
        assert match is not None  # the pattern matches the empty string
        text, token = match.group(1), match.group(2)
        if text is not None:
            values[keyword] = text.replace(b"''", b"'").rstrip().decode("ascii", "replace")
            continue
        token = token.strip()
        if token in (b"T", b"F"):
            values[keyword] = token == b"T"
        elif _INTEGER.fullmatch(token):
            values[keyword] = int(token)
        else:
            try:
                values[keyword] = float(token.replace(b"D", b"E").replace(b"d", b"e"))
            except ValueError:
                values[keyword] = token.decode("ascii", "replace") if token else None
    return values


def strip_layout_cards(header: astropy.io.fits.Header) -> None:
    """Remove the write-time cards of the 4300 layout (``FMTVER``, ``DATE``, ``DATAMODL``)."""
    remove_cards(header, frozenset(LAYOUT_4300_CARDS).__contains__)


def append_cards(header: astropy.io.fits.Header, extra: astropy.io.fits.Header, *, skip_butler: bool) -> None:
    """Append opaque cards, never overriding cards the writer itself produced."""
    present = set(header.keys())
    for card in extra.cards:
        keyword = card.keyword
        if skip_butler and keyword.upper().startswith("LSST BUTLER"):
            continue
        if keyword in ("COMMENT", "HISTORY", ""):
            header.append(card, end=True)
            continue
        if keyword in present:
            continue
        header.append(card, end=True)


def insert_extname(header: astropy.io.fits.Header, key: ExtensionKey, *, compressed: bool) -> None:
    """Insert EXTNAME (and EXTVER > 1) where astropy-written files have it.

    Compressed HDUs have EXTNAME right after the ``Z*`` cards (before BZERO/BSCALE);
    uncompressed image and table HDUs have it after all structural cards.
    """
    comment = "name of this binary table extension" if compressed else "extension name"
    cards = [(key.name, comment)]
    position = len(header)
    if compressed:
        keys = list(header.keys())
        last_z = max((i for i, k in enumerate(keys) if k.startswith("Z") or k.startswith("T")), default=-1)
        position = last_z + 1
    header.insert(position, ("EXTNAME", *cards[0]))
    if key.ver > 1:
        header.insert(position + 1, ("EXTVER", key.ver))
