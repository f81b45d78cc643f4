"""Reading pixels does not import the heavy optional parts of astropy and friends.

A fresh process that reads a cut-out of a visit image and touches only its pixel planes
must not pay for importing ``astropy.io.fits`` (the container parses its own cards) or
``astro_metadata_translator`` (``obs_info`` is validated on first use).  Each case runs
in a subprocess so that modules imported by other tests do not hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "lsstcam_synthetic_visit.fits"
HEAVY = ("astropy.io.fits", "astro_metadata_translator")

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
print(json.dumps({"same": bool(same), "modules": sorted(sys.modules), "new": new}))
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
    # A second read in the same process imports nothing at all.
    assert not [name for name in result["new"] if not name.startswith("encodings.")], result["new"]
