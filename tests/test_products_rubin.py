"""Our DP2 product files read by Rubin's own releases (black boxes in subprocesses), and back.

Synthetic cell coadds and difference images are written by us and read by Rubin's
lsst-images 4300 (4300 layout) or 2100 (2100 layout of coadds); the reference then
writes them again and we read its files.  Skipped when the reference interpreters are
not installed (``LSST_IMAGES_RUBIN_4300_PYTHON``, ``LSST_IMAGES_RUBIN_2100_PYTHON``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lsst.images import Box, DifferenceImage, fits
from lsst.images.cells import CellCoadd
from lsst.images.tests import make_test_cell_coadd, make_test_difference_image
from product_checks import sha256
from rubin_reference import run_reference_2100, run_reference_4300

B = Box.factory
CUTOUT = B[125:135, 250:270]  # over a present cell and a missing one

#: Reference-side summary of a coadd (both releases); ``READ`` is substituted per release.
_SUMMARY = """
import hashlib, json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import lsst.images as LI
from lsst.images import cells as C
def sha(a):
    a = np.asarray(a)
    return hashlib.sha256(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()).hexdigest()
def read(path, **kw):
    return READ
def ij(c):
    return [int(c.i), int(c.j)]
def summary(cc):
    out = {"bbox": [cc.bbox.y.start, cc.bbox.y.stop, cc.bbox.x.start, cc.bbox.x.stop], "band": cc.band,
           "image": sha(cc.image.array), "variance": sha(cc.variance.array), "mask": sha(cc.mask.array),
           "planes": list(cc.mask.schema.names), "bounds": [cc.bounds.bbox.y.start, cc.bounds.bbox.x.start],
           "missing": sorted(ij(c) for c in cc.bounds.missing),
           "cells": [ij(c) for c in cc.bounds.cell_indices()]}
    out["psf"] = {str(ij(c)): sha(cc.psf[c].array) for c in cc.bounds.cell_indices()}
    if hasattr(cc, "aperture_corrections"):
        out["apcorr"] = {k: {str(ij(c)): f.value_in_cell(c) for c in f.bounds.cell_indices()}
                         for k, f in cc.aperture_corrections.items()}
    try:
        p = cc.provenance
        out["provenance"] = [len(p.inputs), sorted(int(v) for v in p.contributions["visit"]),
                             sorted(p.contributions.colnames)]
    except AttributeError:
        out["provenance"] = None
    try:
        out["patch"] = cc.patch.id
    except AttributeError:
        out["patch"] = None
    out["mask_fractions"] = {k: sha(v.array) for k, v in cc.mask_fractions.items()}
    out["noise"] = [sha(v.array) for v in cc.noise_realizations]
    out["backgrounds"] = sorted(cc.backgrounds)
    out["metadata"] = {k: v for k, v in cc.metadata.items() if k in ("ORIGIN", "seed")}
    return out
path, box, again = sys.argv[1] if len(sys.argv) > 1 else PATH, BOX, AGAIN
full = read(path)
cut = read(path, bbox=LI.Box.factory[box[0]:box[1], box[2]:box[3]])
result = {"full": summary(full),
          "cut": {"image": sha(cut.image.array), "missing": sorted(ij(c) for c in cut.bounds.missing),
                  "cells": [ij(c) for c in cut.bounds.cell_indices()]}}
WRITE
print(json.dumps(result))
"""

_READ = {
    "4300": "C.CellCoadd.read(path, **kw)",
    "2100": "LI.fits.read(C.CellCoadd, path, **kw).deserialized",
}
_WRITE = {
    "4300": "from lsst.images.serialization import write_archive\nwrite_archive(full, again)",
    "2100": "LI.fits.write(full, again)",
}


def _read_theirs(cls: type, path: Path):
    """Read a file the reference rewrote from one of ours.

    The reference keeps the CHECKSUM/DATASUM cards of the file it read as opaque header
    cards (primary and table HDUs) and writes them back unchanged, so they no longer
    match; checksums are therefore not verified here.
    """
    return fits.read(cls, str(path), verify=False).deserialized


def _our_summary(cc: CellCoadd, layout: str) -> dict:
    out = {
        "bbox": [cc.bbox.y.start, cc.bbox.y.stop, cc.bbox.x.start, cc.bbox.x.stop],
        "band": cc.band,
        "image": sha256(cc.image.array),
        "variance": sha256(cc.variance.array),
        "mask": sha256(cc.mask.array),
        "planes": list(cc.mask.schema.names),
        "bounds": [cc.bounds.bbox.y.start, cc.bounds.bbox.x.start],
        "missing": sorted([c.i, c.j] for c in cc.bounds.missing),
        "cells": [[c.i, c.j] for c in cc.bounds.cell_indices()],
        "psf": {str([c.i, c.j]): sha256(cc.psf[c].array) for c in cc.bounds.cell_indices()},
    }
    if layout == "4300":
        out["apcorr"] = {
            k: {str([c.i, c.j]): f.value_in_cell(c) for c in f.bounds.cell_indices()}
            for k, f in cc.aperture_corrections.items()
        }
    contributions = cc.provenance.for_layout(layout).contributions
    out["provenance"] = [
        len(cc.provenance.inputs),
        sorted(int(v) for v in contributions["visit"]),
        sorted(contributions.colnames),
    ]
    out["patch"] = cc.patch.id
    out["mask_fractions"] = {k: sha256(v.array) for k, v in cc.mask_fractions.items()}
    out["noise"] = [sha256(v.array) for v in cc.noise_realizations]
    out["backgrounds"] = sorted(cc.backgrounds)
    out["metadata"] = {k: v for k, v in cc.metadata.items() if k in ("ORIGIN", "seed")}
    return out


def _run(layout: str, path: Path, again: Path) -> dict:
    script = (
        _SUMMARY.replace("READ", _READ[layout])
        .replace("WRITE", _WRITE[layout])
        .replace("PATH", repr(str(path)))
        .replace("BOX", repr([CUTOUT.y.start, CUTOUT.y.stop, CUTOUT.x.start, CUTOUT.x.stop]))
        .replace("AGAIN", repr(str(again)))
    )
    return (run_reference_4300 if layout == "4300" else run_reference_2100)(script)


@pytest.mark.parametrize("layout", ["4300", "2100"])
def test_rubin_reads_our_cell_coadds_and_we_read_theirs(tmp_path: Path, layout: str) -> None:
    coadd = make_test_cell_coadd(
        11,
        cells=(3, 4),
        image_box=(107, 151, 213, 305),
        missing=[(0, 0), (1, 2)],
        apcorr_extra_missing=(2, 3),
        background=True,
    )
    ours = tmp_path / "ours.fits"
    theirs = tmp_path / "theirs.fits"
    coadd.write(str(ours), layout=layout)
    result = _run(layout, ours, theirs)
    assert result["full"] == json.loads(json.dumps(_our_summary(coadd, layout)))
    cut = coadd[CUTOUT]
    assert result["cut"] == {
        "image": sha256(cut.image.array),
        "missing": sorted([c.i, c.j] for c in cut.bounds.missing),
        "cells": [[c.i, c.j] for c in cut.bounds.cell_indices()],
    }
    # The reference's own file of the same coadd reads back to the same coadd here.
    back = _read_theirs(CellCoadd, theirs)
    assert _our_summary(back, layout) == _our_summary(coadd, layout)
    assert back.provenance == coadd.provenance.for_layout(layout)


_DIFFERENCE = """
import hashlib, json, warnings
warnings.simplefilter("ignore")
import numpy as np
import lsst.images as LI
from lsst.images.serialization import write_archive
def sha(a):
    a = np.asarray(a)
    return hashlib.sha256(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()).hexdigest()
di = LI.DifferenceImage.read(PATH)
out = {"image": sha(di.image.array), "mask": sha(di.mask.array), "variance": sha(di.variance.array),
       "band": di.band, "planes": list(di.mask.schema.names)}
try:
    k = di.kernel
    out["kernel"] = {"basis": sha(k.basis), "bbox": [k.kernel_bbox.y.start, k.kernel_bbox.x.start],
                     "image": k.compute_kernel_image(x=POINT[0], y=POINT[1]).array.tolist()}
except AttributeError:
    out["kernel"] = None
try:
    out["templates"] = [json.loads(t.model_dump_json()) for t in di.templates]
except AttributeError:
    out["templates"] = None
cut = LI.DifferenceImage.read(PATH, bbox=LI.Box.factory[110:120, 310:330])
out["cut"] = sha(cut.image.array)
write_archive(di, AGAIN)
print(json.dumps(out))
"""


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "bare"])
def test_rubin_reads_our_difference_images_and_we_read_theirs(tmp_path: Path, kernel: bool) -> None:
    di = make_test_difference_image(6, kernel=kernel, n_templates=2 if kernel else 0, kernel_center=(2, 6))
    ours, theirs = tmp_path / "ours.fits", tmp_path / "theirs.fits"
    di.write(str(ours))
    point = (311.0, 117.0)
    script = (
        _DIFFERENCE.replace("PATH", repr(str(ours)))
        .replace("AGAIN", repr(str(theirs)))
        .replace("POINT", repr(point))
    )
    result = run_reference_4300(script)
    assert result["image"] == sha256(di.image.array) and result["mask"] == sha256(di.mask.array)
    assert result["variance"] == sha256(di.variance.array)
    assert result["band"] == "r" and result["planes"] == list(di.mask.schema.names)
    assert result["cut"] == sha256(di[B[110:120, 310:330]].image.array)
    if kernel:
        assert result["kernel"]["basis"] == sha256(di.kernel.basis)
        assert result["kernel"]["bbox"] == [-2, -6]
        np.testing.assert_allclose(
            result["kernel"]["image"],
            di.kernel.compute_kernel_image(x=point[0], y=point[1]).array,
            rtol=1e-12,
        )
        assert result["templates"] == [json.loads(t.model_dump_json()) for t in di.templates]
    else:
        assert result["kernel"] is None and result["templates"] is None
    back = _read_theirs(DifferenceImage, theirs)
    np.testing.assert_array_equal(back.image.array, di.image.array)
    assert back._kernel == di._kernel and back._templates == di._templates and back.band == di.band
