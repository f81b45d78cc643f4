"""The README's main job runs on the bundled sample files and every check it makes holds."""

from __future__ import annotations

from pathlib import Path

from lsst.images import VisitImage
from lsst.images._tour import main

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"


def test_samples_are_visit_images() -> None:
    files = sorted(SAMPLES.glob("*.fits"))
    assert [f.name for f in files] == ["hsc_calexp_sample.fits", "lsstcam_synthetic_visit.fits"]
    hsc = VisitImage.read_fits(str(files[0]))
    assert hsc.obs_info.instrument == "HSC" and hsc.detector.name == "1_42"
    assert tuple(hsc.bbox.shape) == (32, 64)


def test_tour_runs(tmp_path: Path, capsys) -> None:
    assert main([str(SAMPLES), str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 sample visit images passed every check." in out
    # The afw-written calexp converts (with the visit id it lacks) to the bundled sample's pixels.
    assert "same pixels as" in out and "1 of 1 afw-written files converted as expected." in out
    assert VisitImage.read_fits(str(tmp_path / "hsc_calexp.fits")).obs_info.exposure_id == 904010
    assert sorted(p.name for p in tmp_path.glob("*_cutout.fits")) == [
        "hsc_calexp_sample_cutout.fits",
        "lsstcam_synthetic_visit_cutout.fits",
    ]
    pictures = sorted(p.name for p in tmp_path.glob("*.png"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert pictures == []
    else:
        assert pictures == ["hsc_calexp_sample.png", "lsstcam_synthetic_visit.png"]
        assert "$ lsst-images show" in out
