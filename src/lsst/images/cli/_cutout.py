"""``lsst-images cutout``: write a sub-image of an lsst.images FITS file to a new file.

The box is given either directly in absolute (logical) pixel coordinates,
``--bbox Y0:Y1,X0:X1`` (stop exclusive, like Python slices), or as a sky position and
radius, ``--ra DEG --dec DEG --radius ARCSEC``, which is converted to the smallest
pixel box containing the circle (clipped to the image).  Only the tiles intersecting
the box are read, so cut-outs of large or remote files are fast.  The output is written
by our own writer (default lossless compression), in the 2100 layout unless
``--layout 4300`` is given.
"""

from __future__ import annotations

__all__ = ("add_parser", "parse_bbox", "run", "sky_box")

import argparse
import re
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "cutout",
        help="write a sub-image (pixel box or sky circle) of an lsst.images file to a new file",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("file", help="input lsst.images FITS file: path, file:// or http(s)/s3 URL")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bbox", help="absolute pixel box 'Y0:Y1,X0:X1' (stop exclusive)")
    where.add_argument("--ra", type=float, help="right ascension of the centre, degrees (ICRS)")
    parser.add_argument("--dec", type=float, help="declination of the centre, degrees (ICRS)")
    parser.add_argument("--radius", type=float, help="radius of the circle to include, arcseconds")
    parser.add_argument("-o", "--output", required=True, help="output FITS file")
    parser.add_argument(
        "--layout",
        choices=("2100", "4300"),
        default="2100",
        help="container layout of the output (default 2100)",
    )
    return parser


_BBOX = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+)\s*,\s*(-?\d+)\s*:\s*(-?\d+)\s*$")


def parse_bbox(text: str) -> Any:
    """Parse ``'Y0:Y1,X0:X1'`` into a `Box` (absolute coordinates, stops exclusive)."""
    from .._geom import Box, Interval

    match = _BBOX.match(text)
    if match is None:
        raise ValueError(f"--bbox must look like 'Y0:Y1,X0:X1' (integers), not {text!r}")
    y0, y1, x0, x1 = (int(g) for g in match.groups())
    if y1 <= y0 or x1 <= x0:
        raise ValueError(f"--bbox {text!r} is empty (stops are exclusive and must exceed starts)")
    return Box(Interval(y0, y1), Interval(x0, x1))


def _class_for(path: str) -> tuple[type, Any]:
    """Return the lsst.images class stored in an archive and its full bbox (from the JSON tree)."""
    import lsst.images as li

    from ..fits import FitsInputArchive
    from ..fits._layout import to_internal
    from ._info import guess_class

    with FitsInputArchive.open(path) as archive:
        tree = archive.get_tree_dict()
        if archive.layout == "4300":
            tree = to_internal(tree)
        name = guess_class(tree)
        start, shape = _origin_and_shape(tree, name)
    from .._geom import Box, Interval

    cls = getattr(li, name, None)
    if cls is None:
        raise TypeError(f"{path}: cannot cut out a {name!r} object")
    full = Box(Interval(start[0], start[0] + shape[0]), Interval(start[1], start[1] + shape[1]))
    return cls, full


def _origin_and_shape(tree: dict[str, Any], name: str) -> tuple[list[int], list[int]]:
    node = tree.get("image", {}) if name in ("MaskedImage", "VisitImage") else tree
    data = node.get("data")
    if isinstance(data, list):
        ref = data[0]
    elif isinstance(data, dict) and "value" in data:
        ref = data["value"]
    else:
        ref = data
    return list(node.get("start", [0, 0])), list(ref.get("shape", [0, 0]))


def sky_box(path: str, cls: type, full: Any, ra: float, dec: float, radius_arcsec: float) -> Any:
    """Return the pixel box (clipped to the image bbox ``full``) covering a sky circle."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from .. import fits
    from .._geom import Box, Interval, NoOverlapError

    # A one-pixel read is the cheapest way to get the projection of any stored class.
    corner = Box(Interval(full.y.start, full.y.start + 1), Interval(full.x.start, full.x.start + 1))
    obj = fits.read(cls, path, bbox=corner).deserialized
    projection = getattr(obj, "projection", None)
    if projection is None:
        raise ValueError(f"{path}: the object has no projection, so --ra/--dec cannot be converted to pixels")
    centre = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    circle = Box.from_sky_circle(centre, radius_arcsec * u.arcsec, projection)
    try:
        return full.intersection(circle)
    except NoOverlapError:
        raise ValueError(
            f"the circle of {radius_arcsec} arcsec around ({ra}, {dec}) misses the image bbox {full}"
        ) from None


def run(args: argparse.Namespace) -> int:
    from .. import fits

    cls, full = _class_for(args.file)
    if args.bbox is not None:
        if args.dec is not None or args.radius is not None:
            raise ValueError("--dec/--radius only go with --ra, not with --bbox")
        box = parse_bbox(args.bbox)
    else:
        if args.dec is None or args.radius is None:
            raise ValueError("--ra needs --dec and --radius")
        if args.radius <= 0:
            raise ValueError("--radius must be positive")
        box = sky_box(args.file, cls, full, args.ra, args.dec, args.radius)
    obj = fits.read(cls, args.file, bbox=box).deserialized
    fits.write(obj, args.output, layout=args.layout)
    print(f"wrote {type(obj).__name__} {box} to {args.output}")
    return 0
