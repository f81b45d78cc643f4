"""`parse_unit` reads back what `format_unit` writes, exactly as astropy's own parsers would."""

from __future__ import annotations

import warnings

import astropy.units as u
import pytest

from lsst.images.serialization._units import format_unit, parse_unit

SPELLINGS = [
    "nJy", "nJy**2", "nJy / electron", "nJy.electron**-1", "rad", "deg", "arcsec**2", "m.s**-1",
    "electron", "adu", "ct", "mag", "erg", "s-1", "10**-9Jy",
]  # fmt: skip


def _astropy(text: str) -> u.UnitBase:
    """What the stored text means: VOUnit when it is valid VOUnit, else astropy's generic format."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", u.UnitsWarning)
        try:
            return u.Unit(text, format="vounit")
        except ValueError:
            return u.Unit(text, format="generic")


@pytest.mark.parametrize("text", SPELLINGS)
def test_parse_unit_matches_astropy(text: str) -> None:
    assert parse_unit(text) == _astropy(text)


@pytest.mark.parametrize("unit", [u.nJy, u.nJy**2, u.nJy / u.electron, u.rad, u.m / u.s, u.electron])
def test_round_trip(unit: u.UnitBase) -> None:
    assert parse_unit(format_unit(unit)) == unit


def test_unparseable_unit_names_the_text() -> None:
    with pytest.raises(ValueError, match="not_a_unit"):
        parse_unit("not_a_unit")
