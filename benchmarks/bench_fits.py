"""Benchmark: our FITS archive vs plain astropy.io.fits on a VisitImage-sized MaskedImage.

Workload (issue 5): a 4096x4096 float32 image, a 14-plane mask and a float32 variance,
all lossless GZIP_2 with one tile per row.  Timed, best of ``--repeat`` runs, in the
same process and on the same data:

* write: ``lsst.images.fits.write`` vs building three astropy ``CompImageHDU`` and
  ``HDUList.writeto``;
* full read: ``lsst.images.fits.read`` vs ``astropy.io.fits.open`` + ``.data`` of each HDU;
* 200x200 cut-out: ``read(..., bbox=...)`` vs ``CompImageHDU.section[...]`` of each HDU.

Peak memory of a full read is measured in fresh subprocesses (tracemalloc peak and
the growth of the peak resident set size, VmHWM) and compared with the size of the
decoded arrays; the time of ``import lsst.images`` is measured in fresh subprocesses
as well.  Results go to
``benchmarks/results/fits.md``.

Run: ``python benchmarks/bench_fits.py [--size 4096] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PLANES = (
    "BAD", "COSMIC_RAY", "CROSSTALK", "DETECTED", "DETECTION_EDGE", "INTERPOLATED", "ITL_DIP",
    "NOT_DEBLENDED", "NO_DATA", "PARTLY_VIGNETTED", "SATURATED", "SPIKE", "SUSPECT", "VIGNETTED",
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


def make_masked_image(image: np.ndarray, mask: np.ndarray, variance: np.ndarray):
    import astropy.units as u

    import lsst.images as li

    schema = li.MaskSchema([li.MaskPlane(name, f"{name} pixels.") for name in PLANES])
    m = li.Mask(schema=schema, bbox=li.Box.from_shape(image.shape))
    for bit, name in enumerate(PLANES):
        m.set(name, (mask & (1 << bit)) != 0)
    return li.MaskedImage(li.Image(image, unit=u.nJy), mask=m, variance=li.Image(variance, unit=u.nJy**2))


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


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
which, path = sys.argv[1], sys.argv[2]
import lsst.images as li
from lsst.images import fits
from astropy.io import fits as afits

def hwm():
    # Peak resident set size so far (kB -> bytes), from the kernel's own accounting.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0

rss0 = hwm()
tracemalloc.start()
if which == "ours":
    mi = fits.read(li.MaskedImage, path).deserialized
    arrays = [mi.image.array, mi.mask.array, mi.variance.array]
else:
    with afits.open(path) as h:
        arrays = [np.array(h[n].data) for n in ("IMAGE", "MASK", "VARIANCE")]
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"decoded": int(sum(a.nbytes for a in arrays)), "tracemalloc_peak": peak,
                  "rss_growth": hwm() - rss0}))
"""


def memory_probe(which: str, path: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, which, path], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def import_time(repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import lsst.images"], check=True)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((t1 - t0) - (time.perf_counter() - t1))
    return max(0.0, min(times))


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "results" / "fits.md"))
    args = parser.parse_args(argv)

    import lsst.images as li
    from lsst.images import fits
    from lsst.images.fits._engine import encode_image

    engine = encode_image.__module__
    load = os.getloadavg()
    size = args.size
    image, mask, variance = make_arrays(size)
    mi = make_masked_image(image, mask, variance)
    y0 = size // 2 - 100
    box = li.Box(li.Interval(y0, y0 + 200), li.Interval(y0 + 37, y0 + 237))
    ys, xs = slice(box.y.start, box.y.stop), slice(box.x.start, box.x.stop)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours_path = os.path.join(tmp, "ours.fits")
        theirs_path = os.path.join(tmp, "astropy.fits")
        t_ours_w, _ = best(lambda: fits.write(mi, ours_path), args.repeat)
        t_astropy_w, _ = best(lambda: astropy_write(theirs_path, image, mask, variance), args.repeat)
        t_ours_r, got = best(lambda: fits.read(li.MaskedImage, ours_path).deserialized, args.repeat)
        t_astropy_r, ref = best(lambda: astropy_read(theirs_path), args.repeat)
        assert np.array_equal(got.image.array, image) and np.array_equal(got.variance.array, variance)
        assert np.array_equal(ref[0], image) and np.array_equal(ref[1], mask)
        t_ours_c, cut = best(lambda: fits.read(li.MaskedImage, ours_path, bbox=box).deserialized, args.repeat)
        t_astropy_c, cut_ref = best(lambda: astropy_cutout(theirs_path, ys, xs), args.repeat)
        assert np.array_equal(cut.image.array, image[ys, xs]) and np.array_equal(cut_ref[0], image[ys, xs])
        sizes = (os.path.getsize(ours_path), os.path.getsize(theirs_path))
        mem_ours = memory_probe("ours", ours_path)
        mem_astropy = memory_probe("astropy", ours_path)
    t_import = import_time()

    rows = [
        ("write", t_ours_w, t_astropy_w, 8.0),
        ("full read", t_ours_r, t_astropy_r, 4.0),
        ("200x200 cut-out", t_ours_c, t_astropy_c, 3.0),
    ]
    lines = [
        "# FITS archive benchmark",
        "",
        f"Workload: {size}x{size} float32 image + 14-plane mask (int32 on disk) + float32 variance,",
        "lossless GZIP_2 with one tile per row, as a `MaskedImage` (the pixel part of a VisitImage).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, astropy {__import__('astropy').__version__}.  Best of {args.repeat} runs.",
        f"Tile engine: {engine}; load average at start {load[0]:.2f} (other processes share the CPUs).",
        "",
        "| operation | lsst.images | astropy.io.fits | speed-up | target |",
        "|---|---|---|---|---|",
    ]
    for name, ours, theirs, target in rows:
        ratio = theirs / ours
        mark = "ok" if ratio >= target else "MISSED"
        lines.append(f"| {name} | {ours:.3f} s | {theirs:.3f} s | {ratio:.1f}x | >= {target:.0f}x ({mark}) |")
    lines += [
    ]
    decoded = mem_ours["decoded"]
    lines += [
        "",
        f"File sizes: ours {sizes[0] / 1e6:.1f} MB, astropy {sizes[1] / 1e6:.1f} MB.",
        "",
        "Peak memory of a full read (fresh process; decoded arrays = "
        f"{decoded / 1e6:.1f} MB; target: peak <= 1.2x decoded):",
        "",
        "| reader | tracemalloc peak | / decoded | peak RSS growth (VmHWM) | / decoded |",
        "|---|---|---|---|---|",
    ]
    for name, mem in (
        ("lsst.images", mem_ours),
        ("astropy.io.fits", mem_astropy),
    ):
        lines.append(
            f"| {name} | {mem['tracemalloc_peak'] / 1e6:.1f} MB | {mem['tracemalloc_peak'] / decoded:.2f}x "
            f"| {mem['rss_growth'] / 1e6:.1f} MB | {mem['rss_growth'] / decoded:.2f}x |"
        )
    lines += [
        "",
        f"`import lsst.images`: {t_import:.3f} s (target < 0.5 s; interpreter start-up subtracted).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
