"""The ``lsst-images info`` and ``lsst-images cutout`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lsst.images as li
from conftest import fixture_dir, load_manifest
from lsst.images import fits
from lsst.images.cli import main


def _info_json(path: Path, capsys) -> dict:
    assert main(["info", "--json", str(path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_visit_image_4300(capsys) -> None:
    folder = fixture_dir("lsst-images-4300")
    summary = _info_json(folder / "visit_full.fits", capsys)
    assert summary["type"] == "VisitImage"
    assert summary["layout"] == "lsst.images 4300"
    assert summary["bbox"] == load_manifest("lsst-images-4300")["files"]["visit_full"]["expect"]["bbox"]
    assert summary["planes"]["image"]["unit"] == "nJy"
    assert summary["planes"]["mask"]["planes"][:2] == ["BAD", "SATURATED"]
    assert summary["components"]["psf"].startswith("Gaussian")
    assert summary["components"]["band"] == "r"
    names = [row["name"] for row in summary["hdus"]]
    assert names[:4] == ["PRIMARY", "IMAGE", "MASK", "VARIANCE"]
    assert names[-2:] == ["JSON", "INDEX"]
    assert summary["hdus"][1]["compression"] == "GZIP_2 rows, lossless"


def test_info_text_lossy_and_masks(capsys) -> None:
    folder = fixture_dir("lsst-images-2100")
    assert main(["info", str(folder / "image_f32_lossy_rice_sd2_q16.fits")]) == 0
    text = capsys.readouterr().out
    assert "Type:       Image" in text
    assert "RICE_1 rows, lossy SUBTRACTIVE_DITHER_2 q=16.0 seed=1234" in text
    assert main(["info", str(folder / "mask_u8_40planes_2hdus.fits")]) == 0
    text = capsys.readouterr().out
    assert "40 planes in 2 HDU(s)" in text
    assert "MASK,2" in text


def test_info_every_fixture(capsys) -> None:
    for layout in ("lsst-images-2100", "lsst-images-4300"):
        manifest = load_manifest(layout)
        for entry in manifest["files"].values():
            summary = _info_json(fixture_dir(layout) / entry["file"], capsys)
            assert summary["type"] == entry["class"]
            assert summary["bbox"] == entry["expect"]["bbox"]


def test_info_legacy_file(capsys) -> None:
    folder = fixture_dir("legacy")
    summary = _info_json(folder / "obs_base__calexp.fits", capsys)
    assert summary["layout"].startswith("plain FITS")
    assert [row["name"] for row in summary["hdus"][1:4]] == ["IMAGE", "MASK", "VARIANCE"]


def test_info_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"")
    assert main(["info", str(bad)]) == 1
    assert "bad.fits" in capsys.readouterr().err


def test_cutout_bbox(tmp_path: Path, capsys) -> None:
    folder = fixture_dir("lsst-images-2100")
    out = tmp_path / "cut.fits"
    assert (
        main(
            ["cutout", str(folder / "masked_image_f32_default.fits"), "--bbox", "20:30,40:60", "-o", str(out)]
        )
        == 0
    )
    full = fits.read(li.MaskedImage, str(folder / "masked_image_f32_default.fits")).deserialized
    cut = fits.read(li.MaskedImage, str(out)).deserialized
    box = li.Box(li.Interval(20, 30), li.Interval(40, 60))
    assert cut.bbox == box
    np.testing.assert_array_equal(cut.image.array, full[box].image.array)
    np.testing.assert_array_equal(cut.mask.array, full[box].mask.array)


def test_cutout_outside_fails(tmp_path: Path, capsys) -> None:
    folder = fixture_dir("lsst-images-2100")
    out = tmp_path / "cut.fits"
    assert (
        main(["cutout", str(folder / "image_f32_gzip2_default.fits"), "--bbox", "0:10,70:90", "-o", str(out)])
        == 2
    )
    assert not out.exists()
    assert (
        main(["cutout", str(folder / "image_f32_gzip2_default.fits"), "--bbox", "bad", "-o", str(out)]) == 2
    )


def test_cutout_sky_circle(tmp_path: Path, capsys) -> None:
    folder = fixture_dir("lsst-images-2100")
    path = folder / "visit_tiles64_gzip1.fits"
    full = fits.read(li.VisitImage, str(path)).deserialized
    centre = full.bbox.y.start + 100, full.bbox.x.start + 120
    sky = full.projection.pixel_to_sky(x=float(centre[1]), y=float(centre[0]))
    out = tmp_path / "sky.fits"
    args = [
        "cutout",
        str(path),
        "--ra",
        str(sky.ra.deg),
        "--dec",
        str(sky.dec.deg),
        "--radius",
        "2",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    cut = fits.read(li.VisitImage, str(out)).deserialized
    assert cut.bbox.contains(x=centre[1], y=centre[0])
    assert cut.bbox.y.size < 40 and cut.bbox.x.size < 40
    np.testing.assert_array_equal(cut.image.array, full[cut.bbox].image.array)


def test_console_script_runs(tmp_path: Path) -> None:
    folder = fixture_dir("lsst-images-2100")
    proc = subprocess.run(
        [sys.executable, "-m", "lsst.images.cli", "info", str(folder / "image_u8_nocomp.fits")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "uint8" in proc.stdout


@pytest.mark.parametrize("argv", [["cutout", "x.fits", "-o", "y.fits"], ["nope"]])
def test_bad_arguments(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        main(argv)


def test_info_legacy_bboxes(capsys) -> None:
    """Legacy afw files: bbox (from the offset WCS or LTV cards) matches the legacy manifest."""
    folder = fixture_dir("legacy")
    manifest = json.loads((folder / "manifest.json").read_text())
    checked = 0
    for entry in manifest["files"]:
        bbox = entry.get("decoded", {}).get("bbox")
        if not isinstance(bbox, dict) or "lsst_images_box" not in bbox:
            continue
        summary = _info_json(folder / entry["name"], capsys)
        assert summary["bbox"] == bbox["lsst_images_box"], entry["name"]
        assert summary["planes"]["mask"]["planes"]
        checked += 1
    assert checked >= 5
