"""Thin helpers around starlink-pyast: text I/O and FITS-WCS conversion.

Everything that touches AST's native text format or its FITS channel lives
here, so the transform and projection classes only deal with mappings.

The native text written here is exactly what AST's `Channel` produces (one
line per `astsink` call, joined with ``\\n`` plus a final newline), so a
projection built from the same FITS cards as the reference library produces
byte-identical ``ast`` strings in the JSON tree.
"""

from __future__ import annotations

__all__ = (
    "ast_from_text",
    "ast_to_text",
    "frame_set_from_fits_header",
    "frame_set_to_fits_header",
    "simplified_mapping",
)

from typing import TYPE_CHECKING

from starlink import Ast

if TYPE_CHECKING:
    import astropy.io.fits


class _LineSink:
    """Collect the lines an AST channel writes."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def astsink(self, line: str) -> None:
        self.lines.append(line)


class _LineSource:
    """Feed text to an AST channel one line at a time."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._index = 0

    def astsource(self) -> str | None:
        if self._index >= len(self._lines):
            return None
        line = self._lines[self._index]
        self._index += 1
        return line


def ast_to_text(obj: Ast.Object, *, comments: bool = True) -> str:
    """Write an AST object in AST's native text form.

    Parameters
    ----------
    obj
        Any AST object (usually a Mapping or FrameSet).
    comments
        Whether to keep AST's trailing ``# ...`` explanations.  The stored
        (serialized) form keeps them; `Transform.show` drops them by default.

    Returns
    -------
    str
        The text, lines joined by ``\\n`` with a trailing newline.
    """
    sink = _LineSink()
    channel = Ast.Channel(None, sink)
    channel.Comment = comments
    if channel.write(obj) != 1:
        raise RuntimeError(f"AST could not write a {obj.Class} object as text.")
    return "\n".join(sink.lines) + "\n"


def ast_from_text(text: str) -> Ast.Object:
    """Parse AST native text (as written by `ast_to_text` or AST's ``show``).

    Raises
    ------
    ValueError
        If the text does not contain an AST object, or is not text AST wrote (checked
        before AST sees it: AST's reader can crash on damaged dumps).
    """
    from ._ast_check import check_ast_text

    check_ast_text(text.splitlines())
    try:
        obj = Ast.Channel(_LineSource(text)).read()
    except Ast.AstError as err:
        raise ValueError(f"Invalid AST text: {err}") from err
    if obj is None:
        raise ValueError("No AST object found in the given text.")
    return obj


def simplified_mapping(mapping: Ast.Mapping) -> Ast.Mapping:
    """Return the simplest equivalent of a mapping (a FrameSet becomes its base→current mapping)."""
    if isinstance(mapping, Ast.FrameSet):
        mapping = mapping.getmapping(Ast.BASE, Ast.CURRENT)
    return mapping.simplify()


def frame_set_from_fits_header(header: astropy.io.fits.Header) -> Ast.FrameSet:
    """Read a FITS-WCS header into an AST FrameSet (GRID base frame, sky current frame).

    The channel keeps the intermediate world coordinate (IWC) frame and does
    not replace SIP inverse coefficients by a fitted polynomial, matching how
    the reference library builds projections from FITS.

    Raises
    ------
    ValueError
        If the header holds no celestial WCS that AST understands.
    """
    channel = Ast.FitsChan()
    for card in header.cards:
        channel.putfits(card.image, False)
    channel.set("Iwc=1,SipReplace=0")
    if _is_equatorial_car(header):
        # AST's strict CAR reading shifts the reference point of these headers (by a fixed number of
        # pixels) relative to wcslib; for a reference point on the native equator the linear reading
        # is mathematically the same projection and agrees with wcslib/astropy.
        channel.set("CarLin=1")
    channel.clear("Card")
    frame_set = channel.read()
    if frame_set is None:
        raise ValueError("AST could not read a WCS from the FITS header.")
    return frame_set


def _is_equatorial_car(header: astropy.io.fits.Header) -> bool:
    """Whether the header is a plate carrée (CAR) projection with its reference point at latitude 0."""
    for axis in (1, 2):
        ctype = str(header.get(f"CTYPE{axis}", ""))
        is_latitude = ctype.startswith("DEC-") or ctype[1:4] == "LAT"
        if is_latitude and ctype.endswith("-CAR"):
            return float(header.get(f"CRVAL{axis}", 0.0)) == 0.0
    return False


def frame_set_to_fits_header(frame_set: Ast.FrameSet, *, tolerance: float = 1e-4) -> list[str] | None:
    """Write a FrameSet (GRID base frame, sky current frame) as FITS-WCS cards.

    Parameters
    ----------
    frame_set
        FrameSet whose base frame is the FITS (1-based) pixel grid.
    tolerance
        Largest pixel error AST may accept when it linearizes or otherwise
        approximates the mapping; with the default the result is exact for
        all practical purposes.

    Returns
    -------
    list or None
        The header cards as 80-character strings, or `None` if the mapping
        cannot be represented in FITS-WCS.
    """
    channel = Ast.FitsChan(None, None, f"Encoding=FITS-WCS,CDMatrix=1,FitsTol={tolerance!r}")
    if channel.write(frame_set) != 1:
        return None
    channel.clear("Card")
    cards = []
    # Exactly Ncard lookups: past the last card pyast returns (and decodes) an uninitialized
    # buffer, which now and then is not valid UTF-8 and raises UnicodeDecodeError.
    for _ in range(channel.Ncard):
        found, card = channel.findfits("%f", True)
        if not found:
            break
        cards.append(card)
    return cards
