"""The ``compare_*_to_legacy`` helpers of `lsst.images.tests`, against faithful afw stand-ins.

Each legacy-side stand-in (tests/afw_standins.py) computes its values its own way
(afw's Chebyshev convention, a directly drawn Gaussian, AST evaluated from FITS
cards or from the detector's frame-set text written by Rubin's 2100 release), so
a comparison that passes says our objects agree with afw's definitions, and one
that must fail shows the helper really compares.  The last tests use the real afw
file ``obs_base__calexp.fits`` (skipped without ../shared).
"""

from __future__ import annotations

import math
import unittest

import astropy.units as u
import astropy.wcs
import numpy as np
import pytest
from astropy.io import fits as afits

import afw_standins as afw
from conftest import fixture_dir
from lsst.images import (
    XY,
    YX,
    Box,
    DetectorFrame,
    Image,
    Mask,
    MaskSchema,
    ObservationSummaryStats,
    Projection,
    VisitImage,
    get_legacy_visit_image_mask_planes,
)
from lsst.images.fields import ChebyshevField
from lsst.images.psfs import GaussianPointSpreadFunction
from lsst.images.tests import (
    arrays_to_legacy_points,
    assert_psfs_equal,
    compare_amplifier_to_legacy,
    compare_aperture_corrections_to_legacy,
    compare_detector_to_legacy,
    compare_field_to_legacy,
    compare_image_to_legacy,
    compare_mask_to_legacy,
    compare_masked_image_to_legacy,
    compare_observation_summary_stats_to_legacy,
    compare_photo_calib_to_legacy,
    compare_projection_to_legacy_wcs,
    compare_psf_to_legacy,
    compare_sky_projection_to_legacy_wcs,
    compare_visit_image_to_legacy,
    legacy_coords_to_astropy,
    legacy_points_to_xy_array,
)
from small_data import _dp2_components, dp2_detector, dp2_obs_info

TC = unittest.TestCase()
FAIL = AssertionError
INSTRUMENT, VISIT, DETECTOR = "LSSTCam", 2025052000177, 85
BBOX = Box.factory[100:120, 200:230]  # the visit image: a cut-out of the 4004x4096 detector
PHOTO_COEFFS = np.array([[1.25, 0.01, -0.002], [0.02, 0.003, 0.0], [0.001, 0.0, 0.0]])
AP_CORR_COEFFS = np.array([[0.98, 0.001], [0.002, 0.0]])
TAN_CARDS = {
    "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg", "CUNIT2": "deg",
    "CRPIX1": 2048.5, "CRPIX2": 2002.5, "CRVAL1": 53.1, "CRVAL2": -28.1,
    "CD1_1": -5.2e-5, "CD1_2": 1.1e-5, "CD2_1": 1.2e-5, "CD2_2": 5.3e-5, "RADESYS": "ICRS",
}  # fmt: skip


def _legacy_sky_wcs(cards: dict) -> afw.SkyWcs:
    """An afw SkyWcs straight from FITS cards (AST's FitsChan; afw pixel = FITS pixel - 1)."""
    from starlink import Ast

    channel = Ast.FitsChan()
    for card in afits.Header(cards).cards:
        channel.putfits(card.image, False)
    channel.clear("Card")
    frame_set = channel.read()
    sky = frame_set.Current
    frame_set.addframe(Ast.BASE, Ast.ShiftMap([-1.0, -1.0]), Ast.Frame(2, "Domain=PIXELS"))
    frame_set.Base = frame_set.Current
    frame_set.Current = sky
    return afw.SkyWcs(frame_set)


class Pair:
    """Our VisitImage and the afw Exposure stand-in holding the same data, built independently."""

    def __init__(self) -> None:
        rng = np.random.default_rng(11)
        self.detector = dp2_detector()
        self.legacy_detector = afw.Detector(_dp2_components()["detector"])
        shape = tuple(BBOX.shape)
        image = rng.normal(100.0, 5.0, size=shape).astype(np.float32)
        variance = rng.uniform(20.0, 30.0, size=shape).astype(np.float32)
        plane_map = get_legacy_visit_image_mask_planes()
        bits = {name: n for n, name in enumerate(plane_map)}
        planes = {name: rng.random(shape) < 0.1 for name in ("BAD", "SAT", "CR", "EDGE")}
        legacy_mask = np.zeros(shape, dtype=np.int32)
        for name, values in planes.items():
            legacy_mask |= values.astype(np.int32) << bits[name]
        frame = DetectorFrame(instrument=INSTRUMENT, visit=VISIT, detector=DETECTOR, bbox=self.detector.bbox)
        self.projection = Projection.from_fits_wcs(astropy.wcs.WCS(afits.Header(TAN_CARDS)), frame)
        mask = Mask(schema=MaskSchema(plane_map.values()), bbox=BBOX)
        for name, values in planes.items():
            mask.set(plane_map[name].name, values)
        self.stats = {"psfSigma": 2.0, "nPsfStar": 57, "skyBg": math.nan, "raCorners": (1.0, 2.0, 3.0, 4.0)}
        self.visit = VisitImage(
            Image(image, bbox=BBOX, unit=u.nJy),
            mask=mask,
            variance=Image(variance, bbox=BBOX, unit=u.nJy**2),
            projection=self.projection,
            obs_info=dp2_obs_info(),
            summary_stats=ObservationSummaryStats(**self.stats),
            photometric_scaling=ChebyshevField(self.detector.bbox, PHOTO_COEFFS, unit=u.nJy / u.electron),
            psf=GaussianPointSpreadFunction(2.0, self.detector.bbox, 11),
            detector=self.detector,
            aperture_corrections={
                "base_PsfFlux_instFlux": ChebyshevField(self.detector.bbox, AP_CORR_COEFFS)
            },
        )
        detector_box = afw.box2i(self.detector.bbox)
        self.legacy_masked = afw.MaskedImage(
            afw.Image(image.copy(), BBOX.x.start, BBOX.y.start),
            afw.Mask(legacy_mask, bits, BBOX.x.start, BBOX.y.start),
            afw.Image(variance.copy(), BBOX.x.start, BBOX.y.start),
        )
        mean = PHOTO_COEFFS[0, 0]
        self.exposure = afw.Exposure(
            self.legacy_masked,
            wcs=_legacy_sky_wcs(TAN_CARDS),
            psf=afw.GaussianPsf(11, 11, 2.0, valid=detector_box),
            detector=self.legacy_detector,
            photo_calib=afw.PhotoCalib(mean, afw.ChebyshevBoundedField(detector_box, PHOTO_COEFFS / mean)),
            info=afw.ExposureInfo(
                afw.summary_stats(self.stats),
                afw.ApCorrMap(base_PsfFlux_instFlux=afw.ChebyshevBoundedField(detector_box, AP_CORR_COEFFS)),
            ),
        )


@pytest.fixture()
def pair(monkeypatch) -> Pair:
    afw.install_geom(monkeypatch)
    return Pair()


def _compare_visit(pair: Pair, **kwargs) -> None:
    compare_visit_image_to_legacy(
        TC, pair.visit, pair.exposure, instrument=INSTRUMENT, visit=VISIT, detector=DETECTOR, **kwargs
    )


# -- point converters ----------------------------------------------------------------------------------


def test_point_converters(monkeypatch) -> None:
    x, y = np.array([1.0, 2.5, -3.0]), np.array([4.0, 5.0, 6.5])
    with pytest.raises(unittest.SkipTest, match="lsst.geom"):
        arrays_to_legacy_points(x, y)  # no lsst.geom installed: the calling test is skipped
    afw.install_geom(monkeypatch)
    points = arrays_to_legacy_points(x, y)
    assert [(p.getX(), p.getY()) for p in points] == [(1.0, 4.0), (2.5, 5.0), (-3.0, 6.5)]
    xy = legacy_points_to_xy_array(points)
    assert isinstance(xy, XY)
    np.testing.assert_array_equal(xy.x, x)
    np.testing.assert_array_equal(xy.y, y)
    sky = legacy_coords_to_astropy([afw.SpherePoint(0.5, -0.25), afw.SpherePoint(6.0, 1.0)])
    np.testing.assert_allclose(sky.ra.rad, [0.5, 6.0], rtol=1e-15)
    np.testing.assert_allclose(sky.dec.rad, [-0.25, 1.0], rtol=1e-15)
    assert sky.frame.name == "icrs"


# -- a whole visit image and its pieces ------------------------------------------------------------------


def test_visit_image_matches(pair: Pair) -> None:
    _compare_visit(pair)
    _compare_visit(
        pair,
        alternates={
            "image": pair.visit.image,
            "projection": pair.visit.projection,
            "psf": pair.visit.psf,
            "detector": pair.visit.detector,
            "photometic_scaling": pair.visit.photometric_scaling,  # the reference's spelling
            "obs_info": pair.visit.obs_info,
        },
    )
    # The 4300 call form: no TestCase.
    compare_visit_image_to_legacy(
        pair.visit, pair.exposure, instrument=INSTRUMENT, visit=VISIT, detector=DETECTOR
    )


@pytest.mark.parametrize(
    "breakage",
    [
        "image pixel", "variance pixel", "mask bit", "wcs", "psf sigma", "summary stat",
        "amplifier gain", "aperture correction", "photo calib", "wrong visit", "alternate",
    ],
)  # fmt: skip
def test_visit_image_mismatches_fail(pair: Pair, breakage: str) -> None:
    kwargs = {}
    exposure = pair.exposure
    if breakage == "image pixel":
        exposure.getMaskedImage().getImage().getArray()[3, 4] += 1e-3
    elif breakage == "variance pixel":
        exposure.getMaskedImage().getVariance().getArray()[0, 0] = 0.0
    elif breakage == "mask bit":
        exposure.getMaskedImage().getMask().getArray()[5, 6] ^= 1
    elif breakage == "wcs":
        exposure._wcs = _legacy_sky_wcs({**TAN_CARDS, "CRVAL2": -28.1001})
    elif breakage == "psf sigma":
        exposure._psf = afw.GaussianPsf(11, 11, 2.01)
    elif breakage == "summary stat":
        exposure._info._summary = afw.summary_stats({**pair.stats, "nPsfStar": 58})
    elif breakage == "amplifier gain":
        pair.legacy_detector._amplifiers[1]._cal = {**pair.legacy_detector._amplifiers[1]._cal, "gain": 1.0}
    elif breakage == "aperture correction":
        coeffs = AP_CORR_COEFFS + [[0.0, 0.0], [0.0, 1e-4]]
        exposure._info._ap_corr["base_PsfFlux_instFlux"] = afw.ChebyshevBoundedField(
            afw.box2i(pair.detector.bbox), coeffs
        )
    elif breakage == "photo calib":
        # (Only the shape is compared, as in the reference: the scaled calibration is the field / mean.)
        coeffs = PHOTO_COEFFS + [[0.0, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 0.0]]
        exposure._photo_calib = afw.PhotoCalib(
            1.25, afw.ChebyshevBoundedField(afw.box2i(pair.detector.bbox), coeffs / 1.25)
        )
    elif breakage == "wrong visit":
        with pytest.raises(FAIL):
            compare_visit_image_to_legacy(
                TC, pair.visit, exposure, instrument=INSTRUMENT, visit=VISIT + 1, detector=DETECTOR
            )
        return
    elif breakage == "alternate":
        other = pair.visit.image.copy()
        other.array[0, 0] += 1.0
        kwargs["alternates"] = {"image": other}
    with pytest.raises(FAIL):
        _compare_visit(pair, **kwargs)


def test_planes_and_views(pair: Pair) -> None:
    legacy = pair.legacy_masked
    compare_masked_image_to_legacy(TC, pair.visit, legacy, plane_map=get_legacy_visit_image_mask_planes())
    with pytest.raises(FAIL):
        compare_image_to_legacy(TC, pair.visit.image, legacy.getImage(), expect_view=True)
    compare_image_to_legacy(TC, pair.visit.image, legacy.getImage(), expect_view=False)
    shared = afw.Image(pair.visit.image.array, BBOX.x.start, BBOX.y.start)
    compare_image_to_legacy(TC, pair.visit.image, shared, expect_view=True)
    shifted = afw.Image(pair.visit.image.array, BBOX.x.start + 1, BBOX.y.start)
    with pytest.raises(FAIL, match="bbox"):
        compare_image_to_legacy(TC, pair.visit.image, shifted)
    # The default plane map looks our schema's names up in the legacy mask: afw knows no 'SATURATED'.
    with pytest.raises(KeyError):
        compare_mask_to_legacy(TC, pair.visit.mask, legacy.getMask())
    ours = Mask(schema=MaskSchema([get_legacy_visit_image_mask_planes()["BAD"]]), bbox=BBOX)
    ours.set("BAD", (legacy.getMask().getArray() & legacy.getMask().getPlaneBitMask("BAD")) != 0)
    compare_mask_to_legacy(TC, ours, legacy.getMask())


def test_projection(pair: Pair) -> None:
    frame = pair.projection.pixel_frame
    compare_projection_to_legacy_wcs(TC, pair.projection, pair.exposure.getWcs(), frame, BBOX, is_fits=True)
    compare_sky_projection_to_legacy_wcs(
        sky_projection=pair.projection, legacy_wcs=pair.exposure.getWcs(), pixel_frame=frame,
        subimage_bbox=BBOX, is_fits=True,
    )  # fmt: skip
    # A FITS-representable projection is not what a non-FITS comparison expects.
    with pytest.raises(FAIL, match="FITS-representable"):
        compare_projection_to_legacy_wcs(TC, pair.projection, pair.exposure.getWcs(), frame, BBOX)
    # A non-FITS projection must carry a FITS approximation compared with the SkyWcs's.
    approximate = _legacy_sky_wcs(TAN_CARDS)
    legacy = afw.SkyWcs(_legacy_sky_wcs(TAN_CARDS)._frame_set, fits_approximation=approximate)
    with pytest.raises(FAIL):
        compare_projection_to_legacy_wcs(TC, pair.projection, legacy, frame, BBOX, is_fits=False)
    wrong_frame = DetectorFrame(instrument=INSTRUMENT, visit=VISIT, detector=DETECTOR + 1, bbox=BBOX)
    with pytest.raises(FAIL):
        compare_projection_to_legacy_wcs(TC, pair.projection, pair.exposure.getWcs(), wrong_frame, BBOX, True)


def test_fields(pair: Pair) -> None:
    bbox = pair.detector.bbox
    field = ChebyshevField(bbox, PHOTO_COEFFS)
    legacy = afw.ChebyshevBoundedField(afw.box2i(bbox), PHOTO_COEFFS)
    compare_field_to_legacy(TC, field, legacy, BBOX)
    # A sub-image reaching past the field's box: afw only adds where the two overlap.
    small = ChebyshevField(BBOX, PHOTO_COEFFS)
    compare_field_to_legacy(TC, small, afw.ChebyshevBoundedField(afw.box2i(BBOX), PHOTO_COEFFS), BBOX)
    with pytest.raises(FAIL, match="bbox"):
        compare_field_to_legacy(TC, small, legacy, BBOX)
    with pytest.raises(FAIL):
        compare_field_to_legacy(
            TC, field, afw.ChebyshevBoundedField(afw.box2i(bbox), PHOTO_COEFFS * 1.001), BBOX
        )
    compare_aperture_corrections_to_legacy(TC, {"a": field}, afw.ApCorrMap(a=legacy), BBOX)
    with pytest.raises(FAIL):
        compare_aperture_corrections_to_legacy(TC, {"a": field}, afw.ApCorrMap(a=legacy, b=legacy), BBOX)


def test_photo_calib_rules(pair: Pair) -> None:
    bbox = pair.detector.bbox
    tiny = bbox.local[2:4, 3:6]
    compare_photo_calib_to_legacy(TC, None, afw.PhotoCalib(1.0), subimage_bbox=tiny)
    with pytest.raises(FAIL):
        compare_photo_calib_to_legacy(
            TC, ChebyshevField(bbox, np.array([[1.0]])), afw.PhotoCalib(1.0), subimage_bbox=tiny
        )
    constant = ChebyshevField(bbox, np.array([[2.5]]), unit=u.nJy / u.electron)
    compare_photo_calib_to_legacy(TC, constant, afw.PhotoCalib(2.5), subimage_bbox=tiny)
    compare_photo_calib_to_legacy(
        TC, ChebyshevField(bbox, np.array([2.5])), afw.PhotoCalib(2.5), subimage_bbox=tiny
    )
    # Something applied to the pixels: even a unit calibration is then a field.
    compare_photo_calib_to_legacy(
        TC, ChebyshevField(bbox, np.array([[1.0]])), afw.PhotoCalib(1.0),
        applied_legacy_photo_calib=afw.PhotoCalib(2.0), subimage_bbox=tiny,
    )  # fmt: skip
    with pytest.raises(FAIL):
        compare_photo_calib_to_legacy(TC, constant, afw.PhotoCalib(2.4), subimage_bbox=tiny)


def test_summary_stats() -> None:
    values = {"psfSigma": 1.5, "skyBg": math.nan, "raCorners": (1.0, math.nan, 3.0, 4.0), "nPsfStar": 3}
    ours = ObservationSummaryStats(**values)
    compare_observation_summary_stats_to_legacy(TC, ours, afw.summary_stats(values))
    for key, value in (("psfSigma", 1.6), ("skyBg", 0.0), ("raCorners", (1.0, 2.0, 3.0, 4.0))):
        with pytest.raises(FAIL):
            compare_observation_summary_stats_to_legacy(TC, ours, afw.summary_stats({**values, key: value}))
    with pytest.raises(TypeError):  # the legacy side must be a dataclass, as afw's is
        compare_observation_summary_stats_to_legacy(TC, ours, object())


def test_psfs(pair: Pair) -> None:
    bbox = pair.detector.bbox
    psf = GaussianPointSpreadFunction(2.0, bbox, 11)
    legacy = afw.GaussianPsf(11, 11, 2.0, valid=afw.box2i(bbox))
    assert compare_psf_to_legacy(TC, psf, legacy) == 9
    points = XY(np.array([10.3, -50.0, 4000.7]), np.array([20.6, 30.0, 3999.2]))
    assert compare_psf_to_legacy(TC, psf, legacy, points, expect_legacy_raise_on_out_of_bounds=True) == 2
    assert compare_psf_to_legacy(psf, legacy, YX(points.y, points.x)) == 2  # 4300 form, YX points
    with pytest.raises(FAIL):  # the unbounded afw PSF does not raise outside
        compare_psf_to_legacy(TC, psf, afw.GaussianPsf(11, 11, 2.0), points, True)
    with pytest.raises(FAIL):
        compare_psf_to_legacy(TC, psf, afw.GaussianPsf(13, 13, 2.0))
    assert assert_psfs_equal(TC, psf, GaussianPointSpreadFunction(2.0, bbox, 11)) == 9
    with pytest.raises(FAIL):
        assert_psfs_equal(TC, psf, GaussianPointSpreadFunction(2.1, bbox, 11))
    with pytest.raises(FAIL):  # Gaussian PSFs do not raise BoundsError outside their bounds
        assert_psfs_equal(TC, psf, GaussianPointSpreadFunction(2.0, bbox, 11), points)
    assert assert_psfs_equal(TC, psf, _BoundedGaussian(2.0, bbox, 11), points) == 2


class _BoundedGaussian(GaussianPointSpreadFunction):
    """A Gaussian PSF that refuses points outside its bounds, as cell PSFs do."""

    def compute_kernel_image(self, *, x, y):
        from lsst.images import BoundsError

        if not self.bounds.contains(x=x, y=y):
            raise BoundsError(f"({x}, {y}) is outside {self.bounds}.")
        return super().compute_kernel_image(x=x, y=y)


def test_detector_and_amplifiers(pair: Pair) -> None:
    compare_detector_to_legacy(TC, pair.detector, pair.legacy_detector, is_raw_assembled=True)
    with pytest.raises(FAIL):  # the detector only has an assembled raw geometry
        compare_detector_to_legacy(TC, pair.detector, pair.legacy_detector, is_raw_assembled=False)
    amplifier, legacy_amplifier = pair.detector.amplifiers[0], pair.legacy_detector.getAmplifiers()[0]
    compare_amplifier_to_legacy(TC, amplifier, legacy_amplifier, is_raw_assembled=True)
    with pytest.raises(FAIL):
        compare_amplifier_to_legacy(
            TC, amplifier, legacy_amplifier, is_raw_assembled=True, expect_nominal_calibrations=False
        )
    with pytest.raises(FAIL):
        compare_amplifier_to_legacy(
            TC, amplifier, pair.legacy_detector.getAmplifiers()[1], is_raw_assembled=True
        )
    spec = _dp2_components()["detector"]
    moved = {**spec, "attributes": {**spec["attributes"], "orientation": {
        **spec["attributes"]["orientation"], "focal_plane_x": -126.0}}}  # fmt: skip
    with pytest.raises(FAIL):
        compare_detector_to_legacy(TC, pair.detector, afw.Detector(moved), is_raw_assembled=True)


# -- the real afw file, read by our legacy reader --------------------------------------------------------


def _calexp_exposure(path) -> afw.Exposure:
    """Stand-ins for what afw reads from the file, built from the file's raw HDUs and persisted objects."""
    from lsst.images.legacy._fits import LegacyFitsFile
    from lsst.images.legacy._masks import read_mask_plane_cards

    with LegacyFitsFile(path) as lf:
        header, archive = lf.primary_header, lf.archive

        def get(key):
            return archive.get(int(header[f"{key}_ID"]))

        planes = {k: lf.read_plane(k) for k in ("IMAGE", "MASK", "VARIANCE")}
        psf, calib, stats = (
            get("PSF"),
            get("PHOTOCALIB"),
            archive.get(int(header["ARCHIVE_ID_SUMMARY_STATS"])),
        )
        ap_corr = {
            name: afw.ChebyshevBoundedField(afw.Box2I(*field.bbox), field.coefficients)
            for name, field in get("AP_CORR_MAP").items()
        }
        wcs = afw.SkyWcs(get("SKYWCS").frame_set)
    x0, y0 = planes["IMAGE"].x0, planes["IMAGE"].y0
    masked = afw.MaskedImage(
        afw.Image(planes["IMAGE"].array, x0, y0),
        afw.Mask(planes["MASK"].array, read_mask_plane_cards(planes["MASK"].header), x0, y0),
        afw.Image(planes["VARIANCE"].array, x0, y0),
    )
    assert calib.is_constant
    return afw.Exposure(
        masked,
        wcs=wcs,
        psf=afw.GaussianPsf(psf.width, psf.height, psf.sigma),
        detector=None,
        photo_calib=afw.PhotoCalib(calib.mean),
        info=afw.ExposureInfo(afw.summary_stats(dict(stats)), afw.ApCorrMap(ap_corr)),
    )


def test_calexp_read_by_our_reader(monkeypatch) -> None:
    from lsst.images.legacy import read_visit_image

    afw.install_geom(monkeypatch)
    path = fixture_dir("legacy") / "obs_base__calexp.fits"
    visit = read_visit_image(path, visit=904010)
    exposure = _calexp_exposure(path)
    legacy_planes = exposure.getMaskedImage().getMask().getMaskPlaneDict()
    plane_map = {k: v for k, v in get_legacy_visit_image_mask_planes().items() if k in legacy_planes}
    assert len(plane_map) >= 8
    compare_masked_image_to_legacy(TC, visit, exposure.getMaskedImage(), plane_map=plane_map)
    frame = visit.projection.pixel_frame
    compare_projection_to_legacy_wcs(TC, visit.projection, exposure.getWcs(), frame, visit.bbox, is_fits=True)
    assert compare_psf_to_legacy(TC, visit.psf, exposure.getPsf()) == 9
    tiny = visit.detector.bbox.local[2:4, 3:6]
    compare_aperture_corrections_to_legacy(
        TC, visit.aperture_corrections, exposure.getInfo().getApCorrMap(), tiny
    )
    compare_photo_calib_to_legacy(TC, visit.photometric_scaling, exposure.getPhotoCalib(), subimage_bbox=tiny)
    compare_observation_summary_stats_to_legacy(TC, visit.summary_stats, exposure.getInfo().getSummaryStats())
    exposure.getMaskedImage().getImage().getArray()[0, 0] += 1.0
    with pytest.raises(FAIL):
        compare_image_to_legacy(TC, visit.image, exposure.getMaskedImage().getImage())
