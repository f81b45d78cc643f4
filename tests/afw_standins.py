"""Faithful stand-ins for the ``lsst.geom`` / ``lsst.afw`` objects the legacy comparison helpers read.

``lsst.afw`` is not installable from PyPI, so these small classes offer the
documented afw Python methods the helpers call, each implemented from afw's
definition independently of this package (e.g. a ``ChebyshevBoundedField``
evaluates its own Chebyshev series, a ``GaussianPsf`` draws its own Gaussian,
a ``SkyWcs`` evaluates AST directly).  `install_geom` registers a minimal
``lsst.geom`` module for helpers that must build ``Point2D`` objects.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev

# -- lsst.geom ------------------------------------------------------------------------------------


class Point2D:
    def __init__(self, x: float, y: float):
        self.x, self.y = x, y

    def getX(self):  # noqa: N802 - afw naming
        return self.x

    def getY(self):  # noqa: N802
        return self.y


Point2I = Extent2I = Extent2D = Point2D


class Point3D(Point2D):
    def __init__(self, x: float, y: float, z: float):
        super().__init__(x, y)
        self.z = z

    def getZ(self):  # noqa: N802
        return self.z


class IntervalI:
    def __init__(self, lo: int, hi: int):
        self.min, self.max = lo, hi
        self.begin, self.end = lo, hi + 1

    def getMin(self):  # noqa: N802
        return self.min

    def getMax(self):  # noqa: N802
        return self.max


class Box2I:
    """Inclusive integer box, built from (min_x, min_y, max_x, max_y)."""

    def __init__(self, min_x: int, min_y: int, max_x: int, max_y: int):
        self.x, self.y = IntervalI(min_x, max_x), IntervalI(min_y, max_y)

    def getMinX(self):  # noqa: N802
        return self.x.min

    def getMinY(self):  # noqa: N802
        return self.y.min

    def getMaxX(self):  # noqa: N802
        return self.x.max

    def getMaxY(self):  # noqa: N802
        return self.y.max

    def getWidth(self):  # noqa: N802
        return self.x.max - self.x.min + 1

    def getHeight(self):  # noqa: N802
        return self.y.max - self.y.min + 1


def box2i(box) -> Box2I:
    """The afw box of one of our `Box` objects."""
    return Box2I(box.x.start, box.y.start, box.x.stop - 1, box.y.stop - 1)


class Angle:
    def __init__(self, radians: float):
        self._radians = float(radians)

    def asRadians(self):  # noqa: N802
        return self._radians

    def asDegrees(self):  # noqa: N802
        return math.degrees(self._radians)


class SpherePoint:
    def __init__(self, ra: float, dec: float):
        self._ra, self._dec = Angle(ra), Angle(dec)

    def getRa(self):  # noqa: N802
        return self._ra

    def getDec(self):  # noqa: N802
        return self._dec


def install_geom(monkeypatch) -> types.ModuleType:
    """Register a minimal ``lsst.geom`` (Point2D only) in `sys.modules` for the test."""
    geom = types.ModuleType("lsst.geom")
    geom.Point2D = Point2D
    monkeypatch.setitem(sys.modules, "lsst.geom", geom)
    return geom


# -- lsst.afw.image --------------------------------------------------------------------------------


class Image:
    def __init__(self, array: np.ndarray, x0: int = 0, y0: int = 0):
        self._array, self._x0, self._y0 = array, x0, y0

    def getArray(self):  # noqa: N802
        return self._array

    def getXY0(self):  # noqa: N802
        return Point2I(self._x0, self._y0)

    def getBBox(self):  # noqa: N802
        h, w = self._array.shape
        return Box2I(self._x0, self._y0, self._x0 + w - 1, self._y0 + h - 1)


class Mask(Image):
    def __init__(self, array: np.ndarray, planes: dict[str, int], x0: int = 0, y0: int = 0):
        super().__init__(array, x0, y0)
        self._planes = dict(planes)

    def getMaskPlaneDict(self):  # noqa: N802
        return dict(self._planes)

    def getPlaneBitMask(self, name: str):  # noqa: N802
        return 1 << self._planes[name]


class MaskedImage:
    def __init__(self, image: Image, mask: Mask, variance: Image):
        self._planes = (image, mask, variance)

    def getImage(self):  # noqa: N802
        return self._planes[0]

    def getMask(self):  # noqa: N802
        return self._planes[1]

    def getVariance(self):  # noqa: N802
        return self._planes[2]

    def getBBox(self):  # noqa: N802
        return self._planes[0].getBBox()


# -- lsst.afw.geom / math ----------------------------------------------------------------------------


class SkyWcs:
    """An afw SkyWcs around an AST FrameSet whose base frame is afw's 0-based pixel grid."""

    def __init__(self, frame_set: Any, fits_approximation: SkyWcs | None = None):
        self._frame_set, self._approximation = frame_set, fits_approximation

    def pixelToSkyArray(self, x, y, degrees=False):  # noqa: N802
        ra, dec = self._frame_set.tran(np.array([np.ravel(x), np.ravel(y)], dtype=np.float64))
        ra = np.mod(ra, 2 * np.pi)
        return (np.degrees(ra), np.degrees(dec)) if degrees else (ra, dec)

    def skyToPixelArray(self, ra, dec, degrees=False):  # noqa: N802
        ra, dec = (np.radians(v) if degrees else np.asarray(v, dtype=np.float64) for v in (ra, dec))
        x, y = self._frame_set.tran(np.array([np.ravel(ra), np.ravel(dec)]), False)
        return x, y

    def hasFitsApproximation(self):  # noqa: N802
        return self._approximation is not None

    def getFitsApproximation(self):  # noqa: N802
        return self._approximation


class ChebyshevBoundedField:
    """afw's ChebyshevBoundedField: the bbox grown by half a pixel maps onto [-1, 1]."""

    def __init__(self, bbox: Box2I, coefficients: np.ndarray):
        self._bbox, self._coefficients = bbox, np.atleast_2d(np.asarray(coefficients, dtype=np.float64))

    def getBBox(self):  # noqa: N802
        return self._bbox

    def getCoefficients(self):  # noqa: N802
        return self._coefficients

    def evaluate(self, x, y):
        b = self._bbox
        xn = 2.0 * (np.asarray(x, dtype=np.float64) - (b.getMinX() - 0.5)) / b.getWidth() - 1.0
        yn = 2.0 * (np.asarray(y, dtype=np.float64) - (b.getMinY() - 0.5)) / b.getHeight() - 1.0
        return chebyshev.chebval2d(yn, xn, self._coefficients)


class PhotoCalib:
    def __init__(self, mean: float, scaled: ChebyshevBoundedField | None = None, bbox: Box2I | None = None):
        self._mean, self._scaled = mean, scaled
        self._bbox = bbox if bbox is not None else Box2I(0, 0, 0, 0)

    @property
    def _isConstant(self):  # noqa: N802 - afw exposes the flag under this name
        return self._scaled is None

    def getCalibrationMean(self):  # noqa: N802
        return self._mean

    def computeScaledCalibration(self):  # noqa: N802
        return self._scaled if self._scaled is not None else ChebyshevBoundedField(self._bbox, [[1.0]])


class ApCorrMap(dict):
    """afw's ApCorrMap behaves as a mapping of name → BoundedField in Python."""


# -- lsst.afw.detection ------------------------------------------------------------------------------


class InvalidPsfError(Exception):
    pass


class GaussianPsf:
    """afw's GaussianPsf: a circular Gaussian sampled at pixel centres, normalized to unit sum."""

    def __init__(self, width: int, height: int, sigma: float, valid: Box2I | None = None):
        self.width, self.height, self.sigma, self._valid = width, height, sigma, valid

    def _check(self, point):
        v = self._valid
        if v is not None and not (
            v.getMinX() - 0.5 <= point.getX() < v.getMaxX() + 0.5
            and v.getMinY() - 0.5 <= point.getY() < v.getMaxY() + 0.5
        ):
            raise InvalidPsfError(f"({point.getX()}, {point.getY()}) is outside the PSF's validity region.")

    def computeKernelBBox(self, point):  # noqa: N802
        self._check(point)
        return Box2I(-(self.width // 2), -(self.height // 2), self.width // 2, self.height // 2)

    def _draw(self, bbox: Box2I, cx: float, cy: float) -> Image:
        y, x = np.mgrid[bbox.getMinY() : bbox.getMaxY() + 1, bbox.getMinX() : bbox.getMaxX() + 1]
        array = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * self.sigma**2))
        return Image(array / array.sum(), bbox.getMinX(), bbox.getMinY())

    def computeKernelImage(self, point):  # noqa: N802
        return self._draw(self.computeKernelBBox(point), 0.0, 0.0)

    def computeImageBBox(self, point):  # noqa: N802
        k = self.computeKernelBBox(point)
        dx, dy = math.floor(point.getX() + 0.5), math.floor(point.getY() + 0.5)
        return Box2I(k.getMinX() + dx, k.getMinY() + dy, k.getMaxX() + dx, k.getMaxY() + dy)

    def computeImage(self, point):  # noqa: N802
        return self._draw(self.computeImageBBox(point), point.getX(), point.getY())


# -- summary statistics, exposures -------------------------------------------------------------------


def summary_stats(values: dict[str, Any]) -> Any:
    """An ``ExposureSummaryStats``-like dataclass instance holding ``values``."""
    cls = dataclasses.make_dataclass("ExposureSummaryStats", [(k, type(v)) for k, v in values.items()])
    return cls(**values)


class ExposureInfo:
    def __init__(self, summary_stats: Any, ap_corr_map: ApCorrMap):
        self._summary, self._ap_corr = summary_stats, ap_corr_map

    def getSummaryStats(self):  # noqa: N802
        return self._summary

    def getApCorrMap(self):  # noqa: N802
        return self._ap_corr


class Exposure:
    def __init__(self, masked_image, *, wcs, psf, detector, photo_calib, info):
        self._mi, self._wcs, self._psf = masked_image, wcs, psf
        self._detector, self._photo_calib, self._info = detector, photo_calib, info

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

    def getInfo(self):  # noqa: N802
        return self._info

    def getBBox(self):  # noqa: N802
        return self._mi.getBBox()


# -- lsst.afw.cameraGeom (built from a detector description written by Rubin's lsst-images) -----------


class _Named:
    """An afw enum value: only its ``name`` is read."""

    def __init__(self, name: str):
        self.name = name


def _box(spec: dict) -> Box2I:
    return Box2I(spec["x"]["start"], spec["y"]["start"], spec["x"]["stop"] - 1, spec["y"]["stop"] - 1)


class Amplifier:
    """afw Amplifier from one ``amplifiers`` entry; its raw geometry is the assembled one."""

    def __init__(self, spec: dict):
        self._spec, self._raw = spec, spec["assembled_raw_geometry"]
        self._cal = spec["nominal_calibrations"]

    def getName(self):  # noqa: N802
        return self._spec["name"]

    def getBBox(self):  # noqa: N802
        return _box(self._spec["bbox"])

    def getReadoutCorner(self):  # noqa: N802
        return _Named(self._raw["readout_corner"])

    def getRawBBox(self):  # noqa: N802
        return _box(self._raw["bbox"])

    def getRawDataBBox(self):  # noqa: N802
        return _box(self._raw["data_bbox"])

    def getRawFlipX(self):  # noqa: N802
        return self._raw["flip_x"]

    def getRawFlipY(self):  # noqa: N802
        return self._raw["flip_y"]

    def getRawXYOffset(self):  # noqa: N802
        return Extent2I(self._raw["x_offset"], self._raw["y_offset"])

    def getRawSerialOverscanBBox(self):  # noqa: N802
        return _box(self._raw["serial_overscan_bbox"])

    def getRawParallelOverscanBBox(self):  # noqa: N802
        return _box(self._raw["parallel_overscan_bbox"])

    def getRawSerialPrescanBBox(self):  # noqa: N802
        return _box(self._raw["prescan_bbox"])

    def getGain(self):  # noqa: N802
        return self._cal["gain"]

    def getReadNoise(self):  # noqa: N802
        return self._cal["read_noise"]

    def getSaturation(self):  # noqa: N802
        return self._cal["saturation"]

    def getSuspectLevel(self):  # noqa: N802
        return self._cal["suspect_level"]

    def getLinearityCoeffs(self):  # noqa: N802
        return np.array(self._cal["linearity_coefficients"]["data"], dtype=np.float64)

    def getLinearityType(self):  # noqa: N802
        return self._cal["linearity_type"]


class Orientation:
    def __init__(self, spec: dict):
        self._spec = spec

    def getFpPosition3(self):  # noqa: N802
        s = self._spec
        return Point3D(s["focal_plane_x"], s["focal_plane_y"], s["focal_plane_z"])

    def getReferencePoint(self):  # noqa: N802
        return Point2D(self._spec["pixel_reference_x"], self._spec["pixel_reference_y"])

    def getYaw(self):  # noqa: N802
        return Angle(self._spec["yaw"]["value"])

    def getPitch(self):  # noqa: N802
        return Angle(self._spec["pitch"]["value"])

    def getRoll(self):  # noqa: N802
        return Angle(self._spec["roll"]["value"])


class CameraSys:
    def __init__(self, name: str, detector: str = ""):
        self._name, self._detector = name, detector

    def getSysName(self):  # noqa: N802
        return self._name

    def getDetectorName(self):  # noqa: N802
        return self._detector


class AstMapping:
    """An astshim Mapping: ``applyForward`` takes and returns arrays of shape (n_axes, n_points)."""

    def __init__(self, mapping: Any):
        self._mapping = mapping

    def applyForward(self, points):  # noqa: N802
        return self._mapping.tran(np.asarray(points, dtype=np.float64))


class _Transform:
    def __init__(self, mapping: Any):
        self._mapping = mapping

    def getMapping(self):  # noqa: N802
        return AstMapping(self._mapping)


class TransformMap:
    """afw TransformMap over an AST FrameSet whose frames carry the camera systems' Idents."""

    def __init__(self, frame_set: Any, detector_name: str, pixel_ident: str):
        self._frame_set = frame_set
        self._frames = {("FocalPlane", ""): "FOCAL_PLANE", ("FieldAngle", ""): "FIELD_ANGLE"}
        self._frames[("Pixels", detector_name)] = pixel_ident

    def __iter__(self):
        return iter(CameraSys(*key) for key in self._frames)

    def _index(self, system: CameraSys) -> int:
        ident = self._frames[(system.getSysName(), system.getDetectorName())]
        for n in range(1, self._frame_set.Nframe + 1):
            if self._frame_set.getframe(n).Ident == ident:
                return n
        raise KeyError(ident)

    def getTransform(self, source: CameraSys, target: CameraSys):  # noqa: N802
        return _Transform(self._frame_set.getmapping(self._index(source), self._index(target)))


class Detector:
    """afw Detector from a ``DetectorSerializationModel`` JSON dict (attributes, amplifiers, frames)."""

    def __init__(self, spec: dict):
        from starlink import Ast

        self._attributes = spec["attributes"]
        self._amplifiers = [Amplifier(a) for a in spec["amplifiers"]]
        lines = iter(spec["frames"]["ast"].splitlines())

        class _Source:
            def astsource(self):
                return next(lines, None)

        frame_set = Ast.Channel(_Source()).read()
        ident = f"DETECTOR_{self._attributes['id']:03d}"
        self._transform_map = TransformMap(frame_set, self._attributes["name"], ident)

    def getName(self):  # noqa: N802
        return self._attributes["name"]

    def getId(self):  # noqa: N802
        return self._attributes["id"]

    def getType(self):  # noqa: N802
        return _Named(self._attributes["type"])

    def getSerial(self):  # noqa: N802
        return self._attributes["serial"]

    def getBBox(self):  # noqa: N802
        return _box(self._attributes["bbox"])

    def getOrientation(self):  # noqa: N802
        return Orientation(self._attributes["orientation"])

    def getPixelSize(self):  # noqa: N802
        size = self._attributes["pixel_size"]
        return Extent2D(size, size)

    def getPhysicalType(self):  # noqa: N802
        return self._attributes["physical_type"]

    def getAmplifiers(self):  # noqa: N802
        return list(self._amplifiers)

    def getTransformMap(self):  # noqa: N802
        return self._transform_map
