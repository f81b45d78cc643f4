"""afw WCS and Transform objects decoded into Starlink AST objects.

Modern afw stores a ``SkyWcs`` as the text of an AST FrameSet whose base frame
is afw's parent pixel grid (0-based, pixel centres at integers, ``xy0``
included, i.e. exactly the "absolute" coordinates of `lsst.images`) and whose
current frame is an ICRS ``SkyFrame`` in radians.  Older files carry either a
pre-AST ``TanWcs`` archive object or only a FITS WCS in the image header; both
are turned into the same kind of AST FrameSet here, so everything downstream
deals with one representation.
"""

from __future__ import annotations

__all__ = (
    "LegacySkyWcs",
    "ast_from_text",
    "decode_old_wcs",
    "decode_sky_wcs",
    "decode_transform",
    "sky_wcs_from_header",
)

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import LegacyFormatError

if TYPE_CHECKING:
    import astropy.io.fits

    from ._archive import Catalog, LegacyArchive


class _LineSource:
    """Feed text to an AST Channel one line at a time (pyast's ``astsource`` protocol)."""

    def __init__(self, text: str):
        self._lines = iter(text.splitlines())

    def astsource(self) -> str | None:
        return next(self._lines, None)


def ast_from_text(text: str) -> Any:
    """Parse AST native ("Channel") text into an AST object."""
    from starlink import Ast

    from .._transforms._ast_check import check_ast_text

    try:
        check_ast_text(text.splitlines())
    except ValueError as err:
        raise LegacyFormatError(str(err)) from err
    result = Ast.Channel(_LineSource(text)).read()
    if result is None:
        raise LegacyFormatError("AST text did not contain an object.")
    return result


def _split_persisted(blob: bytes, expected: str) -> tuple[list[str], str]:
    """Split afw's ``"<version> <class> [<flags>] "`` prefix from the AST text that follows.

    afw writes a short header of space-separated tokens before the AST dump;
    the AST text itself always starts with ``Begin``.
    """
    text = blob.decode("ascii", errors="replace").rstrip("\x00")
    start = text.find("Begin ")
    if start < 0:
        raise LegacyFormatError(f"Persisted {expected} does not contain an AST object.")
    tokens = text[:start].split()
    if len(tokens) < 2:
        raise LegacyFormatError(f"Persisted {expected} has no version/class prefix: {text[:start]!r}.")
    # AST's Channel wants the first line to begin with "Begin".
    return tokens, text[start:]


@dataclasses.dataclass
class LegacySkyWcs:
    """A decoded afw WCS.

    Attributes
    ----------
    frame_set
        AST FrameSet; base frame = parent pixels, current frame = ICRS sky (radians).
    fits_approximation
        FITS-representable approximation stored alongside, if any (same conventions).
    source
        Where it came from: ``"archive"``, ``"header"`` or ``"TanWcs"``.
    """

    frame_set: Any
    fits_approximation: LegacySkyWcs | None = None
    source: str = "archive"

    def pixel_to_sky(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Map parent-pixel coordinates to ICRS ``(ra, dec)`` in degrees."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        y = np.atleast_1d(np.asarray(y, dtype=float))
        out = self.frame_set.tran(np.array([x, y]), True)
        return np.degrees(out[0]) % 360.0, np.degrees(out[1])


def decode_sky_wcs(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacySkyWcs:
    """Archive factory for ``SkyWcs``: AST FrameSet text plus optional FITS approximation."""
    catalog = catalogs[0]
    _, text = _split_persisted(catalog.bytes("wcs"), "SkyWcs")
    approx = None
    if catalog.has("approx"):
        blob = catalog.bytes("approx")
        if blob.strip(b"\x00 "):
            _, approx_text = _split_persisted(blob, "SkyWcs")
            approx = LegacySkyWcs(
                _as_sky_frame_set(ast_from_text(approx_text)), source="archive approximation"
            )
    return LegacySkyWcs(_as_sky_frame_set(ast_from_text(text)), fits_approximation=approx, source="archive")


def _as_sky_frame_set(obj: Any) -> Any:
    from starlink import Ast

    if not isinstance(obj, Ast.FrameSet):
        raise LegacyFormatError(f"SkyWcs AST object is a {type(obj).__name__}, not a FrameSet.")
    return obj


def decode_transform(archive: LegacyArchive, catalogs: list[Catalog]) -> Any:
    """Archive factory for ``Transform*``: the AST Mapping (or FrameSet) it wraps."""
    catalog = catalogs[0]
    column = "bytes" if catalog.has("bytes") else catalog.names[0]
    _, text = _split_persisted(catalog.bytes(column), "Transform")
    return ast_from_text(text)


# -- FITS-header WCS ----------------------------------------------------------------


_WCS_KEY_PREFIXES = (
    "CTYPE",
    "CRPIX",
    "CRVAL",
    "CDELT",
    "CUNIT",
    "CD1_",
    "CD2_",
    "PC1_",
    "PC2_",
    "CROTA",
    "PV1_",
    "PV2_",
    "A_",
    "B_",
    "AP_",
    "BP_",
)
_WCS_KEYS = {
    "RADESYS",
    "RADECSYS",
    "EQUINOX",
    "EPOCH",
    "LONPOLE",
    "LATPOLE",
    "WCSAXES",
    "MJD-OBS",
    "DATE-OBS",
}


def _primary_wcs_cards(header: astropy.io.fits.Header) -> list[tuple[str, Any]]:
    """Return the primary (un-keyed) celestial WCS cards of a header."""
    cards = []
    for key, value in header.items():
        if key in _WCS_KEYS or (key.startswith(_WCS_KEY_PREFIXES) and not key[-1].isalpha()):
            cards.append((key, value))
    return cards


def sky_wcs_from_header(
    header: astropy.io.fits.Header | dict[str, Any], x0: int = 0, y0: int = 0, *, source: str = "header"
) -> LegacySkyWcs | None:
    """Build a `LegacySkyWcs` from FITS WCS cards, or return None if there is no celestial WCS.

    Parameters
    ----------
    header
        Header (or dict of cards) with a FITS WCS whose ``CRPIX`` refers to the
        local array (FITS 1-based).
    x0, y0
        Parent coordinates of the first array pixel.

    Notes
    -----
    afw treated ``RADESYS = 'FK5'`` with ``EQUINOX = 2000`` as ICRS (the
    difference is tens of milliarcseconds), and every afw-written SkyWcs is
    ICRS, so those cards are rewritten to ICRS before AST reads them.
    """
    from starlink import Ast

    items = list(header.items()) if isinstance(header, dict) else _primary_wcs_cards(header)
    cards = dict(items)
    ctype1 = str(cards.get("CTYPE1", "")).strip().upper()
    ctype2 = str(cards.get("CTYPE2", "")).strip().upper()
    if not (ctype1.startswith("RA") and ctype2.startswith("DEC")):
        return None
    radesys = str(cards.get("RADESYS", cards.get("RADECSYS", "ICRS"))).strip().upper()
    equinox = cards.get("EQUINOX")
    if radesys == "ICRS" or (radesys == "FK5" and (equinox is None or float(equinox) == 2000.0)):
        cards["RADESYS"] = "ICRS"
        cards.pop("RADECSYS", None)
        cards.pop("EQUINOX", None)
        cards.pop("EPOCH", None)
    from astropy.io import fits

    chan = Ast.FitsChan()
    for key, value in cards.items():
        chan.putfits(str(fits.Card(key, value)), False)
    chan.clear("Card")
    chan.Encoding = "FITS-WCS"
    frame_set = chan.read()
    if frame_set is None:
        raise LegacyFormatError(f"Could not interpret FITS WCS cards {sorted(cards)} with AST.")
    return LegacySkyWcs(_rebase_grid(frame_set, x0, y0), source=source)


def _rebase_grid(frame_set: Any, x0: float, y0: float) -> Any:
    """Replace the FITS GRID base frame (1-based array pixels) by parent pixel coordinates."""
    from starlink import Ast

    sky = frame_set.Current
    grid = frame_set.Base
    pixels = Ast.Frame(2, "Domain=PIXELS")
    # GRID = parent - x0 + 1, so GRID → parent is a shift by (x0 - 1, y0 - 1).
    frame_set.addframe(grid, Ast.ShiftMap([x0 - 1.0, y0 - 1.0]), pixels)
    new_base = frame_set.Current
    frame_set.Base = new_base
    frame_set.Current = sky
    return frame_set


def decode_old_wcs(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacySkyWcs:
    """Archive factory for the pre-AST ``Wcs``/``TanWcs``: rebuild FITS cards, then parse them.

    The stored ``crpix`` is 0-based (LSST pixel convention), ``cd`` is flattened
    in the order 1_1, 2_1, 1_2, 2_2, and the optional second catalog holds the
    SIP matrices column-major (element (i, j) at flat index i + n·j).
    """
    main = catalogs[0]
    crval = main.point("crval")
    crpix = main.point("crpix")
    cd = main.array("cd").ravel()
    cards: dict[str, Any] = {
        "CTYPE1": main.string("ctype1").strip(),
        "CTYPE2": main.string("ctype2").strip(),
        "CRVAL1": crval[0],
        "CRVAL2": crval[1],
        "CRPIX1": crpix[0] + 1.0,
        "CRPIX2": crpix[1] + 1.0,
        "CD1_1": float(cd[0]),
        "CD2_1": float(cd[1]),
        "CD1_2": float(cd[2]),
        "CD2_2": float(cd[3]),
        "CUNIT1": "deg",
        "CUNIT2": "deg",
    }
    if main.has("radesys"):
        cards["RADESYS"] = main.string("radesys").strip() or "ICRS"
    if main.has("equinox"):
        equinox = float(main.scalar("equinox"))
        if np.isfinite(equinox) and equinox < 1e5:
            cards["EQUINOX"] = equinox
    if len(catalogs) > 1:
        for axis in (1, 2):
            key = f"CTYPE{axis}"
            if not cards[key].endswith("-SIP"):
                cards[key] = cards[key] + "-SIP"
        sip = catalogs[1]
        for name, prefix in (("A", "A"), ("B", "B"), ("Ap", "AP"), ("Bp", "BP")):
            if not sip.has(name):
                continue
            flat = sip.array(name).ravel().astype(float)
            n = int(round(np.sqrt(flat.size)))
            matrix = flat.reshape(n, n).T  # column-major storage → matrix[i, j]
            cards[f"{prefix}_ORDER"] = n - 1
            rows, cols = np.nonzero(matrix)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                cards[f"{prefix}_{i}_{j}"] = float(matrix[i, j])
    result = sky_wcs_from_header(cards, 0, 0, source="TanWcs")
    if result is None:
        raise LegacyFormatError(f"Old Wcs archive object has non-celestial CTYPEs {cards['CTYPE1']!r}.")
    return result
