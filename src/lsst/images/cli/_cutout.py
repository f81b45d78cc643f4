"""``lsst-images cutout``: write a sub-image of an lsst.images or afw FITS file to a new file.

The box is given either directly in absolute (logical) pixel coordinates,
``--bbox Y0:Y1,X0:X1`` (stop exclusive, like Python slices), or as a sky position and
radius, ``--ra DEG --dec DEG --radius ARCSEC``, which is converted to the smallest
pixel box containing the circle (clipped to the image), or as a file of sky positions,
``--positions FILE`` (one ``RA DEC [RADIUS]`` per line), which writes one cut-out per
position into the ``-o`` folder with a progress bar.  Only the tiles (for afw files,
the rows) intersecting the box are read, so cut-outs of large or remote files are fast.
The output is written by our own writer (default lossless compression) in the
container its extension names (``.fits``, ``.json``, ``.sdf``/``.h5``); FITS in the 2100
layout unless ``--layout 4300`` is given -- except the DP2 products (cell coadds, whose
cut-outs keep the PSF, aperture corrections and provenance of the cells they overlap,
and difference images), written in the 4300 layout by default.
"""

from __future__ import annotations

__all__ = ("add_parser", "parse_bbox", "parse_positions", "run")

import argparse
import re
from typing import Any

from ._errors import UsageError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "cutout",
        help="write a sub-image (pixel box or sky circle) of an lsst.images or afw file to a new file",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("file", help="input FITS file (lsst.images or afw): path, file:// or http(s)/s3 URL")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bbox", help="absolute pixel box 'Y0:Y1,X0:X1' (stop exclusive)")
    where.add_argument("--ra", type=float, help="right ascension of the centre, degrees (ICRS)")
    where.add_argument("--positions", help="file of 'RA DEC [RADIUS]' lines (deg, arcsec): a cut-out each")
    parser.add_argument("--dec", type=float, help="declination of the centre, degrees (ICRS)")
    parser.add_argument("--radius", type=float, help="radius of the circle to include, arcseconds")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file: .fits, .json or .sdf/.h5 (a folder with --positions)",
    )
    parser.add_argument(
        "--layout",
        choices=("2100", "4300"),
        default=None,
        help="FITS layout of the output (default: 4300 for coadds and difference images, else 2100)",
    )
    add_legacy_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def add_legacy_options(parser: argparse.ArgumentParser) -> None:
    """``--visit`` / ``--instrument``: what an afw Exposure may lack to be read as a VisitImage."""
    parser.add_argument("--visit", type=int, help="visit id, for afw files without butler cards")
    parser.add_argument("--instrument", help="instrument name, for afw files whose header names none")


_BBOX = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+)\s*,\s*(-?\d+)\s*:\s*(-?\d+)\s*$")


def parse_bbox(text: str) -> Any:
    """Parse ``'Y0:Y1,X0:X1'`` into a `Box` (absolute coordinates, stops exclusive)."""
    from .._geom import Box, Interval

    match = _BBOX.match(text)
    if match is None:
        raise UsageError(f"--bbox must look like 'Y0:Y1,X0:X1' (integers), not {text!r}")
    y0, y1, x0, x1 = (int(g) for g in match.groups())
    if y1 <= y0 or x1 <= x0:
        raise UsageError(f"--bbox {text!r} is empty (stops are exclusive and must exceed starts)")
    return Box(Interval(y0, y1), Interval(x0, x1))


def parse_positions(path: str, default_radius: float | None) -> list[tuple[float, float, float]]:
    """Read ``RA DEC [RADIUS]`` lines (whitespace or commas; ``#`` starts a comment)."""
    positions = []
    with open(path) as stream:
        for number, line in enumerate(stream, start=1):
            fields = line.split("#", 1)[0].replace(",", " ").split()
            if not fields:
                continue
            try:
                values = [float(f) for f in fields]
            except ValueError:
                values = []
            if len(values) == 2 and default_radius is not None:
                values.append(default_radius)
            if len(values) != 3:
                raise UsageError(
                    f"{path}, line {number}: expected 'RA DEC RADIUS' (or 'RA DEC' with --radius), "
                    f"not {line.strip()!r}"
                )
            positions.append((values[0], values[1], values[2]))
    if not positions:
        raise UsageError(f"{path}: no positions")
    return positions


def run(args: argparse.Namespace) -> int:
    from ._formats import check_output, write_container
    from ._sources import open_source, sky_box

    ids = {"visit": args.visit, "instrument": args.instrument}
    if args.bbox is not None and (args.dec is not None or args.radius is not None):
        raise UsageError("--dec/--radius only go with --ra or --positions, not with --bbox")
    if args.ra is not None and (args.dec is None or args.radius is None):
        raise UsageError("--ra needs --dec and --radius")
    if args.positions is not None:
        return _run_positions(args, ids)
    check_output(args.output, args.layout)  # a bad output name fails before anything is read
    source = open_source(args.file)
    if args.bbox is not None:
        box = parse_bbox(args.bbox)
    else:
        box = sky_box(source, args.ra, args.dec, args.radius, **ids)
    obj = source.read(box, **ids)
    write_container(obj, args.output, layout=args.layout)
    print(f"wrote {type(obj).__name__} {box} to {args.output}")
    return 0


def _run_positions(args: argparse.Namespace, ids: dict[str, Any]) -> int:
    """One cut-out per listed position; positions off the image are reported and skipped."""
    import os
    import sys

    from .. import fits
    from ._errors import USAGE
    from ._progress import progress
    from ._sources import open_source, sky_box

    positions = parse_positions(args.positions, args.radius)
    source = open_source(args.file)
    os.makedirs(args.output, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.file.rstrip("/")))[0]
    missed = 0
    for index, (ra, dec, radius) in enumerate(progress(positions, desc="cut-outs", quiet=args.quiet)):
        try:
            box = sky_box(source, ra, dec, radius, **ids)
        except UsageError as err:
            print(f"lsst-images cutout: position {index} skipped: {err}", file=sys.stderr)
            missed += 1
            continue
        out = os.path.join(args.output, f"{stem}_{index:04d}.fits")
        fits.write(source.read(box, **ids), out, layout=args.layout)
    written = len(positions) - missed
    print(f"wrote {written} cut-out(s) of {len(positions)} position(s) to {args.output}")
    return USAGE if missed else 0
