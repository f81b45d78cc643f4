"""Tests of ObservationSummaryStats: defaults, NaN-aware equality, exact JSON against fixture trees."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

from conftest import fixture_dir, load_manifest
from lsst.images._observation_summary_stats import ObservationSummaryStats


def _tree_bytes(version: str) -> bytes:
    return (fixture_dir(version) / "visit_full.tree.json").read_bytes()


def test_defaults():
    stats = ObservationSummaryStats()
    assert stats.version == 0
    assert math.isnan(stats.psfSigma) and math.isnan(stats.magLim)
    assert stats.nPsfStar == 0 and stats.nShapeletsStar == 0
    assert len(stats.raCorners) == 4 and all(math.isnan(v) for v in stats.raCorners)
    assert all(math.isnan(v) for v in stats.decCorners)
    assert stats.shapeletsCoeffs == ()
    names = list(ObservationSummaryStats.model_fields)
    assert names[:3] == ["version", "psfSigma", "psfArea"] and names[-1] == "magLim"
    assert len(names) == 55


def test_nan_aware_equality():
    assert ObservationSummaryStats() == ObservationSummaryStats()
    a = ObservationSummaryStats(psfSigma=2.0, raCorners=(1.0, math.nan, 3.0, 4.0))
    b = ObservationSummaryStats(psfSigma=2.0, raCorners=(1.0, math.nan, 3.0, 4.0))
    assert a == b
    assert a != ObservationSummaryStats(psfSigma=2.0)
    assert a != ObservationSummaryStats(psfSigma=2.5, raCorners=(1.0, math.nan, 3.0, 4.0))
    assert a != "psfSigma"
    with pytest.raises(TypeError):
        hash(a)


def test_json_round_trip_with_nan_tokens():
    stats = ObservationSummaryStats(psfSigma=2.0, skyBg=float("inf"), shapeletsCoeffs=(0.1, 0.2))
    text = stats.model_dump_json()
    assert '"psfArea":NaN' in text and '"skyBg":Infinity' in text
    assert ObservationSummaryStats.model_validate_json(text) == stats


def test_fixture_tree_bytes_and_manifest_values():
    raw = _tree_bytes("lsst-images-2100")
    tree = json.loads(raw)
    stats = ObservationSummaryStats.model_validate(tree["summary_stats"])
    # Re-dumping reproduces the exact bytes of the reference's tree.
    assert stats.model_dump_json().encode() in raw
    expect = load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]["summary_stats"]
    for key, value in expect.items():
        got = getattr(stats, key)
        if value == "NaN":
            assert math.isnan(got), key
        elif isinstance(value, list):
            assert list(got) == value, key
        else:
            assert got == value, key


def test_4300_tree_is_accepted():
    tree = json.loads(_tree_bytes("lsst-images-4300"))["summary_stats"]
    assert "schema_version" in tree and "psfTE1e1" in tree and "version" not in tree
    stats = ObservationSummaryStats.model_validate(tree)
    reference = ObservationSummaryStats.model_validate(
        json.loads(_tree_bytes("lsst-images-2100"))["summary_stats"]
    )
    assert stats == reference


def test_from_legacy():
    legacy = SimpleNamespace(
        psfSigma=1.5, nPsfStar=12, raCorners=[1.0, 2.0, None, 4.0], decl=3.0, zeroPoint=None
    )
    stats = ObservationSummaryStats.from_legacy(legacy)
    assert stats.psfSigma == 1.5 and stats.nPsfStar == 12
    assert stats.raCorners[:2] == (1.0, 2.0) and math.isnan(stats.raCorners[2])
    assert math.isnan(stats.zeroPoint)
