"""from_legacy / to_legacy conversions tested against faithful stand-ins for afw objects.

``lsst.afw`` cannot be installed from PyPI, so these tests build small fake
classes exposing afw's documented Python method names (``getArray``,
``getXY0``, ``getMaskPlaneDict``, ``getFrameDict().show()``, ``getTransformMap``,
...), populated from a real afw-written file (``obs_base__calexp.fits``)
decoded by our own reader.  Converting the stand-in Exposure must give the same
VisitImage as reading the file.  For ``to_legacy`` a fake ``lsst.geom`` /
``lsst.afw.image`` module pair is installed in `sys.modules`.
"""

from __future__ import annotations

import enum
import sys
import types

import numpy as np
import pytest

from conftest import fixture_dir
from lsst.images.legacy._fits import LegacyFitsFile
from lsst.images.legacy._masks import read_mask_plane_cards

CALEXP = "obs_base__calexp.fits"
VISIT = 904010


# -- lsst.geom stand-ins ------------------------------------------------------------------------------


class Point2I:
    def __init__(self, x, y):
        self._x, self._y = x, y

    def getX(self):  # noqa: N802 - afw naming
        return self._x

    def getY(self):  # noqa: N802
        return self._y


Point2D = Point2I
Extent2I = Point2I


class Point3D(Point2I):
    def __init__(self, x, y, z):
        super().__init__(x, y)
        self._z = z

    def getZ(self):  # noqa: N802
        return self._z


class IntervalI:
    def __init__(self, lo, hi):
        self._lo, self._hi = lo, hi

    @staticmethod
    def fromMinMax(lo, hi):  # noqa: N802
        return IntervalI(lo, hi)

    def getMin(self):  # noqa: N802
        return self._lo

    def getMax(self):  # noqa: N802
        return self._hi


class Box2I:
    def __init__(self, minimum, maximum):
        self._min, self._max = minimum, maximum

    def getMinX(self):  # noqa: N802
        return self._min.getX()

    def getMinY(self):  # noqa: N802
        return self._min.getY()

    def getMaxX(self):  # noqa: N802
        return self._max.getX()

    def getMaxY(self):  # noqa: N802
        return self._max.getY()

    def getWidth(self):  # noqa: N802
        return self.getMaxX() - self.getMinX() + 1

    def getHeight(self):  # noqa: N802
        return self.getMaxY() - self.getMinY() + 1


def _box2i(bbox):
    min_x, min_y, max_x, max_y = bbox
    return Box2I(Point2I(min_x, min_y), Point2I(max_x, max_y))


class Angle:
    def __init__(self, radians):
        self._radians = radians

    def asRadians(self):  # noqa: N802
        return self._radians

    def asDegrees(self):  # noqa: N802
        return np.degrees(self._radians)


# -- lsst.afw.image stand-ins -------------------------------------------------------------------------


class Image:
    def __init__(self, array, deep=False, xy0=None):
        self._array = array if not deep else array.copy()
        self._xy0 = xy0 if xy0 is not None else Point2I(0, 0)

    def getArray(self):  # noqa: N802
        return self._array

    def getXY0(self):  # noqa: N802
        return self._xy0

    def getBBox(self):  # noqa: N802
        h, w = self._array.shape
        return Box2I(self._xy0, Point2I(self._xy0.getX() + w - 1, self._xy0.getY() + h - 1))


class Mask(Image):
    def __init__(self, bbox_or_array, planes=None, xy0=None):
        if isinstance(bbox_or_array, Box2I):
            shape = (bbox_or_array.getHeight(), bbox_or_array.getWidth())
            super().__init__(
                np.zeros(shape, dtype=np.int32), xy0=Point2I(bbox_or_array.getMinX(), bbox_or_array.getMinY())
            )
        else:
            super().__init__(bbox_or_array, xy0=xy0)
        self._planes = dict(planes or {})

    def getMaskPlaneDict(self):  # noqa: N802
        return dict(self._planes)

    def addMaskPlane(self, name):  # noqa: N802
        if name not in self._planes:
            self._planes[name] = len(self._planes)
        return self._planes[name]

    def getPlaneBitMask(self, name):  # noqa: N802
        return 1 << self._planes[name]


class MaskedImage:
    def __init__(self, image, mask, variance):
        self._image, self._mask, self._variance = image, mask, variance

    def getImage(self):  # noqa: N802
        return self._image

    def getMask(self):  # noqa: N802
        return self._mask

    def getVariance(self):  # noqa: N802
        return self._variance

    def getXY0(self):  # noqa: N802
        return self._image.getXY0()

    def getBBox(self):  # noqa: N802
        return self._image.getBBox()


# -- afw component stand-ins -----------------------------------------------------------------------


class _Shown:
    def __init__(self, text):
        self._text = text

    def show(self):
        return self._text


def _ast_text(obj) -> str:
    from starlink import Ast

    lines: list[str] = []

    class Sink:
        def astsink(self, line):
            lines.append(line)

    Ast.Channel(None, Sink()).write(obj)
    return "\n".join(lines) + "\n"


class SkyWcs:
    def __init__(self, frame_set):
        self._text = _ast_text(frame_set)

    def getFrameDict(self):  # noqa: N802
        return _Shown(self._text)

    def hasFitsApproximation(self):  # noqa: N802
        return False


class CameraSys:
    def __init__(self, name, detector=""):
        self._name, self._detector = name, detector

    def getSysName(self):  # noqa: N802
        return self._name

    def getDetectorName(self):  # noqa: N802
        return self._detector


class TransformPoint2ToPoint2:
    def __init__(self, mapping):
        self._text = _ast_text(mapping)

    def getMapping(self):  # noqa: N802
        return _Shown(self._text)


class TransformMap:
    def __init__(self, legacy_map):
        self._map = legacy_map
        self._systems = [CameraSys(*s) for s in sorted(legacy_map.systems)]

    def __iter__(self):
        return iter(self._systems)

    def getTransform(self, source, target):  # noqa: N802
        key = lambda s: (s.getSysName(), s.getDetectorName())  # noqa: E731
        return TransformPoint2ToPoint2(self._map.mapping(key(source), key(target)))


DetectorType = enum.Enum("DetectorType", ["SCIENCE", "FOCUS", "GUIDER", "WAVEFRONT"], start=0)
ReadoutCorner = enum.Enum("ReadoutCorner", ["LL", "LR", "UR", "UL"], start=0)


class Orientation:
    def __init__(self, det):
        self._det = det

    def getFpPosition3(self):  # noqa: N802
        return Point3D(*self._det.fp_position)

    def getReferencePoint(self):  # noqa: N802
        return Point2D(*self._det.ref_point)

    def getYaw(self):  # noqa: N802
        return Angle(self._det.yaw)

    def getPitch(self):  # noqa: N802
        return Angle(self._det.pitch)

    def getRoll(self):  # noqa: N802
        return Angle(self._det.roll)


class Amplifier:
    def __init__(self, amp):
        self._amp = amp

    def getName(self):  # noqa: N802
        return self._amp.name

    def getBBox(self):  # noqa: N802
        return _box2i(self._amp.bbox)

    def getGain(self):  # noqa: N802
        return self._amp.gain

    def getReadNoise(self):  # noqa: N802
        return self._amp.read_noise

    def getSaturation(self):  # noqa: N802
        return self._amp.saturation

    def getSuspectLevel(self):  # noqa: N802
        return self._amp.suspect_level

    def getReadoutCorner(self):  # noqa: N802
        return ReadoutCorner(self._amp.readout_corner)

    def getLinearityCoeffs(self):  # noqa: N802
        return self._amp.linearity_coeffs

    def getLinearityType(self):  # noqa: N802
        return self._amp.linearity_type

    def getRawBBox(self):  # noqa: N802
        return _box2i(self._amp.raw_bbox)

    def getRawDataBBox(self):  # noqa: N802
        return _box2i(self._amp.raw_data_bbox)

    def getRawFlipX(self):  # noqa: N802
        return self._amp.raw_flip_x

    def getRawFlipY(self):  # noqa: N802
        return self._amp.raw_flip_y

    def getRawXYOffset(self):  # noqa: N802
        return Extent2I(*self._amp.raw_xy_offset)

    def getRawSerialOverscanBBox(self):  # noqa: N802
        return _box2i(self._amp.raw_horizontal_overscan_bbox)

    def getRawParallelOverscanBBox(self):  # noqa: N802
        return _box2i(self._amp.raw_vertical_overscan_bbox)

    def getRawSerialPrescanBBox(self):  # noqa: N802
        return _box2i(self._amp.raw_prescan_bbox)


class Detector:
    def __init__(self, det):
        self._det = det

    def getName(self):  # noqa: N802
        return self._det.name

    def getId(self):  # noqa: N802
        return self._det.id

    def getType(self):  # noqa: N802
        return DetectorType(self._det.type)

    def getSerial(self):  # noqa: N802
        return self._det.serial

    def getBBox(self):  # noqa: N802
        return _box2i(self._det.bbox)

    def getOrientation(self):  # noqa: N802
        return Orientation(self._det)

    def getPixelSize(self):  # noqa: N802
        return Point2D(*self._det.pixel_size)

    def getPhysicalType(self):  # noqa: N802
        return self._det.physical_type

    def getAmplifiers(self):  # noqa: N802
        return [Amplifier(a) for a in self._det.amplifiers]

    def getTransformMap(self):  # noqa: N802
        return TransformMap(self._det.transform_map)


class GaussianPsf:
    def __init__(self, width, height, sigma):
        self.width, self.height, self.sigma = width, height, sigma


class PhotoCalib:
    def __init__(self, calib):
        self._calib = calib

    def getCalibrationMean(self):  # noqa: N802
        return self._calib.mean

    def getCalibrationErr(self):  # noqa: N802
        return self._calib.error

    def isConstant(self):  # noqa: N802
        return self._calib.is_constant


class ChebyshevBoundedField:
    def __init__(self, field):
        self._field = field

    def getBBox(self):  # noqa: N802
        return _box2i(self._field.bbox)

    def getCoefficients(self):  # noqa: N802
        return self._field.coefficients


class Polygon:
    def __init__(self, legacy_polygon):
        self._points = [Point2D(x, y) for x, y in zip(legacy_polygon.x, legacy_polygon.y, strict=True)]

    def getVertices(self):  # noqa: N802
        return list(self._points)


class SummaryStats:
    def __init__(self, values):
        for key, value in values.items():
            setattr(self, key, value)


class FilterLabel:
    def __init__(self, label):
        self._label = label

    def hasBandLabel(self):  # noqa: N802
        return self._label.band is not None

    def hasPhysicalLabel(self):  # noqa: N802
        return self._label.physical is not None

    @property
    def bandLabel(self):  # noqa: N802
        return self._label.band

    @property
    def physicalLabel(self):  # noqa: N802
        return self._label.physical


class PropertyList:
    def __init__(self, header):
        self._items = {k: v for k, v in header.items() if k not in ("COMMENT", "HISTORY", "")}

    def toDict(self):  # noqa: N802
        return dict(self._items)


class ExposureInfo:
    def __init__(self, summary, ap_corr, polygon):
        self._summary, self._ap_corr, self._polygon = summary, ap_corr, polygon

    def getSummaryStats(self):  # noqa: N802
        return self._summary

    def getApCorrMap(self):  # noqa: N802
        return self._ap_corr

    def getValidPolygon(self):  # noqa: N802
        return self._polygon


class Exposure:
    def __init__(self, masked_image, *, wcs, psf, detector, photo_calib, filter_label, metadata, info):
        self._mi = masked_image
        self._wcs, self._psf, self._detector = wcs, psf, detector
        self._photo_calib, self._filter, self._metadata, self._info = (
            photo_calib,
            filter_label,
            metadata,
            info,
        )

    def getMaskedImage(self):  # noqa: N802
        return self._mi

    def getWcs(self):  # noqa: N802
        return self._wcs

    def getPsf(self):  # noqa: N802
        return self._psf

    def getDetector(self):  # noqa: N802
        return self._detector

    def getPhotoCalib(self):  # noqa: N802
        return self._photo_calib

    def getFilter(self):  # noqa: N802
        return self._filter

    def getMetadata(self):  # noqa: N802
        return self._metadata

    def getVisitInfo(self):  # noqa: N802
        return None  # the VisitInfo cards are still in this stand-in's metadata

    def getInfo(self):  # noqa: N802
        return self._info

    def getBBox(self):  # noqa: N802
        return self._mi.getBBox()


def _stand_in_exposure() -> Exposure:
    """An afw-like Exposure whose components come from the real calexp fixture."""
    path = fixture_dir("legacy") / CALEXP
    with LegacyFitsFile(path) as lf:
        header = lf.primary_header
        archive = lf.archive

        def get(key):
            return archive.get(int(header[f"{key}_ID"]))

        planes = {k: lf.read_plane(k) for k in ("IMAGE", "MASK", "VARIANCE")}
        mask_bits = read_mask_plane_cards(planes["MASK"].header)
        psf = get("PSF")
        masked = MaskedImage(
            Image(planes["IMAGE"].array, xy0=Point2I(planes["IMAGE"].x0, planes["IMAGE"].y0)),
            Mask(planes["MASK"].array, mask_bits, xy0=Point2I(0, 0)),
            Image(planes["VARIANCE"].array, xy0=Point2I(0, 0)),
        )
        return Exposure(
            masked,
            wcs=SkyWcs(get("SKYWCS").frame_set),
            psf=GaussianPsf(psf.width, psf.height, psf.sigma),
            detector=Detector(get("DETECTOR")),
            photo_calib=PhotoCalib(get("PHOTOCALIB")),
            filter_label=FilterLabel(archive.get(int(header["ARCHIVE_ID_FILTER"]))),
            metadata=PropertyList(header),
            info=ExposureInfo(
                SummaryStats(archive.get(int(header["ARCHIVE_ID_SUMMARY_STATS"]))),
                {name: ChebyshevBoundedField(f) for name, f in get("AP_CORR_MAP").items()},
                Polygon(get("VALID_POLYGON")),
            ),
        )


# -- tests ------------------------------------------------------------------------------------------


def test_box_and_interval_from_legacy() -> None:
    from lsst.images import Box, Interval

    box = Box.from_legacy(_box2i((3, 5, 9, 7)))
    assert box == Box.factory[5:8, 3:10]
    assert Interval.from_legacy(IntervalI(-2, 4)) == Interval(-2, 5)


def test_image_and_mask_from_legacy_share_or_translate() -> None:
    from lsst.images import Image as NewImage
    from lsst.images import Mask as NewMask

    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = NewImage.from_legacy(Image(array, xy0=Point2I(10, 20)))
    assert image.bbox.x.start == 10 and image.bbox.y.start == 20
    assert np.shares_memory(image.array, array)
    bits = np.array([[1, 2, 3]], dtype=np.int32)
    mask = NewMask.from_legacy(Mask(bits, {"BAD": 0, "SAT": 1}, xy0=Point2I(0, 0)))
    assert mask.get("BAD").tolist() == [[True, False, True]]
    assert mask.get("SAT").tolist() == [[False, True, True]]


def test_visit_image_from_legacy_matches_file_read() -> None:
    from lsst.images import VisitImage
    from lsst.images.legacy import read_visit_image
    from lsst.images.psfs import LegacyPointSpreadFunction

    exposure = _stand_in_exposure()
    converted = VisitImage.from_legacy(exposure, visit=VISIT)
    read = read_visit_image(fixture_dir("legacy") / CALEXP, visit=VISIT)
    assert converted.bbox == read.bbox
    assert np.shares_memory(converted.image.array, exposure.getMaskedImage().getImage().getArray())
    np.testing.assert_array_equal(converted.image.array, read.image.array)
    np.testing.assert_array_equal(converted.variance.array, read.variance.array)
    assert converted.unit == read.unit
    for name in read.mask.schema.names:
        np.testing.assert_array_equal(converted.mask.get(name), read.mask.get(name))
    xs, ys = np.array([0.0, 63.0, 31.5]), np.array([0.0, 31.0, 15.5])
    a = converted.projection.pixel_to_sky(x=xs, y=ys)
    b = read.projection.pixel_to_sky(x=xs, y=ys)
    np.testing.assert_allclose(a.ra.deg, b.ra.deg, atol=1e-12, rtol=0)
    np.testing.assert_allclose(a.dec.deg, b.dec.deg, atol=1e-12, rtol=0)
    assert converted.projection.pixel_frame == read.projection.pixel_frame
    assert converted.detector.name == read.detector.name
    assert converted.detector.bbox == read.detector.bbox
    assert converted.detector.amplifiers == read.detector.amplifiers
    fp_a = converted.detector.to_focal_plane.apply_forward(x=xs, y=ys)
    fp_b = read.detector.to_focal_plane.apply_forward(x=xs, y=ys)
    np.testing.assert_allclose(fp_a.x, fp_b.x, atol=1e-12)
    assert converted.obs_info == read.obs_info
    assert converted.summary_stats == read.summary_stats
    assert (
        converted.photometric_scaling.coefficients.tolist() == read.photometric_scaling.coefficients.tolist()
    )
    assert converted.photometric_scaling.unit == read.photometric_scaling.unit
    assert sorted(converted.aperture_corrections) == sorted(read.aperture_corrections)
    for name, field in read.aperture_corrections.items():
        np.testing.assert_array_equal(converted.aperture_corrections[name].coefficients, field.coefficients)
    assert isinstance(converted.psf, LegacyPointSpreadFunction)
    assert converted.psf.legacy_psf is exposure.getPsf()


def test_visit_image_from_legacy_requires_components() -> None:
    from lsst.images import VisitImage

    exposure = _stand_in_exposure()
    exposure._psf = None
    with pytest.raises(ValueError, match="PSF"):
        VisitImage.from_legacy(exposure, visit=VISIT)
    exposure = _stand_in_exposure()
    with pytest.raises(ValueError, match="instrument"):
        VisitImage.from_legacy(exposure, visit=VISIT, instrument="LSSTCam")


@pytest.fixture
def fake_afw(monkeypatch):
    """Install minimal ``lsst.geom`` and ``lsst.afw.image`` stand-ins in `sys.modules`."""
    geom = types.ModuleType("lsst.geom")
    for cls in (Point2I, Box2I, IntervalI):
        setattr(geom, cls.__name__, cls)
    geom.Extent2I = Point2I
    afw = types.ModuleType("lsst.afw")
    afw_image = types.ModuleType("lsst.afw.image")
    afw_image.Image = Image
    afw_image.Mask = Mask
    afw_image.MaskedImage = MaskedImage
    afw.image = afw_image
    monkeypatch.setitem(sys.modules, "lsst.geom", geom)
    monkeypatch.setitem(sys.modules, "lsst.afw", afw)
    monkeypatch.setitem(sys.modules, "lsst.afw.image", afw_image)
    return afw_image


def test_box_interval_to_legacy_round_trip(fake_afw) -> None:
    from lsst.images import Box, Interval

    box = Box.factory[-3:5, 7:9]
    assert Box.from_legacy(box.to_legacy()) == box
    interval = Interval(4, 10)
    legacy = interval.to_legacy()
    assert (legacy.getMin(), legacy.getMax()) == (4, 9)


def test_masked_image_to_legacy_round_trip(fake_afw) -> None:
    from lsst.images import MaskedImage as NewMaskedImage
    from lsst.images.legacy import read_masked_image

    masked = read_masked_image(fixture_dir("legacy") / "ip_diffim__scienceMI.fits")
    legacy = masked.to_legacy()
    assert np.shares_memory(legacy.getImage().getArray(), masked.image.array)
    assert (legacy.getXY0().getX(), legacy.getXY0().getY()) == (9, 9)
    back = NewMaskedImage.from_legacy(legacy)
    assert back.bbox == masked.bbox
    np.testing.assert_array_equal(back.image.array, masked.image.array)
    np.testing.assert_array_equal(back.variance.array, masked.variance.array)
    for name in masked.mask.schema.names:
        np.testing.assert_array_equal(back.mask.get(name), masked.mask.get(name))


class _Recorder:
    """Generic afw builder stand-in: records every method call and returns a new recorder."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.calls: list[tuple[str, tuple]] = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def method(*args, **kwargs):
            self.calls.append((name, args))
            return _Recorder(*args, **kwargs)

        return method

    def __getitem__(self, key):
        return self

    def called(self, name):
        return [args for n, args in self.calls if n == name]


class _FakeExposure(_Recorder):
    def __init__(self, masked_image):
        super().__init__(masked_image)
        self.masked_image = masked_image
        self.info = _Recorder()

    def getInfo(self):  # noqa: N802
        return self.info


@pytest.fixture
def fake_afw_world(fake_afw, monkeypatch):
    """Extend the fake ``lsst.afw.image``/``lsst.geom`` with what ``VisitImage.to_legacy`` touches."""
    geom = sys.modules["lsst.geom"]
    geom.Point2D = Point2I
    geom.Point3D = Point3D
    geom.Extent2D = Point2I
    geom.radians = "radians"
    geom.Angle = lambda value, unit: Angle(value)
    afw_image = fake_afw
    afw_image.makeExposure = _FakeExposure
    afw_image.PhotoCalib = _Recorder
    afw_image.ExposureSummaryStats = _Recorder
    afw_image.ApCorrMap = dict
    modules = {
        "lsst.afw.geom": {"SkyWcs": _Recorder, "Polygon": _Recorder},
        "lsst.afw.math": {"ChebyshevBoundedField": _Recorder, "ProductBoundedField": _Recorder},
        "lsst.afw.detection": {"GaussianPsf": _Recorder},
        "lsst.afw.cameraGeom": {
            "Camera": types.SimpleNamespace(Builder=_Recorder),
            "Amplifier": types.SimpleNamespace(Builder=_Recorder),
            "Orientation": _Recorder,
            "DetectorType": DetectorType,
            "ReadoutCorner": ReadoutCorner,
        },
        "astshim": {
            "FrameSet": types.SimpleNamespace(fromString=lambda text: text),
            "FrameDict": lambda frame_set: frame_set,
        },
    }
    for name, attributes in modules.items():
        module = types.ModuleType(name)
        for key, value in attributes.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)
        if name.startswith("lsst.afw."):
            setattr(sys.modules["lsst.afw"], name.rsplit(".", 1)[1], module)
    return afw_image


def test_visit_image_to_legacy_attaches_every_component(fake_afw_world) -> None:
    from lsst.images.legacy import read_visit_image

    visit_image = read_visit_image(fixture_dir("legacy") / CALEXP, visit=VISIT)
    exposure = visit_image.to_legacy()
    masked = exposure.masked_image
    assert np.shares_memory(masked.getImage().getArray(), visit_image.image.array)
    np.testing.assert_array_equal(masked.getVariance().getArray(), visit_image.variance.array)
    with LegacyFitsFile(fixture_dir("legacy") / CALEXP) as lf:
        original_mask = lf.read_plane("MASK")
        original_bits = read_mask_plane_cards(original_mask.header)
    legacy_mask = masked.getMask()
    for name, bit in legacy_mask.getMaskPlaneDict().items():
        np.testing.assert_array_equal(
            (legacy_mask.getArray() >> bit) & 1,
            (original_mask.array >> original_bits[name]) & 1,
            err_msg=name,
        )
    (wcs,) = exposure.called("setWcs")
    assert wcs[0].args[0] == visit_image.projection.show(comments=True)
    (psf,) = exposure.called("setPsf")
    assert psf[0].args == (3, 3, 4.0)
    (calib,) = exposure.called("setPhotoCalib")
    assert calib[0].args == (visit_image.photometric_scaling.coefficients[0, 0],)
    (detector,) = exposure.called("setDetector")
    assert detector[0] is not None
    (stats,) = exposure.info.called("setSummaryStats")
    assert stats[0].kwargs["psfSigma"] == 1.0
    (ap_corr,) = exposure.info.called("setApCorrMap")
    assert sorted(ap_corr[0]) == sorted(visit_image.aperture_corrections)
    name = "base_PsfFlux_instFlux"
    np.testing.assert_array_equal(
        ap_corr[0][name].args[1], visit_image.aperture_corrections[name].coefficients
    )
    (polygon,) = exposure.info.called("setValidPolygon")
    assert len(polygon[0].args[0]) == visit_image.bounds.n_vertices
