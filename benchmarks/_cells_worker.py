"""One measurement of `bench_cells.py`, run in a fresh interpreter of either implementation.

Only the API this project shares with Rubin's lsst-images 4300 is used (``lsst.images``,
``lsst.images.cells``, ``serialization.write_archive``, ``CellCoadd.read``), plus numpy
and `_scene`, so the same file runs under this project's interpreter and under Rubin's::

    python _cells_worker.py write SCENE_DIR OUT      # build the DP2-like coadd, write it
    python _cells_worker.py read PATH                 # full read + one pass over the planes
    python _cells_worker.py cutout PATH I J           # read cell (I, J) only
    python _cells_worker.py check PATH SCENE_DIR      # every plane equals the scene?

Each prints one JSON object.  Timed operations run twice: ``cold`` is the first in the
process (it pays for first-use imports and caches), ``warm`` the second.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _scene import PLANES, load_scene  # noqa: E402

#: The coadd: CELLS x CELLS cells of CELL x CELL pixels (DP2 patches: 150-pixel cells).
CELL = 150
PSF_SIZE = 41
MISSING = ((0, 0), (0, 1), (1, 0), (7, 11))
N_INPUTS = 40


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    if hasattr(os, "sync"):
        os.sync()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def one_pass(cc: Any) -> float:
    """Touch every pixel of the three planes once (what a user does right after reading)."""
    return float(np.nansum(cc.image.array)) + float(np.nansum(cc.variance.array)) + int(cc.mask.array.sum())


def _gaussian(size: int, sigma: float) -> np.ndarray:
    r = size // 2
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    g = np.exp(-0.5 * (xx**2 + yy**2) / sigma**2)
    return g / g.sum()


def build_coadd(scene_dir: str) -> Any:
    """A DP2-like CellCoadd from the scene: per-cell PSFs, missing cells, provenance, extras."""
    import astropy.units as u
    import astropy.wcs

    import lsst.images as li
    from lsst.images import cells as C

    image, packed, variance = load_scene(Path(scene_dir))
    n = image.shape[0] // CELL
    size = n * CELL
    image, packed, variance = image[:size, :size].copy(), packed[:size, :size], variance[:size, :size].copy()
    rng = np.random.default_rng(4300)
    start = (9000, 12000)  # tract pixels of the patch's first cell
    box = li.Box(li.Interval(start[0], start[0] + size), li.Interval(start[1], start[1] + size))
    grid = C.CellGrid(bbox=box, cell_shape=li.YX(CELL, CELL))
    missing = frozenset(C.CellIJ(i=i, j=j) for i, j in MISSING)
    bounds = C.CellGridBounds(grid=grid, bbox=box, missing=missing)
    for cell in missing:
        image[cell.i * CELL : (cell.i + 1) * CELL, cell.j * CELL : (cell.j + 1) * CELL] = np.nan
        variance[cell.i * CELL : (cell.i + 1) * CELL, cell.j * CELL : (cell.j + 1) * CELL] = np.nan
    psf = np.empty((n, n, PSF_SIZE, PSF_SIZE))
    for i in range(n):
        for j in range(n):
            psf[i, j] = np.nan if C.CellIJ(i=i, j=j) in missing else _gaussian(PSF_SIZE, 1.7 + 0.01 * (i + j))
    tract = li.Box(li.Interval(0, 24000), li.Interval(0, 24000))
    frame = li.TractFrame(skymap="lsst_cells_v1", tract=9813, bbox=tract)
    header = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRPIX1": 12000.5, "CRPIX2": 12000.5,
              "CRVAL1": 150.0, "CRVAL2": 2.0, "CD1_1": -5.5555e-5, "CD2_2": 5.5555e-5}  # fmt: skip
    projection_cls = getattr(li, "SkyProjection", None) or li.Projection
    projection = projection_cls.from_fits_wcs(astropy.wcs.WCS(header), frame)
    schema = li.MaskSchema([li.MaskPlane(name, f"{name} pixels.") for name in PLANES])
    mask = li.Mask(schema=schema, bbox=box)
    for bit, name in enumerate(PLANES):
        mask.set(name, (packed & (1 << bit)) != 0)
    inputs = C.CoaddProvenance.make_empty_input_table(N_INPUTS)
    for k in range(N_INPUTS):
        for column, value in (("instrument", "LSSTCam"), ("visit", 2025052000100 + k), ("detector", k % 189),
                              ("physical_filter", "r_57"), ("day_obs", 20250519 + k // 8)):  # fmt: skip
            inputs[column][k] = value
        x0, y0 = start[1] - 200 + 90 * k, start[0] - 150 + 70 * k
        inputs["polygon"][k] = li.Polygon(x_vertices=[x0, x0 + 4000, x0 + 3990, x0 - 8],
                                          y_vertices=[y0, y0 + 6, y0 + 4000, y0 + 3996])  # fmt: skip
    rows = [(i, j, k) for i in range(n) for j in range(n) if C.CellIJ(i=i, j=j) not in missing
            for k in range(N_INPUTS) if (i + 2 * j + k) % 3 == 0]  # fmt: skip
    contributions = C.CoaddProvenance.make_empty_contribution_table(len(rows))
    arrays = np.array(rows)
    contributions["cell_i"][:] = arrays[:, 0]
    contributions["cell_j"][:] = arrays[:, 1]
    contributions["visit"][:] = 2025052000100 + arrays[:, 2]
    contributions["detector"][:] = arrays[:, 2] % 189
    for r in range(len(rows)):
        contributions["instrument"][r] = "LSSTCam"
    for column in ("overlap_fraction", "unmasked_fraction", "weight", "psf_shape_xx", "psf_shape_yy"):
        if column in contributions.colnames:
            contributions[column][:] = rng.uniform(0.3, 1.0, len(rows))
    contributions["overlaps_center"][:] = rng.uniform(size=len(rows)) < 0.8
    present = np.isfinite(psf[:, :, 0, 0])
    apcorr = {
        "base_PsfFlux_instFlux": C.CellField(bounds, np.where(present, 0.98, np.nan)),
        "base_GaussianFlux_instFlux": C.CellField(
            bounds, np.where(present, rng.uniform(0.95, 1.05, (n, n)), np.nan)
        ),
    }
    fractions = np.clip(rng.normal(0.03, 0.02, image.shape), 0, 1).astype(np.float32)
    coadd = C.CellCoadd(
        li.Image(image, bbox=box, unit=u.nJy),
        mask=mask,
        variance=li.Image(variance, bbox=box, unit=u.nJy**2),
        mask_fractions={"rejected": li.Image(fractions, bbox=box)},
        noise_realizations=[li.Image(rng.normal(0, 5, image.shape).astype(np.float32), bbox=box, unit=u.nJy)],
        sky_projection=projection,
        band="r",
        psf=C.CellPointSpreadFunction(psf, bounds),
        aperture_corrections=apcorr,
        patch=C.PatchDefinition(id=43, index=li.YX(4, 3), inner_bbox=box.dilated_by(-100), cells=grid),
        provenance=C.CoaddProvenance(inputs, contributions),
    )
    return coadd


def op_write(scene_dir: str, out: str) -> dict:
    from lsst.images.serialization import write_archive

    coadd = build_coadd(scene_dir)
    seconds, _ = timed(lambda: write_archive(coadd, out))
    return {"seconds": seconds, "size": os.path.getsize(out), "cells": coadd.grid.grid_size.i}


def op_read(path: str) -> dict:
    from lsst.images.cells import CellCoadd

    cold, _ = timed(lambda: one_pass(CellCoadd.read(path)))
    warm, _ = timed(lambda: one_pass(CellCoadd.read(path)))
    return {"cold": cold, "warm": warm}


def op_cutout(path: str, i: str, j: str) -> dict:
    import lsst.images as li
    from lsst.images.cells import CellCoadd

    y0, x0 = 9000 + int(i) * CELL, 12000 + int(j) * CELL
    box = li.Box(li.Interval(y0, y0 + CELL), li.Interval(x0, x0 + CELL))

    def cut() -> float:
        cc = CellCoadd.read(path, bbox=box)
        assert cc.bbox == box
        cc.psf.compute_kernel_image(x=x0 + 75.0, y=y0 + 75.0)
        return one_pass(cc)

    cold, _ = timed(cut)
    warm, _ = timed(cut)
    return {"cold": cold, "warm": warm}


def op_check(path: str, scene_dir: str) -> dict:
    from lsst.images.cells import CellCoadd

    expected = build_coadd(scene_dir)
    got = CellCoadd.read(path)
    ok = bool(np.array_equal(got.image.array, expected.image.array, equal_nan=True))
    ok &= bool(np.array_equal(got.variance.array, expected.variance.array, equal_nan=True))
    ok &= bool(np.array_equal(got.mask.array, expected.mask.array))
    ok &= all(np.array_equal(got.psf[c].array, expected.psf[c].array) for c in expected.bounds.cell_indices())
    ok &= len(got.provenance.contributions) == len(expected.provenance.contributions)
    return {"equal": ok}


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    operation, *arguments = sys.argv[1:]
    handler = {"write": op_write, "read": op_read, "cutout": op_cutout, "check": op_check}[operation]
    print(json.dumps(handler(*arguments)))
