"""One measurement of `bench_fits.py`, run in a fresh interpreter of either implementation.

The script only uses the public `lsst.images` API (which this project and Rubin's
``lsst-images`` share), numpy, astropy and `_scene`, so the same file runs under this
project's interpreter and under a Rubin virtual environment.  Each call performs one
operation, prints one JSON object on its last line and exits::

    python _fits_worker.py import
    python _fits_worker.py write SCENE_DIR SAMPLE OUT
    python _fits_worker.py read PATH
    python _fits_worker.py cutout PATH Y0 X0 SIZE
    python _fits_worker.py memory PATH [WARMUP_PATH]
    python _fits_worker.py check PATH SCENE_DIR
    python _fits_worker.py astropy-write SCENE_DIR OUT
    python _fits_worker.py astropy-read PATH
    python _fits_worker.py astropy-cutout PATH Y0 X0 SIZE

Timed operations are done twice in the process: ``cold`` is the first (it pays for
modules imported on first use and for first-use caches), ``warm`` the second.  The
import of the library itself is not part of any timing except ``import``.
"""

from __future__ import annotations

import json
import sys
import time

if __name__ == "__main__" and sys.argv[1:2] == ["import"]:
    # Timed before anything else is imported (numpy included), as a user's script would.
    _t0 = time.perf_counter()
    import lsst.images  # noqa: F401

    print(json.dumps({"seconds": time.perf_counter() - _t0}))
    sys.exit(0)

import gc  # noqa: E402
import os  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _scene import PLANES, load_scene  # noqa: E402

PLANE_NAMES = ("IMAGE", "MASK", "VARIANCE")
COMPONENTS = (
    "projection", "obs_info", "summary_stats", "photometric_scaling", "psf", "detector",
    "aperture_corrections", "backgrounds",
)  # fmt: skip


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` after a garbage collection and a flush of dirty pages; return (seconds, result)."""
    gc.collect()
    if hasattr(os, "sync"):
        os.sync()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def one_pass(vi: Any) -> float:
    """Touch every pixel of the three planes once (what a user does right after reading)."""
    return float(np.nansum(vi.image.array)) + float(np.nansum(vi.variance.array)) + int(vi.mask.array.sum())


def build_visit_image(scene_dir: str, sample: str) -> Any:
    """A VisitImage with the scene's planes and the non-pixel components of ``sample``."""
    import astropy.units as u

    import lsst.images as li

    image, mask, variance = load_scene(Path(scene_dir))
    template = li.VisitImage.read_fits(sample)
    box = li.Box.from_shape(image.shape)
    schema = li.MaskSchema([li.MaskPlane(name, f"{name} pixels.") for name in PLANES])
    m = li.Mask(schema=schema, bbox=box)
    for bit, name in enumerate(PLANES):
        m.set(name, (mask & (1 << bit)) != 0)
    return li.VisitImage(
        li.Image(image, bbox=box, unit=u.nJy),
        mask=m,
        variance=li.Image(variance, bbox=box, unit=u.nJy**2),
        **{name: getattr(template, name) for name in COMPONENTS},
    )


def op_write(scene_dir: str, sample: str, out: str) -> dict:
    import lsst.images  # noqa: F401

    vi = build_visit_image(scene_dir, sample)
    for path in (out, out + ".warm"):  # Rubin's writer refuses to replace a file
        if os.path.exists(path):
            os.unlink(path)
    cold, _ = timed(lambda: vi.write_fits(out))
    size = os.path.getsize(out)
    warm, _ = timed(lambda: vi.write_fits(out + ".warm"))
    os.unlink(out + ".warm")
    return {"cold": cold, "warm": warm, "size": size}


def op_read(path: str) -> dict:
    import lsst.images as li

    def read() -> float:
        return one_pass(li.VisitImage.read_fits(path))

    cold, _ = timed(read)
    warm, _ = timed(read)
    return {"cold": cold, "warm": warm}


def op_cutout(path: str, y0: str, x0: str, size: str) -> dict:
    import lsst.images as li

    y, x, n = int(y0), int(x0), int(size)
    box = li.Box(li.Interval(y, y + n), li.Interval(x, x + n))

    def cut() -> float:
        vi = li.VisitImage.read_fits(path, bbox=box)
        assert vi.bbox == box, vi.bbox
        return one_pass(vi)

    cold, _ = timed(cut)
    warm, _ = timed(cut)
    return {"cold": cold, "warm": warm}


def _hwm() -> int:
    """Peak resident set size of this process so far, in bytes (Linux ``VmHWM``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def op_memory(path: str, warmup: str | None = None) -> dict:
    import lsst.images as li

    if warmup:
        li.VisitImage.read_fits(warmup)
    gc.collect()
    before = _hwm()
    vi = li.VisitImage.read_fits(path)
    growth = _hwm() - before
    decoded = vi.image.array.nbytes + vi.mask.array.nbytes + vi.variance.array.nbytes
    return {"decoded": decoded, "rss_growth": growth}


def op_check(path: str, scene_dir: str) -> dict:
    """Read ``path`` with this implementation and compare every plane with the scene."""
    import lsst.images as li

    image, mask, variance = load_scene(Path(scene_dir))
    vi = li.VisitImage.read_fits(path)
    ok = bool(np.array_equal(vi.image.array, image, equal_nan=True))
    ok &= bool(np.array_equal(vi.variance.array, variance, equal_nan=True))
    for bit, name in enumerate(PLANES):
        ok &= bool(np.array_equal(vi.mask.get(name), (mask & (1 << bit)) != 0))
    return {"equal": ok}


def op_astropy_write(scene_dir: str, out: str) -> dict:
    from astropy.io import fits

    image, mask, variance = load_scene(Path(scene_dir))

    def write() -> None:
        hdus = [fits.PrimaryHDU()]
        for name, array in zip(PLANE_NAMES, (image, mask, variance), strict=True):
            kwargs = {"quantize_level": 0.0} if array.dtype.kind == "f" else {}
            hdus.append(
                fits.CompImageHDU(
                    array, name=name, compression_type="GZIP_2", tile_shape=(1, array.shape[1]), **kwargs
                )
            )
        fits.HDUList(hdus).writeto(out, overwrite=True)

    cold, _ = timed(write)
    size = os.path.getsize(out)
    warm, _ = timed(write)
    return {"cold": cold, "warm": warm, "size": size}


def op_astropy_read(path: str) -> dict:
    from astropy.io import fits

    def read() -> float:
        with fits.open(path) as hdus:
            arrays = [np.array(hdus[name].data) for name in PLANE_NAMES]
        return sum(float(np.nansum(a)) for a in arrays)

    cold, _ = timed(read)
    warm, _ = timed(read)
    return {"cold": cold, "warm": warm}


def op_astropy_cutout(path: str, y0: str, x0: str, size: str) -> dict:
    from astropy.io import fits

    y, x, n = int(y0), int(x0), int(size)

    def cut() -> float:
        with fits.open(path) as hdus:
            arrays = [np.array(hdus[name].section[y : y + n, x : x + n]) for name in PLANE_NAMES]
        return sum(float(np.nansum(a)) for a in arrays)

    cold, _ = timed(cut)
    warm, _ = timed(cut)
    return {"cold": cold, "warm": warm}


OPS = {
    "write": op_write,
    "read": op_read,
    "cutout": op_cutout,
    "memory": op_memory,
    "check": op_check,
    "astropy-write": op_astropy_write,
    "astropy-read": op_astropy_read,
    "astropy-cutout": op_astropy_cutout,
}


if __name__ == "__main__":
    print(json.dumps(OPS[sys.argv[1]](*sys.argv[2:])))
