"""Tests for Projection, FITS WCS conversions and the astropy APE-14 view."""

import json
import unittest
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from starlink import Ast

from conftest import fixture_dir, load_manifest
from lsst.images import ICRS, XY, Box, DetectorFrame, Projection, ProjectionAstropyView, Transform
from lsst.images._transforms import _ast_utils
from lsst.images.tests import check_astropy_wcs_interface, check_projection, make_random_projection

BBOX = Box.factory[0:4004, 0:4096]
FRAME = DetectorFrame(instrument="LSSTCam", visit=2025052000177, detector=85, bbox=BBOX)
FIXTURE_SETS = ["lsst-images-2100", "lsst-images-4300"]


@pytest.fixture
def tc():
    return unittest.TestCase()


def _builder_wcs(sip: bool) -> WCS:
    inputs = load_manifest("lsst-images-2100")["builder_inputs"]
    cards = dict(inputs["tan_wcs_cards"])
    if sip:
        cards["CTYPE1"], cards["CTYPE2"] = "RA---TAN-SIP", "DEC--TAN-SIP"
        cards.update(inputs["tan_sip_extra_cards"])
    return WCS(fits.Header(cards))


def _fixture_projections():
    """Yield (fixture set, file name, expected projection dict, tree) for every file with sky coordinates."""
    for fixture_set in FIXTURE_SETS:
        folder = fixture_dir(fixture_set)
        for name, entry in load_manifest(fixture_set)["files"].items():
            expected = (entry.get("expect") or {}).get("projection")
            if expected:
                yield fixture_set, name, expected, folder


def _fixture_cases():
    return [pytest.param(s, n, id=f"{s}/{n}") for s, n, _, _ in _fixture_projections()]


def _expected(fixture_set, name):
    expected = load_manifest(fixture_set)["files"][name]["expect"]["projection"]
    points = expected["points"]
    x = np.array([p["x"] for p in points])
    y = np.array([p["y"] for p in points])
    ra = np.array([p["ra_deg"] for p in points])
    dec = np.array([p["dec_deg"] for p in points])
    return expected, x, y, ra, dec


# --- fixtures: stored AST text and header WCS -------------------------------------------------------------


@pytest.mark.parametrize("fixture_set,name", _fixture_cases())
def test_fixture_projection_from_stored_ast(fixture_set, name):
    expected, x, y, ra, dec = _expected(fixture_set, name)
    tree = json.loads((fixture_dir(fixture_set) / f"{name}.tree.json").read_text())
    stored = tree.get("projection") or tree.get("sky_projection")
    transform = stored["pixel_to_sky"]
    frame = DetectorFrame(**transform["frames"][0])
    assert frame == DetectorFrame(**expected["pixel_frame"])
    text = transform["mappings"][0]["ast"]
    projection = Projection.from_ast_frame_set(_ast_utils.ast_from_text(text), frame)
    sky = projection.pixel_to_sky(x=x, y=y)
    np.testing.assert_allclose(sky.ra.deg, ra, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sky.dec.deg, dec, rtol=0, atol=1e-9)
    back = projection.sky_to_pixel(SkyCoord(ra * u.deg, dec * u.deg))
    assert np.max(np.abs(back.x - x)) < 1e-8 and np.max(np.abs(back.y - y)) < 1e-8
    assert projection.show(comments=True) == text
    assert projection.pixel_bounds == BBOX


@pytest.mark.parametrize("fixture_set,name", _fixture_cases())
def test_fixture_projection_from_header_wcs(fixture_set, name):
    expected, x, y, ra, dec = _expected(fixture_set, name)
    with fits.open(fixture_dir(fixture_set) / f"{name}.fits") as hdus, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = hdus["IMAGE"].header
        x0, y0 = int(header["CRVAL1A"]), int(header["CRVAL2A"])
        wcs = WCS(header)
    projection = Projection.from_fits_wcs(wcs, FRAME, x0=x0, y0=y0)
    sky = projection.pixel_to_sky(x=x, y=y)
    np.testing.assert_allclose(sky.ra.deg, ra, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sky.dec.deg, dec, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "sip,name", [(False, "image_f32_with_projection"), (True, "image_f32_projection_sip")]
)
def test_from_fits_wcs_reproduces_reference_ast_text(sip, name):
    """Building from the fixtures' input WCS gives byte-identical AST text to the reference library."""
    tree = json.loads((fixture_dir("lsst-images-2100") / f"{name}.tree.json").read_text())
    stored = tree["projection"]["pixel_to_sky"]["mappings"][0]["ast"]
    projection = Projection.from_fits_wcs(_builder_wcs(sip), FRAME)
    assert projection.show(comments=True) == stored
    assert projection.fits_approximation is None
    assert projection.pixel_frame == FRAME and projection.sky_frame is ICRS


# --- accuracy and round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("sip", [False, True], ids=["TAN", "TAN-SIP"])
def test_full_detector_round_trip(sip):
    projection = Projection.from_fits_wcs(_builder_wcs(sip), FRAME)
    x, y = Box.factory[0:4096, 0:4096].meshgrid()
    transform = projection.pixel_to_sky_transform
    sky = transform.apply_forward(x=x, y=y)
    back = transform.apply_inverse(x=sky.x, y=sky.y)
    assert np.max(np.abs(back.x - x)) < 1e-8
    assert np.max(np.abs(back.y - y)) < 1e-8
    # Agreement with astropy/wcslib on a subgrid.
    ra, dec = _builder_wcs(sip).all_pix2world(x[::97, ::89], y[::97, ::89], 0)
    np.testing.assert_allclose(np.degrees(sky.x[::97, ::89]), ra, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.degrees(sky.y[::97, ::89]), dec, rtol=0, atol=1e-10)


def test_scalars_and_shapes():
    projection = Projection.from_fits_wcs(_builder_wcs(False), FRAME)
    one = projection.pixel_to_sky(x=2047.5, y=2001.5)
    assert one.isscalar
    assert one.ra.deg == pytest.approx(150.1, abs=1e-12) and one.dec.deg == pytest.approx(2.2, abs=1e-12)
    xy = projection.sky_to_pixel(one)
    assert isinstance(xy, XY) and np.ndim(xy.x) == 0
    assert xy.x == pytest.approx(2047.5, abs=1e-9) and xy.y == pytest.approx(2001.5, abs=1e-9)
    grid = projection.pixel_to_sky(x=np.zeros((2, 3)), y=np.ones((2, 3)))
    assert grid.shape == (2, 3)
    # sky_to_pixel accepts other celestial frames and converts to ICRS.
    galactic = one.galactic
    np.testing.assert_allclose(projection.sky_to_pixel(galactic), (2047.5, 2001.5), atol=1e-6)


def test_offset_origin_x0_y0():
    wcs = _builder_wcs(True)
    shifted = Projection.from_fits_wcs(wcs, FRAME, x0=100, y0=-7)
    plain = Projection.from_fits_wcs(wcs, FRAME)
    a = shifted.pixel_to_sky(x=np.array([100.0, 300.0]), y=np.array([-7.0, 50.0]))
    b = plain.pixel_to_sky(x=np.array([0.0, 200.0]), y=np.array([0.0, 57.0]))
    assert np.max(a.separation(b).to_value(u.arcsec)) < 1e-9


@pytest.mark.parametrize(
    "ctype,crval,atol_arcsec",
    [
        (("RA---SIN", "DEC--SIN"), (10.0, -30.0), 1e-6),
        (("RA---ZEA", "DEC--ZEA"), (200.0, 60.0), 1e-6),
        (("RA---ARC", "DEC--ARC"), (300.0, 85.0), 1e-6),
        (("RA---AIT", "DEC--AIT"), (0.0, 0.0), 1e-6),
        (("DEC--TAN", "RA---TAN"), (-20.0, 80.0), 1e-6),
        (("RA---STG", "DEC--STG"), (90.0, -45.0), 1e-6),
        (("RA---CAR", "DEC--CAR"), (45.0, 0.0), 1e-6),
        (("GLON-CAR", "GLAT-CAR"), (45.0, 0.0), 5e-3),
        # AST and astropy define the galactic frame slightly differently (~1 mas).
        (("GLON-TAN", "GLAT-TAN"), (120.0, 10.0), 5e-3),
    ],
)
def test_other_celestial_projections(ctype, crval, atol_arcsec):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = list(ctype)
    wcs.wcs.crval = list(crval)
    wcs.wcs.crpix = [1000.5, 900.5]
    wcs.wcs.cd = np.array([[-2.0e-4, 3.0e-5], [2.5e-5, 2.0e-4]])
    if ctype[0].startswith("RA") or ctype[0].startswith("DEC"):
        wcs.wcs.radesys = "FK5"
        wcs.wcs.equinox = 2000.0
    wcs.wcs.set()
    projection = Projection.from_fits_wcs(wcs, FRAME, x0=10, y0=20)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 2000, 50), rng.uniform(0, 1800, 50)
    expected = wcs.pixel_to_world(x - 10, y - 20).icrs
    sky = projection.pixel_to_sky(x=x, y=y)
    assert np.max(sky.separation(expected).to_value(u.arcsec)) < atol_arcsec
    back = projection.sky_to_pixel(sky)
    assert np.max(np.abs(back.x - x)) < 1e-4 and np.max(np.abs(back.y - y)) < 1e-4


def test_non_celestial_wcs_is_rejected():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["LINEAR", "LINEAR"]
    with pytest.raises(ValueError, match="celestial"):
        Projection.from_fits_wcs(wcs, FRAME)


def test_from_ast_frame_set_requires_sky():
    frame_set = Ast.FrameSet(Ast.Frame(2))
    frame_set.addframe(Ast.BASE, Ast.UnitMap(2), Ast.Frame(2))
    with pytest.raises(ValueError, match="SkyFrame"):
        Projection.from_ast_frame_set(frame_set, FRAME)


# --- FITS WCS output ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sip", [False, True], ids=["TAN", "TAN-SIP"])
def test_as_fits_wcs_is_exact(sip):
    wcs = _builder_wcs(sip)
    projection = Projection.from_fits_wcs(wcs, FRAME)
    bbox = Box.factory[1000:1160, 2000:2192]
    local = projection.as_fits_wcs(bbox)
    assert local is not None
    assert local.pixel_shape == (192, 160)
    assert local.sip is not None if sip else local.sip is None
    header = local.to_header(relax=True)
    assert header["CDELT1"] == 1.0 and header["CDELT2"] == 1.0
    assert header["CTYPE1"] == ("RA---TAN-SIP" if sip else "RA---TAN")
    xl, yl = np.meshgrid(np.linspace(-50, 250, 13), np.linspace(-50, 250, 11))
    ra, dec = local.all_pix2world(xl, yl, 0)
    ra0, dec0 = wcs.all_pix2world(xl + 2000, yl + 1000, 0)
    np.testing.assert_allclose(ra, ra0, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dec, dec0, rtol=0, atol=1e-10)


def test_as_fits_wcs_falls_back_to_approximation():
    exact = Projection.from_fits_wcs(_builder_wcs(False), FRAME)
    # A strong pincushion distortion before the TAN projection has no FITS-WCS form.
    distortion = Ast.CmpMap(
        Ast.CmpMap(Ast.ShiftMap([-2048.0, -2002.0]), Ast.PcdMap(1e-5, [0.0, 0.0]), True),
        Ast.ShiftMap([2048.0, 2002.0]),
        True,
    )
    distorted = Transform(FRAME, FRAME, distortion).then(
        exact.pixel_to_sky_transform, remember_components=False
    )
    projection = Projection(distorted, fits_approximation=exact.pixel_to_sky_transform)
    assert projection.as_fits_wcs(BBOX) is None
    approx = projection.as_fits_wcs(BBOX, allow_approximation=True)
    assert approx is not None
    np.testing.assert_allclose(approx.wcs.crval, [150.1, 2.2])
    assert projection.fits_approximation.show() == exact.show()
    assert Projection(distorted).as_fits_wcs(BBOX, allow_approximation=True) is None


# --- astropy APE-14 view ------------------------------------------------------------------------------------


def test_astropy_view_interface(tc):
    projection = Projection.from_fits_wcs(_builder_wcs(True), FRAME)
    bbox = Box.factory[1000:1160, 2000:2192]
    view = projection.as_astropy(bbox)
    assert isinstance(view, ProjectionAstropyView)
    assert view.pixel_n_dim == 2 and view.world_n_dim == 2
    assert view.array_shape == (160, 192) and view.pixel_shape == (192, 160)
    assert view.pixel_bounds == ((0, 191), (0, 159))
    assert view.world_axis_physical_types == ("pos.eq.ra", "pos.eq.dec")
    assert view.world_axis_units == ("deg", "deg")
    assert view.axis_correlation_matrix.shape == (2, 2) and view.axis_correlation_matrix.all()
    assert view.low_level_wcs is view and view.serialized_classes is False
    x, y = np.array([0.0, 191.0, 17.25]), np.array([0.0, 159.0, 80.25])
    expected = projection.pixel_to_sky(x=x + 2000, y=y + 1000)
    check_astropy_wcs_interface(tc, view, XY(x, y), expected, pixel_atol=1e-8, sky_atol=1e-8 * u.arcsec)
    ra, dec = view.pixel_to_world_values(x, y)
    np.testing.assert_allclose(ra, expected.ra.deg, atol=1e-12)
    index = view.world_to_array_index(expected[2])
    assert tuple(int(i) for i in index) == (80, 17)
    # The same answers as astropy's own WCS for the array.
    reference = _builder_wcs(True).pixel_to_world(x + 2000, y + 1000)
    assert np.max(view.pixel_to_world(x, y).separation(reference).to_value(u.arcsec)) < 1e-7
    unbounded = projection.as_astropy()
    assert unbounded.array_shape is None and unbounded.pixel_bounds is None


def test_astropy_view_with_nddata_slicing():
    """NDData slicing wraps the view in astropy's SlicedLowLevelWCS, which must agree with a cut-out view."""
    from astropy.nddata import NDDataRef

    projection = Projection.from_fits_wcs(_builder_wcs(False), FRAME)
    bbox = Box.factory[1000:1160, 2000:2192]
    data = NDDataRef(np.zeros((160, 192)), wcs=projection.as_astropy(bbox))
    sliced = data[10:30, 40:70]
    direct = projection.as_astropy(Box.factory[1010:1030, 2040:2070])
    a = sliced.wcs.low_level_wcs.pixel_to_world_values(np.array([0.0, 29.0]), np.array([0.0, 19.0]))
    b = direct.pixel_to_world_values(np.array([0.0, 29.0]), np.array([0.0, 19.0]))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_wcsaxes_plot_headless(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    projection = Projection.from_fits_wcs(_builder_wcs(True), FRAME)
    view = projection.as_astropy(Box.factory[1000:1160, 2000:2192])
    figure = plt.figure(figsize=(3, 3))
    axes = figure.add_subplot(projection=view)
    axes.imshow(np.random.default_rng(1).normal(size=(160, 192)), origin="lower")
    axes.coords.grid(True)
    axes.coords[0].set_axislabel("RA")
    path = tmp_path / "wcsaxes.png"
    figure.savefig(path)
    plt.close(figure)
    assert path.stat().st_size > 1000
    assert type(axes).__name__ == "WCSAxes"


# --- testing helpers -----------------------------------------------------------------------------------


def test_check_projection_on_random_projections(tc):
    rng = np.random.default_rng(42)
    for _ in range(3):
        bbox = Box.factory[int(rng.integers(-100, 100)) : 4000, int(rng.integers(-100, 100)) : 3000]
        frame = DetectorFrame(instrument="X", detector=int(rng.integers(0, 200)), bbox=bbox)
        projection = make_random_projection(rng, frame, bbox)
        assert projection.fits_approximation is None
        x, y = bbox.meshgrid(5)
        x, y = x.ravel(), y.ravel()
        # Independent expectation: the local FITS WCS evaluated by astropy.
        wcs = projection.as_fits_wcs(bbox)
        scale = np.sqrt(abs(np.linalg.det(wcs.wcs.cd if wcs.wcs.has_cd() else wcs.wcs.get_pc())))
        assert 0.18 <= scale * 3600 < 0.22  # each axis scale is drawn from [0.18, 0.22) arcsec
        expected = wcs.pixel_to_world(x - bbox.x.start, y - bbox.y.start)
        check_projection(tc, projection, XY(x, y), expected, frame)


def test_check_projection_detects_errors(tc):
    rng = np.random.default_rng(1)
    projection = make_random_projection(rng, FRAME, BBOX)
    x, y = np.array([10.0, 2000.0]), np.array([20.0, 3000.0])
    wrong = projection.pixel_to_sky(x=x + 0.01, y=y)
    with pytest.raises(AssertionError):
        check_projection(tc, projection, XY(x, y), wrong, FRAME)


# --- sky circles --------------------------------------------------------------------------------------------


def test_box_from_sky_circle():
    from lsst.images import Image, NoOverlapError

    projection = Projection.from_fits_wcs(_builder_wcs(True), FRAME)
    center = projection.pixel_to_sky(x=1000.0, y=2000.0)
    radius = 30 * u.arcsec
    box = Box.from_sky_circle(center, radius, projection)
    # Every pixel centre within the circle is inside the box, and the box is not much bigger.
    x, y = box.dilated_by(3).meshgrid()
    inside = projection.pixel_to_sky(x=x, y=y).separation(center) < radius
    assert np.all(box.contains(x=x[inside], y=y[inside]))
    assert abs(box.x.size - 2 * 30 / 0.198) < 4 and abs(box.y.size - 2 * 30 / 0.198) < 4
    image = Image(0.0, bbox=Box.factory[1900:2100, 900:1020], projection=projection)
    assert image.bbox_from_sky_circle(center, radius) == box.intersection(image.bbox)
    far = projection.pixel_to_sky(x=3000.0, y=100.0)
    with pytest.raises(NoOverlapError):
        image.bbox_from_sky_circle(far, radius)
    with pytest.raises(ValueError):
        Box.from_sky_circle(center, 0 * u.arcsec, projection)


@pytest.mark.parametrize("fixture_set,name", _fixture_cases())
def test_as_fits_wcs_matches_fixture_header_cards(fixture_set, name):
    """The FITS WCS written for the image's bbox has exactly the reference library's header values."""
    expected = load_manifest(fixture_set)["files"][name]["expect"]
    tree = json.loads((fixture_dir(fixture_set) / f"{name}.tree.json").read_text())
    transform = (tree.get("projection") or tree.get("sky_projection"))["pixel_to_sky"]
    projection = Projection.from_ast_frame_set(
        _ast_utils.ast_from_text(transform["mappings"][0]["ast"]), DetectorFrame(**transform["frames"][0])
    )
    (y0, y1), (x0, x1) = expected["bbox"]["y"], expected["bbox"]["x"]
    cards = projection.as_fits_wcs(Box.factory[y0:y1, x0:x1]).to_header(relax=True)
    with fits.open(fixture_dir(fixture_set) / f"{name}.fits") as hdus, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = hdus["IMAGE"].header
        assert {key: cards[key] for key in cards} == {key: header.get(key) for key in cards}


def test_as_fits_wcs_from_plain_mapping():
    """A transform whose mapping is not a FrameSet is still written (the linear part is fitted)."""
    projection = Projection.from_fits_wcs(_builder_wcs(False), FRAME)
    mapping = _ast_utils.simplified_mapping(projection.pixel_to_sky_transform._ast)
    plain = Transform(FRAME, ICRS, mapping).as_projection()
    wcs = plain.as_fits_wcs(Box.factory[10:20, 30:50])
    assert wcs is not None
    x, y = np.array([0.0, 19.0]), np.array([0.0, 9.0])
    expected = projection.pixel_to_sky(x=x + 30, y=y + 10)
    assert np.max(wcs.pixel_to_world(x, y).separation(expected).arcsec) < 1e-6


def test_projection_pickle():
    import pickle

    projection = Projection.from_fits_wcs(_builder_wcs(True), FRAME)
    copy = pickle.loads(pickle.dumps(projection))
    assert copy.show(comments=True) == projection.show(comments=True)
    assert copy.pixel_frame == FRAME and copy.pixel_bounds == BBOX
    x, y = np.array([0.0, 4000.0]), np.array([5.0, 3000.0])
    assert np.max(copy.pixel_to_sky(x=x, y=y).separation(projection.pixel_to_sky(x=x, y=y)).arcsec) == 0.0


def test_from_fits_wcs_extra_axes_and_unsupported_distortions():
    from astropy.wcs import DistortionLookupTable

    cube = WCS(naxis=3)
    cube.wcs.ctype = ["RA---TAN", "DEC--TAN", "FREQ"]
    cube.wcs.crval = [10.0, 20.0, 1e9]
    cube.wcs.crpix = [5.0, 5.0, 1.0]
    cube.wcs.cdelt = [-1e-4, 1e-4, 1e6]
    projection = Projection.from_fits_wcs(cube, FRAME)
    sky = projection.pixel_to_sky(x=4.0, y=4.0)  # FITS pixel (5, 5) is the reference point
    assert sky.ra.deg == pytest.approx(10.0, abs=1e-12) and sky.dec.deg == pytest.approx(20.0, abs=1e-12)
    distorted = WCS(naxis=2)
    distorted.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    distorted.wcs.crval = [10.0, 20.0]
    distorted.wcs.cdelt = [-1e-4, 1e-4]
    distorted.cpdis1 = DistortionLookupTable(np.zeros((3, 3), dtype=np.float32), (1, 1), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="lookup-table"):
        Projection.from_fits_wcs(distorted, FRAME)
