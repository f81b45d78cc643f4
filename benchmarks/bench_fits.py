"""Benchmark: our FITS archive vs plain astropy.io.fits on a 4096x4096 VisitImage.

Workload (issue 5): a real `lsst.images.VisitImage` -- a 4096x4096 float32 image, a
14-plane mask and a float32 variance (synthetic, deterministic pixels from
`make_arrays`) plus the non-pixel components (projection, obs_info, summary_stats,
photometric_scaling, psf, detector, aperture_corrections, backgrounds) of the bundled
sample ``examples/data/lsstcam_synthetic_visit.fits`` -- stored lossless GZIP_2 with one
tile per row.  Plain astropy does the same pixel work: three ``CompImageHDU`` (IMAGE,
MASK as int32, VARIANCE), GZIP_2, row tiles.  Timed in the same process on the same
data, the two sides interleaved (ours, astropy, ours, astropy, ...) so that machine
noise hits both alike; best and median of ``--repeat`` runs are reported and the
speed-up is the ratio of the bests:

* write: ``lsst.images.fits.write`` vs building the astropy HDUs and ``HDUList.writeto``;
* full read: ``lsst.images.fits.read(VisitImage, ...)`` vs ``astropy.io.fits.open`` +
  ``.data`` of each HDU;
* 200x200 cut-out: ``read(..., bbox=...)`` vs ``CompImageHDU.section[...]`` of each HDU.

Peak memory of a full read is measured in fresh subprocesses (tracemalloc peak and
the growth of the peak resident set size, VmHWM) and compared with the size of the
decoded image, mask and variance arrays, both "cold" (first read in the process, so
lazily imported modules count too) and "warm" (after one read of the small sample
file, so only the measured read's own memory counts); the time of ``import lsst.images`` is
measured in fresh subprocesses as well.  The load average is recorded at start and
end.  Results go to ``benchmarks/results/fits.md`` (or ``--output``).

Run: ``python benchmarks/bench_fits.py [--size 4096] [--repeat 3] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "examples" / "data" / "lsstcam_synthetic_visit.fits"
PLANES = (
    "BAD", "COSMIC_RAY", "CROSSTALK", "DETECTED", "DETECTION_EDGE", "INTERPOLATED", "ITL_DIP",
    "NOT_DEBLENDED", "NO_DATA", "PARTLY_VIGNETTED", "SATURATED", "SPIKE", "SUSPECT", "VIGNETTED",
)  # fmt: skip
COMPONENTS = (
    "projection", "obs_info", "summary_stats", "photometric_scaling", "psf", "detector",
    "aperture_corrections", "backgrounds",
)  # fmt: skip


def make_arrays(size: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky-like float32 image, sparse 14-bit mask, smooth variance (deterministic)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(0.0, 25.0, size=(size, size)).astype(np.float32)
    ys = rng.integers(0, size, 2000)
    xs = rng.integers(0, size, 2000)
    image[ys, xs] += rng.uniform(100, 5000, 2000).astype(np.float32)
    mask = np.zeros((size, size), dtype=np.int32)
    for bit in range(len(PLANES)):
        n = size * size // (200 * (bit + 1))
        mask[rng.integers(0, size, n), rng.integers(0, size, n)] |= 1 << bit
    mask[:, :20] |= 1 << PLANES.index("NO_DATA")
    variance = (625.0 + np.abs(image) * 0.1 + rng.normal(0, 2.0, (size, size))).astype(np.float32)
    return image, mask, variance


def make_visit_image(image: np.ndarray, mask: np.ndarray, variance: np.ndarray, sample: Path = SAMPLE):
    """Return a `VisitImage` with these pixels and the non-pixel components of ``sample``."""
    import astropy.units as u

    import lsst.images as li

    template = li.VisitImage.read_fits(str(sample))
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


def check_visit_image(vi: Any, image: np.ndarray, mask: np.ndarray, variance: np.ndarray) -> None:
    """Assert that ``vi``'s planes equal the reference arrays (already cut to its bbox)."""
    assert np.array_equal(vi.image.array, image), "image differs"
    assert np.array_equal(vi.variance.array, variance), "variance differs"
    for bit, name in enumerate(PLANES):
        assert np.array_equal(vi.mask.get(name), (mask & (1 << bit)) != 0), f"mask plane {name} differs"


def interleaved(ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int) -> tuple[dict, dict]:
    """Time ``ours`` and ``theirs`` alternately ``repeat`` times each.

    Before every timed call the previous call's garbage is collected and the kernel's
    dirty pages are flushed (``os.sync``), so that neither side pays for the other's
    ~100 MB of pending writeback.

    Returns ``({"times": [...], "result": last_result}, {...})`` for ours and theirs.
    """
    import gc

    sides: tuple[dict, dict] = ({"times": [], "result": None}, {"times": [], "result": None})
    for _ in range(repeat):
        for fn, side in zip((ours, theirs), sides, strict=True):
            side["result"] = None
            gc.collect()
            if hasattr(os, "sync"):
                os.sync()
            t0 = time.perf_counter()
            side["result"] = fn()
            side["times"].append(time.perf_counter() - t0)
    return sides


# ---------------------------------------------------------------------- astropy side


def astropy_write(path: str, image, mask, variance) -> None:
    from astropy.io import fits

    hdus = [fits.PrimaryHDU()]
    for name, array in (("IMAGE", image), ("MASK", mask), ("VARIANCE", variance)):
        kwargs = {"quantize_level": 0.0} if array.dtype.kind == "f" else {}
        hdus.append(
            fits.CompImageHDU(
                array, name=name, compression_type="GZIP_2", tile_shape=(1, array.shape[1]), **kwargs
            )
        )
    fits.HDUList(hdus).writeto(path, overwrite=True)


def astropy_read(path: str) -> list[np.ndarray]:
    from astropy.io import fits

    with fits.open(path) as hdus:
        return [np.array(hdus[name].data) for name in ("IMAGE", "MASK", "VARIANCE")]


def astropy_cutout(path: str, ys: slice, xs: slice) -> list[np.ndarray]:
    from astropy.io import fits

    with fits.open(path) as hdus:
        return [np.array(hdus[name].section[ys, xs]) for name in ("IMAGE", "MASK", "VARIANCE")]


# ---------------------------------------------------------------------- subprocess probes

_MEMORY_PROBE = r"""
import json, sys, tracemalloc
import numpy as np
which, path, warmup = sys.argv[1], sys.argv[2], sys.argv[3:]
import lsst.images as li
from lsst.images import fits
from astropy.io import fits as afits

def hwm():
    # Peak resident set size so far (kB -> bytes), from the kernel's own accounting.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0

if warmup:
    # Read the small sample file once first, so that lazily imported modules and
    # first-use caches are not counted as memory of the measured read.
    if which == "ours":
        li.VisitImage.read_fits(warmup[0])
    else:
        with afits.open(warmup[0]) as h:
            [np.array(h[n].data) for n in ("IMAGE", "MASK", "VARIANCE")]
rss0 = hwm()
tracemalloc.start()
if which == "ours":
    vi = fits.read(li.VisitImage, path).deserialized
    assert type(vi) is li.VisitImage, type(vi)
    arrays = [vi.image.array, vi.mask.array, vi.variance.array]
else:
    with afits.open(path) as h:
        arrays = [np.array(h[n].data) for n in ("IMAGE", "MASK", "VARIANCE")]
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"decoded": int(sum(a.nbytes for a in arrays)), "tracemalloc_peak": peak,
                  "rss_growth": hwm() - rss0}))
"""


def memory_probe(which: str, path: str, warm: bool = False) -> dict:
    """Peak memory of one full read in a fresh process (``warm``: after a read of `SAMPLE`)."""
    cmd = [sys.executable, "-c", _MEMORY_PROBE, which, path] + ([str(SAMPLE)] if warm else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def import_time(repeat: int = 15) -> float:
    """Best time of ``import lsst.images`` in a fresh interpreter, start-up subtracted.

    Measured as for an installed package: modules load from cached bytecode, which a
    first import here writes even when ``PYTHONDONTWRITEBYTECODE`` is set in the
    environment (as on the development machines, where an editable install would
    otherwise recompile every module of the package at each import).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", "import lsst.images"], check=True, env=env)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import lsst.images"], check=True, env=env)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
        times.append((t1 - t0) - (time.perf_counter() - t1))
    return max(0.0, min(times))


def engine_description() -> str:
    """Name the tile engine module and say whether its gzip codec uses ISA-L."""
    import importlib

    try:
        tiles = importlib.import_module("lsst.images.fits._tiles")
    except ImportError:
        return "unknown (lsst.images.fits._tiles not importable)"
    try:
        isal = importlib.import_module("lsst.images.fits._tiles._gzip").using_isal
    except (ImportError, AttributeError):
        isal = None
    gzip = {True: "ISA-L (isal)", False: "zlib (no isal)", None: "unknown"}[isal]
    return f"`{tiles.__name__}`, gzip via {gzip}"


def stored_layout(path: str) -> str:
    """Describe the IMAGE/MASK/VARIANCE HDUs of ``path`` (shape, BITPIX, compression, tiles)."""
    from astropy.io import fits as afits

    parts, others = [], []
    with afits.open(path) as hdus:
        for hdu in hdus[1:]:
            if hdu.name not in ("IMAGE", "MASK", "VARIANCE"):
                others.append(hdu.name)
                continue
            shape = "x".join(str(n) for n in hdu.shape)
            if isinstance(hdu, afits.CompImageHDU):
                tile = "x".join(str(int(n)) for n in hdu.tile_shape)
                comp = f"{hdu.compression_type}, {tile} tiles"
            else:
                comp = "uncompressed"
            parts.append(f"{hdu.name} {shape} BITPIX {hdu.header['BITPIX']} {comp}")
    return "; ".join(parts) + "; other HDUs: " + (", ".join(others) or "none")


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "results" / "fits.md"))
    args = parser.parse_args(argv)

    import lsst.images as li
    from lsst.images import fits

    load_start = os.getloadavg()
    # Import time is sampled at the start and at the end of the run (best of both), so that
    # one slow phase of the shared host does not decide it.
    t_import_start = import_time()
    size = args.size
    image, mask, variance = make_arrays(size)
    vi = make_visit_image(image, mask, variance)
    y0 = size // 2 - 100
    box = li.Box(li.Interval(y0, y0 + 200), li.Interval(y0 + 37, y0 + 237))
    ys, xs = slice(box.y.start, box.y.stop), slice(box.x.start, box.x.stop)
    # Explicit lossless GZIP_2 row tiles for the three planes (also the default), checked below.
    options = dict.fromkeys(("image", "mask", "variance"), fits.FitsCompressionOptions.DEFAULT)
    with tempfile.TemporaryDirectory() as tmp:
        ours_path = os.path.join(tmp, "ours.fits")
        theirs_path = os.path.join(tmp, "astropy.fits")
        w_ours, w_astropy = interleaved(
            lambda: fits.write(vi, ours_path, compression_options=options),
            lambda: astropy_write(theirs_path, image, mask, variance),
            args.repeat,
        )
        with fits.FitsInputArchive.open(ours_path) as archive:
            stored = archive.get_compression_options()
        for name in ("image", "mask", "variance"):
            assert stored.get(name) == fits.FitsCompressionOptions.DEFAULT, (name, stored.get(name))
        r_ours, r_astropy = interleaved(
            lambda: fits.read(li.VisitImage, ours_path).deserialized,
            lambda: astropy_read(theirs_path),
            args.repeat,
        )
        got, ref = r_ours["result"], r_astropy["result"]
        assert type(got) is li.VisitImage, type(got)
        check_visit_image(got, image, mask, variance)
        check_visit_image(li.VisitImage.read_fits(ours_path), image, mask, variance)
        assert np.array_equal(ref[0], image) and np.array_equal(ref[1], mask)
        assert np.array_equal(ref[2], variance)
        c_ours, c_astropy = interleaved(
            lambda: fits.read(li.VisitImage, ours_path, bbox=box).deserialized,
            lambda: astropy_cutout(theirs_path, ys, xs),
            args.repeat,
        )
        cut, cut_ref = c_ours["result"], c_astropy["result"]
        assert cut.bbox == box, cut.bbox
        check_visit_image(cut, image[ys, xs], mask[ys, xs], variance[ys, xs])
        check_visit_image(
            li.VisitImage.read_fits(ours_path, bbox=box), image[ys, xs], mask[ys, xs], variance[ys, xs]
        )
        assert np.array_equal(cut_ref[0], image[ys, xs]) and np.array_equal(cut_ref[1], mask[ys, xs])
        assert np.array_equal(cut_ref[2], variance[ys, xs])
        sizes = (os.path.getsize(ours_path), os.path.getsize(theirs_path))
        layout_ours = stored_layout(ours_path)
        mem = {
            (which, warm): memory_probe(which, path, warm)
            for warm in (False, True)
            for which, path in (("ours", ours_path), ("astropy", theirs_path))
        }
    t_import_end = import_time()
    t_import = min(t_import_start, t_import_end)
    load_end = os.getloadavg()

    rows = [
        ("write", w_ours["times"], w_astropy["times"], 8.0),
        ("full read", r_ours["times"], r_astropy["times"], 4.0),
        ("200x200 cut-out", c_ours["times"], c_astropy["times"], 3.0),
    ]
    lines = [
        "# FITS archive benchmark",
        "",
        f"Workload: a {size}x{size} `lsst.images.VisitImage`: float32 image (nJy) + 14-plane mask + "
        "float32 variance,",
        "synthetic deterministic pixels (`make_arrays`), with projection, obs_info, summary_stats, "
        "photometric_scaling,",
        "psf, detector, aperture_corrections and backgrounds taken from "
        "`examples/data/lsstcam_synthetic_visit.fits`.",
        "Written with `fits.write(visit_image, path)` with lossless GZIP_2, one tile per row, for image, "
        "mask and variance",
        "(checked with `FitsInputArchive.get_compression_options()`); read with "
        "`fits.read(VisitImage, path)` (cut-out: `bbox=`).",
        "Plain astropy does the same pixel work: three `CompImageHDU` (IMAGE, MASK as int32, VARIANCE), "
        "GZIP_2,",
        "row tiles, `HDUList.writeto`; reads via `.data` / `.section[...]`.",
        f"Our HDUs: {layout_ours}.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, astropy {__import__('astropy').__version__}.",
        f"Tile engine: {engine_description()}.",
        f"Load average (1/5/15 min) at start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, "
        f"at end {load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}.",
        "Timings on this virtual machine vary by up to 2x from run to run (shared host, memory",
        "reclaimed by the hypervisor), which is why both sides are interleaved and best and median shown.",
        f"Timings: {args.repeat} runs per side, interleaved (ours, astropy, ours, astropy, ...); "
        "speed-up = astropy best / ours best; `gc.collect()` and `os.sync()` before every timed call.",
        "",
        "| operation | lsst.images best | median | astropy.io.fits best | median | speed-up | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, ours, theirs, target in rows:
        ratio = min(theirs) / min(ours)
        mark = "ok" if ratio >= target else "MISSED"
        lines.append(
            f"| {name} | {min(ours):.3f} s | {statistics.median(ours):.3f} s | {min(theirs):.3f} s "
            f"| {statistics.median(theirs):.3f} s | {ratio:.1f}x | >= {target:.0f}x ({mark}) |"
        )
    lines += [
        "",
        f"File sizes: ours {sizes[0] / 1e6:.1f} MB, astropy {sizes[1] / 1e6:.1f} MB.",
        "",
        "Peak memory of a full read, each in a fresh process, against the decoded image + mask + "
        "variance arrays",
        "(target: peak <= 1.2x decoded).  *cold*: the first read in the process, so modules imported "
        "lazily by the",
        "read count too; *warm*: after one read of the small sample file, so only the measured read's "
        "own memory counts.",
        "",
        "| reader | process | decoded | tracemalloc peak | / decoded | peak RSS growth (VmHWM) | / decoded |",
        "|---|---|---|---|---|---|---|",
    ]
    for (which, warm), m in sorted(mem.items(), key=lambda item: (item[0][0] != "ours", item[0][1])):
        name = "lsst.images (VisitImage)" if which == "ours" else "astropy.io.fits"
        d, state = m["decoded"], "warm" if warm else "cold"
        lines.append(
            f"| {name} | {state} | {d / 1e6:.1f} MB | {m['tracemalloc_peak'] / 1e6:.1f} MB "
            f"| {m['tracemalloc_peak'] / d:.2f}x | {m['rss_growth'] / 1e6:.1f} MB "
            f"| {m['rss_growth'] / d:.2f}x |"
        )
    lines += [
        "",
        f"`import lsst.images`: {t_import:.3f} s (target < 0.5 s; best of 2x15 fresh interpreters, "
        f"at the start ({t_import_start:.3f} s) and the end ({t_import_end:.3f} s) of the run; start-up "
        "subtracted, modules loaded from cached bytecode as in an installed package).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
