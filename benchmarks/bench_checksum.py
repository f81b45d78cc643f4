"""Cost of FITS checksums: write and full read of a 4096x4096 MaskedImage, checksums on vs off.

Usage: ``python benchmarks/bench_checksum.py [--runs 7] [--out benchmarks/results/checksum.md]``.
Runs are interleaved (on, off, on, off, ...) so that machine load hits both sides alike;
the table shows best and median seconds and the overhead of the best times (target: at
most 10% for write and for full read).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import progress  # noqa: E402


def _masked_image():
    import astropy.units as u

    from lsst.images import Image, MaskedImage, MaskPlane, MaskSchema

    rng = np.random.default_rng(3)
    pixels = (1000 + 30 * rng.standard_normal((4096, 4096))).astype(np.float32)
    schema = MaskSchema([MaskPlane(f"P{i}", "plane") for i in range(14)])
    masked = MaskedImage(Image(pixels, unit=u.nJy), mask_schema=schema)
    masked.mask.set("P3", pixels > 1080)
    masked.variance.array[...] = np.float32(900) + rng.random((4096, 4096), dtype=np.float32)
    return masked


def _time(func) -> float:
    gc.collect()
    os.sync()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "checksum.md")
    args = parser.parse_args(argv)
    from lsst.images import MaskedImage, fits

    masked = _masked_image()
    times: dict[str, list[float]] = {k: [] for k in ("write on", "write off", "read on", "read off")}
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as folder:
        on, off = os.path.join(folder, "on.fits"), os.path.join(folder, "off.fits")
        steps = {
            "write on": lambda: fits.write(masked, on),
            "write off": lambda: fits.write(masked, off, checksum=False),
            "read on": lambda: fits.read(MaskedImage, on),
            "read off": lambda: fits.read(MaskedImage, on, verify=False),
        }
        for run in progress(range(args.runs), "checksum runs"):
            # Alternate which side goes first, so that neither always follows the writes.
            order = ("on", "off") if run % 2 == 0 else ("off", "on")
            for op in ("write", "read"):
                for side in order:
                    times[f"{op} {side}"].append(_time(steps[f"{op} {side}"]))
        size = os.path.getsize(on)
    lines = [
        "# Checksum cost",
        "",
        f"4096x4096 MaskedImage (float32 image + 14-plane mask + float32 variance, lossless GZIP_2 row "
        f"tiles), file {size / 1e6:.1f} MB; {args.runs} interleaved runs (which side goes first "
        "alternates), `gc.collect()` and `os.sync()` "
        f"before each; {os.cpu_count()} CPUs.  *on*: `fits.write` default (DATASUM/CHECKSUM on every HDU) "
        "and `fits.read` default (verified); *off*: `checksum=False` / `verify=False` (same file).",
        "",
        "| operation | checksums on best | median | off best | median | overhead (best) | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for op in ("write", "read"):
        a, b = times[f"{op} on"], times[f"{op} off"]
        overhead = min(a) / min(b) - 1
        lines.append(
            f"| {'full read' if op == 'read' else op} | {min(a):.3f} s | {statistics.median(a):.3f} s | "
            f"{min(b):.3f} s | {statistics.median(b):.3f} s | {overhead:+.1%} | <= +10% "
            f"({'ok' if overhead <= 0.10 else 'MISSED'}) |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
