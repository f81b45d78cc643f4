"""``lsst-images convert``: rewrite a file in the lsst.images layout or another container.

An afw Exposure with a Detector and a PSF becomes a VisitImage (pass ``--visit``
and, when the header does not name a known instrument, ``--instrument``); any
other afw MaskedImage/Exposure file becomes a MaskedImage with its legacy mask
plane names.  ``--kind`` forces one or the other.  An lsst.images file (either
layout) is rewritten as the class it holds.  The output's extension picks the
container: ``.fits`` (lsst.images FITS), ``.json`` or ``.sdf``/``.h5`` (Starlink NDF;
needs h5py).  No ``lsst.afw`` is needed.
"""

from __future__ import annotations

__all__ = ("add_parser", "convert", "run")

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "convert",
        help="convert an afw Exposure/MaskedImage (or an lsst.images file) to an lsst.images file",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("legacy", nargs="+", help="input FITS file(s): written by lsst.afw or lsst.images")
    parser.add_argument(
        "output",
        help="output file: .fits, .json, or .sdf/.h5 (NDF); a folder for several inputs (written as .fits)",
    )
    parser.add_argument(
        "--kind",
        choices=("auto", "visit", "masked"),
        default="auto",
        help="what to convert to: VisitImage, MaskedImage, or decide from the file (default auto)",
    )
    parser.add_argument("--visit", type=int, help="visit id (needed unless the file has butler cards)")
    parser.add_argument("--instrument", help="instrument name (needed unless the header names one)")
    parser.add_argument(
        "--layout",
        choices=("2100", "4300"),
        default=None,
        help="FITS layout of a .fits output (default 2100)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar for several inputs")
    return parser


def _has_visit_components(path: str) -> bool:
    """Whether an afw file has the Detector and PSF a VisitImage needs."""
    from ..legacy._reader import _open

    with _open(path) as lf:
        header = lf.primary_header
        return bool(header.get("DETECTOR_ID") or header.get("ARCHIVE_ID_DETECTOR")) and bool(
            header.get("PSF_ID") or header.get("ARCHIVE_ID_PSF")
        )


def convert(
    legacy: str,
    output: str,
    *,
    kind: str = "auto",
    visit: int | None = None,
    instrument: str | None = None,
    layout: str | None = None,
) -> Any:
    """Read an afw or lsst.images file and write it in the container ``output``'s extension names.

    ``kind``, ``visit`` and ``instrument`` only apply to afw files; an lsst.images
    file is read as the class it holds.  Returns the object written.

    Raises
    ------
    ValueError
        If the output extension is unknown (checked before the input is read), or
        ``layout`` is given for a non-FITS output.
    """
    from ..legacy import read_masked_image, read_visit_image
    from ._formats import check_output, write_container
    from ._sources import open_source

    check_output(output, layout)
    source = open_source(legacy)
    if not source.is_legacy:
        obj = source.read()
        write_container(obj, output, layout=layout)
        return obj
    if kind == "auto":
        kind = "visit" if _has_visit_components(legacy) else "masked"
    if kind == "visit":
        obj = read_visit_image(legacy, visit=visit, instrument=instrument)
    else:
        obj = read_masked_image(legacy)
    write_container(obj, output, layout=layout)
    return obj


def run(args: argparse.Namespace) -> int:
    """Convert one file, or several into the folder ``args.output`` (with a progress bar)."""
    import os

    from ._errors import UsageError
    from ._progress import progress

    several = len(args.legacy) > 1
    if several and os.path.exists(args.output) and not os.path.isdir(args.output):
        raise UsageError(f"with several inputs the output must be a folder; {args.output} is a file")
    if several:
        os.makedirs(args.output, exist_ok=True)
    for legacy in progress(args.legacy, desc="converting", quiet=args.quiet or not several):
        name = os.path.splitext(os.path.basename(legacy))[0] + ".fits"
        output = os.path.join(args.output, name) if several else args.output
        obj = convert(
            legacy,
            output,
            kind=args.kind,
            visit=args.visit,
            instrument=args.instrument,
            layout=args.layout,
        )
        print(f"wrote {type(obj).__name__} {obj.bbox} to {output}", file=sys.stderr)
    return 0
