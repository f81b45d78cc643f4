"""Legacy PSF decoding: Gaussian kernels, Piff pickles and the restricted unpickler's security."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil

import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images.legacy._errors import ArchiveReadError
from lsst.images.legacy._fits import LegacyFitsFile
from lsst.images.legacy._psf import gaussian_kernel_image
from lsst.images.legacy._unpickle import ForbiddenPickleError, restricted_loads


def _entry(name: str) -> dict:
    return next(f for f in load_manifest("legacy")["files"] if f["name"] == name)


def test_gaussian_psf_kernel_matches_manifest() -> None:
    entry = _entry("obs_base__calexp.fits")
    expected = entry["decoded"]["psf"]
    with LegacyFitsFile(fixture_dir("legacy") / entry["name"]) as lf:
        psf = lf.archive.get(entry["decoded"]["component_ids"]["PSF"])
    assert (psf.width, psf.height, psf.sigma) == (expected["width"], expected["height"], expected["sigma"])
    image, xy0 = gaussian_kernel_image(psf)
    kernel = expected["kernel_image"]
    assert list(image.shape) == kernel["shape"]
    assert list(xy0) == kernel["xy0"]
    assert image.sum() == pytest.approx(kernel["sum"], abs=1e-15)
    assert image[1, 1] == kernel["center_value"]
    assert hashlib.sha256(image.astype("<f8").tobytes()).hexdigest() == kernel["sha256_float64"]


class _Evil:
    """Pickles to a call of ``os.system`` that would create a marker file."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_restricted_unpickler_refuses_code_execution(tmp_path) -> None:
    marker = tmp_path / "pwned"
    blob = pickle.dumps((25, 25, _Evil(str(marker))), protocol=4)
    with pytest.raises(ForbiddenPickleError, match="system"):
        restricted_loads(blob, what="test pickle")
    assert not marker.exists()
    # The same pickle through plain pickle would have run the command; make sure the test is meaningful.
    assert isinstance(ForbiddenPickleError("x"), ArchiveReadError)


def test_restricted_unpickler_refuses_builtins_eval(tmp_path) -> None:
    class EvalReduce:
        def __reduce__(self):
            return (eval, ("__import__('os').getcwd()",))

    with pytest.raises(ForbiddenPickleError, match="eval"):
        restricted_loads(pickle.dumps(EvalReduce()))


def _write_with_piff_bytes(source, target, blob: bytes) -> None:
    """Copy an afw exposure, replacing the bytes of its PiffPsf archive catalog."""
    from astropy.io import fits

    shutil.copy(source, target)
    with fits.open(target, mode="update") as hdus:
        index = next(i for i, h in enumerate(hdus) if h.header.get("AR_NAME") == "PiffPsf")
        column = fits.Column(
            name="bytes", format=f"QB({len(blob)})", array=[np.frombuffer(blob, dtype=np.uint8)]
        )
        new = fits.BinTableHDU.from_columns([column], header=hdus[index].header)
        hdus[index] = new


def _write_evil_piff_file(tmp_path) -> tuple:
    """Copy the Piff fixture with its PSF pickle replaced by one that would create a marker file.

    Returns ``(file, marker)``; the marker must never appear.
    """
    entry = _entry("meas_extensions_piff__exp.fits")
    marker = tmp_path / "pwned"
    target = tmp_path / "evil.fits"
    _write_with_piff_bytes(
        fixture_dir("legacy") / entry["name"], target, pickle.dumps((25, 25, _Evil(str(marker))))
    )
    return target, marker


def test_crafted_piff_pickle_in_file_is_refused(tmp_path) -> None:
    target, marker = _write_evil_piff_file(tmp_path)
    with LegacyFitsFile(target) as lf:
        assert lf.archive.entry(1).name == "PiffPsf"
        with pytest.raises(ForbiddenPickleError, match="system"):
            lf.archive.get(1)
    assert not marker.exists()


def test_piff_psf_matches_afw_images() -> None:
    pytest.importorskip("piff")
    pytest.importorskip("galsim")
    from lsst.images.legacy._psf import draw_piff

    entry = _entry("meas_extensions_piff__exp.fits")
    expected = entry["decoded"]["psf"]["pure_python_evaluation"]["result"]
    with LegacyFitsFile(fixture_dir("legacy") / entry["name"]) as lf:
        psf = lf.archive.get(entry["decoded"]["component_ids"]["PSF"])
    assert (psf.width, psf.height) == (expected["width"], expected["height"])
    assert type(psf.piff_psf).__name__ == expected["piff_type"]
    for key, (x, y) in (("0_0", (0.0, 0.0)), ("10_100", (10.0, 100.0))):
        point = expected["points"][key]
        image, xy0 = draw_piff(psf, x, y)
        assert list(xy0) == point["piff_draw_origin_xy"]
        with LegacyFitsFile(fixture_dir("legacy") / f"meas_extensions_piff__psfIm_{key}.fits") as ref:
            afw_image = ref.read_plane(0)
        assert (afw_image.x0, afw_image.y0) == tuple(int(v) for v in point["afw_image_xy0"])
        tolerance = max(point["max_abs_diff_vs_piff_draw"], 1e-16) * 4
        assert np.abs(image - afw_image.array).max() <= tolerance
        assert image.max() == pytest.approx(point["afw_image_peak"], abs=1e-15)


def _hide_piff(monkeypatch) -> None:
    """Make piff and galsim (and all their submodules) unimportable for one test."""
    import sys

    for name in [n for n in sys.modules if n.split(".")[0] in ("piff", "galsim")] + ["piff", "galsim"]:
        monkeypatch.setitem(sys.modules, name, None)


def test_piff_without_extra_is_a_clear_error(monkeypatch) -> None:
    _hide_piff(monkeypatch)
    entry = _entry("meas_extensions_piff__exp.fits")
    with LegacyFitsFile(fixture_dir("legacy") / entry["name"]) as lf:
        with pytest.raises(ArchiveReadError, match="piff"):
            lf.archive.get(1)


def test_crafted_pickle_is_refused_even_without_piff(tmp_path, monkeypatch) -> None:
    _hide_piff(monkeypatch)
    target, marker = _write_evil_piff_file(tmp_path)
    with LegacyFitsFile(target) as lf:
        with pytest.raises(ForbiddenPickleError, match="system"):
            lf.archive.get(1)
    assert not marker.exists()


def _table(columns: dict, header_cards: dict | None = None):
    from astropy.io import fits

    cols = []
    for name, (fmt, values) in columns.items():
        cols.append(fits.Column(name=name, format=fmt, array=values))
    hdu = fits.BinTableHDU.from_columns(cols)
    for key, value in (header_cards or {}).items():
        hdu.header[key] = value
    return hdu


def test_psfex_parameters_decode_to_a_numpy_model() -> None:
    from lsst.images import Box
    from lsst.images.legacy._archive import Catalog
    from lsst.images.legacy._psf import decode_psfex_psf, to_psf
    from lsst.images.psfs import PSFExWrapper

    size = (9, 9, 3)  # width, height, components (1, x, y for degree 1)
    yy, xx = np.mgrid[-4:5, -4:5]
    blob = np.exp(-(xx**2 + yy**2) / 4.0)
    comps = np.zeros((3, 9, 9), dtype=np.float32)
    comps[0] = blob
    comps[1] = 0.1 * blob * xx  # x-dependent asymmetry
    summary = _table(
        {
            "averagePosition_x": ("D", [100.0]),
            "averagePosition_y": ("D", [200.0]),
            "_pixstep": ("E", [1.0]),
        }
    )
    model = _table(
        {
            "group": ("2J", [[1, 1]]),
            "degree": ("1J", [1]),
            "basis": ("1D", [0.0]),
            "coeff": ("1D", [0.0]),
            "_size": ("3J", [list(size)]),
            "_comp": (f"{comps.size}E", [comps.ravel()]),
            "_context_first": ("2D", [[100.0, 200.0]]),
            "_context_second": ("2D", [[50.0, 50.0]]),
        }
    )
    legacy = decode_psfex_psf(
        None, [Catalog(summary.data, summary.header), Catalog(model.data, model.header)]
    )
    assert legacy.group == [0, 0]
    assert legacy.parameters.shape == (3, 9, 9)
    np.testing.assert_array_equal(legacy.parameters[1], comps[1])
    psf = to_psf(legacy, Box.factory[0:400, 0:200])
    assert isinstance(psf, PSFExWrapper)
    at_center = psf.compute_kernel_image(x=100.0, y=200.0).array
    assert at_center.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(
        at_center, at_center[:, ::-1], atol=1e-12
    )  # x term vanishes at the context offset
    off_center = psf.compute_kernel_image(x=150.0, y=200.0).array
    assert not np.allclose(off_center, off_center[:, ::-1])


def test_piff_psf_converts_to_piff_wrapper() -> None:
    pytest.importorskip("piff")
    pytest.importorskip("galsim")
    from lsst.images import Box
    from lsst.images.legacy._psf import to_psf
    from lsst.images.psfs import PiffWrapper

    entry = _entry("meas_extensions_piff__exp.fits")
    points = entry["decoded"]["psf"]["pure_python_evaluation"]["result"]["points"]
    with LegacyFitsFile(fixture_dir("legacy") / entry["name"]) as lf:
        psf = to_psf(lf.archive.get(1), Box.factory[0:301, 0:110])
    assert isinstance(psf, PiffWrapper)
    for key, (x, y) in (("0_0", (0.0, 0.0)), ("10_100", (10.0, 100.0))):
        stellar = psf.compute_stellar_image(x=x, y=y)
        with LegacyFitsFile(fixture_dir("legacy") / f"meas_extensions_piff__psfIm_{key}.fits") as ref:
            afw_image = ref.read_plane(0)
        assert (stellar.bbox.x.start, stellar.bbox.y.start) == (afw_image.x0, afw_image.y0)
        tolerance = max(points[key]["max_abs_diff_vs_piff_draw"], 1e-16) * 4
        assert np.abs(stellar.array - afw_image.array).max() <= tolerance
