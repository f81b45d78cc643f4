"""The command line as a user meets it: afw files, show/describe, errors, version, progress."""

from __future__ import annotations

import io
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

import lsst.images as li
from conftest import fixture_dir
from lsst.images import fits
from lsst.images.cli import main
from lsst.images.cli._progress import progress

ROOT = Path(__file__).resolve().parents[1]
AFW_SMALL = ROOT / "tests" / "data" / "afw_exposure_10x10.fits"
SAMPLE = ROOT / "examples" / "data" / "lsstcam_synthetic_visit.fits"


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _assert_one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def no_pixel_decoding(monkeypatch):
    """Make every pixel decode fail: lsst.images tiles and astropy image data alike."""

    def refuse(*args, **kwargs):
        raise AssertionError("pixel data was decoded")

    import lsst.images.fits._engine as engine

    monkeypatch.setattr(engine, "decode_image", refuse)
    for cls in (afits.PrimaryHDU, afits.ImageHDU, afits.CompImageHDU):
        monkeypatch.setattr(cls, "data", property(refuse), raising=False)


# ---------------------------------------------------------------------- version and entry points


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"lsst-images {version('lsst-images-py')}"


def test_python_dash_m_is_the_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lsst.images", "info", str(AFW_SMALL)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "legacy afw Exposure/MaskedImage" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "lsst.images", "cutout", "x.fits"], capture_output=True, text=True
    )
    assert proc.returncode == 2  # argparse: -o and a box are required
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------- afw-written files


def test_info_afw_file(capsys) -> None:
    status, out, _ = _run(["info", AFW_SMALL], capsys)
    assert status == 0
    assert "legacy afw Exposure/MaskedImage" in out
    assert "[y=0:10, x=0:10]" in out


def test_cutout_afw_file_equals_read_legacy_sliced(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cut.fits"
    status, _, err = _run(["cutout", AFW_SMALL, "--bbox", "2:7,3:9", "-o", out], capsys)
    assert status == 0, err
    box = li.Box.factory[2:7, 3:9]
    expected = li.MaskedImage.read_legacy(str(AFW_SMALL))[box]
    cut = fits.read(li.MaskedImage, str(out)).deserialized
    assert cut.bbox == box
    np.testing.assert_array_equal(cut.image.array, expected.image.array)
    np.testing.assert_array_equal(cut.variance.array, expected.variance.array)
    assert cut.mask == expected.mask


def test_cutout_afw_file_reads_only_the_box(tmp_path: Path, capsys, monkeypatch) -> None:
    """With whole-HDU data access forbidden, the cut-out still works: it reads rows via sections."""
    expected = li.MaskedImage.read_legacy(str(AFW_SMALL))[li.Box.factory[4:6, 0:10]]

    def refuse(self):
        raise AssertionError("a whole plane was read")

    for cls in (afits.PrimaryHDU, afits.ImageHDU, afits.CompImageHDU):
        monkeypatch.setattr(cls, "data", property(refuse), raising=False)
    out = tmp_path / "rows.fits"
    status, _, err = _run(["cutout", AFW_SMALL, "--bbox", "4:6,0:10", "-o", out], capsys)
    assert status == 0, err
    monkeypatch.undo()
    cut = fits.read(li.MaskedImage, str(out)).deserialized
    np.testing.assert_array_equal(cut.image.array, expected.image.array)


def test_afw_visit_image_needs_visit_option(tmp_path: Path, capsys) -> None:
    calexp = fixture_dir("legacy") / "obs_base__calexp.fits"
    out = tmp_path / "cut.fits"
    for command in (["cutout", calexp, "--bbox", "0:10,0:20", "-o", out], ["convert", calexp, out]):
        status, _, err = _run(command, capsys)
        assert status == 2
        _assert_one_line_error(err, "--visit")
        assert "visit=" not in err
    status, _, err = _run(["cutout", calexp, "--bbox", "5:15,10:30", "-o", out, "--visit", "904010"], capsys)
    assert status == 0, err
    box = li.Box.factory[5:15, 10:30]
    expected = li.VisitImage.read_legacy(str(calexp), visit=904010)[box]
    cut = fits.read(li.VisitImage, str(out)).deserialized
    np.testing.assert_array_equal(cut.image.array, expected.image.array)
    assert cut.mask == expected.mask
    # A sky circle on an afw file.
    sky = expected.projection.pixel_to_sky(x=20.0, y=10.0)
    args = ["cutout", calexp, "--ra", sky.ra.deg, "--dec", sky.dec.deg, "--radius", 1.0, "-o", out]
    status, _, err = _run([*args, "--visit", "904010"], capsys)
    assert status == 0, err
    assert fits.read(li.VisitImage, str(out)).deserialized.bbox.contains(x=20, y=10)


# ---------------------------------------------------------------------- error cases


def test_error_missing_file(capsys, tmp_path: Path) -> None:
    for command in ("info", "describe", "show", "cutout"):
        extra = {
            "show": ["-o", tmp_path / "x.png"],
            "cutout": ["--bbox", "0:1,0:1", "-o", tmp_path / "x.fits"],
        }
        status, _, err = _run([command, tmp_path / "nope.fits", *extra.get(command, [])], capsys)
        assert status == 1
        _assert_one_line_error(err, "nope.fits", "no such file")


def test_error_not_fits(capsys, tmp_path: Path) -> None:
    path = tmp_path / "notes.fits"
    path.write_text("These are my observing notes, not a FITS file.\n" * 100)
    for command in (["info", path], ["describe", path], ["cutout", path, "--bbox", "0:1,0:1", "-o", path]):
        status, _, err = _run(command, capsys)
        assert status == 1
        _assert_one_line_error(err, "notes.fits", "not a FITS file")


@pytest.mark.parametrize("source", [SAMPLE, AFW_SMALL], ids=["lsst.images", "afw"])
def test_error_truncated_file(capsys, tmp_path: Path, source: Path) -> None:
    path = tmp_path / "short.fits"
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for command in (["info", path], ["describe", path], ["cutout", path, "--bbox", "0:1,0:1", "-o", path]):
        status, _, err = _run(command, capsys)
        assert status == 1
        _assert_one_line_error(err, "short.fits", "truncated")


def test_error_box_outside_image(capsys, tmp_path: Path) -> None:
    out = tmp_path / "x.fits"
    for path, box in ((SAMPLE, "0:10,0:10"), (AFW_SMALL, "5:15,0:5")):
        status, _, err = _run(["cutout", path, "--bbox", box, "-o", out], capsys)
        assert status == 2
        _assert_one_line_error(err, "is not inside the image bbox")
        assert not out.exists()
    status, _, err = _run(["show", SAMPLE, "--bbox", "0:10,0:10", "-o", tmp_path / "x.png"], capsys)
    assert status == 2


def test_error_sky_position_off_image(capsys, tmp_path: Path) -> None:
    args = ["cutout", SAMPLE, "--ra", "10.0", "--dec", "-40.0", "--radius", "5", "-o", tmp_path / "x.fits"]
    status, _, err = _run(args, capsys)
    assert status == 2
    _assert_one_line_error(err, "is off the image")
    status, _, err = _run(["cutout", AFW_SMALL, *args[2:]], capsys)
    assert status == 2
    _assert_one_line_error(err, "no projection")


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        main(["--debug", "info", str(tmp_path / "nope.fits")])
    with pytest.raises(FileNotFoundError):
        main(["describe", str(tmp_path / "nope.fits"), "--debug"])


# ---------------------------------------------------------------------- describe


def test_describe_tree_without_decoding_pixels(capsys, no_pixel_decoding) -> None:
    status, out, err = _run(["describe", SAMPLE], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("VisitImage [y=1000:1160, x=2000:2192] (lsst.images 2100 layout)")
    assert "  image: Image" in lines
    assert any(
        line.strip().startswith(
            "data: float32 array 160x192 [nJy] in HDU IMAGE (float32 160x192, GZIP_2 rows"
        )
        for line in lines
    )
    planes = [
        "BAD",
        "SATURATED",
        "INTERPOLATED",
        "COSMIC_RAY",
        "DETECTION_EDGE",
        "DETECTED",
        "SUSPECT",
        "NO_DATA",
    ]
    assert f"    planes = {planes}" in lines
    assert "  psf: GaussianPSF" in lines and "    sigma = 2.0" in lines
    for component in (
        "projection: Projection",
        "detector: Detector",
        "backgrounds: BackgroundMap",
        "aperture_corrections: ApertureCorrectionMap",
        "photometric_scaling: ChebyshevField",
        "obs_info: ObservationInfo",
        "summary_stats: ObservationSummaryStats",
    ):
        assert f"  {component}" in out
    # Every array HDU of the file is named where the array lives.
    with afits.open(SAMPLE, disable_image_compression=True) as hdus:
        image_hdus = [h.name for h in hdus[1:] if h.header.get("ZIMAGE") or h.name in ("IMAGE", "MASK")]
    assert image_hdus
    for name in image_hdus:
        assert f"in HDU {name} (" in out


def test_describe_afw_file_without_decoding_pixels(capsys, no_pixel_decoding) -> None:
    status, out, err = _run(["describe", AFW_SMALL], capsys)
    assert status == 0, err
    assert "afw-written file, read as MaskedImage [y=0:10, x=0:10] (legacy layout)" in out
    assert "image: float32 array 10x10 at (y=0, x=0) in HDU 1" in out
    assert "planes = ['BAD', 'SAT', 'INTRP', 'CR', 'EDGE', 'DETECTED', 'DETECTED_NEGATIVE', 'SUSPECT'" in out


def test_describe_every_fixture(capsys) -> None:
    for layout in ("lsst-images-2100", "lsst-images-4300"):
        for path in sorted(fixture_dir(layout).glob("*.fits")):
            status, out, err = _run(["describe", path], capsys)
            assert status == 0, (path, err)
            assert "HDUs:" in out


# ---------------------------------------------------------------------- show


def _check_picture(path: Path) -> None:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    height, width = pixels.shape[:2]
    assert height >= 400 and width >= 400
    rgb = pixels[..., :3].reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 50  # not blank: an image, colours, text
    assert rgb.std() > 0.08


def test_show_sample_with_all_masks(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "sample.png"
    status, text, err = _run(["show", SAMPLE, "--mask", "all", "-o", out], capsys)
    assert status == 0, err
    assert "VisitImage [y=1000:1160, x=2000:2192]" in text
    _check_picture(out)


def test_show_shared_visit_full(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    path = fixture_dir("lsst-images-2100") / "visit_full.fits"
    out = tmp_path / "x.png"
    status, _, err = _run(["show", path, "--mask", "all", "-o", out], capsys)
    assert status == 0, err
    _check_picture(out)


def test_show_cutout_reads_only_its_tiles(tmp_path: Path, capsys, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import lsst.images.fits._engine as engine

    regions = []
    real = engine.decode_image

    def spy(header, reader, offset, *, region=None, **kwargs):
        shape = (
            int(header.get("ZNAXIS2", header.get("NAXIS2", 0))),
            int(header.get("ZNAXIS1", header.get("NAXIS1", 0))),
        )
        regions.append((shape, region))
        return real(header, reader, offset, region=region, **kwargs)

    monkeypatch.setattr(engine, "decode_image", spy)
    out = tmp_path / "cut.png"
    status, _, err = _run(
        ["show", SAMPLE, "--bbox", "1010:1040,2020:2070", "--mask", "DETECTED", "-o", out], capsys
    )
    assert status == 0, err
    planes = [region for shape, region in regions if shape == (160, 192)]
    assert len(planes) == 3  # image, mask, variance: each decoded only over the cut-out
    assert all((r[0].start, r[0].stop, r[1].start, r[1].stop) == (10, 40, 20, 70) for r in planes)
    # Everything else decoded is small component data (background splines), never a pixel plane.
    assert all(shape[0] * shape[1] < 1000 for shape, _ in regions if shape != (160, 192))


def test_show_afw_file(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "afw.png"
    status, _, err = _run(
        ["show", AFW_SMALL, "--mask", "BAD", "EDGE", "--stretch", "linear", "-o", out], capsys
    )
    assert status == 0, err
    _check_picture(out)


def test_show_bad_names(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "x.png"
    status, _, err = _run(["show", SAMPLE, "--mask", "BAD", "GLITTER", "-o", out], capsys)
    assert status == 2
    _assert_one_line_error(err, "'GLITTER'", "valid planes: BAD, SATURATED,")
    status, _, err = _run(["show", SAMPLE, "--stretch", "wobbly", "-o", out], capsys)
    assert status == 2
    _assert_one_line_error(
        err, "unknown stretch 'wobbly'", "valid stretches: linear, sqrt, squared, log, asinh"
    )
    assert not out.exists()


# ---------------------------------------------------------------------- many positions, progress


def test_cutout_positions(tmp_path: Path, capsys) -> None:
    visit = li.VisitImage.read_fits(str(SAMPLE))
    points = [(2050.0, 1050.0), (2150.0, 1120.0)]
    skies = [visit.projection.pixel_to_sky(x=x, y=y) for x, y in points]
    listing = tmp_path / "positions.txt"
    lines = (
        ["# ra dec [radius]"]
        + [f"{float(s.ra.deg)!r}, {float(s.dec.deg)!r}" for s in skies]
        + ["10.0 -40.0 3"]
    )
    listing.write_text("\n".join(lines) + "\n")
    folder = tmp_path / "cuts"
    args = ["cutout", SAMPLE, "--positions", listing, "--radius", "2", "-o", folder]
    status, out, err = _run(args, capsys)
    assert status == 2  # one position is off the image
    assert "position 2 skipped" in err and "wrote 2 cut-out(s) of 3 position(s)" in out
    assert "cut-outs" not in err  # stderr is not a terminal here: no progress bar
    files = sorted(folder.glob("*.fits"))
    assert [f.name for f in files] == [
        "lsstcam_synthetic_visit_0000.fits",
        "lsstcam_synthetic_visit_0001.fits",
    ]
    for (x, y), path in zip(points, files, strict=True):
        cut = li.VisitImage.read_fits(str(path))
        assert cut.bbox.contains(x=x, y=y)
        np.testing.assert_array_equal(cut.image.array, visit[cut.bbox].image.array)
    listing.write_text("1.0 2.0 three\n")
    status, _, err = _run(args, capsys)
    assert status == 2
    _assert_one_line_error(err, "line 1")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    pytest.importorskip("tqdm")
    terminal = _Terminal()
    assert list(progress(range(5), desc="files", stream=terminal)) == list(range(5))
    assert "files:" in terminal.getvalue() and "/5 [" in terminal.getvalue()
    quiet, pipe = _Terminal(), io.StringIO()
    assert list(progress(range(5), desc="files", stream=quiet, quiet=True)) == list(range(5))
    assert list(progress(range(5), desc="files", stream=pipe)) == list(range(5))
    assert quiet.getvalue() == "" and pipe.getvalue() == ""


def test_tests_data_is_small() -> None:
    assert AFW_SMALL.stat().st_size < 200_000


def test_convert_several_files_into_a_folder(tmp_path: Path, capsys) -> None:
    second = tmp_path / "second.fits"
    second.write_bytes(AFW_SMALL.read_bytes())
    folder = tmp_path / "converted"
    status, _, err = _run(["convert", AFW_SMALL, second, folder], capsys)
    assert status == 0, err
    expected = li.MaskedImage.read_legacy(str(AFW_SMALL))
    for name in ("afw_exposure_10x10.fits", "second.fits"):
        converted = li.MaskedImage.read_fits(str(folder / name))
        np.testing.assert_array_equal(converted.image.array, expected.image.array)
        assert converted.mask == expected.mask
    status, _, err = _run(["convert", AFW_SMALL, second, AFW_SMALL], capsys)
    assert status == 2
    _assert_one_line_error(err, "must be a folder")
