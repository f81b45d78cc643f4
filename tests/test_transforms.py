"""Tests for frames, Transform and CameraFrameSet (lsst.images._transforms)."""

import json
import math
import pickle
import unittest

import astropy.units as u
import numpy as np
import pydantic
import pytest
from starlink import Ast

from conftest import fixture_dir
from lsst.images import (
    ICRS,
    Box,
    CameraFrameSet,
    DetectorFrame,
    FieldAngleFrame,
    FocalPlaneFrame,
    FrameLookupError,
    GeneralFrame,
    SerializableFrame,
    SkyFrame,
    TractFrame,
    Transform,
    TransformCompositionError,
)
from lsst.images._transforms import _ast_utils
from lsst.images.tests import check_transform

BBOX = Box.factory[0:4004, 0:4096]


@pytest.fixture
def tc():
    return unittest.TestCase()


def _affine(a: float, b: float, c: float, d: float, dx: float, dy: float) -> Ast.Mapping:
    """AST mapping (x, y) -> (a x + b y + dx, c x + d y + dy)."""
    return Ast.CmpMap(Ast.MatrixMap([[a, b], [c, d]]), Ast.ShiftMap([dx, dy]), True)


# --- frames -----------------------------------------------------------------------------------------------


def test_frame_equality_hash_and_units():
    a = DetectorFrame(instrument="LSSTCam", detector=85, bbox=BBOX)
    b = DetectorFrame(instrument="LSSTCam", detector=85, bbox=Box.factory[0:4004, 0:4096])
    assert a == b and hash(a) == hash(b)
    assert a != DetectorFrame(instrument="LSSTCam", visit=1, detector=85, bbox=BBOX)
    assert len({a, b, FieldAngleFrame(instrument="LSSTCam")}) == 2
    assert a.unit == u.pix
    assert TractFrame(skymap="s", tract=3, bbox=BBOX).unit == u.pix
    assert FocalPlaneFrame(instrument="LSSTCam", unit=u.mm).unit == u.mm
    assert FieldAngleFrame(instrument="LSSTCam").unit == u.rad
    assert GeneralFrame(unit=u.mm) == GeneralFrame(unit=u.mm)
    assert hash(GeneralFrame(unit=u.mm)) == hash(GeneralFrame(unit=u.mm))
    assert ICRS is SkyFrame.ICRS and ICRS == "ICRS" and ICRS.unit == u.rad
    with pytest.raises(pydantic.ValidationError):
        a.detector = 3  # frozen


def test_frame_standardization():
    np.testing.assert_allclose(ICRS.standardize_x(np.array([-1.0, 7.0])), [2 * math.pi - 1, 7 - 2 * math.pi])
    np.testing.assert_allclose(ICRS.standardize_y(np.array([-4.0, 4.0])), [2 * math.pi - 4, 4 - 2 * math.pi])
    assert ICRS.standardize_x(-1.0) == pytest.approx(2 * math.pi - 1)
    fa = FieldAngleFrame(instrument="X")
    np.testing.assert_allclose(
        fa.standardize_x(np.array([-4.0, 4.0, 0.1])), [2 * math.pi - 4, 4 - 2 * math.pi, 0.1]
    )
    arr = np.array([1e6, -3.0])
    assert DetectorFrame(instrument="X", detector=1, bbox=BBOX).standardize_x(arr) is arr


def test_frame_json_round_trip():
    frames = [
        ICRS,
        DetectorFrame(instrument="LSSTCam", visit=2025052000177, detector=85, bbox=BBOX),
        DetectorFrame(instrument="LSSTCam", detector=85, bbox=BBOX),
        FocalPlaneFrame(instrument="LSSTCam", unit=u.mm),
        FieldAngleFrame(instrument="LSSTCam", visit=4),
        TractFrame(skymap="cells", tract=9813, bbox=BBOX),
        GeneralFrame(unit=u.arcsec),
    ]
    adapter = pydantic.TypeAdapter(list[SerializableFrame])
    text = adapter.dump_json(frames)
    assert adapter.validate_json(text) == frames
    data = json.loads(text)
    assert data[0] == "ICRS"
    # Field order and omission of a missing visit match the reference JSON trees.
    assert list(data[1]) == ["instrument", "visit", "detector", "bbox", "frame_type"]
    assert list(data[2]) == ["instrument", "detector", "bbox", "frame_type"]
    assert data[3] == {"instrument": "LSSTCam", "unit": "mm", "frame_type": "FOCAL_PLANE"}
    assert data[6] == {"unit": "arcsec", "frame_type": "GENERAL"}
    for frame in frames:
        assert frame.serialize() is frame and frame.deserialize() is frame


def test_fixture_frame_json_is_reproduced():
    tree_bytes = (fixture_dir("lsst-images-2100") / "image_f32_with_projection.tree.json").read_text()
    stored = json.loads(tree_bytes)["projection"]["pixel_to_sky"]["frames"]
    adapter = pydantic.TypeAdapter(list[SerializableFrame])
    frames = adapter.validate_python(stored)
    assert frames[1] is ICRS
    assert frames[0].bbox == BBOX and frames[0].visit == 2025052000177
    assert adapter.dump_json(frames).decode() in tree_bytes


# --- Transform ----------------------------------------------------------------------------------------------


def test_transform_affine_all_interfaces(tc):
    a = GeneralFrame(unit=u.mm)
    b = GeneralFrame(unit=u.um)
    transform = Transform(a, b, _affine(2.0, 0.5, -1.0, 3.0, 10.0, -4.0))
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-100, 100, 20), rng.uniform(-100, 100, 20)
    expected = (2.0 * x + 0.5 * y + 10.0, -1.0 * x + 3.0 * y - 4.0)
    check_transform(tc, transform, (x, y), expected, a, b)
    q = transform.apply_forward_q(x=x[0] * u.m, y=y[0] * u.m)  # metres converted to the mm input unit
    assert q.x.unit == u.um
    assert q.x.value == pytest.approx(2.0 * x[0] * 1e3 + 0.5 * y[0] * 1e3 + 10.0)


def test_transform_shapes_are_preserved():
    frame = GeneralFrame(unit=u.mm)
    transform = Transform(frame, frame, Ast.ShiftMap([1.0, 2.0]))
    out = transform.apply_forward(x=np.zeros((3, 4)), y=np.ones((3, 4)))
    assert out.x.shape == (3, 4) and np.all(out.y == 3.0)
    out = transform.apply_forward(x=np.arange(5.0), y=0.0)  # broadcasting
    np.testing.assert_array_equal(out.y, 2.0)
    out = transform.apply_forward(x=1.0, y=1.0)
    assert isinstance(out.x, float) and out == (2.0, 3.0)
    out = transform.apply_forward(x=np.array([]), y=np.array([]))
    assert out.x.shape == (0,)


def test_transform_composition_and_decomposition():
    f1, f2, f3 = GeneralFrame(unit=u.mm), GeneralFrame(unit=u.um), GeneralFrame(unit=u.pix)
    t12 = Transform(f1, f2, Ast.ShiftMap([1.0, 2.0]), in_bounds=BBOX)
    t23 = Transform(f2, f3, Ast.ZoomMap(2, 3.0))
    t13 = t12.then(t23)
    assert t13.in_frame == f1 and t13.out_frame == f3 and t13.in_bounds == BBOX
    assert t13.apply_forward(x=1.0, y=1.0) == (6.0, 9.0)
    assert [t.out_frame for t in t13.decompose()] == [f2, f3]
    assert t12.then(t23, remember_components=False).decompose()[0].in_frame == f1
    assert len(t12.then(t23, remember_components=False).decompose()) == 1
    inverse = t13.inverted()
    assert inverse.in_frame == f3 and inverse.out_frame == f1 and inverse.out_bounds == BBOX
    assert inverse.apply_forward(x=6.0, y=9.0) == (1.0, 1.0)
    assert [t.in_frame for t in inverse.decompose()] == [f3, f2]
    with pytest.raises(TransformCompositionError):
        t12.then(t12)
    assert Transform.identity(f1).decompose() == []
    assert t12.decompose() == [t12]
    assert Transform.identity(f1).apply_inverse(x=3.0, y=4.0) == (3.0, 4.0)


def test_transform_show_is_deterministic_and_simplifies():
    frame = GeneralFrame(unit=u.mm)
    t = Transform(frame, frame, Ast.ShiftMap([1.0, 2.0]))
    round_trip = t.then(t.inverted(), remember_components=False)
    assert "CmpMap" in round_trip.show()
    assert round_trip.show(simplified=True) == Transform.identity(frame).show(simplified=True)
    assert "UnitMap" in round_trip.show(simplified=True)
    assert t.show() == Transform(frame, frame, Ast.ShiftMap([1.0, 2.0])).show()
    assert "#" not in t.show().replace("#   ", "")  # no trailing comments by default
    assert "\t# Shift for axis 1" in t.show(comments=True)
    assert t.inverted().inverted().show(simplified=True) == t.show(simplified=True)


def test_transform_pickle_and_errors():
    frame = GeneralFrame(unit=u.mm)
    t = Transform(frame, frame, Ast.ShiftMap([1.0, 2.0]), in_bounds=BBOX)
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.show() == t.show() and t2.in_bounds == BBOX and t2.in_frame == frame
    with pytest.raises(ValueError, match="2 inputs"):
        Transform(frame, frame, Ast.UnitMap(3))
    with pytest.raises(TypeError):
        t.as_projection()


def test_ast_text_round_trip_is_exact():
    text = (fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text()
    ast_text = json.loads(text)["detector"]["frames"]["ast"]
    assert _ast_utils.ast_to_text(_ast_utils.ast_from_text(ast_text), comments=True) == ast_text
    with pytest.raises(ValueError):
        _ast_utils.ast_from_text("not AST")


# --- CameraFrameSet ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def camera():
    tree = json.loads((fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text())
    frames = tree["detector"]["frames"]
    return CameraFrameSet(frames["instrument"], _ast_utils.ast_from_text(frames["ast"])), tree["detector"]


def test_camera_frame_set_frames(camera):
    frames, detector_tree = camera
    detector = frames.detector(85, visit=7)
    assert detector == DetectorFrame(instrument="LSSTCam", visit=7, detector=85, bbox=BBOX)
    assert frames.focal_plane() == FocalPlaneFrame(instrument="LSSTCam", unit=u.mm)
    assert frames.field_angle(7) == FieldAngleFrame(instrument="LSSTCam", visit=7)
    assert detector in frames and frames.focal_plane() in frames
    assert DetectorFrame(instrument="LSSTCam", detector=12, bbox=BBOX) not in frames
    assert DetectorFrame(instrument="Other", detector=85, bbox=BBOX) not in frames
    with pytest.raises(FrameLookupError):
        frames.detector(12)
    assert frames.get(detector, DetectorFrame(instrument="LSSTCam", detector=12, bbox=BBOX)) is None


def test_camera_frame_set_transforms(camera, tc):
    frames, detector_tree = camera
    orientation = detector_tree["attributes"]["orientation"]
    pixel_size = detector_tree["attributes"]["pixel_size"]
    detector = frames.detector(85)
    to_focal = frames[detector, frames.focal_plane()]
    assert to_focal.in_bounds == BBOX
    # The detector's reference pixel lands on its focal-plane position; pixels are pixel_size mm apart.
    ref_x, ref_y = orientation["pixel_reference_x"], orientation["pixel_reference_y"]
    fp = to_focal.apply_forward(x=np.array([ref_x, ref_x + 1.0]), y=np.array([ref_y, ref_y]))
    np.testing.assert_allclose(
        fp.x, [orientation["focal_plane_x"], orientation["focal_plane_x"] + pixel_size]
    )
    np.testing.assert_allclose(fp.y, [orientation["focal_plane_y"]] * 2, atol=1e-12)
    to_angle = frames[detector, frames.field_angle()]
    x, y = np.array([0.0, 2047.5, 4095.0]), np.array([0.0, 2001.5, 4003.0])
    angles = to_angle.apply_forward(x=x, y=y)
    composed = to_focal.then(frames[frames.focal_plane(), frames.field_angle()])
    check_transform(tc, composed, (x, y), angles, detector, frames.field_angle(), in_atol=1e-7 * u.pix)
    assert np.all(np.abs(angles.x) < 0.1)  # LSSTCam field of view is a few degrees


class _Sys:
    def __init__(self, name, detector=""):
        self._name, self._detector = name, detector

    def getSysName(self):  # noqa: N802
        return self._name

    def getDetectorName(self):  # noqa: N802
        return self._detector


class _Shown:
    def __init__(self, text):
        self._text = text

    def show(self):
        return self._text


class _LegacyTransform:
    def __init__(self, text):
        self._text = text

    def getMapping(self):  # noqa: N802
        return _Shown(self._text)


class _LegacyBox:
    def getMinX(self):  # noqa: N802
        return 0

    def getMinY(self):  # noqa: N802
        return 0

    def getMaxX(self):  # noqa: N802
        return 4095

    def getMaxY(self):  # noqa: N802
        return 4003


class _LegacyDetector:
    def getName(self):  # noqa: N802
        return "R21_S11"

    def getId(self):  # noqa: N802
        return 85

    def getBBox(self):  # noqa: N802
        return _LegacyBox()


class _LegacyCamera:
    """Just enough of the afw Camera API, backed by the fixture's camera frame set."""

    def __init__(self, frames):
        self._frames = frames
        self._systems = [_Sys("FocalPlane"), _Sys("FieldAngle"), _Sys("Pixels", "R21_S11")]

    def getName(self):  # noqa: N802
        return "LSSTCam"

    def __iter__(self):
        return iter([_LegacyDetector()])

    def getTransformMap(self):  # noqa: N802
        return _LegacyTransformMap(self._frames, self._systems)


class _LegacyTransformMap:
    def __init__(self, frames, systems):
        self._frames = frames
        self._systems = systems

    def __iter__(self):
        return iter(self._systems)

    def getTransform(self, source, target):  # noqa: N802
        targets = {"FieldAngle": self._frames.field_angle(), "Pixels": self._frames.detector(85)}
        transform = self._frames[self._frames.focal_plane(), targets[target.getSysName()]]
        return _LegacyTransform(transform.show())


def test_camera_frame_set_from_legacy(camera):
    frames, _ = camera
    converted = CameraFrameSet.from_legacy(_LegacyCamera(frames))
    assert converted.instrument == "LSSTCam"
    detector = converted.detector(85)
    assert detector == frames.detector(85)
    x, y = np.array([0.0, 2047.5, 4095.0]), np.array([0.0, 2001.5, 4003.0])
    for target in (converted.focal_plane(), converted.field_angle()):
        np.testing.assert_allclose(
            converted[detector, target].apply_forward(x=x, y=y),
            frames[detector, target].apply_forward(x=x, y=y),
            rtol=0,
            atol=1e-12,
        )


def test_linear_transform_as_fits_wcs():
    frame = GeneralFrame(unit=u.mm)
    transform = Transform(frame, frame, Ast.CmpMap(Ast.ZoomMap(2, 2.0), Ast.ShiftMap([1.0, 2.0]), True))
    wcs = transform.as_fits_wcs(Box.factory[10:20, 30:40])
    x, y = np.array([0.0, 9.0]), np.array([0.0, 5.0])
    np.testing.assert_allclose(wcs.all_pix2world(x, y, 0), transform.apply_forward(x=x + 30, y=y + 10))
    # A non-linear, non-celestial mapping has no FITS-WCS form.
    distorted = Transform(frame, frame, Ast.PcdMap(1e-3, [0.0, 0.0]))
    assert distorted.as_fits_wcs(Box.factory[0:100, 0:100]) is None
