"""Benchmark: this project's FITS I/O vs Rubin's lsst-images 30.2026.2100 and plain astropy.

Workload: a 4096x4096 `VisitImage` with a calexp-like scene (`_scene.make_scene`: sky
with Poisson noise, a few thousand Gaussian-PSF stars over five decades of flux,
galaxies, cosmic rays, clipped saturated cores, dead columns, 14 mask planes with
realistic coverage) and the non-pixel components of the bundled sample
``examples/data/lsstcam_synthetic_visit.fits``.  The file that is read is the one Rubin's
own writer makes with its default options (lossless GZIP_2 row tiles): that is what
users read.

Competitors:

* this project (the interpreter running this script);
* Rubin's ``lsst-images==30.2026.2100`` in its own virtual environment (Python 3.12),
  found via ``--rubin-python``, ``$LSST_IMAGES_RUBIN_PYTHON``,
  ``benchmarks/.venv-rubin-2100`` (made by ``benchmarks/make_rubin_venv.sh``) or
  ``../venvs/rubin-2100`` beside the checkout; skipped (and said so) when none exists;
* plain ``astropy.io.fits`` doing the same pixel work (three ``CompImageHDU``).

Every measurement runs in a fresh process (`_fits_worker.py`), the competitors
interleaved (ours, Rubin, astropy, ours, ...), ``--repeat`` times; medians are
reported.  In each process the operation is done twice: *cold* is the first (what a
script, a batch job or a CLI call pays, after ``import lsst.images``), *warm* the second.
Also measured: ``import lsst.images``, full-read peak memory (RSS growth) against the
decoded planes, file sizes, and that a file we write reads back identically with
astropy, fitsio and Rubin's reader.  The load average is recorded at the start and end.

Run: ``python benchmarks/bench_fits.py [--size 4096] [--repeat 3] [--rubin-python PATH]``
(about 5 minutes on a 2-core machine).  Results go to ``benchmarks/results/fits.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_fits_worker.py"
SAMPLE = HERE.parent / "examples" / "data" / "lsstcam_synthetic_visit.fits"
RUBIN_CANDIDATES = (HERE / ".venv-rubin-2100", HERE.parent.parent / "venvs" / "rubin-2100")
PLANE_NAMES = ("IMAGE", "MASK", "VARIANCE")

sys.path.insert(0, str(HERE))
from _scene import coverage, load_scene, make_scene, save_scene  # noqa: E402
from _timing import progress  # noqa: E402
from _workers import find_python  # noqa: E402
from _workers import run_worker as _run_worker  # noqa: E402


def find_rubin_python(option: str | None) -> str | None:
    """The interpreter of the Rubin 2100 environment, or None when there is none."""
    return find_python(
        option, ("LSST_IMAGES_RUBIN_PYTHON", "LSST_IMAGES_RUBIN_2100_PYTHON"), RUBIN_CANDIDATES
    )


def run_worker(python: str, *args: str) -> dict:
    """Run one `_fits_worker.py` operation in a fresh interpreter; return its JSON result."""
    return _run_worker(WORKER, python, *args)


def interleaved(sides: dict[str, tuple[str, ...]], python: dict[str, str], repeat: int) -> dict:
    """Run each side's worker call ``repeat`` times, alternating sides; collect results per side."""
    results: dict[str, list[dict]] = {side: [] for side in sides}
    for _ in progress(range(repeat), "interleaved runs"):
        for side, args in sides.items():
            results[side].append(run_worker(python[side], *args))
    return results


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def check_other_readers(path: str, scene_dir: Path) -> dict[str, bool]:
    """Read the planes of ``path`` with astropy and fitsio; compare with the scene."""
    from astropy.io import fits as afits

    image, mask, variance = load_scene(scene_dir)
    results = {}
    with afits.open(path) as hdus:
        planes = [np.asarray(hdus[name].data) for name in PLANE_NAMES]
    results["astropy"] = _planes_equal(planes, image, mask, variance)
    try:
        import fitsio
    except ImportError:
        return results
    with fitsio.FITS(path) as f:
        planes = [f[name].read() for name in PLANE_NAMES]
    results["fitsio"] = _planes_equal(planes, image, mask, variance)
    return results


def _planes_equal(
    planes: list[np.ndarray], image: np.ndarray, mask: np.ndarray, variance: np.ndarray
) -> bool:
    """Whether stored (IMAGE, MASK, VARIANCE) equal the scene; the mask as its packed bits."""
    stored_image, stored_mask, stored_variance = planes
    ok = np.array_equal(stored_image, image, equal_nan=True)
    ok &= np.array_equal(stored_variance, variance, equal_nan=True)
    # Masks are stored as integers with one bit per plane, in schema order.
    return bool(ok and np.array_equal(stored_mask.astype(np.int64), mask.astype(np.int64)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rubin-python", default=None, help="python of a lsst-images==30.2026.2100 venv")
    parser.add_argument("--output", default=str(HERE / "results" / "fits.md"))
    args = parser.parse_args(argv)
    rubin = find_rubin_python(args.rubin_python)
    python = {"ours": sys.executable, "astropy": sys.executable}
    if rubin:
        python["rubin"] = rubin
    load_start = os.getloadavg()
    size, n = args.size, min(200, args.size)
    y0, x0 = size // 2 - n // 2 - 52, size // 2 - n // 2 - 15
    cut = (str(y0), str(x0), str(n))

    with tempfile.TemporaryDirectory() as tmp:
        scene_dir = Path(tmp)
        image, mask, variance = make_scene(size)
        save_scene(scene_dir, image, mask, variance)
        planes_coverage = coverage(mask)
        del image, mask, variance
        # The read workload: a file from Rubin's writer when available (else ours).
        source = str(scene_dir / "source.fits")
        run_worker(python.get("rubin", sys.executable), "write", str(scene_dir), str(SAMPLE), source)
        ours_file = str(scene_dir / "ours.fits")
        run_worker(sys.executable, "write", str(scene_dir), str(SAMPLE), ours_file)
        checks = {"ours reads the source file": run_worker(sys.executable, "check", source, tmp)["equal"]}
        if rubin:
            checks["Rubin 2100 reads our file"] = run_worker(rubin, "check", ours_file, tmp)["equal"]
        for reader, ok in check_other_readers(ours_file, scene_dir).items():
            checks[f"{reader} reads our file"] = ok

        def sides(ours: tuple, rubin_args: tuple | None, astropy: tuple | None) -> dict:
            out = {"ours": ours}
            if rubin and rubin_args is not None:
                out["rubin"] = rubin_args
            if astropy is not None:
                out["astropy"] = astropy
            return out

        out = {side: str(scene_dir / f"w-{side}.fits") for side in python}
        timings = {
            "import": interleaved(sides(("import",), ("import",), None), python, max(5, args.repeat)),
            "write": interleaved(
                sides(
                    ("write", tmp, str(SAMPLE), out["ours"]),
                    ("write", tmp, str(SAMPLE), out.get("rubin", "")),
                    ("astropy-write", tmp, out["astropy"]),
                ),
                python,
                args.repeat,
            ),
            "read": interleaved(
                sides(("read", source), ("read", source), ("astropy-read", source)), python, args.repeat
            ),
            "cutout": interleaved(
                sides(("cutout", source, *cut), ("cutout", source, *cut), ("astropy-cutout", source, *cut)),
                python,
                args.repeat,
            ),
        }
        memory = {
            state: interleaved(
                sides(("memory", source, *extra), ("memory", source, *extra), None), python, args.repeat
            )
            for state, extra in (("cold", ()), ("warm", (str(SAMPLE),)))
        }
    load_end = os.getloadavg()
    text = report(args, rubin, timings, memory, checks, planes_coverage, load_start, load_end, (y0, x0, n))
    print(text)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    return 0


def _ratio(timings: dict, op: str, other: str, state: str) -> float | None:
    if other not in timings[op]:
        return None
    return median(timings[op][other], state) / median(timings[op]["ours"], state)


def report(args, rubin, timings, memory, checks, planes_coverage, load_start, load_end, cut) -> str:
    """The Markdown results file."""
    import lsst.images  # noqa: F401  (version of the code measured)

    have_rubin = rubin is not None
    y0, x0, n = cut
    rows = (
        ("write_fits, default options", "write", 12.0),
        ("full read of the Rubin-written file + one pass over the planes", "read", 8.0),
        (f"first {n}x{n} cut-out (3 planes) / the same cut-out again", "cutout", 4.0),
    )
    lines = [
        "# FITS benchmark: lsst.images (this project) vs Rubin lsst-images 30.2026.2100 and astropy",
        "",
        f"Workload: a {args.size}x{args.size} `VisitImage` with a calexp-like scene "
        "(`benchmarks/_scene.py`) and",
        "the non-pixel components of `examples/data/lsstcam_synthetic_visit.fits`; the file read is",
        "the one Rubin's writer makes with its defaults (lossless GZIP_2, one tile per row)"
        + ("." if have_rubin else " -- here NO Rubin environment was found, so our own file."),
        f"Cut-out: y={y0}:{y0 + n}, x={x0}:{x0 + n}.  'one pass' = nansum of image and variance, "
        "sum of the mask.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, astropy {__import__('astropy').__version__}; Rubin side: "
        + (f"`{rubin}`." if have_rubin else "absent."),
        f"Load average (1/5/15 min) at start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, "
        f"at end {load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f} (a shared 2-core machine: compare "
        "ratios, which come from interleaved runs).",
        f"Every figure: median of {args.repeat} fresh processes per side, sides interleaved; *cold* = first "
        "call in the process after `import lsst.images`, *warm* = the same call again.",
        "",
        "| operation | state | ours | Rubin 2100 | speed-up vs Rubin | target | astropy "
        "| speed-up vs astropy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, op, target in rows:
        for state in ("cold", "warm"):
            ours = median(timings[op]["ours"], state)
            cells = [label if state == "cold" else "", state, f"{ours:.3f} s"]
            vs_rubin = _ratio(timings, op, "rubin", state)
            if vs_rubin is None:
                cells += ["--", "--"]
            else:
                cells += [f"{median(timings[op]['rubin'], state):.3f} s", f"**{vs_rubin:.1f}x**"]
            applies = state == "cold" or op == "cutout"
            mark = "" if vs_rubin is None else (" ok" if vs_rubin >= target else " MISSED")
            cells.append(f">= {target:.0f}x{mark}" if applies else "")
            vs_astropy = _ratio(timings, op, "astropy", state)
            cells += [f"{median(timings[op]['astropy'], state):.3f} s", f"{vs_astropy:.1f}x"]
            lines.append("| " + " | ".join(cells) + " |")
    imp_ours = median(timings["import"]["ours"], "seconds")
    imp_rubin = median(timings["import"]["rubin"], "seconds") if have_rubin else None
    lines += [
        f"| `import lsst.images` | fresh | {imp_ours:.3f} s | "
        + (f"{imp_rubin:.3f} s | {imp_rubin / imp_ours:.1f}x" if imp_rubin else "-- | --")
        + f" | <= 0.4 s{' ok' if imp_ours <= 0.4 else ' MISSED'} | | |",
        "",
        "First call in a process against the same call warm (target <= 1.5x):",
        "",
        "| operation | ours cold / warm | Rubin 2100 cold / warm |",
        "|---|---|---|",
    ]
    for label, op in (("full read", "read"), ("cut-out", "cutout"), ("write", "write")):
        ours = median(timings[op]["ours"], "cold") / median(timings[op]["ours"], "warm")
        theirs = (
            f"{median(timings[op]['rubin'], 'cold') / median(timings[op]['rubin'], 'warm'):.2f}x"
            if have_rubin
            else "--"
        )
        lines.append(f"| {label} | {ours:.2f}x{' ok' if ours <= 1.5 else ' MISSED'} | {theirs} |")
    sizes = {side: median(runs, "size") for side, runs in timings["write"].items()}
    lines += [
        "",
        "File sizes written from the same VisitImage (default options): "
        + ", ".join(f"{side} {size / 1e6:.1f} MB" for side, size in sizes.items())
        + (
            f"; ours / Rubin = {sizes['ours'] / sizes['rubin']:.3f} (target <= 1.05"
            f"{' ok' if sizes['ours'] / sizes['rubin'] <= 1.05 else ' MISSED'})."
            if "rubin" in sizes
            else "."
        ),
        "Files read back identically (all planes, every mask bit): "
        + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items())
        + ".",
        "",
        "Peak memory of a full read (growth of the peak resident set size, VmHWM) against the decoded",
        "image + mask + variance; *cold*: first read in the process, *warm*: after reading the small sample",
        "file once (target <= 1.1x):",
        "",
        "| reader | state | decoded | peak RSS growth | / decoded |",
        "|---|---|---|---|---|",
    ]
    for state, runs in memory.items():
        for side, results in runs.items():
            decoded, growth = results[0]["decoded"], median(results, "rss_growth")
            name = "ours" if side == "ours" else "Rubin 2100"
            lines.append(
                f"| {name} | {state} | {decoded / 1e6:.1f} MB | {growth / 1e6:.1f} MB "
                f"| {growth / decoded:.2f}x |"
            )
    lines += [
        "",
        "Scene mask coverage (fraction of pixels per plane): "
        + ", ".join(f"{name} {frac * 100:.2f}%" for name, frac in planes_coverage.items())
        + ".",
        "",
        "Reproduce: `python benchmarks/bench_fits.py` (make the Rubin environment first with",
        "`bash benchmarks/make_rubin_venv.sh`, or point `--rubin-python` or `$LSST_IMAGES_RUBIN_PYTHON`",
        "at one).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
