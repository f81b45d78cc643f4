"""Repositories are shared with Rubin's own lsst-images 4300: each side reads what the other put.

Rubin's release runs as a black box in a separate Python (``LSST_IMAGES_RUBIN_4300_PYTHON``,
default ``/work/venvs/rubin-4300/bin/python``, with lsst-daf-butler 4300); the tests skip
when it is absent, as on CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

import lsst.images as li

daf_butler = pytest.importorskip("lsst.daf.butler")

RUBIN = Path(os.environ.get("LSST_IMAGES_RUBIN_4300_PYTHON", "/work/venvs/rubin-4300/bin/python"))
SMALL_VISIT = Path(__file__).parent / "data" / "visit_small_4300.fits"
BOX = li.Box.factory[1045:1050, 2070:2078]


def _rubin(code: str) -> dict:
    if not RUBIN.exists():
        pytest.skip(f"Rubin's 4300 Python not found at {RUBIN}")
    result = subprocess.run(
        [str(RUBIN), "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_rubin_reads_what_we_put(tmp_path: Path) -> None:
    visit = li.VisitImage.read(SMALL_VISIT)
    root = str(tmp_path / "repo")
    daf_butler.Butler.makeRepo(root)
    with daf_butler.Butler.from_config(root, run="ours", writeable=True) as butler:
        butler.registry.registerDatasetType(
            daf_butler.DatasetType("vi", (), "VisitImage", universe=butler.dimensions)
        )
        butler.put(visit, "vi")
    seen = _rubin(
        f"""
        import json
        from lsst.daf.butler import Butler
        import lsst.images as li
        butler = Butler.from_config({root!r}, collections="ours")
        v = butler.get("vi")
        cut = butler.get("vi.image", parameters={{"bbox": li.Box.factory[1045:1050, 2070:2078]}})
        print(json.dumps({{"band": v.band, "image": v.image.array.astype(float).tolist(),
                          "mask": v.mask.array.astype(int).tolist(), "cut": cut.array.astype(float).tolist(),
                          "sigma": butler.get("vi.psf").sigma, "id": str(v.butler_dataset.id)}}))
        """
    )
    assert seen["band"] == visit.band
    np.testing.assert_array_equal(np.array(seen["image"], np.float32), visit.image.array)
    np.testing.assert_array_equal(np.array(seen["mask"]), visit.mask.array)
    np.testing.assert_array_equal(np.array(seen["cut"], np.float32), visit.image[BOX].array)
    assert seen["sigma"] == visit.psf.sigma


def test_we_read_what_rubin_put_with_lossy16(tmp_path: Path) -> None:
    root = str(tmp_path / "repo")
    seen = _rubin(
        f"""
        import json
        from lsst.daf.butler import Butler, Config, DatasetType
        import lsst.images as li
        binding = {{"formatter": "lsst.images.formatters.GenericFormatter",
                    "parameters": {{"recipe": "lossy16"}}}}
        Butler.makeRepo({root!r}, config=Config({{"datastore": {{"formatters": {{"VisitImage": binding}}}}}}))
        butler = Butler.from_config({root!r}, run="rubin", writeable=True)
        butler.registry.registerDatasetType(DatasetType("vi", (), "VisitImage", universe=butler.dimensions))
        butler.put(li.VisitImage.read({str(SMALL_VISIT)!r}), "vi")
        v = butler.get("vi")
        print(json.dumps({{"image": v.image.array.astype(float).tolist()}}))
        """
    )
    with daf_butler.Butler.from_config(root, collections="rubin") as butler:
        ours = butler.get("vi")
        cut = butler.get("vi.variance", parameters={"bbox": BOX})
        full_variance = butler.get("vi.variance")
    # The same decoded (dequantized) pixels as Rubin's reader.
    np.testing.assert_array_equal(ours.image.array, np.array(seen["image"], np.float32))
    np.testing.assert_array_equal(cut.array, full_variance[BOX].array)
    assert ours.butler_dataset.run == "rubin"


@pytest.mark.parametrize(
    ("storage_class", "fixture"),
    [("DifferenceImage", "difference_image_full.fits"), ("CellCoadd", "cell_coadd_full.fits")],
)
def test_rubin_reads_dp2_products_we_put(tmp_path: Path, storage_class: str, fixture: str) -> None:
    from conftest import FIXTURES
    from lsst.images import cells

    path = FIXTURES / "lsst-images-4300-products" / fixture
    if not path.exists():
        pytest.skip(f"{path} not found")
    original = (li.DifferenceImage if storage_class == "DifferenceImage" else cells.CellCoadd).read(path)
    root = str(tmp_path / "repo")
    daf_butler.Butler.makeRepo(root)
    with daf_butler.Butler.from_config(root, run="ours", writeable=True) as butler:
        butler.registry.registerDatasetType(
            daf_butler.DatasetType("product", (), storage_class, universe=butler.dimensions)
        )
        butler.put(original, "product")
    seen = _rubin(
        f"""
        import json
        from lsst.daf.butler import Butler
        butler = Butler.from_config({root!r}, collections="ours")
        obj = butler.get("product")
        print(json.dumps({{"type": type(obj).__name__, "image": obj.image.array.astype(float).tolist(),
                          "psf": type(butler.get("product.psf")).__name__}}))
        """
    )
    assert seen["type"] == type(original).__name__
    np.testing.assert_array_equal(np.array(seen["image"], np.float32), original.image.array)
    assert seen["psf"] == type(original.psf).__name__
