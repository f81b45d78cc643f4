"""Benchmark of the tile engine alone (`lsst.images.fits._codec`) against astropy.io.fits.

Workload (issue 5): 4096x4096 planes stored as lossless GZIP_2 with one tile per row:
a float32 sky image, an int32 14-bit mask and a float32 variance.  For each plane,
in the same process and on the same data (best of ``--repeat``):

* encode: our `encode_image` + writing a FITS file, vs astropy ``CompImageHDU`` +
  ``HDUList.writeto``;
* full decode: our `decode_image` through a range reader, vs ``fits.open(...)[1].data``;
* 200x200 cut-out: `decode_image(region=...)` vs ``CompImageHDU.section[...]``.

Peak traced memory (tracemalloc) of each full decode is compared with the size of the
decoded array, and compressed sizes with astropy's (which uses deflate level 6+ with a
time stamp in each tile; we use level 1 and fixed headers).  Results go to
``benchmarks/results/codec.md``.

Run: ``python benchmarks/bench_codec.py [--size 4096] [--repeat 3] [--threads N]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def make_planes(size: int, seed: int = 2024) -> dict[str, np.ndarray]:
    """Sky-like float image, sparse 14-bit int32 mask, smooth variance (deterministic)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(0.0, 25.0, size=(size, size)).astype(np.float32)
    image[rng.integers(0, size, 2000), rng.integers(0, size, 2000)] += rng.uniform(100, 5000, 2000).astype(
        np.float32
    )
    mask = np.zeros((size, size), dtype=np.int32)
    for bit in range(14):
        n = size * size // (200 * (bit + 1))
        mask[rng.integers(0, size, n), rng.integers(0, size, n)] |= 1 << bit
    mask[:, :20] |= 1 << 8
    variance = (625.0 + np.abs(image) * 0.1 + rng.normal(0, 2.0, (size, size))).astype(np.float32)
    return {"image": image, "mask": mask, "variance": variance}


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def traced_peak(fn: Callable[[], Any]) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, result


# ---------------------------------------------------------------------- ours


def ours_write(path: str, array: np.ndarray, threads: int | None) -> int:
    from astropy.io import fits

    from lsst.images.fits._codec import TileCompression, encode_image

    encoded = encode_image(array, TileCompression("GZIP_2"), threads=threads)
    header = fits.Header()
    for key, value, comment in encoded.cards + encoded.trailing_cards:
        header.append((key, value, comment))
    with open(path, "wb") as stream:
        stream.write(fits.PrimaryHDU().header.tostring().encode())
        stream.write(header.tostring().encode())
        stream.write(encoded.data)
    return len(encoded.data)


def ours_locate(path: str) -> tuple[Any, int]:
    from astropy.io import fits

    with fits.open(path, disable_image_compression=True) as hdus:
        return hdus[1].header.copy(), hdus[1].fileinfo()["datLoc"]


def ours_read(path: str, header: Any, offset: int, region: Any, threads: int | None) -> np.ndarray:
    from lsst.images.fits._codec import decode_image
    from lsst.images.fits._rangeio import open_range_reader

    with open_range_reader(path) as reader:
        return decode_image(header, reader, offset, region=region, threads=threads)


# ---------------------------------------------------------------------- astropy


def astropy_write(path: str, array: np.ndarray) -> None:
    from astropy.io import fits

    kwargs = {"quantize_level": 0.0} if array.dtype.kind == "f" else {}
    hdu = fits.CompImageHDU(array, compression_type="GZIP_2", tile_shape=(1, array.shape[1]), **kwargs)
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)


def astropy_read(path: str) -> np.ndarray:
    from astropy.io import fits

    with fits.open(path) as hdus:
        return np.array(hdus[1].data)


def astropy_cutout(path: str, ys: slice, xs: slice) -> np.ndarray:
    from astropy.io import fits

    with fits.open(path) as hdus:
        return np.array(hdus[1].section[ys, xs])


# ---------------------------------------------------------------------- main


def bench_plane(
    tmp: str, name: str, array: np.ndarray, region: tuple[slice, slice], repeat: int, threads: int | None
) -> tuple[tuple[float, ...], str, str]:
    """Time one plane both ways; return the six times and the two markdown table rows."""
    ys, xs = region
    ours_path = os.path.join(tmp, f"{name}_ours.fits")
    ref_path = os.path.join(tmp, f"{name}_astropy.fits")
    t_ow, _ = best(lambda: ours_write(ours_path, array, threads), repeat)
    t_aw, _ = best(lambda: astropy_write(ref_path, array), max(1, repeat - 1))
    header, offset = ours_locate(ours_path)
    t_or, got = best(lambda: ours_read(ours_path, header, offset, None, threads), repeat)
    t_ar, want = best(lambda: astropy_read(ref_path), repeat)
    assert np.array_equal(got, array) and np.array_equal(want, array)
    t_oc, cut = best(lambda: ours_read(ours_path, header, offset, (ys, xs), threads), repeat)
    t_ac, cut_ref = best(lambda: astropy_cutout(ref_path, ys, xs), repeat)
    assert np.array_equal(cut, array[ys, xs]) and np.array_equal(cut_ref, array[ys, xs])
    del got, want
    peak_ours, _ = traced_peak(lambda: ours_read(ours_path, header, offset, None, threads))
    peak_ref, _ = traced_peak(lambda: astropy_read(ref_path))
    size_ours, size_ref = os.path.getsize(ours_path), os.path.getsize(ref_path)
    row = (
        f"| {name} ({array.dtype}) | {t_ow:.3f} / {t_aw:.3f} = **{t_aw / t_ow:.1f}x** "
        f"| {t_or:.3f} / {t_ar:.3f} = **{t_ar / t_or:.1f}x** "
        f"| {t_oc * 1e3:.1f} / {t_ac * 1e3:.1f} ms = **{t_ac / t_oc:.1f}x** "
        f"| {size_ours / 1e6:.1f} / {size_ref / 1e6:.1f} MB ({size_ours / size_ref:.3f}) |"
    )
    memory_row = (
        f"| {name} | {array.nbytes / 1e6:.1f} MB | {peak_ours / 1e6:.1f} MB "
        f"({peak_ours / array.nbytes:.2f}x) | {peak_ref / 1e6:.1f} MB "
        f"({peak_ref / array.nbytes:.2f}x) |"
    )
    return (t_ow, t_aw, t_or, t_ar, t_oc, t_ac), row, memory_row


def run(size: int, repeat: int, threads: int | None) -> str:
    from lsst.images.fits._codec import _gzip

    planes = make_planes(size)
    ys = slice(size // 2 - 100, size // 2 + 100)
    xs = slice(size // 3 - 100, size // 3 + 100)
    rows = []
    memory_rows = []
    totals = {
        "ours_w": 0.0,
        "astropy_w": 0.0,
        "ours_r": 0.0,
        "astropy_r": 0.0,
        "ours_c": 0.0,
        "astropy_c": 0.0,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, array in planes.items():
            times, row, memory_row = bench_plane(tmp, name, array, (ys, xs), repeat, threads)
            rows.append(row)
            memory_rows.append(memory_row)
            for key, value in zip(totals, times, strict=True):
                totals[key] += value
    deflate = "isal (ISA-L)" if _gzip._fast is not None else "zlib"
    lines = [
        "# Tile engine benchmark (`lsst.images.fits._codec` vs astropy.io.fits)",
        "",
        f"Workload: {size}x{size} planes, lossless GZIP_2, one tile per row ({size} tiles per plane).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, astropy {__import__('astropy').__version__}; deflate: {deflate}, "
        f"level {_gzip.LEVEL}; threads: {threads or 'one per CPU'}; best of {repeat} "
        "(astropy writes: best of " + str(max(1, repeat - 1)) + ").",
        "Other processes may share the machine: compare the ratios, measured in the same run.",
        "",
        "Times are ours / astropy.",
        "",
        "| plane | encode + write | full decode | 200x200 cut-out | file size (ours / astropy) |",
        "|---|---|---|---|---|",
        *rows,
        f"| **all three** | {totals['ours_w']:.3f} / {totals['astropy_w']:.3f} = "
        f"**{totals['astropy_w'] / totals['ours_w']:.1f}x** (target >= 8x) "
        f"| {totals['ours_r']:.3f} / {totals['astropy_r']:.3f} = "
        f"**{totals['astropy_r'] / totals['ours_r']:.1f}x** "
        f"(target >= 4x) | {totals['ours_c'] * 1e3:.1f} / {totals['astropy_c'] * 1e3:.1f} ms = "
        f"**{totals['astropy_c'] / totals['ours_c']:.1f}x** (target >= 3x) | |",
        "",
        "Peak traced memory (tracemalloc) of a full decode, relative to the decoded array (target: <= 1.2x):",
        "",
        "| plane | decoded array | ours | astropy |",
        "|---|---|---|---|",
        *memory_rows,
        "",
        f"Command: `python benchmarks/bench_codec.py --size {size} --repeat {repeat}"
        + (f" --threads {threads}" if threads else "")
        + "`",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "codec.md")
    args = parser.parse_args(argv)
    report = run(args.size, args.repeat, args.threads)
    print(report)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
