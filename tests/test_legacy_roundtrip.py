"""Converting afw files to the lsst.images layout and reading them back gives the same objects."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import fixture_dir, manifest_files

VISIT = 904010


def _masked_image_files() -> list[str]:
    return [f["name"] for f in manifest_files("legacy", ("exposure", "masked_image"))]


def _assert_same_planes(a, b) -> None:
    assert a.bbox == b.bbox
    np.testing.assert_array_equal(a.image.array, b.image.array)
    np.testing.assert_array_equal(a.variance.array, b.variance.array)
    assert list(a.mask.schema.names) == list(b.mask.schema.names)
    for name in a.mask.schema.names:
        np.testing.assert_array_equal(a.mask.get(name), b.mask.get(name))
    assert a.image.unit == b.image.unit


def _assert_same_visit_image(original, back) -> None:
    from lsst.images import VisitImage

    assert isinstance(back, VisitImage)
    _assert_same_planes(original, back)
    xs, ys = np.array([0.0, 63.0, 10.5]), np.array([0.0, 31.0, 20.25])
    a = original.projection.pixel_to_sky(x=xs, y=ys)
    b = back.projection.pixel_to_sky(x=xs, y=ys)
    np.testing.assert_allclose(a.ra.deg, b.ra.deg, atol=1e-12, rtol=0)
    np.testing.assert_allclose(a.dec.deg, b.dec.deg, atol=1e-12, rtol=0)
    assert back.projection.pixel_frame == original.projection.pixel_frame
    assert back.detector.name == original.detector.name
    assert back.detector.amplifiers == original.detector.amplifiers
    fp_a = original.detector.to_focal_plane.apply_forward(x=xs, y=ys)
    fp_b = back.detector.to_focal_plane.apply_forward(x=xs, y=ys)
    np.testing.assert_allclose(fp_a.x, fp_b.x, atol=1e-12)
    np.testing.assert_allclose(fp_a.y, fp_b.y, atol=1e-12)
    assert back.obs_info == original.obs_info
    assert back.summary_stats == original.summary_stats
    assert back.psf == original.psf
    np.testing.assert_array_equal(
        back.photometric_scaling.coefficients, original.photometric_scaling.coefficients
    )
    assert back.photometric_scaling.unit == original.photometric_scaling.unit
    assert sorted(back.aperture_corrections) == sorted(original.aperture_corrections)
    for name, field in original.aperture_corrections.items():
        np.testing.assert_array_equal(back.aperture_corrections[name].coefficients, field.coefficients)
    assert back.bounds == original.bounds


def test_calexp_json_round_trip() -> None:
    from lsst.images import VisitImage
    from lsst.images import json as images_json

    original = VisitImage.read_legacy(str(fixture_dir("legacy") / "obs_base__calexp.fits"), visit=VISIT)
    back = images_json.read(VisitImage, images_json.write(original)).deserialized
    _assert_same_visit_image(original, back)


def test_calexp_converts_to_the_same_visit_image(tmp_path) -> None:
    from lsst.images import VisitImage
    from lsst.images.cli import main

    source = fixture_dir("legacy") / "obs_base__calexp.fits"
    out = tmp_path / "calexp.fits"
    assert main(["convert", str(source), str(out), "--visit", str(VISIT)]) == 0
    original = VisitImage.read_legacy(str(source), visit=VISIT)
    _assert_same_visit_image(original, VisitImage.read_fits(str(out)))


@pytest.mark.parametrize("name", _masked_image_files())
def test_masked_image_files_convert(tmp_path, name: str) -> None:
    from lsst.images import MaskedImage
    from lsst.images.cli._convert import convert
    from lsst.images.legacy import read_masked_image

    source = fixture_dir("legacy") / name
    out = tmp_path / "converted.fits"
    written = convert(str(source), str(out), kind="masked")
    back = MaskedImage.read_fits(str(out))
    _assert_same_planes(written, back)
    _assert_same_planes(read_masked_image(source), back)


def _compress_exposure(source, target) -> None:
    """Rewrite an afw Exposure with RICE_1-quantized image/variance and a GZIP_2 mask, like DP1/DP2."""
    from astropy.io import fits

    with fits.open(source) as hdus:
        out = [hdus[0].copy()]
        for index in (1, 2, 3):
            hdu = hdus[index]
            header = hdu.header.copy()
            for key in (
                "XTENSION",
                "BITPIX",
                "NAXIS",
                "NAXIS1",
                "NAXIS2",
                "PCOUNT",
                "GCOUNT",
                "BZERO",
                "BSCALE",
            ):
                header.remove(key, ignore_missing=True)
            if header["EXTTYPE"] == "MASK":
                out.append(fits.CompImageHDU(hdu.data, header=header, compression_type="GZIP_2"))
            else:
                out.append(
                    fits.CompImageHDU(
                        hdu.data,
                        header=header,
                        compression_type="RICE_1",
                        quantize_level=16.0,
                        quantize_method=2,
                        dither_seed=747,
                        tile_shape=(16, 32),
                    )
                )
        out.extend(hdus[4:])
        fits.HDUList(out).writeto(target)


def test_compressed_exposure_preserves_quantization(tmp_path) -> None:
    from astropy.io import fits

    from lsst.images import VisitImage

    source = tmp_path / "calexp_rice.fits"
    _compress_exposure(fixture_dir("legacy") / "obs_base__calexp.fits", source)
    with fits.open(source) as hdus:
        quantized = {name: np.array(hdus[i].data) for name, i in (("image", 1), ("variance", 3))}
    visit_image = VisitImage.read_legacy(str(source), visit=VISIT, preserve_quantization=True)
    for name, values in quantized.items():
        plane = getattr(visit_image, name)
        assert not plane.array.flags.writeable
        np.testing.assert_array_equal(plane.array, values)
    out = tmp_path / "converted.fits"
    from lsst.images import fits as images_fits

    images_fits.write(visit_image, str(out))
    back = VisitImage.read_fits(str(out))
    for name, values in quantized.items():
        np.testing.assert_array_equal(getattr(back, name).array, values)
    plain = VisitImage.read_legacy(str(source), visit=VISIT)
    assert plain.image.array.flags.writeable
    _assert_same_visit_image(plain, back)
