"""Tests of Background / BackgroundMap behaviour and their serialized form."""

from __future__ import annotations

import json

import astropy.units as u
import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images._geom import Box
from lsst.images.fields import ChebyshevField, SplineField

DETECTOR = Box.factory[0:4004, 0:4096]


def _backgrounds_module():
    # Imported lazily so that a missing serialization package shows up as a test failure here only.
    from lsst.images import _backgrounds

    return _backgrounds


def _fields():
    standard = ChebyshevField(DETECTOR, np.array([[812.5, 1.5], [-0.75, 0.0]]), unit=u.nJy)
    y = np.array([0.0, 2001.5, 4003.0])
    x = np.array([0.0, 1365.0, 2730.0, 4095.0])
    yy, xx = np.meshgrid(y, x, indexing="ij")
    coarse = SplineField(DETECTOR, 5 + 0.001 * yy + 0.002 * xx, y=y, x=x, unit=u.nJy)
    return standard, coarse


def test_background_map_behaviour():
    mod = _backgrounds_module()
    standard, coarse = _fields()
    backgrounds = mod.BackgroundMap()
    assert len(backgrounds) == 0 and backgrounds.subtracted is None
    backgrounds.add("standard", standard, "Background subtracted from the image.", is_subtracted=True)
    backgrounds.add("coarse_spline", coarse)
    assert list(backgrounds) == ["standard", "coarse_spline"]
    assert len(backgrounds) == 2 and "standard" in backgrounds
    assert backgrounds.subtracted is backgrounds["standard"]
    entry = backgrounds["coarse_spline"]
    assert entry == mod.Background("coarse_spline", coarse, "")
    assert entry.field is coarse and entry.description == "" and entry.name == "coarse_spline"
    with pytest.raises(KeyError):
        backgrounds.add("standard", coarse)
    with pytest.raises(KeyError):
        backgrounds["missing"]
    with pytest.raises(AttributeError):
        entry.description = "changed"  # Background records are frozen
    copy = backgrounds.copy()
    assert copy == backgrounds and copy is not backgrounds
    assert copy["standard"] is backgrounds["standard"]
    copy.add("another", coarse)
    assert "another" not in backgrounds
    with pytest.raises(KeyError):
        mod.BackgroundMap([mod.Background("a", standard)], subtracted="b")
    with pytest.raises(KeyError):
        mod.BackgroundMap([mod.Background("a", standard), mod.Background("a", coarse)])
    built = mod.BackgroundMap(
        [
            mod.Background("standard", standard, "Background subtracted from the image."),
            mod.Background("coarse_spline", coarse),
        ],
        subtracted="standard",
    )
    assert built == backgrounds
    assert built != mod.BackgroundMap(built.values(), subtracted=None)


def test_background_values_match_manifest():
    standard, coarse = _fields()
    entries = load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]["backgrounds"]["entries"]
    for field, name in [(standard, "standard"), (coarse, "coarse_spline")]:
        points = entries[name]["values"]
        xs = np.array([p["x"] for p in points])
        ys = np.array([p["y"] for p in points])
        np.testing.assert_allclose(
            field.evaluate(x=xs, y=ys), [p["value"] for p in points], rtol=1e-14, atol=0
        )


@pytest.mark.parametrize("version", ["lsst-images-2100", "lsst-images-4300"])
def test_background_model_parses_fixture_trees(version):
    mod = _backgrounds_module()
    raw = (fixture_dir(version) / "visit_full.tree.json").read_bytes()
    tree = json.loads(raw)["backgrounds"]
    model = mod.BackgroundMapSerializationModel.model_validate(tree)
    assert list(model.fields) == ["standard", "fine_spline", "coarse_spline"]
    assert model.subtracted == "standard"
    assert model.fields["standard"].field_type == "CHEBYSHEV"
    assert model.fields["fine_spline"].field_type == "SPLINE"
    if version == "lsst-images-2100":
        # Re-dumping gives the reference's exact bytes.
        assert model.model_dump_json().encode() in raw


@pytest.mark.parametrize("version", ["lsst-images-2100", "lsst-images-4300"])
def test_fits_read_and_rewrite_keeps_backgrounds(version, tmp_path):
    from astropy.io import fits as astropy_fits

    from lsst.images import VisitImage, fits

    result = fits.read(VisitImage, fixture_dir(version) / "visit_full.fits")
    visit = getattr(result, "deserialized", result)
    entries = load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]["backgrounds"]["entries"]
    assert list(visit.backgrounds) == list(entries)
    assert visit.backgrounds.subtracted.name == "standard"
    for name, entry in entries.items():
        xs = np.array([p["x"] for p in entry["values"]])
        ys = np.array([p["y"] for p in entry["values"]])
        np.testing.assert_allclose(
            visit.backgrounds[name].field.evaluate(x=xs, y=ys),
            [p["value"] for p in entry["values"]],
            rtol=1e-13,
        )
    # Rewriting stores each spline grid in its own HDU named by the archive path.
    path = tmp_path / "visit.fits"
    fits.write(visit, path)
    with astropy_fits.open(path) as hdul:
        names = [hdu.name for hdu in hdul]
        assert "BACKGROUNDS/FIELDS/FINE_SPLINE/DATA" in names
        assert "BACKGROUNDS/FIELDS/COARSE_SPLINE/DATA" in names
        np.testing.assert_array_equal(
            hdul["BACKGROUNDS/FIELDS/COARSE_SPLINE/DATA"].data, visit.backgrounds["coarse_spline"].field.data
        )
