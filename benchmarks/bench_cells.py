"""Benchmark: reading a DP2-like `CellCoadd`, this project vs Rubin's lsst-images 30.2026.4300.

Workload: a patch of 150-pixel cells (a 4200x4200 coadd of 28x28 cells from the
calexp-like scene of `_scene.make_scene`, with four missing cells, a 41x41 PSF kernel per
cell, two aperture corrections, a mask fraction, a noise realization and 40 inputs of
provenance), written by Rubin's 4300 writer (one tile per cell): that is the file DP2
users read.  See `_cells_worker.py` for the operations; only the API both
implementations share is used.

* *full read*: ``CellCoadd.read(path)`` and one pass over the three planes;
* *one-cell cut-out*: ``CellCoadd.read(path, bbox=<one cell>)``, the PSF kernel at the
  cell's centre and one pass over its planes.

Every measurement runs in a fresh process (ours and Rubin's interleaved, ``--repeat``
times, medians); *cold* is the first call in the process, *warm* the second.  Rubin's
interpreter comes from ``--rubin-python``, ``$LSST_IMAGES_RUBIN_4300_PYTHON``,
``benchmarks/.venv-rubin-4300`` or ``../venvs/rubin-4300`` beside the checkout; without
one the script stops (there is nothing to compare with).  Targets (issue 12): cut-out
>= 4x and full read >= 5x faster than Rubin 4300.

Run: ``python benchmarks/bench_cells.py [--repeat 3]`` (a few minutes on 2 cores);
results go to ``benchmarks/results/cells.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_cells_worker.py"
RUBIN_CANDIDATES = (HERE / ".venv-rubin-4300", HERE.parent.parent / "venvs" / "rubin-4300")

sys.path.insert(0, str(HERE))
from _scene import make_scene, save_scene  # noqa: E402
from _timing import progress  # noqa: E402
from _workers import find_python  # noqa: E402
from _workers import run_worker as _run_worker  # noqa: E402

TARGETS = {"read": 5.0, "cutout": 4.0}


def find_rubin_python(option: str | None) -> str | None:
    """The interpreter of a Rubin 4300 environment, or None."""
    return find_python(option, ("LSST_IMAGES_RUBIN_4300_PYTHON",), RUBIN_CANDIDATES)


def run_worker(python: str, *args: str) -> dict:
    """One `_cells_worker.py` operation in a fresh interpreter; its JSON result."""
    return _run_worker(WORKER, python, *args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rubin-python", default=None, help="python of a lsst-images==30.2026.4300 venv")
    parser.add_argument("--output", default=str(HERE / "results" / "cells.md"))
    args = parser.parse_args(argv)
    rubin = find_rubin_python(args.rubin_python)
    if rubin is None:
        print("no Rubin lsst-images 4300 environment found (see --rubin-python)", file=sys.stderr)
        return 2
    python = {"ours": sys.executable, "rubin": rubin}
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        scene = Path(tmp)
        save_scene(scene, *make_scene(4200))
        source = str(scene / "coadd-rubin.fits")
        written = {"rubin": run_worker(rubin, "write", tmp, source)}
        ours_file = str(scene / "coadd-ours.fits")
        written["ours"] = run_worker(sys.executable, "write", tmp, ours_file)
        checks = {
            "ours reads Rubin's file (every plane, PSF, provenance)": run_worker(
                sys.executable, "check", source, tmp
            )["equal"],
            "Rubin 4300 reads our file": run_worker(rubin, "check", ours_file, tmp)["equal"],
        }
        operations = {"read": ("read", source), "cutout": ("cutout", source, "5", "9")}
        timings: dict[str, dict[str, list[dict]]] = {op: {s: [] for s in python} for op in operations}
        for _ in progress(range(args.repeat), "interleaved runs"):
            for op, op_args in operations.items():
                for side in python:
                    timings[op][side].append(run_worker(python[side], *op_args))
    load_end = os.getloadavg()
    text = report(args.repeat, written, checks, timings, load_start, load_end)
    print(text)
    Path(args.output).write_text(text)
    return 0


def report(repeat: int, written: dict, checks: dict, timings: dict, load_start, load_end) -> str:
    def med(op: str, side: str, state: str) -> float:
        return statistics.median(run[state] for run in timings[op][side])

    lines = [
        "# CellCoadd reads: this project vs Rubin's lsst-images 30.2026.4300",
        "",
        f"`python benchmarks/bench_cells.py --repeat {repeat}`: a {written['ours']['cells']}x"
        f"{written['ours']['cells']}-cell coadd of 150-pixel cells (4200x4200, calexp-like scene, 4 missing "
        "cells, 41x41 PSF per cell, 2 aperture corrections, mask fraction, noise realization, 40 inputs), "
        "written by Rubin's 4300 writer (one tile per cell).  Every figure is the median of "
        f"{repeat} fresh processes, the two sides interleaved; *cold* = first call in the process "
        "(after the imports), *warm* = the second.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load "
        f"average at start {load_start[0]:.2f}, at end {load_end[0]:.2f}.",
        "",
        "| operation | state | ours | Rubin 4300 | ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    for op, label in (("read", "full read + one pass"), ("cutout", "one-cell cut-out + PSF + one pass")):
        for state in ("cold", "warm"):
            ours, theirs = med(op, "ours", state), med(op, "rubin", state)
            ratio = theirs / ours
            verdict = "ok" if ratio >= TARGETS[op] else "MISSED"
            lines.append(
                f"| {label} | {state} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {ratio:.1f}x | "
                f">= {TARGETS[op]:.0f}x ({verdict}) |"
            )
    lines += [
        "",
        f"Write (not a target): ours {written['ours']['seconds']:.2f} s, "
        f"{written['ours']['size'] / 1e6:.1f} MB; Rubin {written['rubin']['seconds']:.2f} s, "
        f"{written['rubin']['size'] / 1e6:.1f} MB (one run each).",
        "",
        "Checks: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items()) + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
