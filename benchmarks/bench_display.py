"""Benchmark: the cost of looking at a large visit image (pictures, notebook displays, describe).

Workload: a 4096x4096 `VisitImage` with the calexp-like scene of `_scene.make_scene`
(14 mask planes) and the non-pixel components of the bundled LSSTCam sample, written
once to a temporary file.  Measured in this process (best of ``--repeat``):

* ``_repr_html_`` of the in-memory visit (table + thumbnail: bounded work, so it
  should not depend on the image size);
* ``lsst-images describe`` (the whole data model, no pixels decoded) next to
  ``lsst-images info``;
* ``lsst-images show`` of a 200x200 ``--bbox`` cut-out (only its tiles are read)
  next to ``show`` of the whole image, both with every mask plane overlaid.

Run: ``python benchmarks/bench_display.py [--size 4096] [--repeat 3]``; results go to
``benchmarks/results/display.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scene import PLANES, make_scene  # noqa: E402
from _timing import best_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def build_visit(size: int):
    """The scene as a VisitImage carrying the sample's projection, PSF, detector, ..."""
    import astropy.units as u

    import lsst.images as li

    sample = li.VisitImage.read_fits(str(ROOT / "examples" / "data" / "lsstcam_synthetic_visit.fits"))
    image, mask_bits, variance = make_scene(size)
    bbox = li.Box.factory[0:size, 0:size]
    schema = li.MaskSchema([li.MaskPlane(name, name) for name in PLANES])
    mask = li.Mask(schema=schema, bbox=bbox)
    for index, name in enumerate(PLANES):
        mask.set(name, (mask_bits & (1 << index)) != 0)
    return li.VisitImage(
        li.Image(image, bbox=bbox, unit=u.nJy),
        mask=mask,
        variance=li.Image(variance, bbox=bbox, unit=u.nJy**2),
        projection=sample.projection,
        obs_info=sample.obs_info,
        summary_stats=sample.summary_stats,
        photometric_scaling=sample.photometric_scaling,
        psf=sample.psf,
        detector=sample.detector,
        aperture_corrections=sample.aperture_corrections,
    )


def cli(*args: str) -> None:
    from lsst.images.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        if main(list(args)) != 0:
            raise RuntimeError(f"lsst-images {' '.join(args)} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "display.md"))
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    visit = build_visit(args.size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "visit.fits")
        visit.write_fits(path)
        png = str(Path(tmp) / "x.png")
        half = args.size // 2
        box = f"{half}:{half + 200},{half}:{half + 200}"
        rows.append(("`_repr_html_()` of the in-memory visit", best_of(args.repeat, visit._repr_html_)))
        rows.append(("`lsst-images info FILE`", best_of(args.repeat, lambda: cli("info", path))))
        rows.append(("`lsst-images describe FILE`", best_of(args.repeat, lambda: cli("describe", path))))
        cut = best_of(args.repeat, lambda: cli("show", path, "--bbox", box, "--mask", "all", "-o", png))
        rows.append((f"`lsst-images show FILE --bbox {box} --mask all`", cut))
        full = best_of(args.repeat, lambda: cli("show", path, "--mask", "all", "-o", png))
        rows.append(("`lsst-images show FILE --mask all` (whole image)", full))
        html_size = len(visit._repr_html_())
    lines = [
        "# Looking at a large visit image",
        "",
        f"`python benchmarks/bench_display.py --size {args.size} --repeat {args.repeat}`: a "
        f"{args.size}x{args.size} VisitImage (14 mask planes), best of {args.repeat}, in one process "
        f"(Python {platform.python_version()}, {platform.machine()}, numpy {np.__version__}, "
        f"matplotlib {matplotlib.__version__}).",
        "",
        "| operation | seconds |",
        "| --- | ---: |",
        *(f"| {name} | {seconds:.3f} |" for name, seconds in rows),
        "",
        f"The notebook display is {html_size} characters (the thumbnail is at most 128 pixels on a side).",
    ]
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
