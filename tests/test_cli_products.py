"""``lsst-images info`` and ``cutout`` on cell coadds and difference images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lsst.images import Box, DifferenceImage, fits
from lsst.images.cells import CellCoadd, CellIJ
from lsst.images.cli import main
from lsst.images.tests import make_test_cell_coadd, make_test_difference_image

B = Box.factory


@pytest.fixture(scope="module")
def coadd_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[CellCoadd, Path]:
    coadd = make_test_cell_coadd(
        5, cells=(3, 4), psf_size=21, image_box=(107, 151, 213, 305), missing=[(0, 0), (1, 2)]
    )
    path = tmp_path_factory.mktemp("cli") / "coadd.fits"
    coadd.write(str(path))
    return coadd, path


def _info(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["info", str(path), *extra]) == 0
    return capsys.readouterr().out


def test_info_cell_coadd(coadd_file, capsys) -> None:
    coadd, path = coadd_file
    summary = json.loads(_info(path, capsys, "--json"))
    assert summary["type"] == "CellCoadd"
    cells = summary["cells"]
    assert cells["grid"] == {"bbox": [[100, 160], [200, 320]], "cell_shape": [20, 30], "grid_size": [3, 4]}
    assert cells["missing"] == [[0, 0], [1, 2]]
    assert cells["psf_kernel_shape"] == [21, 21]
    assert cells["aperture_corrections"] == ["psf_flux", "gaussian_flux"]
    assert cells["patch"] == {"id": 12, "index": [1, 2]} and cells["provenance"] is True
    # The PSF width of each cell: the kernels are Gaussians of sigma 1.5 + 0.1 i + 0.05 j.
    sigma = np.array([[np.nan if v is None else v for v in row] for row in cells["psf_sigma"]])
    assert np.isnan(sigma[0, 0]) and np.isnan(sigma[1, 2])
    i, j = np.mgrid[0:3, 0:4]
    expected = 1.5 + 0.1 * i + 0.05 * j
    ok = ~np.isnan(sigma)
    np.testing.assert_allclose(sigma[ok], expected[ok], rtol=0.005)  # (21x21 stamps: no truncation)
    text = _info(path, capsys)
    assert "missing cells        (0, 0), (1, 2)" in text
    assert "PSF per cell         21x21 kernels" in text and "      --" in text
    assert "GZIP_2 tiles 20x30" in text


def test_cutout_cell_coadd(coadd_file, tmp_path: Path, capsys) -> None:
    coadd, path = coadd_file
    out = tmp_path / "cut.fits"
    assert main(["cutout", str(path), "--bbox", "125:135,250:270", "-o", str(out)]) == 0
    assert "CellCoadd" in capsys.readouterr().out
    with fits.FitsInputArchive.open(str(out)) as archive:
        assert archive.layout == "4300"
    cut = CellCoadd.read_fits(str(out))
    expected = coadd[B[125:135, 250:270]]
    assert cut.bounds == expected.bounds and cut.psf == expected.psf
    assert cut.provenance == expected.provenance
    np.testing.assert_array_equal(cut.image.array, expected.image.array)
    summary = json.loads(_info(out, capsys, "--json"))
    assert summary["cells"]["missing"] == [[1, 2]] and summary["cells"]["bounds"]["size"] == [1, 2]
    old = tmp_path / "cut2100.fits"
    assert main(["cutout", str(path), "--bbox", "125:135,250:270", "-o", str(old), "--layout", "2100"]) == 0
    with fits.FitsInputArchive.open(str(old)) as archive:
        assert archive.layout == "2100"
    assert CellCoadd.read_fits(str(old)).psf[CellIJ(1, 1)].array.shape == (21, 21)


def test_info_and_cutout_difference_image(tmp_path: Path, capsys) -> None:
    di = make_test_difference_image(8, kernel_center=(3, 5), n_basis=4)
    path = tmp_path / "di.fits"
    di.write(str(path))
    summary = json.loads(_info(path, capsys, "--json"))
    assert summary["type"] == "DifferenceImage"
    kernel = summary["difference"]["kernel"]
    assert kernel == {
        "type": "IMAGE_BASIS",
        "size": [9, 9],
        "center": [3, 5],
        "n_basis": 4,
        "spatial": ["Chebyshev 2x2"] * 4,
    }
    assert [t["patch"] for t in summary["difference"]["templates"]] == [0, 1]
    text = _info(path, capsys)
    assert "kernel               9x9 (IMAGE_BASIS, 4 basis images, centre y=3 x=5)" in text
    assert "templates            2" in text
    out = tmp_path / "cut.fits"
    assert main(["cutout", str(path), "--bbox", "110:120,310:330", "-o", str(out)]) == 0
    cut = DifferenceImage.read(str(out))
    assert cut.bbox == B[110:120, 310:330] and cut.kernel == di.kernel and len(cut.templates) == 2
    bare = tmp_path / "bare.fits"
    make_test_difference_image(2, kernel=False, n_templates=0).write(str(bare))
    text = _info(bare, capsys)
    assert "kernel               none" in text and "templates            unknown" in text
