"""Benchmark: 10 million points through a TAN-SIP Projection versus astropy's ``WCS.all_pix2world``.

The requirement is that evaluating pixel → sky through a TAN-SIP `Projection`
(AST-backed) takes no more than 2× the time ``astropy.wcs.WCS.all_pix2world``
(wcslib + astropy's SIP code) needs for the same points.  Both are measured
in the same run on the same random points; we also check that the two agree
to 1e-10 degrees, and write the ratios to ``benchmarks/results/projection.md``.

Three library entry points are timed:

* ``Transform.apply_forward`` — the raw vectorized mapping (radians);
* ``Projection.pixel_to_sky`` — the same plus building an ICRS ``SkyCoord``;
* ``ProjectionAstropyView.pixel_to_world_values`` — the APE-14 view (degrees),
  the closest analogue of ``all_pix2world``.

Run with ``python benchmarks/bench_projection.py [--points N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import astropy
import numpy as np
from _timing import best_of  # benchmarks/ is on sys.path when run as a script
from astropy.io import fits
from astropy.wcs import WCS
from starlink import Ast

from lsst.images import Box, DetectorFrame, Projection

BBOX = Box.factory[0:4004, 0:4096]

# The TAN-SIP WCS of the shared test fixtures (detector-wide, CD matrix plus order-3 SIP terms).
SIP_CARDS = {
    "CTYPE1": "RA---TAN-SIP",
    "CTYPE2": "DEC--TAN-SIP",
    "CRPIX1": 2048.5,
    "CRPIX2": 2002.5,
    "CRVAL1": 150.1,
    "CRVAL2": 2.2,
    "CD1_1": -5.5e-05,
    "CD1_2": 1.1e-06,
    "CD2_1": 1.2e-06,
    "CD2_2": 5.5e-05,
    "CUNIT1": "deg",
    "CUNIT2": "deg",
    "RADESYS": "ICRS",
    "A_ORDER": 3,
    "B_ORDER": 3,
    "A_2_0": 2e-06,
    "A_0_2": -1e-06,
    "A_1_1": 5e-07,
    "A_3_0": 1e-10,
    "A_1_2": -2e-10,
    "B_2_0": -1.5e-06,
    "B_0_2": 1.2e-06,
    "B_1_1": -3e-07,
    "B_0_3": 2e-10,
    "B_2_1": 1e-10,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000, help="number of points")
    parser.add_argument("--repeat", type=int, default=3, help="timing repetitions (best is kept)")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / "results" / "projection.md",
        help="markdown report (a .json with the same stem is written too)",
    )
    args = parser.parse_args()

    wcs = WCS(fits.Header(SIP_CARDS))
    frame = DetectorFrame(instrument="LSSTCam", detector=85, bbox=BBOX)
    projection = Projection.from_fits_wcs(wcs, frame)
    transform = projection.pixel_to_sky_transform
    view = projection.as_astropy(BBOX)

    rng = np.random.default_rng(2024)
    x = rng.uniform(-0.5, 4095.5, args.points)
    y = rng.uniform(-0.5, 4003.5, args.points)

    ra, dec = wcs.all_pix2world(x, y, 0)
    sky = transform.apply_forward(x=x, y=y)
    max_diff_deg = max(
        float(np.max(np.abs(np.degrees(sky.x) - ra))), float(np.max(np.abs(np.degrees(sky.y) - dec)))
    )
    del ra, dec, sky
    if max_diff_deg > 1e-10:
        raise AssertionError(f"AST and astropy disagree by {max_diff_deg} degrees.")

    timings = {
        "astropy WCS.all_pix2world": best_of(args.repeat, lambda: wcs.all_pix2world(x, y, 0)),
        "Transform.apply_forward": best_of(args.repeat, lambda: transform.apply_forward(x=x, y=y)),
        "Projection.pixel_to_sky": best_of(args.repeat, lambda: projection.pixel_to_sky(x=x, y=y)),
        "ProjectionAstropyView.pixel_to_world_values": best_of(
            args.repeat, lambda: view.pixel_to_world_values(x, y)
        ),
    }
    reference = timings["astropy WCS.all_pix2world"]
    ratios = {name: seconds / reference for name, seconds in timings.items()}
    worst = max(ratios.values())

    lines = [
        "# Projection benchmark: TAN-SIP pixel → sky",
        "",
        f"{args.points:,} random points over a 4096×4004 detector, best of {args.repeat} runs, "
        "measured in one process by `benchmarks/bench_projection.py`.",
        "",
        "| method | seconds | ratio to astropy |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {seconds:.3f} | {ratios[name]:.2f} |" for name, seconds in timings.items()]
    lines += [
        "",
        f"Worst ratio: **{worst:.2f}** (requirement: ≤ 2.0) — {'PASS' if worst <= 2.0 else 'FAIL'}.",
        f"Max |AST − astropy| over all points: {max_diff_deg:.2e} deg.",
        "",
        f"Host: {platform.platform()}, {platform.processor() or platform.machine()}; "
        f"python {platform.python_version()}, numpy {np.__version__}, astropy {astropy.__version__}, "
        f"starlink-pyast (AST {Ast.version()}).",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    args.output.with_suffix(".json").write_text(
        json.dumps(
            {"points": args.points, "seconds": timings, "ratios": ratios, "max_diff_deg": max_diff_deg},
            indent=2,
        )
        + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
