"""FITS WCS cards written with images: RA always first, the PC matrix carries any rotation.

AST pairs world and pixel axes by how strongly they vary together, so for
rotations of about 45-135° (mod 180°) it would write ``CTYPE1 = 'DEC--TAN'``;
the reference library (and most readers' expectations) always put RA first
(BEHAVIOUR.md §1.1).  The projection below is built the same way here and, for
the cross-check, under Rubin's 2100 wheel.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits as afits

from lsst.images import Box, Image, MaskedImage, MaskPlane, MaskSchema, fits
from rubin_reference import run_reference_2100

#: Shared by this process and the reference script: a TAN (optionally TAN-SIP) projection with a
#: rotation (degrees) and an optional east-left flip, on a detector frame whose array starts at (20, 10).
PROJECTION_RECIPE = """
import numpy as np, astropy.wcs
from astropy.io import fits as afits
from lsst.images import Box, DetectorFrame, Projection

BBOX = Box.factory[10:90, 20:120]
CRPIX = (50.5, 40.2)
CRVAL = (150.0, 2.2)

def make_projection(theta, flip=1, sip=False):
    header = afits.Header()
    suffix = "-SIP" if sip else ""
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN" + suffix, "DEC--TAN" + suffix
    header["CUNIT1"] = header["CUNIT2"] = "deg"
    header["CRPIX1"], header["CRPIX2"] = CRPIX
    header["CRVAL1"], header["CRVAL2"] = CRVAL
    scale, t = 0.2 / 3600, np.radians(theta)
    cd = scale * np.array([[-np.cos(t) * flip, np.sin(t)], [np.sin(t) * flip, np.cos(t)]])
    for i in range(2):
        for j in range(2):
            header[f"CD{i + 1}_{j + 1}"] = cd[i, j]
    if sip:
        header["A_ORDER"], header["A_2_0"], header["A_0_2"] = 2, 1e-5, -2e-6
        header["B_ORDER"], header["B_1_1"] = 2, 3e-6
    header["RADESYS"] = "ICRS"
    frame = DetectorFrame(instrument="TestCam", visit=1, detector=2, bbox=BBOX)
    return Projection.from_fits_wcs(astropy.wcs.WCS(header), frame, x0=BBOX.x.start, y0=BBOX.y.start)
"""

_namespace: dict = {}
exec(PROJECTION_RECIPE, _namespace)
make_projection = _namespace["make_projection"]
BBOX: Box = _namespace["BBOX"]

#: Cards of one image HDU's WCS, in the order the reference writes them (no zero off-diagonal PC terms).
TAN_KEYS = [
    "WCSAXES", "CRPIX1", "CRPIX2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2", "CUNIT1",
    "CUNIT2", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "PV1_3", "PV1_4", "LONPOLE", "LATPOLE", "MJDREF",
    "RADESYS",
]  # fmt: skip
SIP_KEYS = ["A_ORDER", "A_0_2", "A_2_0", "B_ORDER", "B_1_1"]
ALTERNATE_KEYS = ["CTYPE1A", "CTYPE2A", "CRPIX1A", "CRPIX2A", "CRVAL1A", "CRVAL2A", "CUNIT1A", "CUNIT2A"]

ROTATIONS = list(range(0, 360, 5))
SAMPLE_X = np.array([20.0, 70.3, 119.0, 25.0])
SAMPLE_Y = np.array([10.0, 50.7, 89.0, 85.0])


def _wcs_cards(header: afits.Header) -> list[tuple[str, object]]:
    """The WCS block of an image HDU header: from WCSAXES to the last alternate-WCS card."""
    keys = list(header.keys())
    start, stop = keys.index("WCSAXES"), keys.index("CUNIT2A") + 1
    return [(card.keyword, card.value) for card in header.cards[start:stop]]


def _assert_same_sky(header: afits.Header, projection, bbox: Box) -> None:
    """astropy reading ``header`` puts array pixels where the projection puts the absolute pixels."""
    import astropy.wcs

    wcs = astropy.wcs.WCS(header)
    ra, dec = wcs.pixel_to_world_values(SAMPLE_X - bbox.x.start, SAMPLE_Y - bbox.y.start)
    sky = projection.pixel_to_sky(x=SAMPLE_X, y=SAMPLE_Y)
    np.testing.assert_allclose(ra, sky.ra.deg, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dec, sky.dec.deg, rtol=0, atol=1e-10)


@pytest.mark.parametrize("flip", [1, -1])
def test_every_rotation_keeps_ra_first(flip: int) -> None:
    for theta in ROTATIONS:
        projection = make_projection(theta, flip)
        header = projection.as_fits_wcs(BBOX).to_header()
        assert (header["CTYPE1"], header["CTYPE2"]) == ("RA---TAN", "DEC--TAN"), theta
        assert (header["CRVAL1"], header["CRVAL2"]) == pytest.approx((150.0, 2.2), abs=1e-12), theta
        assert header["PV1_3"] == 180.0 and "PV2_3" not in header, theta
        assert (header["CRPIX1"], header["CRPIX2"]) == pytest.approx((50.5, 40.2), abs=1e-9), theta
        # The PC matrix (CDELT = 1) is the CD matrix that went in, whatever the rotation.
        t = np.radians(theta)
        scale = 0.2 / 3600
        expected = scale * np.array([[-np.cos(t) * flip, np.sin(t)], [np.sin(t) * flip, np.cos(t)]])
        pc = np.array([[header.get(f"PC{i}_{j}", 0.0) for j in (1, 2)] for i in (1, 2)])
        np.testing.assert_allclose(pc, expected, rtol=0, atol=1e-15)
        _assert_same_sky(header, projection, BBOX)


@pytest.mark.parametrize("theta", [0, 30, 100, 290])
def test_image_hdus_carry_the_reference_cards(tmp_path, theta: int) -> None:
    projection = make_projection(theta)
    schema = MaskSchema([MaskPlane("BAD", "Bad pixel.")])
    image = Image(np.zeros(BBOX.shape, np.float32), bbox=BBOX, projection=projection)
    masked = MaskedImage(image, mask_schema=schema)
    path = tmp_path / "masked.fits"
    fits.write(masked, path)
    with afits.open(path, disable_image_compression=True) as raw:
        for name in ("IMAGE", "MASK", "VARIANCE"):
            cards = _wcs_cards(raw[name].header)
            keys = [key for key, _ in cards]
            expected = [k for k in TAN_KEYS if not (theta == 0 and k in ("PC1_2", "PC2_1"))] + ALTERNATE_KEYS
            assert keys == expected, name
            values = dict(cards)
            assert (values["CTYPE1"], values["CTYPE2"]) == ("RA---TAN", "DEC--TAN")
            assert values["RADESYS"] == "ICRS" and values["MJDREF"] == 0.0
            assert values["CTYPE1A"] == values["CTYPE2A"] == "LINEAR"
            assert values["CUNIT1A"] == values["CUNIT2A"] == "PIXEL"
            assert (values["CRPIX1A"], values["CRPIX2A"]) == (1.0, 1.0)
            assert (values["CRVAL1A"], values["CRVAL2A"]) == (20.0, 10.0)
    with afits.open(path) as decompressed:
        for name in ("IMAGE", "MASK", "VARIANCE"):
            _assert_same_sky(decompressed[name].header, projection, BBOX)


def test_sip_cards_follow_radesys(tmp_path) -> None:
    projection = make_projection(100, sip=True)
    path = tmp_path / "image.fits"
    fits.write(Image(np.zeros(BBOX.shape, np.float32), bbox=BBOX, projection=projection), path)
    with afits.open(path, disable_image_compression=True) as raw:
        cards = _wcs_cards(raw["IMAGE"].header)
    assert [key for key, _ in cards] == TAN_KEYS + SIP_KEYS + ALTERNATE_KEYS
    values = dict(cards)
    assert (values["CTYPE1"], values["CTYPE2"]) == ("RA---TAN-SIP", "DEC--TAN-SIP")
    assert (values["A_2_0"], values["A_0_2"], values["B_1_1"]) == (1e-5, -2e-6, 3e-6)
    with afits.open(path) as decompressed:
        _assert_same_sky(decompressed["IMAGE"].header, projection, BBOX)


CASES = [
    (theta, flip, sip)
    for theta in (0, 45, 60, 100, 135, 200, 250, 290)
    for flip in (1, -1)
    for sip in (False,)
]
CASES += [(100, 1, True), (290, -1, True)]


def test_cards_match_the_reference_wheel(tmp_path) -> None:
    script = (
        PROJECTION_RECIPE
        + f"""
import json, tempfile, os
from lsst.images import Image, fits
out = []
with tempfile.TemporaryDirectory() as tmp:
    for n, (theta, flip, sip) in enumerate({CASES!r}):
        path = os.path.join(tmp, f"{{n}}.fits")
        projection = make_projection(theta, flip, sip)
        fits.write(Image(np.zeros(BBOX.shape, np.float32), bbox=BBOX, projection=projection), path)
        with afits.open(path, disable_image_compression=True) as raw:
            header = raw["IMAGE"].header
            keys = list(header.keys())
            block = header.cards[keys.index("WCSAXES"):keys.index("CUNIT2A") + 1]
            out.append([[card.keyword, card.value] for card in block])
print(json.dumps(out))
"""
    )
    reference = run_reference_2100(script)
    for n, ((theta, flip, sip), expected) in enumerate(zip(CASES, reference, strict=True)):
        path = tmp_path / f"{n}.fits"
        projection = make_projection(theta, flip, sip)
        fits.write(Image(np.zeros(BBOX.shape, np.float32), bbox=BBOX, projection=projection), path)
        with afits.open(path, disable_image_compression=True) as raw:
            ours = _wcs_cards(raw["IMAGE"].header)
        assert [k for k, _ in ours] == [k for k, _ in expected], (theta, flip, sip)
        for (key, value), (_, ref_value) in zip(ours, expected, strict=True):
            if isinstance(value, float):
                assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-18), (theta, flip, sip, key)
            else:
                assert value == ref_value, (theta, flip, sip, key)


def test_cards_are_read_without_asking_ast_past_the_last_one(monkeypatch) -> None:
    # Past the last card pyast's findfits hands back an uninitialized buffer (decoded as
    # text, it raised UnicodeDecodeError now and then); the cards must be read by count.
    import starlink.Ast as Ast

    from lsst.images._transforms import _ast_utils

    real = Ast.FitsChan
    overruns: list[str] = []
    lookups: list[str] = []

    class CountingFitsChan:
        def __init__(self, *args):
            self._chan = real(*args)
            self._left = None

        def __getattr__(self, name):
            return getattr(self._chan, name)

        def clear(self, attribute):
            self._chan.clear(attribute)
            self._left = self._chan.Ncard

        def findfits(self, name, inc):
            lookups.append(name)
            if self._left == 0:
                overruns.append(name)
            self._left -= 1
            return self._chan.findfits(name, inc)

    monkeypatch.setattr(_ast_utils.Ast, "FitsChan", CountingFitsChan)
    wcs = make_projection(30.0).as_fits_wcs(BBOX)
    assert wcs is not None and wcs.wcs.ctype[0] == "RA---TAN"
    assert lookups and overruns == []
