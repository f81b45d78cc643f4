"""Tests for the serialized forms of transforms, projections and camera frame sets."""

import json

import astropy.units as u
import numpy as np
import pytest
from starlink import Ast

from conftest import fixture_dir, load_manifest
from lsst.images import (
    ICRS,
    Box,
    CameraFrameSet,
    DetectorFrame,
    GeneralFrame,
    Polygon,
    Projection,
    Transform,
)
from lsst.images._transforms import _ast_utils

pytest.importorskip("lsst.images.serialization")

from lsst.images._transforms._models import (  # noqa: E402
    CameraFrameSetSerializationModel,
    MappingSerializationModel,
    ProjectionSerializationModel,
    TransformSerializationModel,
)

FIXTURE_SETS = ["lsst-images-2100", "lsst-images-4300"]


class _OutputArchive:
    """The part of the OutputArchive interface transforms use: frame sets stored so far."""

    def __init__(self, frame_sets=()):
        self._frame_sets = list(frame_sets)

    def iter_frame_sets(self):
        return iter(self._frame_sets)


class _InputArchive:
    """The part of the InputArchive interface transforms use: frame sets by pointer."""

    def __init__(self, frame_sets=None):
        self._frame_sets = frame_sets or {}

    def get_frame_set(self, pointer):
        return self._frame_sets[pointer]


def _projection_cases():
    cases = []
    for fixture_set in FIXTURE_SETS:
        for name, entry in load_manifest(fixture_set)["files"].items():
            if (entry.get("expect") or {}).get("projection"):
                cases.append(pytest.param(fixture_set, name, id=f"{fixture_set}/{name}"))
    return cases


_EMPTY_ARCHIVE_TREE_FIELDS = {"metadata": {}, "indirect": [], "butler_info": None}


def _strip_empty(value):
    """Drop the empty ArchiveTree bookkeeping fields, which archives omit from the JSON they write."""
    if isinstance(value, dict):
        return {
            key: _strip_empty(item)
            for key, item in value.items()
            if not (key in _EMPTY_ARCHIVE_TREE_FIELDS and item == _EMPTY_ARCHIVE_TREE_FIELDS[key])
        }
    if isinstance(value, list):
        return [_strip_empty(item) for item in value]
    return value


def _dump(model) -> dict:
    return _strip_empty(json.loads(model.model_dump_json()))


@pytest.mark.parametrize("fixture_set,name", _projection_cases())
def test_fixture_projection_model_round_trip(fixture_set, name):
    tree = json.loads((fixture_dir(fixture_set) / f"{name}.tree.json").read_text())
    stored = tree.get("projection") or tree.get("sky_projection")
    stored = {
        key: value
        for key, value in stored.items()
        if key not in ("schema_version", "min_read_version", "schema_url")
    }
    stored["pixel_to_sky"] = {
        key: value
        for key, value in stored["pixel_to_sky"].items()
        if key not in ("schema_version", "min_read_version", "schema_url")
    }
    model = ProjectionSerializationModel.model_validate(stored)
    projection = model.deserialize(_InputArchive())
    points = load_manifest(fixture_set)["files"][name]["expect"]["projection"]["points"]
    x, y = np.array([p["x"] for p in points]), np.array([p["y"] for p in points])
    sky = projection.pixel_to_sky(x=x, y=y)
    np.testing.assert_allclose(sky.ra.deg, [p["ra_deg"] for p in points], rtol=0, atol=1e-9)
    np.testing.assert_allclose(sky.dec.deg, [p["dec_deg"] for p in points], rtol=0, atol=1e-9)
    assert projection.pixel_bounds == projection.pixel_frame.bbox
    again = projection.serialize(_OutputArchive())
    assert _dump(again) == stored
    assert again.pixel_to_sky.mappings[0].ast == stored["pixel_to_sky"]["mappings"][0]["ast"]


def test_fixture_projection_json_bytes():
    """The transform JSON (frames, bounds, mapping text) is byte-identical to the reference tree."""
    text = (fixture_dir("lsst-images-2100") / "image_f32_with_projection.tree.json").read_text()
    stored = json.loads(text)["projection"]
    projection = ProjectionSerializationModel.model_validate(stored).deserialize(_InputArchive())
    model = projection.serialize(_OutputArchive())
    data = _dump(model.pixel_to_sky)
    assert json.dumps(data, separators=(",", ":")) in text


def test_composed_transform_keeps_intermediate_frames():
    f1, f2, f3 = GeneralFrame(unit=u.mm), GeneralFrame(unit=u.um), GeneralFrame(unit=u.pix)
    box = Box.factory[0:10, 0:20]
    polygon = Polygon(x_vertices=[0, 5, 5], y_vertices=[0, 0, 5])
    t12 = Transform(f1, f2, Ast.ShiftMap([1.0, 2.0]), in_bounds=box)
    t23 = Transform(f2, f3, Ast.ZoomMap(2, 3.0), out_bounds=polygon)
    model = t12.then(t23).serialize(_OutputArchive())
    data = _dump(model)
    assert data["frames"] == [
        {"unit": "mm", "frame_type": "GENERAL"},
        {"unit": "um", "frame_type": "GENERAL"},
        {"unit": "pixel", "frame_type": "GENERAL"},  # VOUnit spelling, as the reference writes it
    ]
    assert data["bounds"][0] == {"y": {"start": 0, "stop": 10}, "x": {"start": 0, "stop": 20}}
    assert data["bounds"][1] is None and data["bounds"][2]["type"] == "Polygon"
    assert [list(m) for m in data["mappings"]] == [["ast"], ["ast"]]
    restored = TransformSerializationModel.model_validate_json(model.model_dump_json()).deserialize(
        _InputArchive()
    )
    assert [t.out_frame for t in restored.decompose()] == [f2, f3]
    assert restored.in_bounds == box and restored.out_bounds == polygon
    assert restored.apply_forward(x=1.0, y=1.0) == (6.0, 9.0)
    identity = Transform.identity(f1).serialize(_OutputArchive())
    # Like the reference: an identity is still written as one (UnitMap) mapping between two frames.
    assert identity.frames == [f1, f1] and len(identity.mappings) == 1
    assert "Begin UnitMap" in identity.mappings[0].ast
    restored_identity = identity.deserialize(_InputArchive())
    assert restored_identity.apply_forward(x=2.0, y=3.0) == (2.0, 3.0)
    assert restored_identity.decompose() == []


def test_serialization_errors():
    with pytest.raises(ValueError, match="one more frame"):
        TransformSerializationModel(
            frames=[ICRS], bounds=[None], mappings=[MappingSerializationModel(ast="x")]
        ).deserialize(_InputArchive())


def test_camera_frame_set_model_and_frame_set_pointers():
    tree = json.loads((fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text())
    stored = tree["detector"]["frames"]
    model = CameraFrameSetSerializationModel.model_validate(stored)
    frames = model.deserialize(_InputArchive())
    assert isinstance(frames, CameraFrameSet) and frames.instrument == "LSSTCam"
    assert _dump(frames.serialize(_OutputArchive())) == stored
    detector = frames.detector(85)
    transform = frames[detector, frames.focal_plane()]
    # With use_frame_sets, the mapping becomes a pointer to the stored camera frame set.
    model = transform.serialize(_OutputArchive([(frames, "camera-pointer")]), use_frame_sets=True)
    assert model.mappings == ["camera-pointer"]
    restored = model.deserialize(_InputArchive({"camera-pointer": frames}))
    x, y = np.array([0.0, 4095.0]), np.array([0.0, 4003.0])
    np.testing.assert_allclose(restored.apply_forward(x=x, y=y), transform.apply_forward(x=x, y=y))
    assert (
        transform.serialize(_OutputArchive([(frames, "camera-pointer")])).mappings[0].ast.startswith(" Begin")
    )


def test_projection_with_fits_approximation_round_trip():
    frame = DetectorFrame(instrument="X", detector=1, bbox=Box.factory[0:100, 0:100])
    import astropy.wcs

    wcs = astropy.wcs.WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [10.0, 20.0]
    wcs.wcs.crpix = [50.0, 50.0]
    wcs.wcs.cd = [[-5e-5, 0.0], [0.0, 5e-5]]
    exact = Projection.from_fits_wcs(wcs, frame)
    projection = Projection(exact.pixel_to_sky_transform, fits_approximation=exact.pixel_to_sky_transform)
    model = projection.serialize(_OutputArchive())
    assert "fits_approximation" in _dump(model)
    assert "fits_approximation" not in json.loads(exact.serialize(_OutputArchive()).model_dump_json())
    restored = ProjectionSerializationModel.model_validate_json(model.model_dump_json()).deserialize(
        _InputArchive()
    )
    assert restored.fits_approximation.show() == exact.show()
    assert _ast_utils.ast_to_text(restored.pixel_to_sky_transform._ast) == _ast_utils.ast_to_text(
        exact.pixel_to_sky_transform._ast
    )
