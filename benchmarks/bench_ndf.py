"""Benchmark: NDF (HDS-on-HDF5) write and read, this project vs Rubin's lsst-images 30.2026.2100.

Workload: a 4096x4096 `MaskedImage` of the calexp-like scene of the FITS benchmark
(`_scene.make_scene`: float32 image and variance, 14 mask planes) written with
``lsst.images.ndf.write`` (no compression, the default of both libraries), read whole,
and a 200x200 cut-out read (``bbox=``; HDF5 reads only those rows and columns).

Each measurement runs in a fresh process (`_ndf_worker.py`), ours and Rubin's
interleaved, ``--repeat`` times; medians are reported, *cold* (first call after
``import lsst.images``) and *warm* (second call).  Rubin's interpreter comes from
``--rubin-python``, ``$LSST_IMAGES_RUBIN_2100_PYTHON`` or ``../venvs/rubin-2100`` beside
the checkout (it needs h5py); without one only this project is timed.  Both libraries
read each other's file to check the comparison is like for like.

Run: ``python benchmarks/bench_ndf.py [--size 4096] [--repeat 3]`` (about a minute on a
2-core machine).  Results go to ``benchmarks/results/ndf.md``.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_ndf_worker.py"
sys.path.insert(0, str(HERE))
from _scene import make_scene, save_scene  # noqa: E402

OPS = ("write", "read", "cutout")


def _rubin_python(option: str | None) -> str | None:
    for candidate in (option, os.environ.get("LSST_IMAGES_RUBIN_2100_PYTHON")):
        if candidate:
            return candidate
    default = HERE.parent.parent / "venvs" / "rubin-2100" / "bin" / "python"
    return str(default) if default.exists() else None


def _measure(python: str, op: str, path: Path, scene: Path) -> dict[str, float] | str:
    """The worker's timings, or the last line of its error when the operation fails."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [python, str(WORKER), op, str(path), str(scene)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1]
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rubin-python")
    parser.add_argument("--output", default=str(HERE / "results" / "ndf.md"))
    args = parser.parse_args()
    competitors = {"this project": sys.executable}
    rubin = _rubin_python(args.rubin_python)
    if rubin:
        competitors["Rubin 2100"] = rubin
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-ndf-") as tmp:
        folder = Path(tmp)
        save_scene(folder, *make_scene(args.size))
        files = {name: folder / f"{i}.sdf" for i, name in enumerate(competitors)}
        samples: dict[tuple[str, str], list[dict[str, float] | str]] = {}
        for _ in range(args.repeat):
            for op in OPS:
                for name, python in competitors.items():
                    samples.setdefault((name, op), []).append(_measure(python, op, files[name], folder))
        sizes = {name: files[name].stat().st_size for name in competitors}
        crossed = []
        if rubin:  # each library reads the other's file
            for reader, writer in (("this project", "Rubin 2100"), ("Rubin 2100", "this project")):
                result = _measure(competitors[reader], "read", files[writer], folder)
                outcome = "failed: " + result if isinstance(result, str) else "ok"
                crossed.append(f"{reader} reading the file {writer} wrote: {outcome}")
    load.append(os.getloadavg()[0])
    lines = [
        "# NDF write/read benchmark",
        "",
        f"`python benchmarks/bench_ndf.py --size {args.size} --repeat {args.repeat}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end (the machine is shared, so timings vary "
        "from run to run).",
        "",
        f"Workload: a {args.size}x{args.size} MaskedImage (float32 image and variance, 14 mask planes), "
        "uncompressed HDF5. Medians of the repeats, seconds; cold = first call in a fresh process.",
        "",
        "| operation | " + " | ".join(f"{n} cold | {n} warm" for n in competitors) + " |",
        "|---|" + "---|---|" * len(competitors),
    ]
    failures = []
    for op in OPS:
        cells = []
        for name in competitors:
            runs = [r for r in samples[(name, op)] if not isinstance(r, str)]
            errors = [r for r in samples[(name, op)] if isinstance(r, str)]
            if errors:
                failures.append(f"{name} {op}: {errors[0]}")
            if not runs:
                cells += ["fails", "fails"]
                continue
            cold = statistics.median(r["cold"] for r in runs)
            warm = statistics.median(r["warm"] for r in runs)
            cells += [f"{cold:.3f}", f"{warm:.3f}"]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    lines += ["", "File sizes: " + ", ".join(f"{n} {s / 2**20:.1f} MiB" for n, s in sizes.items()) + "."]
    if failures:
        lines += ["", "Failures: " + "; ".join(f"`{f}`" for f in failures) + "."]
    if crossed:
        lines += ["", "Cross-reads: " + "; ".join(crossed) + "."]
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
