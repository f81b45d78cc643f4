"""In-memory behaviour of VisitImage: construction, attributes, copies, subimages, unit conversion."""

from __future__ import annotations

import json

import astropy.units as u
import astropy.wcs
import numpy as np
import pytest
from astro_metadata_translator import ObservationInfo

from conftest import fixture_dir, load_manifest
from lsst.images import (
    BackgroundMap,
    Box,
    DetectorFrame,
    Image,
    Mask,
    MaskPlane,
    MaskSchema,
    ObservationSummaryStats,
    Polygon,
    Projection,
    VisitImage,
    get_legacy_deep_coadd_mask_planes,
    get_legacy_visit_image_mask_planes,
)
from lsst.images.cameras import Detector, DetectorSerializationModel
from lsst.images.fields import ChebyshevField
from lsst.images.psfs import GaussianPointSpreadFunction
from lsst.images.serialization import ArchiveReadError

BBOX = Box.factory[1000:1040, 2000:2050]
VISIT = 2025052000177


def _fixture_tree() -> dict:
    return json.loads((fixture_dir("lsst-images-2100") / "visit_full.tree.json").read_text())


@pytest.fixture(scope="module")
def detector() -> Detector:
    model = DetectorSerializationModel.model_validate(_fixture_tree()["detector"])
    return model.deserialize(None)  # type: ignore[arg-type]  # the detector has no out-of-line data


@pytest.fixture(scope="module")
def obs_info() -> ObservationInfo:
    return ObservationInfo.model_validate(_fixture_tree()["obs_info"])


@pytest.fixture(scope="module")
def projection(detector: Detector) -> Projection[DetectorFrame]:
    cards = load_manifest("lsst-images-2100")["builder_inputs"]["tan_wcs_cards"]
    wcs = astropy.wcs.WCS(cards)
    frame = DetectorFrame(instrument="LSSTCam", visit=VISIT, detector=85, bbox=detector.bbox)
    return Projection.from_fits_wcs(wcs, frame)


SCHEMA = MaskSchema([MaskPlane("BAD", "Bad pixel."), MaskPlane("SATURATED", "Saturated."), None])
PHOTO_COEFFS = np.array([[1.25, 0.01, -0.002], [0.02, 0.003, 0.0], [0.001, 0.0, 0.0]])


def _polygon() -> Polygon:
    # Covers the whole image except a triangle at the lower-left corner (a polygon inside the bbox edges).
    x0, y0 = BBOX.x.start - 0.5, BBOX.y.start - 0.5
    x1, y1 = BBOX.x.stop - 0.5, BBOX.y.stop - 0.5
    return Polygon(x_vertices=[x0 + 10, x1, x1, x0], y_vertices=[y0, y0, y1, y1 - 10])


def _make(detector, obs_info, projection, **overrides) -> VisitImage:
    rng = np.random.default_rng(5)
    image = Image(rng.normal(100.0, 5.0, size=BBOX.shape).astype(np.float32), bbox=BBOX, unit=u.nJy)
    variance = Image(np.full(BBOX.shape, 25.0, dtype=np.float32), bbox=BBOX, unit=u.nJy**2)
    mask = Mask(schema=SCHEMA, bbox=BBOX)
    mask.array[3, 4, 0] = 1
    backgrounds = BackgroundMap()
    backgrounds.add(
        "standard",
        ChebyshevField(detector.bbox, np.array([[812.5, 1.5], [-0.75, 0.0]]), unit=u.nJy),
        "Subtracted background.",
        is_subtracted=True,
    )
    kwargs = dict(
        mask=mask,
        variance=variance,
        projection=projection,
        bounds=_polygon(),
        obs_info=obs_info,
        summary_stats=ObservationSummaryStats(psfSigma=2.0, nPsfStar=57),
        photometric_scaling=ChebyshevField(detector.bbox, PHOTO_COEFFS, unit=u.nJy / u.electron),
        psf=GaussianPointSpreadFunction(2.0, detector.bbox, 25),
        detector=detector,
        aperture_corrections={
            "base_PsfFlux_instFlux": ChebyshevField(detector.bbox, np.array([[0.98, 0.001], [0.002, 0.0]]))
        },
        backgrounds=backgrounds,
        metadata={"ORIGIN": "test", "answer": 42},
    )
    kwargs.update(overrides)
    return VisitImage(image, **kwargs)


@pytest.fixture()
def visit(detector, obs_info, projection) -> VisitImage:
    return _make(detector, obs_info, projection)


# --- construction rules -----------------------------------------------------------------------------


def test_attributes(visit: VisitImage, detector, obs_info, projection) -> None:
    assert visit.bbox == BBOX
    assert visit.unit == u.nJy
    assert visit.image.unit == u.nJy and visit.variance.unit == u.nJy**2
    assert visit.projection is projection
    assert visit.image.projection is projection and visit.mask.projection is projection
    assert visit.detector is detector
    assert visit.obs_info is obs_info
    assert visit.summary_stats.psfSigma == 2.0 and visit.summary_stats.nPsfStar == 57
    assert isinstance(visit.psf, GaussianPointSpreadFunction)
    assert visit.photometric_scaling.unit == u.nJy / u.electron
    assert list(visit.aperture_corrections) == ["base_PsfFlux_instFlux"]
    assert list(visit.backgrounds) == ["standard"]
    assert visit.backgrounds.subtracted is visit.backgrounds["standard"]
    assert visit.metadata == {"ORIGIN": "test", "answer": 42}
    assert isinstance(visit.bounds, Polygon)
    assert visit.mask.schema == SCHEMA
    assert visit.butler_dataset is None and visit.butler_provenance is None
    # WCS views are in local (array) coordinates.
    sky = projection.pixel_to_sky(x=2010.0, y=1020.0)
    ra, dec = visit.astropy_wcs.pixel_to_world_values(10.0, 20.0)
    assert ra == pytest.approx(sky.ra.deg, abs=1e-9) and dec == pytest.approx(sky.dec.deg, abs=1e-9)
    fits_sky = visit.fits_wcs.pixel_to_world(10.0, 20.0)
    assert fits_sky.separation(sky).arcsec < 1e-6
    assert visit.absolute[1010:1020, 2000:2010].bbox == Box.factory[1010:1020, 2000:2010]


def test_projection_from_image(detector, obs_info, projection) -> None:
    image = Image(np.zeros(BBOX.shape, dtype=np.float32), bbox=BBOX, unit=u.nJy, projection=projection)
    vi = VisitImage(
        image,
        mask_schema=SCHEMA,
        obs_info=obs_info,
        psf=GaussianPointSpreadFunction(1.5, BBOX, 11),
        detector=detector,
    )
    assert vi.projection is projection
    assert vi.variance.projection is projection
    # Defaults.
    np.testing.assert_array_equal(vi.variance.array, 1.0)
    assert vi.variance.unit == u.nJy**2
    assert vi.bounds == BBOX
    assert vi.photometric_scaling is None
    assert vi.aperture_corrections == {}
    assert len(vi.backgrounds) == 0 and vi.backgrounds.subtracted is None
    assert vi.metadata == {}
    assert np.isnan(vi.summary_stats.psfSigma) and vi.summary_stats.nPsfStar == 0
    assert vi.summary_stats == ObservationSummaryStats()
    assert not vi.mask.array.any()


def test_construction_errors(detector, obs_info, projection) -> None:
    psf = GaussianPointSpreadFunction(1.5, BBOX, 11)
    plain = Image(np.zeros(BBOX.shape, dtype=np.float32), bbox=BBOX, unit=u.nJy)
    base = dict(mask_schema=SCHEMA, obs_info=obs_info, psf=psf, detector=detector)
    with pytest.raises(TypeError, match="projection"):
        VisitImage(plain, **base)
    with pytest.raises(TypeError, match="unit"):
        VisitImage(Image(np.zeros(BBOX.shape), bbox=BBOX), projection=projection, **base)
    with pytest.raises(TypeError, match="ObservationInfo"):
        VisitImage(plain, projection=projection, **(base | {"obs_info": None}))
    with pytest.raises(TypeError):
        VisitImage(plain, projection=projection, mask=Mask(schema=SCHEMA, bbox=BBOX), **base)
    with pytest.raises(TypeError):
        VisitImage(plain, projection=projection, **{k: v for k, v in base.items() if k != "mask_schema"})
    with pytest.raises(ValueError):
        VisitImage(
            plain,
            projection=projection,
            variance=Image(np.ones(BBOX.shape), bbox=BBOX, unit=u.nJy),
            **base,
        )
    with pytest.raises(ValueError):
        VisitImage(
            plain,
            projection=projection,
            mask=Mask(schema=SCHEMA, bbox=BBOX.padded(1)),
            psf=psf,
            obs_info=obs_info,
            detector=detector,
        )
    with pytest.raises(TypeError, match="unit"):
        VisitImage(
            plain, projection=projection, photometric_scaling=ChebyshevField(BBOX, np.ones((1, 1))), **base
        )
    with pytest.raises(TypeError):
        VisitImage(
            plain, projection=projection, mask_schema=SCHEMA, obs_info=obs_info, psf=psf
        )  # no detector
    # A projection whose pixel frame is not a detector frame.
    from lsst.images import GeneralFrame

    other = Projection.from_fits_wcs(projection.as_fits_wcs(BBOX), GeneralFrame(unit=u.pix))
    with pytest.raises(TypeError, match="DetectorFrame"):
        VisitImage(plain, projection=other, **base)


def test_variance_without_unit_gets_image_unit_squared(detector, obs_info, projection) -> None:
    vi = _make(
        detector, obs_info, projection, variance=Image(np.full(BBOX.shape, 2.0, np.float32), bbox=BBOX)
    )
    assert vi.variance.unit == u.nJy**2


def test_psf_error_is_deferred(detector, obs_info, projection) -> None:
    error = ArchiveReadError("piff is not installed")
    vi = _make(detector, obs_info, projection, psf=error)
    assert vi.bbox == BBOX  # everything else works
    with pytest.raises(ArchiveReadError, match="piff is not installed"):
        _ = vi.psf
    # Subimages and copies keep the deferred error.
    with pytest.raises(ArchiveReadError):
        _ = vi[Box.factory[1000:1010, 2000:2010]].psf
    with pytest.raises(ArchiveReadError):
        _ = vi.copy().psf


def test_photometric_scaling_setter(visit: VisitImage, detector) -> None:
    with pytest.raises(TypeError):
        visit.photometric_scaling = ChebyshevField(detector.bbox, np.ones((1, 1)))
    visit.photometric_scaling = None
    assert visit.photometric_scaling is None
    field = ChebyshevField(detector.bbox, np.full((1, 1), 2.0), unit=u.nJy / u.electron)
    visit.photometric_scaling = field
    assert visit.photometric_scaling is field


# --- bounds --------------------------------------------------------------------------------


def test_bounds_inside_bbox_are_kept(visit: VisitImage) -> None:
    assert visit.bounds == _polygon()
    assert visit.bounds.contains(x=2000, y=1000) is False or not visit.bounds.contains(x=2000, y=1000)
    assert visit.bounds.contains(x=2049, y=1000)


def test_bounds_extending_beyond_bbox_are_clipped(detector, obs_info, projection) -> None:
    big = Polygon(
        x_vertices=[BBOX.x.start - 100.5, BBOX.x.stop + 99.5, BBOX.x.stop + 99.5, BBOX.x.start + 9.5],
        y_vertices=[BBOX.y.start - 100.5, BBOX.y.start - 100.5, BBOX.y.stop + 99.5, BBOX.y.stop + 99.5],
    )
    vi = _make(detector, obs_info, projection, bounds=big)
    assert BBOX.contains(vi.bounds.bbox)
    xs = np.array([BBOX.x.start, BBOX.x.stop - 1, BBOX.x.start + 20])
    ys = np.array([BBOX.y.start, BBOX.y.stop - 1, BBOX.y.start + 20])
    np.testing.assert_array_equal(vi.bounds.contains(x=xs, y=ys), big.contains(x=xs, y=ys))
    # A box bigger than the image is clipped to the image's bbox.
    vi = _make(detector, obs_info, projection, bounds=BBOX.padded(10))
    assert vi.bounds == BBOX


# --- copies ------------------------------------------------------------------------------------------------


def test_copy(visit: VisitImage) -> None:
    copy = visit.copy()
    assert copy.bbox == visit.bbox
    np.testing.assert_array_equal(copy.image.array, visit.image.array)
    np.testing.assert_array_equal(copy.mask.array, visit.mask.array)
    np.testing.assert_array_equal(copy.variance.array, visit.variance.array)
    for plane in ("image", "mask", "variance"):
        assert not np.shares_memory(getattr(copy, plane).array, getattr(visit, plane).array)
    # Immutable components are shared.
    assert copy.psf is visit.psf
    assert copy.projection is visit.projection
    assert copy.obs_info is visit.obs_info
    assert copy.bounds is visit.bounds
    assert copy.photometric_scaling is visit.photometric_scaling
    assert copy.detector is visit.detector
    # Mutable ones are copied.
    assert copy.metadata == visit.metadata and copy.metadata is not visit.metadata
    assert copy.summary_stats == visit.summary_stats and copy.summary_stats is not visit.summary_stats
    assert copy.aperture_corrections == visit.aperture_corrections
    assert copy.aperture_corrections is not visit.aperture_corrections
    assert list(copy.backgrounds) == list(visit.backgrounds) and copy.backgrounds is not visit.backgrounds
    copy.image.array[0, 0] = -1.0
    copy.metadata["new"] = 1
    copy.summary_stats.psfSigma = 3.0
    copy.aperture_corrections["x"] = visit.photometric_scaling
    assert visit.image.array[0, 0] != -1.0
    assert "new" not in visit.metadata
    assert visit.summary_stats.psfSigma == 2.0
    assert "x" not in visit.aperture_corrections
    deep = visit.copy(copy_detector=True)
    assert deep.detector is not visit.detector
    assert deep.detector.amplifiers == visit.detector.amplifiers
    assert deep.detector.frame == visit.detector.frame


# --- subimages --------------------------------------------------------------------------------


def test_subimage_shares_everything(visit: VisitImage) -> None:
    box = Box.factory[1010:1020, 2020:2035]
    sub = visit[box]
    assert isinstance(sub, VisitImage)
    assert sub.bbox == box
    assert np.shares_memory(sub.image.array, visit.image.array)
    assert np.shares_memory(sub.mask.array, visit.mask.array)
    assert np.shares_memory(sub.variance.array, visit.variance.array)
    np.testing.assert_array_equal(sub.image.array, visit.image.array[10:20, 20:35])
    for name in (
        "psf",
        "projection",
        "obs_info",
        "summary_stats",
        "photometric_scaling",
        "detector",
        "aperture_corrections",
        "backgrounds",
        "metadata",
    ):
        assert getattr(sub, name) is getattr(visit, name), name
    # The subimage is fully inside the polygon, so its bounds become its box.
    assert sub.bounds == box
    sub.image.array[0, 0] = 1234.0
    assert visit.image.array[10, 20] == 1234.0
    assert visit[...] is visit
    with pytest.raises(TypeError):
        visit[1, 2]  # type: ignore[index]


def test_local_and_absolute_slicing(visit: VisitImage) -> None:
    local = visit.local[10:20, 20:35]
    absolute = visit.absolute[1010:1020, 2020:2035]
    assert local.bbox == absolute.bbox == Box.factory[1010:1020, 2020:2035]
    np.testing.assert_array_equal(local.image.array, absolute.image.array)
    corner = visit.local[0:15, 0:15]
    # The lower-left triangle of the polygon is cut, so the bounds stay a polygon (clipped to the box).
    assert not isinstance(corner.bounds, Box)
    assert corner.bbox.contains(corner.bounds.bbox)
    assert corner.bounds.bbox == Box.factory[1000:1015, 2005:2015]  # the cut runs from x=2009.5 to 2004.5
    assert not corner.bounds.contains(x=2000, y=1000)
    assert corner.bounds.contains(x=2014, y=1014)


# --- unit conversion -------------------------------------------------------------------------------------


def _assert_same_planes(again: VisitImage, visit: VisitImage) -> None:
    """Image, mask and variance pixels and the mask schema survived a round trip unchanged."""
    np.testing.assert_array_equal(again.image.array, visit.image.array)
    np.testing.assert_array_equal(again.mask.array, visit.mask.array)
    np.testing.assert_array_equal(again.variance.array, visit.variance.array)
    assert again.mask.schema == visit.mask.schema


def _scaling_on(visit: VisitImage) -> np.ndarray:
    y, x = np.mgrid[visit.bbox.y.start : visit.bbox.y.stop, visit.bbox.x.start : visit.bbox.x.stop]
    width, height = 4096, 4004  # the photometric scaling's bounds: the detector bbox
    xn = (x - (width / 2 - 0.5)) * 2 / width
    yn = (y - (height / 2 - 0.5)) * 2 / height
    return np.polynomial.chebyshev.chebval2d(yn, xn, PHOTO_COEFFS)


def test_convert_unit_direct(visit: VisitImage) -> None:
    converted = visit.convert_unit(u.uJy)
    assert converted.unit == u.uJy and converted.variance.unit == u.uJy**2
    np.testing.assert_allclose(converted.image.array, visit.image.array * 1e-3, rtol=1e-6)
    np.testing.assert_allclose(converted.variance.array, visit.variance.array * 1e-6, rtol=1e-6)
    assert converted.image.array.dtype == np.float32
    # And back to nJy.
    back = converted.convert_unit(u.nJy)
    np.testing.assert_allclose(back.image.array, visit.image.array, rtol=1e-6)
    assert back.unit == u.nJy


def test_convert_unit_via_photometric_scaling(visit: VisitImage) -> None:
    scaling = _scaling_on(visit)
    instrumental = visit.convert_unit(u.electron)
    assert instrumental.unit == u.electron and instrumental.variance.unit == u.electron**2
    np.testing.assert_allclose(instrumental.image.array, visit.image.array / scaling, rtol=1e-6)
    np.testing.assert_allclose(instrumental.variance.array, visit.variance.array / scaling**2, rtol=1e-6)
    # Calibrating again, into nJy (multiplying by the scaling) and into μJy (scaling and unit factor).
    calibrated = instrumental.convert_unit(u.nJy)
    np.testing.assert_allclose(calibrated.image.array, visit.image.array, rtol=1e-5)
    np.testing.assert_allclose(calibrated.variance.array, visit.variance.array, rtol=1e-5)
    micro = instrumental.convert_unit(u.uJy)
    np.testing.assert_allclose(micro.image.array, visit.image.array * 1e-3, rtol=1e-5)
    # The photometric scaling itself is carried along unchanged.
    assert calibrated.photometric_scaling is visit.photometric_scaling


def test_convert_unit_impossible(visit: VisitImage, detector, obs_info, projection) -> None:
    with pytest.raises(u.UnitConversionError, match="photometric_scaling"):
        visit.convert_unit(u.m)
    plain = _make(detector, obs_info, projection, photometric_scaling=None)
    with pytest.raises(u.UnitConversionError):
        plain.convert_unit(u.electron)


def test_convert_unit_copy_modes(visit: VisitImage) -> None:
    # No conversion needed.
    assert visit.convert_unit(u.nJy, copy=False) is visit
    assert visit.convert_unit(u.nJy, copy="as-needed") is visit
    full = visit.convert_unit(u.nJy, copy=True)
    assert full is not visit and not np.shares_memory(full.image.array, visit.image.array)
    assert full.metadata is not visit.metadata and full.detector is visit.detector
    with_detector = visit.convert_unit(u.nJy, copy="as-needed", copy_detector=True)
    assert with_detector.detector is not visit.detector
    assert np.shares_memory(with_detector.image.array, visit.image.array)
    # Conversion needed.
    with pytest.raises(u.UnitConversionError, match="copy=False"):
        visit.convert_unit(u.uJy, copy=False)
    as_needed = visit.convert_unit(u.uJy, copy="as-needed")
    assert not np.shares_memory(as_needed.image.array, visit.image.array)
    assert np.shares_memory(as_needed.mask.array, visit.mask.array)
    assert as_needed.metadata is visit.metadata
    assert as_needed.summary_stats is visit.summary_stats
    assert as_needed.backgrounds is visit.backgrounds
    copied = visit.convert_unit(u.uJy, copy=True, copy_detector=True)
    assert not np.shares_memory(copied.mask.array, visit.mask.array)
    assert copied.metadata == visit.metadata and copied.metadata is not visit.metadata
    assert copied.summary_stats is not visit.summary_stats
    assert copied.detector is not visit.detector
    assert copied.psf is visit.psf


# --- display ---------------------------------------------------------------------------------------------


def test_str_and_repr(visit: VisitImage) -> None:
    assert str(visit) == "VisitImage(Image([y=1000:1040, x=2000:2050], float32), ['BAD', 'SATURATED'])"
    assert repr(visit) == (
        "VisitImage(Image(..., bbox=Box(y=Interval(start=1000, stop=1040), "
        "x=Interval(start=2000, stop=2050)), "
        "dtype=dtype('float32')), mask_schema=MaskSchema([MaskPlane(name='BAD', description='Bad pixel.'), "
        "MaskPlane(name='SATURATED', description='Saturated.'), None], dtype=dtype('uint8')))"
    )


# --- legacy mask plane maps ------------------------------------------------------------------------------


def test_legacy_mask_plane_maps() -> None:
    visit_map = get_legacy_visit_image_mask_planes()
    assert list(visit_map) == [
        "BAD", "SAT", "INTRP", "CR", "EDGE", "DETECTED", "SUSPECT", "NO_DATA", "VIGNETTED",
        "PARTLY_VIGNETTED", "CROSSTALK", "ITL_DIP", "NOT_DEBLENDED", "SPIKE",
    ]  # fmt: skip
    assert visit_map["SAT"].name == "SATURATED"
    assert visit_map["INTRP"].name == "INTERPOLATED"
    assert visit_map["CR"].name == "COSMIC_RAY"
    assert visit_map["EDGE"].name == "DETECTION_EDGE"
    assert all(plane.description for plane in visit_map.values())
    assert visit_map is not get_legacy_visit_image_mask_planes()
    coadd_map = get_legacy_deep_coadd_mask_planes()
    assert list(coadd_map) == ["NO_DATA", "INTRP", "CR", "SAT", "EDGE", "REJECTED", "DETECTED", "INEXACT_PSF"]
    assert coadd_map["REJECTED"] == MaskPlane("REJECTED", coadd_map["REJECTED"].description)


# --- serialization ---------------------------------------------------------------------------------------


def test_json_round_trip(visit: VisitImage, tmp_path) -> None:
    from lsst.images import json as images_json

    path = tmp_path / "visit.json"
    images_json.write(visit, str(path))
    tree = json.loads(path.read_text())
    assert list(tree) == [
        "metadata", "image", "mask", "variance", "projection", "psf", "obs_info", "photometric_scaling",
        "summary_stats", "detector", "aperture_corrections", "bounds", "backgrounds",
    ]  # fmt: skip
    assert tree["psf"]["sigma"] == 2.0 and tree["psf"]["stamp_size"] == 25
    assert tree["photometric_scaling"]["unit"] == "nJy / electron"
    assert tree["bounds"]["type"] == "Polygon"
    assert tree["backgrounds"]["subtracted"] == "standard"
    result = images_json.read(VisitImage, str(path))
    again = result.deserialized
    assert result.metadata == visit.metadata == again.metadata
    assert again.bbox == visit.bbox and again.unit == u.nJy
    _assert_same_planes(again, visit)
    assert again.psf == visit.psf
    assert again.obs_info == visit.obs_info
    assert again.summary_stats == visit.summary_stats
    np.testing.assert_array_equal(again.bounds.x_vertices[:4], visit.bounds.x_vertices[:4])
    assert again.detector.amplifiers == visit.detector.amplifiers
    assert again.detector.frame == visit.detector.frame
    assert again.projection.pixel_frame == visit.projection.pixel_frame
    sky_a = again.projection.pixel_to_sky(x=2010.0, y=1020.0)
    sky_b = visit.projection.pixel_to_sky(x=2010.0, y=1020.0)
    assert sky_a.separation(sky_b).arcsec < 1e-9
    np.testing.assert_array_equal(again.photometric_scaling.coefficients, PHOTO_COEFFS)
    assert again.photometric_scaling.unit == u.nJy / u.electron
    np.testing.assert_array_equal(
        again.aperture_corrections["base_PsfFlux_instFlux"].coefficients,
        visit.aperture_corrections["base_PsfFlux_instFlux"].coefficients,
    )
    assert again.backgrounds.subtracted.name == "standard"
    assert again.backgrounds["standard"].description == "Subtracted background."
    # A subimage read clips the bounds and keeps every component.
    box = Box.factory[1010:1020, 2020:2035]
    sub = images_json.read(VisitImage, str(path), bbox=box).deserialized
    assert sub.bbox == box and sub.bounds == box
    np.testing.assert_array_equal(sub.image.array, visit[box].image.array)
    # A visit image whose bounds are its bbox omits them from the tree.
    plain = VisitImage(
        visit.image, mask=visit.mask, psf=visit.psf, obs_info=visit.obs_info, detector=visit.detector
    )
    assert "bounds" not in images_json.write(plain).model_dump()


def test_serialize_rejects_unsupported_psf(detector, obs_info, projection) -> None:
    from lsst.images import json as images_json
    from lsst.images.psfs import PointSpreadFunction

    class OddPsf(PointSpreadFunction):
        @property
        def bounds(self):
            return BBOX

        @property
        def kernel_bbox(self):
            return Box.factory[-1:2, -1:2]

        def compute_kernel_image(self, *, x, y):
            raise NotImplementedError()

        def compute_stellar_image(self, *, x, y):
            raise NotImplementedError()

        def compute_stellar_bbox(self, *, x, y):
            raise NotImplementedError()

    vi = _make(detector, obs_info, projection, psf=OddPsf())
    with pytest.raises(TypeError, match="OddPsf"):
        images_json.write(vi)
    deferred = _make(detector, obs_info, projection, psf=ArchiveReadError("no piff"))
    with pytest.raises(ArchiveReadError):
        images_json.write(deferred)


def test_deserialize_component_every_name(visit: VisitImage) -> None:
    from lsst.images import json as images_json
    from lsst.images.json import JsonInputArchive
    from lsst.images.serialization import InvalidComponentError, InvalidParameterError

    tree = images_json.write(visit)
    archive = JsonInputArchive(tree.indirect)
    box = Box.factory[1010:1020, 2020:2035]
    assert tree.deserialize_component("bbox", archive) == BBOX
    image = tree.deserialize_component("image", archive, bbox=box)
    assert image.bbox == box and image.unit == u.nJy
    np.testing.assert_array_equal(image.array, visit[box].image.array)
    mask = tree.deserialize_component("mask", archive)
    np.testing.assert_array_equal(mask.array, visit.mask.array)
    variance = tree.deserialize_component("variance", archive)
    np.testing.assert_array_equal(variance.array, visit.variance.array)
    assert variance.unit == u.nJy**2
    assert tree.deserialize_component("projection", archive).pixel_frame == visit.projection.pixel_frame
    assert tree.deserialize_component("psf", archive) == visit.psf
    assert tree.deserialize_component("obs_info", archive) == visit.obs_info
    assert tree.deserialize_component("summary_stats", archive) == visit.summary_stats
    scaling = tree.deserialize_component("photometric_scaling", archive)
    np.testing.assert_array_equal(scaling.coefficients, PHOTO_COEFFS)
    assert tree.deserialize_component("detector", archive).amplifiers == visit.detector.amplifiers
    assert list(tree.deserialize_component("aperture_corrections", archive)) == ["base_PsfFlux_instFlux"]
    bounds = tree.deserialize_component("bounds", archive)
    assert isinstance(bounds, Polygon) and bounds.bbox == visit.bounds.bbox
    backgrounds = tree.deserialize_component("backgrounds", archive)
    assert list(backgrounds) == ["standard"] and backgrounds.subtracted.name == "standard"
    with pytest.raises(InvalidComponentError):
        tree.deserialize_component("band", archive)
    with pytest.raises(InvalidParameterError):
        tree.deserialize_component("detector", archive, bbox=box)
    with pytest.raises(InvalidParameterError):
        tree.deserialize(archive, unknown=True)


def test_pickle_and_deepcopy(visit: VisitImage) -> None:
    import copy
    import pickle

    for again in (pickle.loads(pickle.dumps(visit)), copy.deepcopy(visit)):
        assert isinstance(again, VisitImage) and again.bbox == visit.bbox
        np.testing.assert_array_equal(again.image.array, visit.image.array)
        assert not np.shares_memory(again.image.array, visit.image.array)
        assert again.unit == u.nJy and again.psf == visit.psf
        assert again.detector.frame == visit.detector.frame
        assert again.obs_info == visit.obs_info
        assert again.metadata == visit.metadata
        assert again.bounds == visit.bounds


def test_fits_round_trip(visit: VisitImage, tmp_path) -> None:
    import astropy.io.fits

    path = tmp_path / "visit.fits"
    visit.write_fits(str(path))
    with astropy.io.fits.open(path) as hdus:
        names = [hdu.header.get("EXTNAME", "") for hdu in hdus]
    assert names == ["", "IMAGE", "MASK", "VARIANCE", "JSON", "INDEX"]
    again = VisitImage.read_fits(str(path))
    _assert_same_planes(again, visit)
    assert again.bounds == visit.bounds
    assert again.psf == visit.psf
    assert again.obs_info == visit.obs_info
    assert again.summary_stats == visit.summary_stats
    assert again.metadata == visit.metadata
    assert again.detector.amplifiers == visit.detector.amplifiers
    box = Box.factory[1000:1015, 2000:2015]
    corner = VisitImage.read_fits(str(path), bbox=box)
    assert corner.bbox == box
    np.testing.assert_array_equal(corner.image.array, visit[box].image.array)
    assert corner.bounds == visit[box].bounds
    assert not isinstance(corner.bounds, Box)


def test_unreadable_psf_is_deferred_on_read(visit: VisitImage, tmp_path) -> None:
    from lsst.images import json as images_json

    tree = json.loads(images_json.write(visit).model_dump_json())
    tree["psf"] = {"piff": {"unknown": True}, "stamp_size": 25}
    path = tmp_path / "odd_psf.json"
    path.write_text(json.dumps(tree))
    again = images_json.read(VisitImage, str(path)).deserialized
    np.testing.assert_array_equal(again.image.array, visit.image.array)
    assert again.detector.name == "R21_S11"
    with pytest.raises(ArchiveReadError):
        _ = again.psf
    # A subimage keeps the deferred error, and writing the image is refused with the same error.
    with pytest.raises(ArchiveReadError):
        _ = again[Box.factory[1000:1010, 2000:2010]].psf
    with pytest.raises(ArchiveReadError):
        images_json.write(again)
