"""Tests for the rounding helpers in lsst.images.utils."""

import pytest

from lsst.images import utils


@pytest.mark.parametrize(
    "x,up,down,away",
    [
        (1.5, 2, 1, 2),
        (-1.5, -1, -2, -2),
        (-0.5, 0, -1, -1),
        (0.5, 1, 0, 1),
        (2.5, 3, 2, 3),
        (2.4, 2, 2, 2),
        (-2.6, -3, -3, -3),
        (3.0, 3, 3, 3),
    ],
)
def test_rounding(x, up, down, away):
    assert utils.round_half_up(x) == up
    assert utils.round_half_down(x) == down
    assert utils.round_half_away_from_zero(x) == away
    assert type(utils.round_half_up(x)) is int
    assert type(utils.round_half_down(x)) is int
    assert type(utils.round_half_away_from_zero(x)) is int


def test_is_none():
    assert utils.is_none(None) is True
    assert utils.is_none(0) is False
    assert utils.is_none("") is False
