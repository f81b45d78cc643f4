"""CLI errors a newcomer meets beyond the basic cases, and `convert`/`cutout` outputs in every container.

Every error is one line on stderr naming the file, with exit status 1 for files that
cannot be read or written and 2 for command-line mistakes; no traceback, no astropy
warning.  `convert` keeps the class an lsst.images file holds, and `cutout` writes the
container its output's extension names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lsst.images as li
from lsst.images.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "data" / "lsstcam_synthetic_visit.fits"
SAMPLE_4300 = ROOT / "tests" / "data" / "visit_small_4300.fits"
AFW_SMALL = ROOT / "tests" / "data" / "afw_exposure_10x10.fits"


def _fails(args: list[object], capsys, status: int, *fragments: str) -> str:
    """Run the command; check its exit status and that stderr is one line holding ``fragments``."""
    assert main([str(a) for a in args]) == status
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "WARNING" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", ["info", "describe", "cutout", "convert"])
def test_a_folder_is_named(command: str, capsys, tmp_path: Path) -> None:
    folder = tmp_path / "night1"
    folder.mkdir()
    extra = {"cutout": ["--bbox", "0:1,0:1", "-o", tmp_path / "x.fits"], "convert": [tmp_path / "x.fits"]}
    _fails([command, folder, *extra.get(command, [])], capsys, 1, "night1", "is a folder")


def test_a_short_text_file_is_not_fits(capsys, tmp_path: Path) -> None:
    """Shorter than one FITS block, but not a FITS start: "not a FITS file", not "truncated"."""
    path = tmp_path / "notes.fits"
    path.write_text("seeing 0.7 arcsec\n")
    for command in ("info", "describe"):
        _fails([command, path], capsys, 1, "notes.fits", "not a FITS file")
    start = tmp_path / "start.fits"
    start.write_bytes(SAMPLE.read_bytes()[:100])
    _fails(["info", start], capsys, 1, "start.fits", "truncated")


def test_convert_errors_name_the_file(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out.fits"
    _fails(["convert", tmp_path / "nope.fits", out], capsys, 1, "nope.fits: no such file")
    text = tmp_path / "notes.fits"
    text.write_text("not FITS\n" * 500)
    _fails(["convert", text, out], capsys, 1, "notes.fits", "not a FITS file")
    for source in (SAMPLE, AFW_SMALL):
        short = tmp_path / f"short_{source.name}"
        data = source.read_bytes()
        short.write_bytes(data[: len(data) // 2])
        _fails(["convert", short, out], capsys, 1, short.name, "truncated")
    assert not out.exists()


@pytest.mark.parametrize("command", ["convert", "cutout"])
def test_missing_output_folder_is_named_before_reading(command: str, capsys, tmp_path: Path) -> None:
    out = tmp_path / "results" / "out.fits"
    args = (
        [command, SAMPLE, out] if command == "convert" else [command, SAMPLE, "--bbox", "1000:1010,2000:2010"]
    )
    if command == "cutout":
        args += ["-o", out]
    line = _fails(args, capsys, 1, "results: no such folder", "out.fits")
    assert ".tmp" not in line
    assert not (tmp_path / "results").exists()


def test_layout_for_json_is_a_usage_error(capsys, tmp_path: Path) -> None:
    args = ["cutout", SAMPLE, "--bbox", "1000:1010,2000:2010", "-o", tmp_path / "c.json", "--layout", "4300"]
    _fails(args, capsys, 2, "--layout", "JSON")
    _fails(["convert", SAMPLE, tmp_path / "c.txt"], capsys, 2, "c.txt", "extension")


@pytest.mark.parametrize("source", [SAMPLE, SAMPLE_4300], ids=["2100", "4300"])
@pytest.mark.parametrize("suffix", [".fits", ".json"])
def test_convert_keeps_the_class_of_an_lsst_images_file(source: Path, suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"visit{suffix}"
    assert main(["convert", str(source), str(out)]) == 0
    original = li.VisitImage.read_fits(str(source))
    back = li.VisitImage.read(str(out))
    assert type(back) is li.VisitImage
    assert back.bbox == original.bbox
    np.testing.assert_array_equal(back.image.array, original.image.array)
    assert back.mask == original.mask
    assert back.obs_info == original.obs_info
    np.testing.assert_allclose(
        back.psf.compute_kernel_image(x=back.bbox.x.center, y=back.bbox.y.center).array,
        original.psf.compute_kernel_image(x=back.bbox.x.center, y=back.bbox.y.center).array,
    )


def test_convert_to_4300_layout_is_read_back_as_4300(tmp_path: Path) -> None:
    out = tmp_path / "visit_4300.fits"
    assert main(["convert", str(SAMPLE), str(out), "--layout", "4300"]) == 0
    from lsst.images.fits import FitsInputArchive

    with FitsInputArchive.open(str(out)) as archive:
        assert archive.layout == "4300"
    np.testing.assert_array_equal(
        li.VisitImage.read(str(out)).image.array, li.VisitImage.read_fits(str(SAMPLE)).image.array
    )


def test_cutout_writes_the_container_its_extension_names(tmp_path: Path, capsys) -> None:
    box = li.Box.factory[1010:1030, 2050:2080]
    out = tmp_path / "cut.json"
    assert main(["cutout", str(SAMPLE), "--bbox", "1010:1030,2050:2080", "-o", str(out)]) == 0
    assert out.read_bytes()[:1] == b"{"
    cut = li.VisitImage.read(str(out))
    expected = li.VisitImage.read_fits(str(SAMPLE), bbox=box)
    assert cut.bbox == box
    np.testing.assert_array_equal(cut.image.array, expected.image.array)
    np.testing.assert_array_equal(cut.variance.array, expected.variance.array)


def test_console_errors_have_no_traceback(tmp_path: Path) -> None:
    """The installed command and ``python -m lsst.images`` print one line and exit 1 on a bad file."""
    bad = tmp_path / "bad.fits"
    bad.write_text("nope")
    for command in (
        [sys.executable, "-m", "lsst.images"],
        [str(Path(sys.executable).parent / "lsst-images")],
    ):
        if not Path(command[0]).exists():
            continue
        proc = subprocess.run([*command, "info", str(bad)], capture_output=True, text=True)
        assert proc.returncode == 1
        assert (
            proc.stderr.strip()
            == f"lsst-images info: error: {bad}: not a FITS file (no SIMPLE card at the start)"
        )
        proc = subprocess.run([*command, "--debug", "info", str(bad)], capture_output=True, text=True)
        assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_a_closed_pipe_ends_quietly() -> None:
    """``lsst-images describe FILE | head`` : the reader leaving is not an error worth a message."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    proc = subprocess.run(
        [sys.executable, "-m", "lsst.images", "describe", str(SAMPLE)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr == ""
