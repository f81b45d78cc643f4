"""Reading pixels does not import astropy and friends.

A fresh process that reads a visit image (whole, then a cut-out) and touches only its
pixel planes must not pay for importing astropy at all: not ``astropy.io.fits`` (the
container parses its own cards), not ``astropy.units`` (units stay validated text until
asked for, see `lsst.images.serialization.UnitText`), not ``astro_metadata_translator``
(``obs_info`` is validated on first use).  Asking for a unit or the detector's orientation
afterwards gives real astropy objects.  Each case runs in a subprocess so that modules
imported by other tests do not hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "lsstcam_synthetic_visit.fits"
HEAVY = ("astropy", "astro_metadata_translator")

_PROBE = r"""
import json, sys
import numpy as np
import lsst.images as li

path = sys.argv[1]
full = li.VisitImage.read_fits(path)
before = set(sys.modules)
box = li.Box(li.Interval(full.bbox.y.start + 3, full.bbox.y.start + 40),
             li.Interval(full.bbox.x.start + 5, full.bbox.x.start + 37))
cut = li.VisitImage.read_fits(path, bbox=box)
ys, xs = slice(3, 40), slice(5, 37)
same = (cut.bbox == box
        and np.array_equal(cut.image.array, full.image.array[ys, xs], equal_nan=True)
        and np.array_equal(cut.variance.array, full.variance.array[ys, xs], equal_nan=True)
        and np.array_equal(cut.mask.array, full.mask.array[ys, xs]))
new = sorted(set(sys.modules) - before)
modules = sorted(sys.modules)
import astropy.units as u
units = [str(cut.unit), str(cut.variance.unit), str(full.image.unit)]
typed = all(isinstance(x, u.UnitBase) for x in (cut.unit, cut.image.unit, cut.variance.unit))
scaling = full.photometric_scaling
typed = typed and (scaling is None or isinstance(scaling.unit, u.UnitBase))
yaw = full.detector.orientation.yaw
typed = typed and isinstance(yaw, u.Quantity) and yaw.unit.is_equivalent(u.rad)
print(json.dumps({"same": bool(same), "modules": modules, "new": new, "units": units, "typed": typed}))
"""


def _probe(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cases() -> list:
    cases = [pytest.param(SAMPLE, id="bundled-sample-4300")]
    rubin = FIXTURES / "lsst-images-2100" / "visit_full.fits"
    cases.append(
        pytest.param(
            rubin,
            id="rubin-2100-visit_full",
            marks=pytest.mark.skipif(not rubin.exists(), reason=f"shared fixture {rubin} not found"),
        )
    )
    return cases


@pytest.mark.parametrize("path", _cases())
def test_pixel_cutout_imports_nothing_heavy(path: Path) -> None:
    result = _probe(path)
    assert result["same"], "the cut-out's planes differ from the same box of a full read"
    loaded = [
        name for name in result["modules"] if name.split(".")[0] in {"astropy", "astro_metadata_translator"}
    ]
    for heavy in HEAVY:
        assert not any(name == heavy or name.startswith(heavy + ".") for name in loaded), (heavy, loaded)
    # Units read as text become astropy units when asked for, of the right kind.
    assert result["units"] == ["nJy", "nJy2", "nJy"], result["units"]
    assert result["typed"]
    # A second read in the same process imports nothing else -- except shapely, when the
    # cut-out box crosses the valid polygon and the polygon is clipped to it exactly (this
    # probe's box sits near a corner; a box inside a convex polygon needs no shapely, see
    # test_polygon_box_fast_path.py).
    geometry = ("shapely", "_cython_", "cython_runtime", "encodings.")
    assert not [name for name in result["new"] if not name.startswith(geometry)], result["new"]


_PRODUCT_PROBE = r"""
import json, sys
import lsst.images as li
from lsst.images.cells import CellCoadd

cls = {"cell": CellCoadd, "difference": li.DifferenceImage}[sys.argv[2]]
full = cls.read_fits(sys.argv[1])
b = full.bbox
box = li.Box(li.Interval(b.y.start + 3, b.y.start + 40), li.Interval(b.x.start + 5, b.x.start + 37))
cut = cls.read_fits(sys.argv[1], bbox=box)
modules = sorted(sys.modules)
import astropy.units as u
print(json.dumps({"modules": modules, "unit": str(cut.unit), "typed": isinstance(full.unit, u.UnitBase)}))
"""


def _product_cases() -> list:
    products = FIXTURES / "lsst-images-4300-products"
    cases = []
    for name, kind in [
        ("cell_coadd_full", "cell"),
        ("cell_coadd_missing_cells", "cell"),
        ("difference_image_full", "difference"),
    ]:
        path = products / f"{name}.fits"
        cases.append(
            pytest.param(
                path,
                kind,
                id=name,
                marks=pytest.mark.skipif(not path.exists(), reason=f"shared fixture {path} not found"),
            )
        )
    return cases


@pytest.mark.parametrize(("path", "kind"), _product_cases())
def test_product_reads_import_no_astropy(path: Path, kind: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PRODUCT_PROBE, str(path), kind], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = [
        name for name in result["modules"] if name.split(".")[0] in {"astropy", "astro_metadata_translator"}
    ]
    assert not loaded, loaded
    assert result["unit"] == "nJy" and result["typed"]
