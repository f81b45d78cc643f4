"""VisitImage serialization: fixture JSON trees (both layouts), components vs manifests, JSON round trips."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images import Box, Interval, Polygon, VisitImage, VisitImageSerializationModel
from lsst.images import json as images_json
from lsst.images.psfs import GaussianPointSpreadFunction, PointSpreadFunction
from lsst.images.serialization import ArchiveReadError, InvalidComponentError, InvalidParameterError

VISITS = ["visit_full", "visit_minimal", "visit_lossy_seeded", "visit_nocomp", "visit_tiles64_gzip1"]

#: Keys the 4300 layout adds to every archive tree.
_STAMPS = ("schema_version", "min_read_version", "schema_url")
_RENAMES = {"yx0": "start", "sky_projection": "projection"}


def _to_2100(tree: Any, opaque: bool = False) -> Any:
    """A tiny local 4300 → 2100 layout adapter (drop stamps, rename yx0/sky_projection)."""
    if isinstance(tree, list):
        return [_to_2100(item) for item in tree]
    if not isinstance(tree, dict) or opaque:
        return tree
    return {
        _RENAMES.get(key, key): _to_2100(value, opaque=key in ("metadata", "obs_info"))
        for key, value in tree.items()
        if key not in _STAMPS
    }


def _tree_text(version: str, name: str) -> str:
    return (fixture_dir(f"lsst-images-{version}") / f"{name}.tree.json").read_text()


def _model(version: str, name: str) -> VisitImageSerializationModel:
    model_type = VisitImage._get_archive_tree_type(Any)
    text = _tree_text(version, name)
    if version == "2100":
        return model_type.model_validate_json(text)
    return model_type.model_validate(_to_2100(json.loads(text)))


def _expect(version: str, name: str) -> dict:
    return load_manifest(f"lsst-images-{version}")["files"][name]["expect"]


def _num(value: Any) -> float:
    return math.nan if value == "NaN" else value


def _box(spec: dict) -> Box:
    return Box(Interval(*spec["y"]), Interval(*spec["x"]))


class _NoArrays:
    """Input archive stand-in for components that hold no out-of-line data."""

    def get_array(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("unexpected array access")

    def deserialize_pointer(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("unexpected pointer")

    def get_frame_set(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("unexpected frame set")


# --- tree parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", VISITS)
def test_2100_tree_round_trips_byte_identically(name: str) -> None:
    text = _tree_text("2100", name)
    model = _model("2100", name)
    assert model.model_dump_json() == text


@pytest.mark.parametrize("version", ["2100", "4300"])
@pytest.mark.parametrize("name", VISITS)
def test_tree_components_match_manifest(version: str, name: str) -> None:
    model = _model(version, name)
    expect = _expect(version, name)
    archive = _NoArrays()
    assert model.bbox == _box(expect["bbox"])
    if version == "2100":
        assert dict(model.metadata) == expect["metadata"]
    else:  # 4300 readers also report the primary header's extra cards as metadata
        assert dict(model.metadata).items() <= expect["metadata"].items()
    _check_psf(model.deserialize_component("psf", archive), expect["psf"])
    _check_obs_info(model.deserialize_component("obs_info", archive), expect["obs_info"])
    _check_summary_stats(model.deserialize_component("summary_stats", archive), expect["summary_stats"])
    _check_detector(model.deserialize_component("detector", archive), expect["detector"])
    _check_bounds(model.deserialize_component("bounds", archive), expect["bounds"])
    _check_field(model.deserialize_component("photometric_scaling", archive), expect["photometric_scaling"])
    corrections = model.deserialize_component("aperture_corrections", archive)
    assert sorted(corrections) == sorted(expect["aperture_corrections"])
    for key, field in corrections.items():
        _check_field(field, expect["aperture_corrections"][key])
    projection = model.deserialize_component("projection", archive)
    assert projection.pixel_frame.detector == expect["projection"]["pixel_frame"]["detector"]
    for point in expect["projection"]["points"]:
        sky = projection.pixel_to_sky(x=point["x"], y=point["y"])
        assert sky.ra.deg == pytest.approx(point["ra_deg"], abs=1e-10)
        assert sky.dec.deg == pytest.approx(point["dec_deg"], abs=1e-10)


def _check_psf(psf: PointSpreadFunction, expect: dict) -> None:
    assert type(psf).__name__ == expect["type"]
    if isinstance(psf, GaussianPointSpreadFunction):
        assert psf.sigma == expect["sigma"]
    for kind, method in (("kernel", psf.compute_kernel_image), ("stellar", psf.compute_stellar_image)):
        spec = expect[kind]
        image = method(x=spec["at"]["x"], y=spec["at"]["y"])
        assert image.bbox == _box(spec["bbox"])
        assert image.array.sum() == pytest.approx(spec["sum"], abs=1e-12)
        assert image.array.max() == pytest.approx(spec["max"], rel=1e-12)
        y, x = np.mgrid[image.bbox.y.start : image.bbox.y.stop, image.bbox.x.start : image.bbox.x.stop]
        total = image.array.sum()
        assert (image.array * x).sum() / total == pytest.approx(spec["centroid_x"], abs=1e-8)
        assert (image.array * y).sum() / total == pytest.approx(spec["centroid_y"], abs=1e-8)


def _check_obs_info(obs_info: Any, expect: dict) -> None:
    assert json.loads(obs_info.model_dump_json()) == expect


def _check_summary_stats(stats: Any, expect: dict) -> None:
    for key, value in expect.items():
        if key in _STAMPS or not hasattr(stats, key):
            continue
        actual = getattr(stats, key)
        if isinstance(value, list):
            np.testing.assert_array_equal(np.array(actual, dtype=float), [_num(v) for v in value])
        elif _num(value) != _num(value):
            assert math.isnan(actual), key
        else:
            assert actual == value, key


def _check_detector(detector: Any, expect: dict) -> None:
    assert detector.name == expect["name"]
    assert detector.id == expect["id"]
    assert detector.serial == expect["serial"]
    assert detector.bbox == _box(expect["bbox"])
    assert detector.visit == expect["visit"]
    assert [amp.name for amp in detector.amplifiers] == expect["amplifier_names"]


def _check_bounds(bounds: Any, expect: dict) -> None:
    if expect["type"] == "Box":
        assert bounds == _box(expect["bbox"])
    else:
        assert isinstance(bounds, Polygon)
        np.testing.assert_allclose(bounds.x_vertices, expect["x_vertices"])
        np.testing.assert_allclose(bounds.y_vertices, expect["y_vertices"])
    assert bounds.bbox == _box(expect["bbox"])
    for sample in expect["contains"]:
        assert bool(bounds.contains(x=sample["x"], y=sample["y"])) == sample["inside"], sample


def _check_field(field: Any, expect: dict | None) -> None:
    if expect is None:
        assert field is None
        return
    assert type(field).__name__ == expect["type"]
    assert (None if field.unit is None else field.unit.to_string()) == expect["unit"]
    assert field.bounds.bbox == _box(expect["bounds_bbox"])
    for point in expect["values"]:
        value = field.evaluate(x=np.array([point["x"]]), y=np.array([point["y"]]), quantity=False)
        assert float(np.asarray(value).ravel()[0]) == pytest.approx(point["value"], rel=1e-12, abs=1e-12)


def test_component_errors() -> None:
    model = _model("2100", "visit_full")
    archive = _NoArrays()
    with pytest.raises(InvalidComponentError):
        model.deserialize_component("nope", archive)
    with pytest.raises(InvalidParameterError):
        model.deserialize_component("psf", archive, bbox=Box.factory[0:1, 0:1])
    with pytest.raises(InvalidParameterError):
        model.deserialize(archive, nonsense=1)


def test_unknown_psf_model_is_deferred(tmp_path: Path) -> None:
    tree = json.loads(_tree_text("2100", "visit_full"))
    tree["psf"] = {"mystery": 1}
    model = VisitImage._get_archive_tree_type(Any).model_validate(tree)
    with pytest.raises(ArchiveReadError, match="mystery"):
        model.deserialize_component("psf", _NoArrays())


# --- full reads and JSON round trips -------------------------------------------------------------------


def _fits_read(version: str, name: str) -> VisitImage:
    fits = pytest.importorskip("lsst.images.fits")
    return fits.read(VisitImage, str(fixture_dir(f"lsst-images-{version}") / f"{name}.fits")).deserialized


@pytest.mark.parametrize("version", ["2100", "4300"])
@pytest.mark.parametrize("name", ["visit_full", "visit_minimal"])
def test_fits_read_matches_manifest(version: str, name: str) -> None:
    visit = _fits_read(version, name)
    expect = _expect(version, name)
    assert visit.bbox == _box(expect["bbox"])
    if version == "2100":
        assert visit.metadata == expect["metadata"]
    else:  # the 4300 reader also reports the primary header's extra cards as metadata
        assert visit.metadata.items() <= expect["metadata"].items()
    for plane in ("image", "variance"):
        spec = expect["planes"][plane]
        assert getattr(visit, plane).unit == u.Unit(spec["unit"])
        for sample in spec["samples"]:
            local = (sample["y"] - visit.bbox.y.start, sample["x"] - visit.bbox.x.start)
            assert getattr(visit, plane).array[local] == np.float32(sample["value"])
    _check_psf(visit.psf, expect["psf"])
    _check_bounds(visit.bounds, expect["bounds"])
    _check_obs_info(visit.obs_info, expect["obs_info"])
    _check_summary_stats(visit.summary_stats, expect["summary_stats"])
    _check_detector(visit.detector, expect["detector"])
    _check_field(visit.photometric_scaling, expect["photometric_scaling"])
    backgrounds = expect["backgrounds"]
    assert list(visit.backgrounds) == list(backgrounds["entries"])
    subtracted = visit.backgrounds.subtracted
    assert (None if subtracted is None else subtracted.name) == backgrounds["subtracted"]
    for key, spec in backgrounds["entries"].items():
        assert visit.backgrounds[key].description == spec["description"]
        _check_field(visit.backgrounds[key].field, spec)


def test_json_round_trip_reproduces_fixture_tree(tmp_path: Path) -> None:

    visit = _fits_read("2100", "visit_full")
    path = tmp_path / "visit.json"
    images_json.write(visit, str(path))
    written = json.loads(path.read_text())
    reference = json.loads(_tree_text("2100", "visit_full"))
    assert list(written) == list(reference)
    for key in reference:
        if key in ("image", "mask", "variance", "backgrounds"):
            continue  # arrays are inline in JSON archives and HDU references in FITS ones
        assert json.dumps(written[key]) == json.dumps(reference[key]), key
    for name, shape in (("fine_spline", (9, 10)), ("coarse_spline", (3, 4))):
        spline = written["backgrounds"]["fields"][name]
        assert spline["data"]["datatype"] == "float64" and np.shape(spline["data"]["data"]) == shape
        assert spline["x"] == reference["backgrounds"]["fields"][name]["x"]
    assert json.dumps(written["backgrounds"]["fields"]["standard"]) == json.dumps(
        reference["backgrounds"]["fields"]["standard"]
    )
    assert written["backgrounds"]["descriptions"] == reference["backgrounds"]["descriptions"]
    assert written["image"]["data"]["unit"] == "nJy" and written["image"]["start"] == [1000, 2000]
    # And the JSON file reads back into an equivalent object.
    again = images_json.read(VisitImage, str(path)).deserialized
    np.testing.assert_array_equal(again.image.array, visit.image.array)
    np.testing.assert_array_equal(again.mask.array, visit.mask.array)
    np.testing.assert_array_equal(again.variance.array, visit.variance.array)
    assert again.bounds == visit.bounds
    assert again.obs_info == visit.obs_info
    assert again.summary_stats == visit.summary_stats
    assert again.psf == visit.psf
    assert again.metadata == visit.metadata
    assert again.unit == u.nJy


def test_json_subimage_read(tmp_path: Path) -> None:
    visit = _fits_read("2100", "visit_full")
    path = tmp_path / "visit.json"
    images_json.write(visit, str(path))
    box = Box.factory[1100:1150, 2000:2050]
    sub = images_json.read(VisitImage, str(path), bbox=box).deserialized
    assert sub.bbox == box
    np.testing.assert_array_equal(sub.image.array, visit[box].image.array)
    # The polygon's slanted edge crosses this box, so the bounds stay a (clipped) polygon.
    assert isinstance(sub.bounds, Polygon)
    assert box.contains(sub.bounds.bbox)


def test_fits_rewrite_passes_fixture_checks(tmp_path: Path) -> None:
    """Rewrite visit_full and check the copy against the container rules and the fixture manifest."""
    import subprocess
    import sys

    visit = _fits_read("2100", "visit_full")
    path = tmp_path / "visit_full.fits"
    visit.write_fits(str(path))
    tree = json.loads(_tree_text("2100", "visit_full"))
    from lsst.images.fits import FitsInputArchive, PointerModel
    from lsst.images.fits import write as fits_write

    with FitsInputArchive.open(str(path)) as archive:
        written = archive.get_tree(VisitImage._get_archive_tree_type(PointerModel))
        assert _same_tree(json.loads(written.model_dump_json()), tree)
        assert written.model_dump_json() == _tree_text("2100", "visit_full")
    tool = fixture_dir("lsst-images-2100").parents[1] / "tools" / "verify_fixtures.py"
    manifest = fixture_dir("lsst-images-2100") / "manifest.json"

    def errors(fits_path: Path) -> set[str]:
        result = subprocess.run(
            [sys.executable, str(tool), "--manifest", str(manifest), "--entry", "visit_full", str(fits_path)],
            capture_output=True,
            text=True,
        )
        return {line.strip() for line in result.stdout.splitlines() if "ERROR" in line}

    # The checker may report environment-dependent findings on the reference file itself (e.g. a
    # last-bit difference in its own Gaussian kernel); the rewrite must not add any.  Rubin's
    # writer adds no checksum cards, so the byte-level comparison is made on a copy written
    # without them; the default copy (with them) may differ from it only in those cards.
    plain = tmp_path / "visit_full_plain.fits"
    fits_write(visit, str(plain), checksum=False)
    reference = errors(fixture_dir("lsst-images-2100") / "visit_full.fits")
    assert errors(plain) <= reference
    assert {e for e in errors(path) if "DATASUM" not in e and "CHECKSUM" not in e} <= reference
    again = VisitImage.read_fits(str(path))
    np.testing.assert_array_equal(again.image.array, visit.image.array)
    np.testing.assert_array_equal(again.mask.array, visit.mask.array)
    assert again.bounds == visit.bounds


def _same_tree(a: Any, b: Any) -> bool:
    """Structural equality where NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


def test_str_and_repr_of_fixture() -> None:
    visit = _fits_read("2100", "visit_minimal")
    assert str(visit) == (
        "VisitImage(Image([y=0:64, x=0:80], float32), ['BAD', 'SATURATED', 'INTERPOLATED', 'COSMIC_RAY', "
        "'DETECTION_EDGE', 'DETECTED', 'SUSPECT', 'NO_DATA'])"
    )
    assert repr(visit).startswith(
        "VisitImage(Image(..., bbox=Box(y=Interval(start=0, stop=64), x=Interval(start=0, stop=80)), "
        "dtype=dtype('float32')), mask_schema=MaskSchema([MaskPlane(name='BAD', "
    )


def test_obs_info_is_built_on_first_use_only() -> None:
    """Reading pixels does not import astro_metadata_translator; obs_info still reads back exactly."""
    import json as _json
    import subprocess
    import sys

    path = fixture_dir("lsst-images-2100") / "visit_full.fits"
    code = (
        "import sys, json, lsst.images as li\n"
        f"v = li.VisitImage.read_fits({str(path)!r})\n"
        "before = 'astro_metadata_translator' in sys.modules\n"
        "print(json.dumps([before, v.obs_info.instrument, 'astro_metadata_translator' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, instrument, after = _json.loads(out.strip().splitlines()[-1])
    tree = _json.loads((fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text())
    assert (before, after) == (False, True)
    assert instrument == tree["obs_info"]["instrument"]


def test_unresolved_obs_info_is_written_back_verbatim(tmp_path) -> None:
    from astro_metadata_translator import ObservationInfo

    from lsst.images.fits import FitsInputArchive

    source = fixture_dir("lsst-images-2100") / "visit_full.fits"
    tree = json.loads((fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text())
    visit = VisitImage.read_fits(source)
    out = tmp_path / "again.fits"
    visit.write_fits(str(out))  # obs_info never looked at
    with FitsInputArchive.open(str(out)) as archive:
        assert archive.get_tree_dict()["obs_info"] == tree["obs_info"]
    again = VisitImage.read_fits(out)
    assert again.obs_info == ObservationInfo.model_validate(tree["obs_info"])
    assert visit[visit.bbox].obs_info is visit.obs_info  # views share the built object


def test_malformed_obs_info_fails_when_used() -> None:
    from lsst.images._deferred_obs_info import DeferredObservationInfo
    from lsst.images.serialization import ArchiveReadError

    with pytest.raises(ArchiveReadError, match="not a valid ObservationInfo"):
        DeferredObservationInfo({"nonsense_key": 1}).resolve()
    with pytest.raises(ArchiveReadError, match="not a valid ObservationInfo"):
        DeferredObservationInfo({"boresight_airmass": "x"}).resolve()
