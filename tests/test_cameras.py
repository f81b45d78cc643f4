"""Tests for lsst.images.cameras: the LSSTCam detector stored in the fixtures' visit-image trees."""

from __future__ import annotations

import json

import astropy.units as u
import numpy as np
import pydantic
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images import YX, Box, DetectorFrame, FieldAngleFrame, FocalPlaneFrame, Interval
from lsst.images import json as images_json
from lsst.images.cameras import (
    Amplifier,
    AmplifierCalibrations,
    AmplifierRawGeometry,
    Detector,
    DetectorAttributes,
    DetectorSerializationModel,
    DetectorType,
    Orientation,
    ReadoutCorner,
)

#: 4300 adds these schema stamps to every archive tree; 2100 does not know them.
_SCHEMA_STAMPS = ("schema_version", "min_read_version", "schema_url")


def _raw_subtree(raw: str, key: str) -> tuple[dict, str]:
    """Return the parsed value of a top-level key of a JSON object and its exact source text."""
    decoder = json.JSONDecoder()
    pos = raw.index("{") + 1
    while True:
        name, pos = decoder.raw_decode(raw, raw.index('"', pos))
        start = raw.index(":", pos) + 1
        value, pos = decoder.raw_decode(raw, start)
        if name == key:
            return value, raw[start:pos]
        pos = raw.index(",", pos) + 1


def _strip_stamps(tree: object) -> object:
    """Drop the 4300 schema stamps recursively (a tiny local version of the 4300 → 2100 adapter)."""
    if isinstance(tree, dict):
        return {k: _strip_stamps(v) for k, v in tree.items() if k not in _SCHEMA_STAMPS}
    if isinstance(tree, list):
        return [_strip_stamps(v) for v in tree]
    return tree


@pytest.fixture(scope="module")
def detector_2100() -> tuple[dict, str]:
    raw = (fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text()
    return _raw_subtree(raw, "detector")


@pytest.fixture(scope="module")
def detector(detector_2100: tuple[dict, str], tmp_path_factory: pytest.TempPathFactory) -> Detector:
    path = tmp_path_factory.mktemp("det") / "detector.json"
    path.write_text(detector_2100[1])
    return images_json.read(Detector, str(path)).deserialized


def test_model_round_trip_is_byte_identical(detector_2100: tuple[dict, str]) -> None:
    tree, text = detector_2100
    model = DetectorSerializationModel.model_validate_json(text)
    assert model.model_dump_json() == text
    assert model.attributes.name == "R21_S11"
    assert model.frames is not None and model.frames.instrument == "LSSTCam"
    assert model.visit == 2025052000177
    assert len(model.amplifiers) == len(tree["amplifiers"]) == 16


def test_detector_matches_manifest(detector: Detector) -> None:
    expect = load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]["detector"]
    assert detector.name == expect["name"]
    assert detector.id == expect["id"]
    assert detector.serial == expect["serial"]
    assert detector.bbox == Box(Interval(*expect["bbox"]["y"]), Interval(*expect["bbox"]["x"]))
    assert detector.visit == expect["visit"]
    assert len(detector.amplifiers) == expect["n_amplifiers"]
    assert [amp.name for amp in detector.amplifiers] == expect["amplifier_names"]
    assert detector.type is DetectorType.SCIENCE
    assert detector.instrument == "LSSTCam"
    assert detector.physical_type == "E2V"
    assert detector.pixel_size == 0.01
    assert detector.orientation.focal_plane_x == -127.0
    assert detector.orientation.pixel_reference_x == 2047.5
    assert detector.orientation.pixel_reference_y == 2001.5
    assert detector.orientation.yaw == 0.0 * u.rad


def test_amplifier_details(detector: Detector) -> None:
    c10 = detector.amplifiers[0]
    assert c10.name == "C10"
    assert c10.bbox == Box.factory[2002:4004, 0:512]
    assert c10.readout_corner is ReadoutCorner.LR
    raw = c10.assembled_raw_geometry
    assert raw is not None and c10.unassembled_raw_geometry is None
    assert raw.data_bbox == Box.factory[2094:4096, 54:566]
    assert raw.horizontal_overscan_bbox == raw.serial_overscan_bbox == Box.factory[2094:4096, 0:54]
    assert raw.vertical_overscan_bbox == Box.factory[2048:2094, 54:566]
    assert raw.serial_prescan_bbox == raw.horizontal_prescan_bbox == Box.factory[2094:4096, 566:576]
    cal = c10.nominal_calibrations
    assert cal is not None
    assert cal.gain == 1.51526 and cal.read_noise == 5.557 and cal.saturation == 130537.0
    assert np.isnan(cal.suspect_level)
    np.testing.assert_array_equal(cal.linearity_coefficients, [0.0, 142857.0])
    assert cal.linearity_type == "PROPORTIONAL"
    # The amplifier boxes tile the detector exactly.
    coverage = np.zeros(detector.bbox.shape, dtype=int)
    for amp in detector.amplifiers:
        coverage[amp.bbox.slice_within(detector.bbox)] += 1
    assert (coverage == 1).all()


def test_frames_and_transforms(detector: Detector) -> None:
    frame = detector.frame
    assert isinstance(frame, DetectorFrame)
    assert (frame.instrument, frame.visit, frame.detector) == ("LSSTCam", 2025052000177, 85)
    to_fp = detector.to_focal_plane
    assert to_fp.in_frame == frame
    assert isinstance(to_fp.out_frame, FocalPlaneFrame) and to_fp.out_frame.visit == 2025052000177
    # Focal plane = (pixel - reference) * pixel size + detector position (no rotation for this detector).
    x = np.array([0.0, 2047.5, 4095.0, 1000.0])
    y = np.array([0.0, 2001.5, 4003.0, 3000.0])
    fp = to_fp.apply_forward(x=x, y=y)
    np.testing.assert_allclose(fp.x, (x - 2047.5) * 0.01 - 127.0, atol=1e-10)
    np.testing.assert_allclose(fp.y, (y - 2001.5) * 0.01, atol=1e-10)
    to_fa = detector.to_field_angle
    assert isinstance(to_fa.out_frame, FieldAngleFrame)
    fa = to_fa.apply_forward(x=x, y=y)
    # Radial distortion polynomial stored in the camera's AST frame set (odd powers of the radius, in mm).
    r = np.hypot(fp.x, fp.y)
    theta = 9.6991183036463177e-05 * r - 8.0862906301141211e-13 * r**3 - 1.3713569596777536e-19 * r**5
    np.testing.assert_allclose(fa.x, theta * fp.x / r, rtol=1e-10)
    np.testing.assert_allclose(fa.y, theta * fp.y / r, rtol=1e-10, atol=1e-15)
    back = to_fp.apply_inverse(x=fp.x, y=fp.y)
    np.testing.assert_allclose(back.x, x, atol=1e-8)
    np.testing.assert_allclose(back.y, y, atol=1e-8)


def test_copy_is_deep_but_shares_frames(detector: Detector) -> None:
    copy = detector.copy()
    assert copy is not detector
    assert copy.amplifiers == detector.amplifiers
    assert copy.amplifiers[0] is not detector.amplifiers[0]
    copy.amplifiers[0].nominal_calibrations.gain = 2.0
    assert detector.amplifiers[0].nominal_calibrations.gain == 1.51526
    assert copy.frame == detector.frame
    assert copy.visit == detector.visit
    np.testing.assert_allclose(
        copy.to_focal_plane.apply_forward(x=10.0, y=20.0),
        detector.to_focal_plane.apply_forward(x=10.0, y=20.0),
    )


def test_serialize_with_json_archive_reproduces_tree(detector: Detector, tmp_path) -> None:
    path = tmp_path / "detector.json"
    images_json.write(detector, str(path))
    tree = json.loads(path.read_text())
    reference = json.loads((fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text())["detector"]
    assert _nan_equal(tree, reference)
    again = images_json.read(Detector, str(path)).deserialized
    assert again.amplifiers == detector.amplifiers
    assert again.frame == detector.frame


def _nan_equal(a: object, b: object) -> bool:
    """Structural equality where NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_nan_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_nan_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


def test_serialize_without_frames(detector: Detector, tmp_path) -> None:
    class _NoArchive:
        def serialize_direct(self, name, serializer):  # pragma: no cover - must not be called
            raise AssertionError("frames must not be saved")

    model = detector.serialize(_NoArchive(), save_frames=False)  # type: ignore[arg-type]
    assert model.frames is None
    assert json.loads(model.model_dump_json())["frames"] is None
    from lsst.images.serialization import ArchiveReadError

    with pytest.raises(ArchiveReadError):
        model.deserialize(None)  # type: ignore[arg-type]
    rebuilt = model.deserialize(None, frames=detector._frames)  # type: ignore[arg-type]
    assert rebuilt.frame == detector.frame


def test_4300_detector_parses_after_stripping_stamps(detector_2100: tuple[dict, str]) -> None:
    raw = (fixture_dir("lsst-images-4300") / "visit_full.tree.json").read_text()
    tree = json.loads(raw)["detector"]
    assert tree["schema_version"] == "1.1.0"
    model = DetectorSerializationModel.model_validate(_strip_stamps(tree))
    reference = DetectorSerializationModel.model_validate_json(detector_2100[1])
    assert model.attributes == reference.attributes
    assert model.amplifiers == reference.amplifiers
    assert model.visit == reference.visit
    assert model.frames == reference.frames


def test_prescan_may_be_null() -> None:
    geometry = AmplifierRawGeometry(
        bbox=Box.factory[0:10, 0:12],
        data_bbox=Box.factory[1:10, 1:11],
        serial_overscan_bbox=Box.factory[1:10, 11:12],
        parallel_overscan_bbox=Box.factory[0:1, 1:11],
        prescan_bbox=None,
        readout_corner="LL",
    )
    assert geometry.prescan_bbox is None and geometry.serial_prescan_bbox is None
    assert geometry.flip_x is False and geometry.x_offset == 0
    geometry.horizontal_prescan_bbox = Box.factory[1:10, 0:1]
    assert geometry.prescan_bbox == Box.factory[1:10, 0:1]
    geometry.vertical_overscan_bbox = Box.factory[0:1, 0:12]
    assert geometry.parallel_overscan_bbox == Box.factory[0:1, 0:12]
    with pytest.raises(pydantic.ValidationError):
        AmplifierRawGeometry(
            bbox=Box.factory[0:10, 0:12],
            data_bbox=Box.factory[1:10, 1:11],
            serial_overscan_bbox=Box.factory[1:10, 11:12],
            parallel_overscan_bbox=Box.factory[0:1, 1:11],
            readout_corner="LL",
        )


@pytest.mark.parametrize(
    ("corner", "flips"),
    [
        (ReadoutCorner.LL, (False, False)),
        (ReadoutCorner.LR, (False, True)),
        (ReadoutCorner.UR, (True, True)),
        (ReadoutCorner.UL, (True, False)),
    ],
)
def test_readout_corner_flips(corner: ReadoutCorner, flips: tuple[bool, bool]) -> None:
    assert corner.as_flips() == YX(*flips)
    assert ReadoutCorner.from_flips(y=flips[0], x=flips[1]) is corner
    # Applying the flips that bring a corner to LL gives LL; applying them twice is the identity.
    assert corner.apply_flips(y=flips[0], x=flips[1]) is ReadoutCorner.LL
    assert corner.apply_flips(y=False, x=False) is corner
    for fy in (False, True):
        for fx in (False, True):
            assert corner.apply_flips(y=fy, x=fx).apply_flips(y=fy, x=fx) is corner


def test_readout_corner_single_flips() -> None:
    assert ReadoutCorner.LL.apply_flips(y=True, x=False) is ReadoutCorner.UL
    assert ReadoutCorner.LL.apply_flips(y=False, x=True) is ReadoutCorner.LR
    assert ReadoutCorner.UR.apply_flips(y=True, x=False) is ReadoutCorner.LR
    assert ReadoutCorner("UL") is ReadoutCorner.UL and str(ReadoutCorner.UL) == "UL"


def test_orientation_defaults_and_quantities() -> None:
    orientation = Orientation(focal_plane_x=1, focal_plane_y=2, focal_plane_z=3)
    assert orientation.pixel_reference_x == 0.5 and orientation.pixel_reference_y == 0.5
    assert orientation.yaw.unit == u.rad and orientation.yaw.value == 0.0
    dumped = json.loads(orientation.model_dump_json())
    assert dumped["roll"] == {"value": 0.0, "unit": "rad"}
    rotated = Orientation(focal_plane_x=1, focal_plane_y=2, focal_plane_z=3, yaw=90 * u.deg)
    assert rotated.yaw.to_value(u.rad) == pytest.approx(np.pi / 2)
    assert Orientation.model_validate_json(rotated.model_dump_json()) == rotated
    assert rotated != orientation


def test_detector_type_values() -> None:
    assert [t.value for t in DetectorType] == ["SCIENCE", "FOCUS", "GUIDER", "WAVEFRONT"]


def test_calibrations_equality_handles_arrays_and_nan() -> None:
    kwargs = dict(gain=1.0, read_noise=2.0, saturation=3.0, suspect_level=float("nan"), linearity_type="NONE")
    a = AmplifierCalibrations(linearity_coefficients=np.array([1.0, 2.0]), **kwargs)
    b = AmplifierCalibrations(linearity_coefficients=np.array([1.0, 2.0]), **kwargs)
    c = AmplifierCalibrations(linearity_coefficients=np.array([1.0, 3.0]), **kwargs)
    assert a == b and a != c


def test_frame_set_must_contain_detector(detector: Detector) -> None:
    attributes = detector._attributes.model_copy(update={"id": 999})
    with pytest.raises(LookupError):
        Detector(attributes, detector.amplifiers, detector._frames)


def test_visit_free_detector(detector: Detector) -> None:
    no_visit = Detector(detector._attributes, detector.amplifiers, detector._frames)
    assert no_visit.visit is None
    assert no_visit.frame.visit is None
    assert no_visit.to_focal_plane.out_frame.visit is None


def test_attribute_struct_round_trip(detector: Detector) -> None:
    attributes = DetectorAttributes.model_validate_json(detector._attributes.model_dump_json())
    assert attributes == detector._attributes
    amp = Amplifier.model_validate_json(detector.amplifiers[3].model_dump_json())
    assert amp == detector.amplifiers[3]


# --- conversion from duck-typed stand-ins for afw cameraGeom objects ---------------------------------------


class _Getter:
    """Object whose ``getXxx()`` methods return the given values (stand-in for afw/geom types)."""

    def __init__(self, **values: object) -> None:
        for key, value in values.items():
            setattr(self, f"get{key}", lambda value=value: value)


def _legacy_box(box: Box) -> _Getter:
    return _Getter(MinX=box.x.min, MinY=box.y.min, MaxX=box.x.max, MaxY=box.y.max)


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


def _legacy_amplifier(amp: Amplifier) -> _Getter:
    raw = amp.assembled_raw_geometry
    cal = amp.nominal_calibrations
    return _Getter(
        Name=amp.name,
        BBox=_legacy_box(amp.bbox),
        ReadoutCorner=_Named(raw.readout_corner.value),
        RawBBox=_legacy_box(raw.bbox),
        RawDataBBox=_legacy_box(raw.data_bbox),
        RawFlipX=raw.flip_x,
        RawFlipY=raw.flip_y,
        RawXYOffset=_Getter(X=raw.x_offset, Y=raw.y_offset),
        RawSerialOverscanBBox=_legacy_box(raw.serial_overscan_bbox),
        RawParallelOverscanBBox=_legacy_box(raw.parallel_overscan_bbox),
        RawSerialPrescanBBox=_legacy_box(raw.prescan_bbox),
        Gain=cal.gain,
        ReadNoise=cal.read_noise,
        Saturation=cal.saturation,
        SuspectLevel=cal.suspect_level,
        LinearityCoeffs=list(cal.linearity_coefficients),
        LinearityType=cal.linearity_type,
    )


class _Shown:
    def __init__(self, text: str) -> None:
        self._text = text

    def show(self) -> str:
        return self._text


class _Angle:
    def __init__(self, radians: float) -> None:
        self._radians = radians

    def asRadians(self) -> float:  # noqa: N802
        return self._radians


class _LegacyTransformMap:
    """The afw TransformMap API used by CameraFrameSet.from_legacy, backed by a real CameraFrameSet."""

    def __init__(self, frames, detector_name: str, detector_id: int) -> None:
        self._frames = frames
        self._id = detector_id
        self._systems = [
            _Getter(SysName="FocalPlane", DetectorName=""),
            _Getter(SysName="FieldAngle", DetectorName=""),
            _Getter(SysName="Pixels", DetectorName=detector_name),
        ]

    def __iter__(self):
        return iter(self._systems)

    def getTransform(self, source, target):  # noqa: N802
        out = {"FieldAngle": self._frames.field_angle(), "Pixels": self._frames.detector(self._id)}
        text = self._frames[self._frames.focal_plane(), out[target.getSysName()]].show()
        return _Getter(Mapping=_Shown(text))


def test_detector_from_legacy_stand_in(detector: Detector) -> None:
    orientation = detector.orientation
    legacy = _Getter(
        Name=detector.name,
        Id=detector.id,
        Type=_Named("SCIENCE"),
        Serial=detector.serial,
        BBox=_legacy_box(detector.bbox),
        Orientation=_Getter(
            FpPosition3=_Getter(
                X=orientation.focal_plane_x, Y=orientation.focal_plane_y, Z=orientation.focal_plane_z
            ),
            ReferencePoint=_Getter(X=orientation.pixel_reference_x, Y=orientation.pixel_reference_y),
            Yaw=_Angle(0.0),
            Pitch=_Angle(0.0),
            Roll=_Angle(0.0),
        ),
        PixelSize=_Getter(X=detector.pixel_size, Y=detector.pixel_size),
        PhysicalType=detector.physical_type,
        Amplifiers=[_legacy_amplifier(amp) for amp in detector.amplifiers],
        TransformMap=_LegacyTransformMap(detector._frames, detector.name, detector.id),
    )
    converted = Detector.from_legacy(legacy, instrument="LSSTCam", visit=7)
    assert converted.visit == 7 and converted.instrument == "LSSTCam"
    assert converted._attributes == detector._attributes
    assert [amp.name for amp in converted.amplifiers] == [amp.name for amp in detector.amplifiers]
    for new, old in zip(converted.amplifiers, detector.amplifiers, strict=True):
        assert new.bbox == old.bbox
        assert new.assembled_raw_geometry == old.assembled_raw_geometry
        assert new.unassembled_raw_geometry is None
        assert new.nominal_calibrations == old.nominal_calibrations
        # afw stores the raw readout corner; the assembled one follows from the (here absent) flips.
        assert new.readout_corner is old.assembled_raw_geometry.readout_corner
    x, y = np.array([0.0, 2047.5, 4095.0]), np.array([0.0, 2001.5, 4003.0])
    np.testing.assert_allclose(
        converted.to_field_angle.apply_forward(x=x, y=y),
        detector.to_field_angle.apply_forward(x=x, y=y),
        rtol=0,
        atol=1e-12,
    )


def test_pickle(detector: Detector) -> None:
    import pickle

    again = pickle.loads(pickle.dumps(detector))
    assert again.frame == detector.frame
    assert again.amplifiers == detector.amplifiers
    np.testing.assert_allclose(
        again.to_field_angle.apply_forward(x=100.0, y=200.0),
        detector.to_field_angle.apply_forward(x=100.0, y=200.0),
    )


def test_repr(detector: Detector) -> None:
    assert repr(detector) == (
        "Detector(name='R21_S11', id=85, instrument='LSSTCam', visit=2025052000177, "
        "bbox=[y=0:4004, x=0:4096], amplifiers=16)"
    )
