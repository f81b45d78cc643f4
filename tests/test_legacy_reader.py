"""`VisitImage.read_legacy`-level reading of the afw fixtures, checked against the legacy manifest."""

from __future__ import annotations

import hashlib
import math
import re

import astropy.units as u
import numpy as np
import pytest

from conftest import fixture_dir, manifest_files
from lsst.images.legacy import read_image, read_mask, read_masked_image, read_visit_image
from lsst.images.legacy._errors import ArchiveReadError

COMPONENTS = (
    "bbox",
    "image",
    "mask",
    "variance",
    "projection",
    "summary_stats",
    "psf",
    "aperture_corrections",
    "obs_info",
    "photometric_scaling",
    "detector",
)


EXPOSURE_LIKE = manifest_files("legacy", ("exposure", "masked_image"))
CASES = [(entry, c) for entry in EXPOSURE_LIKE for c in COMPONENTS]


def _entry(name: str) -> dict:
    """The manifest entry of one legacy fixture (skips the test when the shared fixtures are absent)."""
    fixture_dir("legacy")
    return next(f for f in EXPOSURE_LIKE if f["name"] == name)


def _path(entry: dict) -> str:
    return str(fixture_dir("legacy") / entry["name"])


def _kwargs(entry: dict) -> dict:
    expected = entry["decoded"]["expected_VisitImage_read_legacy"]
    kwargs = {"visit": 1234}
    if expected["needs_instrument_kwarg"]:
        kwargs["instrument"] = "TestCam"
    return kwargs


def _box(spec: dict):
    from lsst.images import Box

    return Box.factory[spec["y"][0] : spec["y"][1], spec["x"][0] : spec["x"][1]]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]['name']}-{c[1]}")
def test_visit_image_component(case: tuple[dict, str]) -> None:
    entry, component = case
    decoded = entry["decoded"]
    expected = decoded["expected_VisitImage_read_legacy"]["components"][component]
    kwargs = _kwargs(entry)
    if expected.startswith("ValueError"):
        word = "Detector" if "Detector" in expected else "PSF"
        with pytest.raises(ValueError, match=word):
            read_visit_image(_path(entry), component=component, **kwargs)
        return
    result = read_visit_image(_path(entry), component=component, **kwargs)
    if expected == "None":
        assert result is None
    elif expected == "{}":
        assert result == {}
    elif component == "bbox":
        assert result == _box(decoded["bbox"]["lsst_images_box"])
    elif component == "summary_stats":
        values = decoded["summary_stats"]["reference_ObservationSummaryStats.from_legacy"]["values"]
        for key, value in values.items():
            got = getattr(result, key)
            if isinstance(value, list):
                assert len(got) == len(value)
                for g, v in zip(got, value, strict=True):
                    assert (math.isnan(g) and v == "NaN") or g == v
            elif value == "NaN":
                assert math.isnan(got), key
            else:
                assert got == value, key
    elif component == "aperture_corrections":
        count = int(re.search(r"\d+", expected).group())
        assert len(result) == count == decoded["aperture_corrections"]["n"]
        for name, sample in decoded["aperture_corrections"]["samples"].items():
            x, y, value = sample["value_at_bbox_center"]
            assert float(result[name](x=np.array([x]), y=np.array([y]))[0]) == pytest.approx(value, rel=1e-12)
    elif component == "photometric_scaling":
        value = float(re.search(r"\[\[([^\]]+)\]\]", expected).group(1))
        assert result.coefficients.tolist() == [[value]]
        assert result.unit == u.nJy / u.electron
        det = decoded["detector"]["bbox"]
        assert result.bounds.bbox == _box({"x": [det[0], det[2] + 1], "y": [det[1], det[3] + 1]})
    elif component == "psf":
        psf_info = decoded["psf"]
        image = result.compute_kernel_image(x=0.0, y=0.0)
        assert image.array.shape == tuple(psf_info["kernel_image"]["shape"])
        assert image.array[1, 1] == pytest.approx(psf_info["kernel_image"]["center_value"], rel=1e-14)
    elif component == "obs_info":
        reference = decoded["reference_obs_info"]
        for key in (
            "instrument",
            "physical_filter",
            "detector_num",
            "detector_serial",
            "detector_unique_name",
        ):
            if key in reference:
                assert getattr(result, key) == reference[key], key
        assert type(result).__name__ == "ObservationInfo"
    elif component == "detector":
        det = decoded["detector"]
        assert (result.name, result.id, result.serial) == (det["name"], det["id"], det["serial"])
        assert len(result.amplifiers) == det["n_amplifiers"]
        assert result.physical_type == det["physical_type"]
        assert result.instrument == kwargs.get("instrument", decoded["reference_obs_info"].get("instrument"))
        corners = ("LL", "LR", "UR", "UL")
        for amp, want in zip(result.amplifiers, det["amplifiers_first"], strict=False):
            x0, y0, x1, y1 = want["bbox"]
            assert amp.name == want["name"]
            assert amp.bbox == _box({"x": [x0, x1 + 1], "y": [y0, y1 + 1]})
            assert amp.nominal_calibrations.gain == want["gain"]
            assert amp.nominal_calibrations.read_noise == want["read_noise"]
            assert amp.readout_corner == corners[want["readout_corner"]]  # no flips in these files
            raw = want["raw_bbox"]
            if raw[2] < raw[0]:
                assert amp.assembled_raw_geometry is None
            else:
                assert amp.assembled_raw_geometry.bbox == _box(
                    {"x": [raw[0], raw[2] + 1], "y": [raw[1], raw[3] + 1]}
                )
        edges = det["transform_map"]["edges_touching_this_detector"]
        uses_pixels = all(e["to"][0] != "ActualPixels" for e in edges)  # else the frame is ActualPixels
        if "pixels_to_focal_plane_mm_samples" in det and uses_pixels:
            samples = np.array(det["pixels_to_focal_plane_mm_samples"])
            fp = result.to_focal_plane.apply_forward(x=samples[:, 0], y=samples[:, 1])
            np.testing.assert_allclose(np.array([fp.x, fp.y]).T, samples[:, 2:], atol=1e-9, rtol=0)
    elif component == "projection":
        wcs = decoded["wcs"]
        xy = np.array(wcs["sample_pixels_parent_xy"])
        sky = result.pixel_to_sky(x=xy[:, 0], y=xy[:, 1])
        want = np.array(
            wcs.get("reference_Projection.from_legacy_sky_deg", wcs.get("archive_skywcs_sky_deg"))
        )
        np.testing.assert_allclose(sky.ra.deg, want[:, 0], atol=1e-9, rtol=0)
        np.testing.assert_allclose(sky.dec.deg, want[:, 1], atol=1e-9, rtol=0)
        assert result.pixel_frame.visit == kwargs["visit"]
    elif component in ("image", "variance"):
        sha = decoded["sha256_on_disk_planes_little_endian"][component]
        assert hashlib.sha256(result.array.astype("<f4").tobytes()).hexdigest() == sha
        assert result.bbox == _box(decoded["bbox"]["lsst_images_box"])
        assert result.unit == (u.electron if component == "image" else u.electron**2)
        assert result.projection is not None
    elif component == "mask":
        reference = entry["reference_2100"].get(
            "MaskedImage.read_legacy(plane_map=get_legacy_visit_image_mask_planes())"
        )
        if reference and reference["ok"]:
            assert list(result.schema.names) == reference["mask_planes"]
            for name, count in reference["mask_plane_counts"].items():
                assert int(result.get(name).sum()) == count
    else:  # pragma: no cover - every component is covered above
        raise AssertionError(component)


@pytest.mark.parametrize("entry", manifest_files("legacy", ("exposure",)), ids=lambda e: e["name"])
def test_visit_needs_a_visit(entry: dict) -> None:
    components = entry["decoded"]["expected_VisitImage_read_legacy"]["components"]
    if components["detector"].startswith("ValueError"):
        pytest.skip("no Detector")
    kwargs = _kwargs(entry)
    del kwargs["visit"]
    with pytest.raises(ValueError, match="No value found for visit"):
        read_visit_image(_path(entry), component="detector", **kwargs)


def test_full_calexp_read() -> None:
    from lsst.images import VisitImage

    entry = _entry("obs_base__calexp.fits")
    decoded = entry["decoded"]
    visit_image = read_visit_image(_path(entry), visit=904010)
    assert isinstance(visit_image, VisitImage)
    assert visit_image.bbox == _box(decoded["bbox"]["lsst_images_box"])
    assert visit_image.obs_info.instrument == "HSC"
    assert visit_image.detector.name == "1_42"
    assert visit_image.projection.pixel_frame.detector == 4
    assert visit_image.unit == u.electron
    for plane in ("image", "variance"):
        array = getattr(visit_image, plane).array
        sha = decoded["sha256_on_disk_planes_little_endian"][plane]
        assert hashlib.sha256(array.astype("<f4").tobytes()).hexdigest() == sha
    reference = entry["reference_2100"][
        "MaskedImage.read_legacy(plane_map=get_legacy_visit_image_mask_planes())"
    ]
    assert list(visit_image.mask.schema.names) == reference["mask_planes"]
    polygon = decoded["valid_polygon"]["vertices"]
    assert visit_image.bounds.bbox.contains(x=polygon[1][0], y=polygon[1][1]) is not None
    assert len(visit_image.aperture_corrections) == 46
    assert visit_image.summary_stats.psfSigma == 1.0
    assert visit_image.psf.compute_kernel_image(x=5.0, y=5.0).array.sum() == pytest.approx(1.0)
    # VisitImage.read_legacy delegates here.
    again = VisitImage.read_legacy(_path(entry), visit=904010, component="bbox")
    assert again == visit_image.bbox


def test_visit_kwarg_conflicts_are_errors() -> None:
    entry = _entry("obs_base__calexp.fits")
    with pytest.raises(ValueError, match="instrument"):
        read_visit_image(_path(entry), visit=1, instrument="LSSTCam", component="detector")


@pytest.mark.parametrize("entry", EXPOSURE_LIKE, ids=lambda e: e["name"])
def test_masked_image_read(entry: dict) -> None:
    decoded = entry["decoded"]
    masked = read_masked_image(_path(entry))
    assert masked.bbox == _box(decoded["bbox"]["lsst_images_box"])
    assert list(masked.mask.schema.names) == list(decoded["mask_planes_legacy"])
    for name, count in decoded["mask_bit_counts"].items():
        assert int(masked.mask.get(name).sum()) == count
    for plane in ("image", "variance"):
        array = getattr(masked, plane).array
        assert array.dtype.isnative
        sha = decoded["sha256_on_disk_planes_little_endian"][plane]
        assert hashlib.sha256(array.astype("<f4").tobytes()).hexdigest() == sha
    reference = entry["reference_2100"]["MaskedImage.read_legacy()"]
    if reference["ok"]:
        assert list(masked.mask.schema.names) == reference["mask_planes"]
        assert list(masked.mask.array.shape) == reference["mask_array_shape"]
    only_mask = read_masked_image(_path(entry), component="mask")
    assert only_mask == masked.mask


def test_image_read_from_primary_hdu() -> None:
    path = fixture_dir("legacy") / "meas_extensions_piff__psfIm_10_100.fits"
    image = read_image(path, ext=0)
    assert (image.bbox.x.start, image.bbox.y.start) == (-2, 88)
    assert image.array.dtype == np.float64
    assert image.array.sum() == pytest.approx(1.0)


def test_mask_read_with_plane_map() -> None:
    from lsst.images import get_legacy_visit_image_mask_planes

    entry = _entry("meas_extensions_piff__exp.fits")
    mask = read_mask(_path(entry), ext="MASK", plane_map=get_legacy_visit_image_mask_planes())
    reference = entry["reference_2100"][
        "MaskedImage.read_legacy(plane_map=get_legacy_visit_image_mask_planes())"
    ]
    assert list(mask.schema.names) == reference["mask_planes"]
    assert int(mask.get("DETECTED").sum()) == entry["decoded"]["mask_bit_counts"]["DETECTED"]


def test_unmapped_set_plane_is_an_error() -> None:
    from lsst.images import get_legacy_visit_image_mask_planes

    entry = _entry("afw__parent.fits")
    # DETECTED_NEGATIVE is set on every pixel of this file and has no new-style name.
    with pytest.raises(RuntimeError, match="DETECTED_NEGATIVE"):
        read_masked_image(_path(entry), plane_map=get_legacy_visit_image_mask_planes())


def test_unknown_psf_is_deferred(tmp_path) -> None:
    """A PSF class outside the allow-list is stored as an error and raised only on access."""
    import shutil

    from astropy.io import fits

    entry = _entry("obs_base__calexp.fits")
    target = tmp_path / "calexp_unknown_psf.fits"
    shutil.copy(_path(entry), target)
    with fits.open(target, mode="update") as hdus:
        index = hdus["ARCHIVE_INDEX"].data
        rows = index["id"] == entry["decoded"]["component_ids"]["PSF"]
        index["name"][rows] = "EvilPsf"
        index["module"][rows] = "os"
    visit_image = read_visit_image(target, visit=904010)
    with pytest.raises(ArchiveReadError, match="EvilPsf"):
        _ = visit_image.psf
    with pytest.raises(ArchiveReadError, match="EvilPsf"):
        read_visit_image(target, visit=904010, component="psf")


def _write_compressed_afw_like(path, *, seed: int = 747) -> tuple[np.ndarray, np.ndarray]:
    """Write an afw-layout MaskedImage with RICE-quantized image/variance and a GZIP mask (astropy)."""
    from astropy.io import fits

    rng = np.random.default_rng(5)
    image = rng.normal(100.0, 5.0, size=(50, 64)).astype(np.float32)
    variance = np.full((50, 64), 25.0, dtype=np.float32) + rng.normal(0, 0.1, size=(50, 64)).astype(
        np.float32
    )
    mask = np.zeros((50, 64), dtype=np.int32)
    mask[3:6, 7:9] = 1 << 1
    primary = fits.PrimaryHDU()
    hdus = [primary]
    for name, data in (("IMAGE", image), ("MASK", mask), ("VARIANCE", variance)):
        header = fits.Header()
        header["EXTTYPE"] = name
        header["INHERIT"] = True
        header["CTYPE1A"], header["CTYPE2A"] = "LINEAR", "LINEAR"
        header["CRPIX1A"], header["CRPIX2A"] = 1.0, 1.0
        header["CRVAL1A"], header["CRVAL2A"] = 5.0, -3.0
        if name == "MASK":
            header["MP_BAD"], header["MP_SAT"] = 0, 1
            hdu = fits.CompImageHDU(data, header=header, compression_type="GZIP_2")
        else:
            hdu = fits.CompImageHDU(
                data,
                header=header,
                compression_type="RICE_1",
                quantize_level=16.0,
                quantize_method=2,
                dither_seed=seed,
                tile_shape=(50, 64),
            )
        hdus.append(hdu)
    fits.HDUList(hdus).writeto(path)
    with fits.open(path) as check:
        return np.array(check[1].data), np.array(check[3].data)


def test_preserve_quantization_keeps_compressed_tables(tmp_path) -> None:
    path = tmp_path / "afw_compressed.fits"
    quantized_image, quantized_variance = _write_compressed_afw_like(path)
    masked = read_masked_image(path, preserve_quantization=True)
    assert (masked.bbox.x.start, masked.bbox.y.start) == (5, -3)
    np.testing.assert_array_equal(masked.image.array, quantized_image)
    np.testing.assert_array_equal(masked.variance.array, quantized_variance)
    assert not masked.image.array.flags.writeable
    assert not masked.variance.array.flags.writeable
    assert masked.mask.get("SAT").sum() == 6
    precompressed = masked._opaque_metadata.precompressed
    assert sorted(precompressed) == ["IMAGE", "VARIANCE"]
    assert precompressed["IMAGE"].header["ZCMPTYPE"] == "RICE_1"
    assert precompressed["IMAGE"].header["ZQUANTIZ"] == "SUBTRACTIVE_DITHER_2"
    plain = read_masked_image(path)
    assert plain.image.array.flags.writeable
    assert not plain._opaque_metadata.precompressed
    # Writing the preserved image emits the original quantized tiles: values come back exactly.
    from astropy.io import fits as astropy_fits

    from lsst.images import MaskedImage
    from lsst.images import fits as images_fits

    out = tmp_path / "rewritten.fits"
    images_fits.write(masked, str(out))
    back = MaskedImage.read_fits(str(out))
    np.testing.assert_array_equal(back.image.array, quantized_image)
    np.testing.assert_array_equal(back.variance.array, quantized_variance)
    with astropy_fits.open(out, disable_image_compression=True) as written:
        with astropy_fits.open(path, disable_image_compression=True) as original:
            assert written["IMAGE"].header["ZDITHER0"] == original[1].header["ZDITHER0"]
            for name in original[1].columns.names:
                np.testing.assert_array_equal(
                    np.asarray(written["IMAGE"].data.field(name)[0]),
                    np.asarray(original[1].data.field(name)[0]),
                )


def test_empty_planes_are_a_clear_error(tmp_path) -> None:
    from astropy.io import fits

    from lsst.images.legacy import LegacyFormatError

    hdus = [fits.PrimaryHDU()]
    for name in ("IMAGE", "MASK", "VARIANCE"):
        hdu = fits.ImageHDU()
        hdu.header["EXTTYPE"] = name
        hdus.append(hdu)
    path = tmp_path / "empty.fits"
    fits.HDUList(hdus).writeto(path)
    with pytest.raises(LegacyFormatError, match="empty"):
        read_masked_image(path)
    with pytest.raises(LegacyFormatError, match="empty"):
        read_image(path, ext="IMAGE")


def test_opaque_primary_header_drops_archive_bookkeeping() -> None:
    pytest.importorskip("lsst.images.fits")
    from lsst.images.fits import ExtensionKey

    entry = _entry("obs_base__calexp.fits")
    masked = read_masked_image(_path(entry))
    primary = masked._opaque_metadata.headers[ExtensionKey()]
    kept = set(entry["reference_2100"]["MaskedImage.read_legacy()"]["opaque_primary_keys"])
    for key in ("TELESCOP", "FILTER01", "EXPTIME", "DATE-AVG", "BORE-RA", "MAGZERO"):
        assert key in kept and key in primary
    for key in (
        "AR_HDU",
        "SKYWCS_ID",
        "ARCHIVE_ID_PSF",
        "PSF_ID",
        "ARCHIVE_ID_SUMMARY_STATS",
        "SUMMARY_STATS_ID",
    ):
        assert key not in primary
    for plane in ("IMAGE", "MASK", "VARIANCE"):
        assert len(masked._opaque_metadata.headers[ExtensionKey(plane)]) == 0


def test_image_read_with_header_wcs_projection() -> None:
    from lsst.images import DetectorFrame

    entry = _entry("afw__HSC-0908120-056-small.fits")
    wcs = entry["decoded"]["wcs"]
    bbox = _box(entry["decoded"]["bbox"]["lsst_images_box"])
    frame = DetectorFrame(instrument="HSC", detector=56, bbox=bbox)
    image = read_image(_path(entry), ext=1, fits_wcs_frame=frame)
    assert image.bbox == bbox
    xy = np.array(wcs["sample_pixels_parent_xy"])
    sky = image.projection.pixel_to_sky(x=xy[:, 0], y=xy[:, 1])
    want = np.array(wcs["header_wcs_sky_deg"])
    np.testing.assert_allclose(sky.ra.deg, want[:, 0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(sky.dec.deg, want[:, 1], atol=1e-9, rtol=0)


def test_butler_cards_and_units(tmp_path) -> None:
    import shutil

    from astropy.io import fits

    entry = _entry("obs_base__calexp.fits")
    target = tmp_path / "calexp_butler.fits"
    shutil.copy(_path(entry), target)
    with fits.open(target, mode="update") as hdus:
        hdus[0].header["HIERARCH LSST BUTLER DATAID INSTRUMENT"] = "HSC"
        hdus[0].header["HIERARCH LSST BUTLER DATAID VISIT"] = 904010
        hdus[0].header["HIERARCH LSST ISR UNITS"] = "electron"
        hdus[1].header["BUNIT"] = "adu"
        hdus[3].header["BUNIT"] = "adu**2"
    image = read_visit_image(target, component="image")
    assert image.projection.pixel_frame.visit == 904010
    assert image.unit == u.electron  # DP2 fix: adu relabelled when ISR worked in electrons
    assert read_visit_image(target, component="variance").unit == u.electron**2
    with pytest.raises(ValueError, match="visit=1 disagrees"):
        read_visit_image(target, component="detector", visit=1)


def test_paths_uris_and_resource_paths() -> None:
    from lsst.resources import ResourcePath

    path = fixture_dir("legacy") / "obs_base__calexp.fits"
    expected = read_visit_image(str(path), component="bbox")
    assert read_visit_image(path, component="bbox") == expected
    assert read_visit_image(f"file://{path}", component="bbox") == expected
    assert read_visit_image(ResourcePath(str(path)), component="bbox") == expected
