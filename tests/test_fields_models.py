"""Serialized forms of fields, PSFs, aperture corrections and backgrounds against the fixture trees.

Every component of ``visit_full`` is parsed from the 2100 and 4300 trees; re-dumping a parsed 2100
component must reproduce the reference's exact JSON bytes, and the rebuilt objects must give the
manifest's values.
"""

from __future__ import annotations

import json
from typing import Any

import astropy.units as u
import numpy as np
import pydantic
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images._geom import Box
from lsst.images.fields import (
    ChebyshevField,
    FieldSerializationModel,
    ProductField,
    SplineField,
    SumField,
)
from lsst.images.psfs import GaussianPointSpreadFunction, GaussianPSFSerializationModel

VERSIONS = ["lsst-images-2100", "lsst-images-4300"]
FIELD_ADAPTER = pydantic.TypeAdapter(FieldSerializationModel)


def _tree(version: str) -> tuple[bytes, dict[str, Any]]:
    raw = (fixture_dir(version) / "visit_full.tree.json").read_bytes()
    return raw, json.loads(raw)


def _expect() -> dict[str, Any]:
    return load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]


class _FitsArrays:
    """Minimal input archive serving the referenced arrays of a fixture FITS file (astropy)."""

    def __init__(self, version: str):
        self._path = fixture_dir(version) / "visit_full.fits"

    def get_array(self, model: Any, **kwargs: Any) -> np.ndarray:
        from astropy.io import fits

        if hasattr(model, "source"):
            name = str(model.source).removeprefix("fits:")
            with fits.open(self._path) as hdul:
                return np.array(hdul[name].data)
        return np.array(model.data, dtype=str(model.datatype))


def _read_component(model_type: type[pydantic.BaseModel], version: str, key: str) -> Any:
    """Parse component ``key`` of a fixture tree and rebuild it from the fixture's arrays.

    Re-dumping a parsed 2100 component must reproduce the reference's exact JSON bytes.
    """
    raw, tree = _tree(version)
    model = model_type.model_validate(tree[key])
    if version == "lsst-images-2100":
        assert model.model_dump_json().encode() in raw
    return model.deserialize(_FitsArrays(version))


def _check_values(field: Any, entry: dict[str, Any], rtol: float = 1e-13) -> None:
    xs = np.array([p["x"] for p in entry["values"]])
    ys = np.array([p["y"] for p in entry["values"]])
    np.testing.assert_allclose(field.evaluate(x=xs, y=ys), [p["value"] for p in entry["values"]], rtol=rtol)
    assert (None if field.unit is None else field.unit.to_string()) == entry["unit"]
    bbox = entry["bounds_bbox"]
    assert field.bounds.bbox == Box.factory[bbox["y"][0] : bbox["y"][1], bbox["x"][0] : bbox["x"][1]]


@pytest.mark.parametrize("version", VERSIONS)
def test_photometric_scaling_tree(version):
    raw, tree = _tree(version)
    model = FIELD_ADAPTER.validate_python(tree["photometric_scaling"])
    if version == "lsst-images-2100":
        assert FIELD_ADAPTER.dump_json(model) in raw
    field = model.deserialize(_FitsArrays(version))
    assert isinstance(field, ChebyshevField)
    _check_values(field, _expect()["photometric_scaling"], rtol=0)


@pytest.mark.parametrize("version", VERSIONS)
def test_aperture_corrections_tree(version):
    from lsst.images.aperture_corrections import ApertureCorrectionMapSerializationModel

    corrections = _read_component(ApertureCorrectionMapSerializationModel, version, "aperture_corrections")
    expect = _expect()["aperture_corrections"]
    assert sorted(corrections) == sorted(expect)
    for name, field in corrections.items():
        _check_values(field, expect[name], rtol=0)


@pytest.mark.parametrize("version", VERSIONS)
def test_backgrounds_tree(version):
    from lsst.images._backgrounds import BackgroundMapSerializationModel

    backgrounds = _read_component(BackgroundMapSerializationModel, version, "backgrounds")
    expect = _expect()["backgrounds"]
    assert backgrounds.subtracted is not None and backgrounds.subtracted.name == expect["subtracted"]
    assert list(backgrounds) == list(expect["entries"])
    for name, entry in expect["entries"].items():
        assert backgrounds[name].description == entry["description"]
        assert type(backgrounds[name].field).__name__ == entry["type"]
        _check_values(backgrounds[name].field, entry)


@pytest.mark.parametrize("version", VERSIONS)
def test_gaussian_psf_tree(version):
    psf = _read_component(GaussianPSFSerializationModel, version, "psf")
    assert psf == GaussianPointSpreadFunction(2.0, Box.factory[0:4004, 0:4096], 25)
    kernel = _expect()["psf"]["kernel"]
    image = psf.compute_kernel_image(x=kernel["at"]["x"], y=kernel["at"]["y"])
    assert image.array.max() == pytest.approx(kernel["max"], rel=1e-15)


class _RecordingArchive:
    """Output archive stand-in: records arrays by name, nests names like the FITS archive."""

    def __init__(self, root: str = "", store: dict[str, np.ndarray] | None = None):
        self._root = root
        self.store = {} if store is None else store

    def add_array(self, array: np.ndarray, *, name: str | None = None, **kwargs: Any) -> Any:
        from lsst.images.serialization import ArrayReferenceModel

        key = f"{self._root}/{name}".upper() if self._root else str(name).upper()
        extver = 1
        while (f"{key},{extver}" if extver > 1 else key) in self.store:
            extver += 1
        source = f"{key},{extver}" if extver > 1 else key
        self.store[source] = np.array(array)
        return ArrayReferenceModel(source=f"fits:{source}", shape=list(array.shape), datatype="float64")

    def serialize_direct(self, name: str, serializer: Any) -> Any:
        return serializer(_RecordingArchive(f"{self._root}/{name}" if self._root else name, self.store))

    def get_array(self, model: Any, **kwargs: Any) -> np.ndarray:
        if hasattr(model, "source"):
            return self.store[str(model.source).removeprefix("fits:")]
        return np.array(model.data, dtype=str(model.datatype))


def test_field_round_trips_through_models():
    bounds = Box.factory[0:64, 0:80]
    y = np.array([0.0, 30.0, 63.0])
    x = np.array([0.0, 40.0, 79.0])
    rng = np.random.default_rng(5)
    s1 = SplineField(bounds, rng.normal(size=(3, 3)), y=y, x=x, unit=u.nJy)
    s2 = SplineField(bounds, rng.normal(size=(3, 3)), y=y, x=x, unit=u.nJy)
    cheb = ChebyshevField(Box.factory[10:50, 0:70], rng.normal(size=(2, 3)), unit=u.s)
    fields = [SumField([s1, s2]), ProductField([cheb, s2]), cheb, s1]
    archive = _RecordingArchive()
    px = np.array([3.0, 41.5, 60.0])
    py = np.array([12.0, 20.0, 45.0])
    for i, field in enumerate(fields):
        model = archive.serialize_direct(f"f{i}", field.serialize)
        parsed = FIELD_ADAPTER.validate_json(FIELD_ADAPTER.dump_json(model))
        rebuilt = parsed.deserialize(archive)
        assert type(rebuilt) is type(field)
        assert rebuilt.unit == field.unit
        assert rebuilt.bounds == field.bounds
        np.testing.assert_array_equal(rebuilt.evaluate(x=px, y=py), field.evaluate(x=px, y=py))
    # Operands share their parent's archive path; repeated names get EXTVER suffixes.
    assert "F0/DATA" in archive.store and "F0/DATA,2" in archive.store and "F1/DATA" in archive.store


def _visit_trees() -> list[tuple[str, str]]:
    cases = []
    for version in VERSIONS:
        for path in sorted(fixture_dir(version).glob("visit_*.tree.json")):
            cases.append((version, path.name.removesuffix(".tree.json")))
    return cases


@pytest.mark.parametrize("version, name", _visit_trees())
def test_every_visit_tree_component_parses(version, name):
    from lsst.images import ObservationSummaryStats
    from lsst.images._backgrounds import BackgroundMapSerializationModel
    from lsst.images.aperture_corrections import ApertureCorrectionMapSerializationModel

    raw = (fixture_dir(version) / f"{name}.tree.json").read_bytes()
    tree = json.loads(raw)
    models: list[Any] = [
        GaussianPSFSerializationModel.model_validate(tree["psf"]),
        ObservationSummaryStats.model_validate(tree["summary_stats"]),
    ]
    if "aperture_corrections" in tree:
        models.append(ApertureCorrectionMapSerializationModel.model_validate(tree["aperture_corrections"]))
    if "backgrounds" in tree:
        models.append(BackgroundMapSerializationModel.model_validate(tree["backgrounds"]))
    if tree.get("photometric_scaling") is not None:
        models.append(FIELD_ADAPTER.validate_python(tree["photometric_scaling"]))
    manifest = load_manifest(version)["files"][name]["expect"]
    stats = models[1]
    for key, value in manifest["summary_stats"].items():
        if key in type(stats).model_fields and not isinstance(value, str) and not isinstance(value, list):
            assert getattr(stats, key) == value, key
    if version == "lsst-images-2100":
        for model in models:
            assert model.model_dump_json().encode() in raw
