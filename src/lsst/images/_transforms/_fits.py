"""Conversions between astropy FITS WCS objects and AST FrameSets.

Pixel conventions: a FITS WCS describes the pixels of one array with 1-based
GRID coordinates, while transforms and projections work in *absolute*
(logical) pixel coordinates in which the array's first pixel is ``(x0, y0)``.
The two differ by a shift of ``(x0 - 1, y0 - 1)``.
"""

from __future__ import annotations

__all__ = ("frame_set_from_fits_wcs", "longitude_axis_first", "mapping_to_fits_wcs")

import re
from typing import TYPE_CHECKING

from starlink import Ast

from . import _ast_utils

if TYPE_CHECKING:
    import astropy.wcs

    from .._geom import Box


def _ensure_icrs_current(frame_set: Ast.FrameSet) -> None:
    """Make the current frame a standard (lon, lat) ICRS SkyFrame, converting if needed.

    FITS headers may use FK5, galactic or ecliptic coordinates, or put the
    latitude axis first; AST knows how to convert all of those to ICRS.  The
    common ICRS case is left untouched so that the stored AST text stays
    identical to the reference library's.
    """
    sky = frame_set.getframe(Ast.CURRENT)
    if not isinstance(sky, Ast.SkyFrame):
        raise ValueError(f"The FITS WCS does not describe celestial coordinates (got a {sky.Class}).")
    if sky.System == "ICRS" and sky.LatAxis == 2:
        return
    icrs = Ast.SkyFrame("System=ICRS")
    conversion = sky.convert(icrs)
    if conversion is None:
        raise ValueError(f"AST cannot convert sky system {sky.System!r} to ICRS.")
    frame_set.addframe(Ast.CURRENT, conversion.getmapping(Ast.BASE, Ast.CURRENT).simplify(), icrs)


def frame_set_from_fits_wcs(
    fits_wcs: astropy.wcs.WCS, *, x0: int = 0, y0: int = 0, require_sky: bool = True
) -> Ast.FrameSet:
    """Build an AST FrameSet from an astropy WCS, with a logical-pixel base frame.

    Parameters
    ----------
    fits_wcs
        Two-dimensional WCS (other axes are dropped through ``.celestial`` when
        it has more than two).
    x0, y0
        Absolute pixel coordinates of the array's first pixel.
    require_sky
        Insist on (and convert to) ICRS sky coordinates for the current frame.

    Returns
    -------
    Ast.FrameSet
        FrameSet with frames GRID, sky (current), IWC and a base ``PIXEL``
        frame linked to GRID by a ``ShiftMap`` of ``(x0 - 1, y0 - 1)``.
    """
    if fits_wcs.naxis != 2:
        fits_wcs = fits_wcs.celestial
        if fits_wcs.naxis != 2:
            raise ValueError("The FITS WCS must have two (celestial) axes.")
    if any(getattr(fits_wcs, name, None) is not None for name in ("cpdis1", "cpdis2", "det2im1", "det2im2")):
        # These lookup-table distortions are not part of the header cards AST reads.
        raise ValueError("FITS WCS lookup-table distortions (CPDIS/DET2IM) are not supported.")
    frame_set = _ast_utils.frame_set_from_fits_header(fits_wcs.to_header(relax=True))
    if require_sky:
        _ensure_icrs_current(frame_set)
    current = frame_set.Current
    frame_set.addframe(
        frame_set.Base, Ast.ShiftMap([float(x0) - 1.0, float(y0) - 1.0]), Ast.Frame(2, "Domain=PIXEL")
    )
    frame_set.Base = frame_set.Current
    frame_set.Current = current
    return frame_set


#: Primary-WCS keywords indexed by world axis (the first index of a matrix/PV keyword).  CRPIX and the
#: SIP polynomials are indexed by pixel axis and are not touched when world axes are permuted.
_WORLD_AXIS_KEY = re.compile(
    r"^(CTYPE|CRVAL|CUNIT|CDELT|CNAME|CRDER|CSYER)([12])$|^(CD|PC|PV|PS)([12])_(\d+)$"
)


def _is_latitude(ctype: str) -> bool:
    return ctype.startswith("DEC-") or ctype[1:4] == "LAT"


def longitude_axis_first(header: astropy.io.fits.Header) -> astropy.io.fits.Header:
    """Return the celestial FITS-WCS ``header`` with the longitude as world axis 1.

    AST's FITS-WCS writer pairs each world axis with the pixel axis it varies
    most along, so for rotations between about 45° and 135° (mod 180°) it
    writes ``CTYPE1 = 'DEC--TAN'`` with an anti-diagonal matrix.  That is a
    valid WCS, but many tools assume RA first (and the reference library
    always writes RA first), so the world axes are permuted back and the
    matrix rows carry the rotation instead.  Pixel-axis keywords (``CRPIXj``,
    SIP ``A_p_q``/``B_p_q``) and the alternate WCSs are unchanged.

    Parameters
    ----------
    header
        Primary-WCS cards with two world axes.

    Returns
    -------
    astropy.io.fits.Header
        ``header`` itself when the longitude already comes first, else a
        copy with the world-axis keywords swapped.
    """
    from astropy.io import fits

    if not _is_latitude(str(header.get("CTYPE1", ""))) or _is_latitude(str(header.get("CTYPE2", ""))):
        return header
    swap = {"1": "2", "2": "1"}
    cards = []
    for card in header.cards:
        match = _WORLD_AXIS_KEY.match(card.keyword)
        keyword = card.keyword
        if match is not None:
            if match.group(1) is not None:
                keyword = f"{match.group(1)}{swap[match.group(2)]}"
            else:
                keyword = f"{match.group(3)}{swap[match.group(4)]}_{match.group(5)}"
        cards.append((keyword, card.value, card.comment))
    return fits.Header(cards)


def mapping_to_fits_wcs(
    mapping: Ast.Mapping, bbox: Box | None, *, sky: bool = True
) -> astropy.wcs.WCS | None:
    """Write an absolute-pixel → sky mapping as an astropy WCS for one array.

    Parameters
    ----------
    mapping
        Mapping (or FrameSet) from absolute pixel coordinates to ICRS
        (radians).
    bbox
        Box covered by the array; its start becomes array pixel ``(0, 0)``.
        `None` means an array starting at absolute ``(0, 0)``.
    sky
        Whether the outputs are sky coordinates (otherwise a linear frame).

    Returns
    -------
    astropy.wcs.WCS or None
        The WCS (linear part as a CD matrix, which astropy writes back as PC
        with ``CDELT = 1``), or `None` if AST cannot write the mapping as
        FITS-WCS.
    """
    import astropy.wcs
    from astropy.io import fits

    x0, y0 = (0, 0) if bbox is None else (bbox.x.start, bbox.y.start)
    if isinstance(mapping, Ast.FrameSet) and isinstance(mapping.getframe(Ast.CURRENT), Ast.SkyFrame):
        # Keep the whole FrameSet: when it has an IWC frame (one read from FITS does), AST takes
        # the linear part from it exactly instead of fitting it, so the cards round-trip exactly.
        out = mapping.copy()
        current = out.Current
        out.addframe(Ast.BASE, Ast.ShiftMap([1.0 - x0, 1.0 - y0]), Ast.Frame(2, "Domain=GRID"))
        out.Base = out.Current
        out.Current = current
    else:
        pixel_to_world = _ast_utils.simplified_mapping(mapping)
        grid_to_world = Ast.CmpMap(Ast.ShiftMap([x0 - 1.0, y0 - 1.0]), pixel_to_world, True).simplify()
        out = Ast.FrameSet(Ast.Frame(2, "Domain=GRID"))
        out.addframe(Ast.BASE, grid_to_world, Ast.SkyFrame("System=ICRS") if sky else Ast.Frame(2))
    cards = _ast_utils.frame_set_to_fits_header(out)
    if cards is None:
        return None
    header = fits.Header.fromstring("".join(card.ljust(80) for card in cards))
    wcs = astropy.wcs.WCS(longitude_axis_first(header))
    if not wcs.wcs.has_cd():
        cd = wcs.wcs.get_pc() * wcs.wcs.cdelt[:, None]
        wcs.wcs.pc = cd
        wcs.wcs.cdelt = [1.0, 1.0]
        wcs.wcs.set()
    if bbox is not None:
        wcs.pixel_shape = (bbox.x.size, bbox.y.size)
    return wcs
