"""Benchmark: `lsst.images.dask` on a ``dask.distributed`` LocalCluster vs a serial loop.

Workload (issue 15): the per-pixel median of a stack of ``--files`` (8) `Image` files of
``--size`` x ``--size`` (2048) float32 sky-like pixels, stored as `Image.write_fits`
does by default (lossless GZIP_2, one tile per row).

* serial: ``numpy.median(numpy.stack([Image.read_fits(p).array for p in paths]), axis=0)``;
* dask: ``dask.array.median(lsst.images.dask.stack(paths), axis=0).compute()`` on a
  LocalCluster of 2 worker processes x 1 thread (and of 1 worker, for the scaling), with
  the default chunks (a band of whole rows of all files, about 16 MiB).  The lazy stack is
  built again in every timed run, so its cost is included.

The two sides are timed interleaved in the same run (serial, 2 workers, 1 worker,
serial, ...) after one untimed warm-up each (workers import lsst.images on their first
task; that first run is reported too); best and median of ``--repeat`` runs, speed-up is
the ratio of the bests, and the results must be identical.  Also measured: the memory of
each worker process (resident set before the work and its peak, VmHWM); the time to
build the lazy arrays of all files (the parsed-file cache cleared first; and in a fresh
interpreter, imports included) and the bytes read meanwhile, checked to include no byte
of any file's pixel data; and a 200x200 slice of one file, ``from_fits(p)[...].compute()``
on the local threaded scheduler, against ``Image.read_fits(p, bbox=...)``.  The load
average is recorded at start and end: the 2 cores are shared with other work.

Run: ``python benchmarks/bench_dask.py [--size 2048] [--files 8] [--repeat 5] [--output PATH]``.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(HERE))
from _timing import progress  # noqa: E402


def make_files(directory: Path, n: int, size: int) -> list[Path]:
    """Write ``n`` Image files of sky-like noise with a few hundred sources (deterministic)."""
    from lsst.images import Image

    paths = []
    for i in range(n):
        rng = np.random.default_rng(1000 + i)
        array = rng.normal(0.0, 25.0, size=(size, size)).astype(np.float32)
        ys, xs = rng.integers(0, size, 500), rng.integers(0, size, 500)
        array[ys, xs] += rng.uniform(100, 5000, 500).astype(np.float32)
        path = directory / f"visit{i}.fits"
        Image(array, start=(0, 0)).write_fits(str(path))
        paths.append(path)
    return paths


def serial_median(paths: list[Path]) -> np.ndarray:
    from lsst.images import Image

    return np.median(np.stack([Image.read_fits(str(p)).array for p in paths]), axis=0)


def dask_median(paths: list[Path], client: Any) -> np.ndarray:
    import dask.array as da

    import lsst.images.dask as ld

    return client.compute(da.median(ld.stack(paths), axis=0)).result()


def _memory() -> dict[str, int]:
    """Resident set (now and peak) of this process, in bytes (runs in the workers)."""
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return out


def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def measure_build(paths: list[Path]) -> dict[str, Any]:
    """Time building the lazy stack (cache cleared) and check it reads no pixel bytes."""
    from astropy.io import fits as afits

    import lsst.images.dask as ld
    from lsst.images.fits._io import FileRangeReader

    pixels: dict[str, tuple[int, int]] = {}
    for path in paths:
        with afits.open(path, disable_image_compression=True) as hdus:
            info = hdus.fileinfo(1)
            pixels[str(path)] = (info["datLoc"], info["datLoc"] + info["datSpan"])
    reads: list[tuple[str, int, int]] = []
    original = FileRangeReader._read_block

    def recording(self: FileRangeReader, offset: int, length: int) -> bytes:
        reads.append((self.name, offset, length))
        return original(self, offset, length)

    times = []
    FileRangeReader._read_block = recording  # type: ignore[method-assign]
    try:
        for _ in range(5):
            ld.clear_cache()
            reads.clear()
            elapsed, _ = _timed(lambda: ld.stack(paths))
            times.append(elapsed)
    finally:
        FileRangeReader._read_block = original  # type: ignore[method-assign]
    pixel_bytes = 0
    for name, offset, length in reads:
        start, stop = pixels[name]
        pixel_bytes += max(0, min(stop, offset + length) - max(start, offset))
    code = (
        "import time; t = time.perf_counter()\n"
        "import lsst.images.dask as ld\n"
        f"ld.stack({[str(p) for p in paths]!r})\n"
        "print(time.perf_counter() - t)\n"
    )
    fresh = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return {
        "best": min(times),
        "first": times[0],
        "fresh": min(fresh),
        "bytes": sum(length for _, _, length in reads),
        "requests": len(reads),
        "pixel_bytes": pixel_bytes,
        "file_bytes": sum(p.stat().st_size for p in paths),
    }


def measure_slice(path: Path, size: int, repeat: int) -> dict[str, float]:
    """A 200x200 cut-out: dask slice + compute (threaded scheduler) vs read_fits(bbox=)."""
    import dask

    import lsst.images.dask as ld
    from lsst.images import Box, Image

    y0, x0 = size // 2 - 100, size // 3
    box = Box.factory[y0 : y0 + 200, x0 : x0 + 200]
    array = ld.from_fits(path)
    expected = Image.read_fits(str(path), bbox=box).array
    ours, theirs = [], []
    with dask.config.set(scheduler="threads"):
        got = array[y0 : y0 + 200, x0 : x0 + 200].compute()
        assert np.array_equal(got, expected)
        for _ in range(repeat):
            ours.append(_timed(lambda: array[y0 : y0 + 200, x0 : x0 + 200].compute())[0])
            theirs.append(_timed(lambda: Image.read_fits(str(path), bbox=box))[0])
    return {
        "dask": min(ours),
        "dask_median": statistics.median(ours),
        "read_fits": min(theirs),
        "read_fits_median": statistics.median(theirs),
    }


def run(size: int, n_files: int, repeat: int, output: Path) -> str:
    import logging

    import dask
    import dask.array as da
    import distributed

    import lsst.images.dask as ld

    logging.getLogger("distributed").setLevel(logging.ERROR)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        paths = make_files(Path(tmp), n_files, size)
        build = measure_build(paths)
        slice_times = measure_slice(paths[0], size, max(10, 4 * repeat))
        clusters = {}
        memory: dict[int, dict[str, Any]] = {}
        first: dict[str, float] = {}
        kwargs = dict(
            threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        )
        starts = {}
        for n in (2, 1):
            elapsed, cluster = _timed(lambda n=n: distributed.LocalCluster(n_workers=n, **kwargs))
            starts[n] = elapsed
            client = distributed.Client(cluster)
            memory[n] = {"before": client.run(_memory)}
            clusters[n] = (cluster, client)
        try:
            first["serial"], expected = _timed(lambda: serial_median(paths))
            for n, (_, client) in clusters.items():
                first[f"dask{n}"], result = _timed(lambda client=client: dask_median(paths, client))
                assert np.array_equal(result, expected), "dask median differs from the serial one"
            with dask.config.set(scheduler="threads"):
                first["threads"], result = _timed(lambda: da.median(ld.stack(paths), axis=0).compute())
            assert np.array_equal(result, expected)
            times: dict[str, list[float]] = {"serial": [], "dask2": [], "dask1": []}
            for _ in progress(range(repeat), "median runs"):
                times["serial"].append(_timed(lambda: serial_median(paths))[0])
                for n, (_, client) in clusters.items():
                    elapsed, result = _timed(lambda client=client: dask_median(paths, client))
                    assert np.array_equal(result, expected)
                    times[f"dask{n}"].append(elapsed)
            for n, (_, client) in clusters.items():
                memory[n]["after"] = client.run(_memory)
        finally:
            for cluster, client in clusters.values():
                client.close()
                cluster.close()
    load_end = os.getloadavg()
    report = _report(
        size, n_files, repeat, build, slice_times, times, first, memory, starts, load_start, load_end
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    return report


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _report(
    size: int,
    n_files: int,
    repeat: int,
    build: dict[str, Any],
    slice_times: dict[str, float],
    times: dict[str, list[float]],
    first: dict[str, float],
    memory: dict[int, dict[str, Any]],
    starts: dict[int, float],
    load_start: tuple[float, ...],
    load_end: tuple[float, ...],
) -> str:
    import dask
    import distributed

    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    speedup = best["serial"] / best["dask2"]
    scaling = best["dask1"] / best["dask2"]
    slice_ratio = slice_times["dask"] / slice_times["read_fits"]
    plane_mb = size * size * 4 / 1e6
    lines = [
        "# lsst.images.dask benchmark",
        "",
        f"Workload: per-pixel median of {n_files} `Image` files of {size}x{size} float32 "
        f"({plane_mb:.1f} MB decoded each), lossless GZIP_2 row tiles (the `write_fits` default).",
        "Serial: `numpy.median(numpy.stack([Image.read_fits(p).array for p in paths]), axis=0)`.",
        "Dask: `dask.array.median(lsst.images.dask.stack(paths), axis=0)` computed on a `LocalCluster` "
        "of worker processes x 1 thread, default chunks (a band of whole rows of all files, about 16 MiB); "
        "the lazy stack is built in every timed run.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, Python "
        f"{platform.python_version()}, numpy {np.__version__}, dask {dask.__version__}, "
        f"distributed {distributed.__version__}.",
        f"Load average (1/5/15 min) at start {'/'.join(f'{x:.2f}' for x in load_start)}, "
        f"at end {'/'.join(f'{x:.2f}' for x in load_end)}.",
        f"Timings: {repeat} runs per side, interleaved (serial, 2 workers, 1 worker, ...) after one untimed "
        "warm-up each; best and median.  Every dask result is identical to the serial one (checked).",
        "",
        "| median of the stack | best | median | first run (cold workers) | vs serial (best) |",
        "|---|---|---|---|---|",
        f"| serial loop (read_fits + numpy.median) | {best['serial']:.3f} s | {med['serial']:.3f} s | "
        f"{first['serial']:.3f} s | 1.00x |",
        f"| LocalCluster, 1 worker x 1 thread | {best['dask1']:.3f} s | {med['dask1']:.3f} s | "
        f"{first['dask1']:.3f} s | {best['serial'] / best['dask1']:.2f}x |",
        f"| LocalCluster, 2 workers x 1 thread | {best['dask2']:.3f} s | {med['dask2']:.3f} s | "
        f"{first['dask2']:.3f} s | {speedup:.2f}x (target >= 1.2x: {'ok' if speedup >= 1.2 else 'MISSED'}) |",
        f"| local threaded scheduler (no cluster) | | | {first['threads']:.3f} s | |",
        "",
        f"Scaling from 1 to 2 workers: {scaling:.2f}x "
        f"(best {best['dask1']:.3f} s -> {best['dask2']:.3f} s).  "
        f"Cluster start-up (not timed above): {starts[2]:.2f} s for 2 workers, {starts[1]:.2f} s for 1.",
        "",
        "Memory per worker process (resident set after start-up, and its peak over all the runs, VmHWM):",
        "",
        "| cluster | worker | RSS at start | peak RSS | peak - start |",
        "|---|---|---|---|---|",
    ]
    for n in (2, 1):
        for i, (address, before) in enumerate(sorted(memory[n]["before"].items())):
            after = memory[n]["after"][address]
            lines.append(
                f"| {n} worker{'s' if n > 1 else ''} | {i} | {_mb(before['VmRSS'])} | "
                f"{_mb(after['VmHWM'])} | {_mb(after['VmHWM'] - before['VmRSS'])} |"
            )
    lines += [
        "",
        f"(The stack is {n_files} x {plane_mb:.1f} MB = {n_files * plane_mb:.0f} MB decoded; the serial loop "
        f"holds all of it, plus numpy's median copy.)",
        "",
        f"Building the lazy arrays of all {n_files} files (`lsst.images.dask.stack(paths)`, "
        f"parsed-file cache cleared): best {build['best'] * 1e3:.1f} ms, "
        f"first in the process {build['first'] * 1e3:.1f} ms (target < 1 s: "
        f"{'ok' if build['first'] < 1.0 else 'MISSED'}); a fresh interpreter running `import "
        f"lsst.images.dask` and the build (imports of lsst.images and dask included) takes "
        f"{build['fresh']:.2f} s.  Bytes read while building: "
        f"{build['bytes']} in {build['requests']} reads ({build['bytes'] / n_files / 1e3:.1f} kB per file: "
        f"headers and index) of {_mb(build['file_bytes'])}; pixel-data bytes read: {build['pixel_bytes']} "
        f"(target 0: {'ok' if build['pixel_bytes'] == 0 else 'MISSED'}).",
        "",
        f"A 200x200 slice of one file, `from_fits(p)[y:y+200, x:x+200].compute()` (threaded scheduler; the "
        f"slicing is timed too, building `from_fits(p)` is not) vs `Image.read_fits(p, bbox=...)`: "
        f"best {slice_times['dask'] * 1e3:.1f} ms (median {slice_times['dask_median'] * 1e3:.1f} ms) vs "
        f"{slice_times['read_fits'] * 1e3:.1f} ms (median {slice_times['read_fits_median'] * 1e3:.1f} ms): "
        f"{slice_ratio:.2f}x (target <= 1.5x: {'ok' if slice_ratio <= 1.5 else 'MISSED'}); identical pixels.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "dask.md")
    args = parser.parse_args()
    print(run(args.size, args.files, args.repeat, args.output))


if __name__ == "__main__":
    main()
