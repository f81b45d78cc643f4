"""``lsst-images show FILE -o OUT.png``: a picture of an image file (the ``plot`` extra).

The picture is what `lsst.images.display.show` draws: absolute pixel axes, an
RA/Dec grid when the file has a projection, mask planes as translucent colour
overlays (``--mask all`` or plane names) and a colour bar with the pixel unit.
``--bbox Y0:Y1,X0:X1`` or ``--ra/--dec/--radius`` draws a cut-out; only the
tiles (for afw files, the rows) of the cut-out are read.  Works on lsst.images
and afw-written files alike.
"""

from __future__ import annotations

__all__ = ("add_parser", "run")

import argparse
from typing import Any

from ._errors import UsageError

#: Output resolution; with the default figure size (8 x 7 in) the PNG is about 800 x 650 pixels.
DPI = 100


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from ..display._scaling import INTERVALS, STRETCHES
    from ._cutout import add_legacy_options

    parser = subparsers.add_parser(
        "show",
        help="draw an image file (or a cut-out) to a PNG, with sky axes and mask overlays",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("file", help="FITS file (lsst.images or afw): path, file:// or http(s)/s3 URL")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--bbox", help="draw only this absolute pixel box 'Y0:Y1,X0:X1' (stop exclusive)")
    where.add_argument("--ra", type=float, help="right ascension of the cut-out centre, degrees (ICRS)")
    parser.add_argument("--dec", type=float, help="declination of the cut-out centre, degrees (ICRS)")
    parser.add_argument("--radius", type=float, help="radius of the cut-out, arcseconds")
    parser.add_argument(
        "--mask", nargs="+", metavar="PLANE", help="overlay mask planes: 'all' or plane names"
    )
    parser.add_argument(
        "--stretch", default="asinh", help=f"pixel stretch: {', '.join(STRETCHES)} (default asinh)"
    )
    parser.add_argument(
        "--interval",
        default="zscale",
        help=f"display limits: {', '.join(INTERVALS)} or a percentile such as 99.5%% (default zscale)",
    )
    parser.add_argument("--mask-alpha", type=float, default=0.35, help="opacity of mask overlays (0-1)")
    parser.add_argument("--no-colorbar", action="store_true", help="omit the colour bar")
    parser.add_argument("--dpi", type=int, default=DPI, help=f"output resolution (default {DPI})")
    parser.add_argument(
        "-o", "--output", required=True, help="output image file (PNG; any matplotlib format)"
    )
    add_legacy_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..display._mpl import require_matplotlib
    from ..display._scaling import parse_interval, parse_stretch
    from ..display._show import picture_of, requested_planes
    from ._cutout import parse_bbox
    from ._sources import open_source, sky_box

    require_matplotlib("lsst-images show")
    if args.bbox is not None and (args.dec is not None or args.radius is not None):
        raise UsageError("--dec/--radius only go with --ra, not with --bbox")
    if args.ra is not None and (args.dec is None or args.radius is None):
        raise UsageError("--ra needs --dec and --radius")
    if not 0.0 <= args.mask_alpha <= 1.0:
        raise UsageError("--mask-alpha must be between 0 and 1")
    try:
        parse_stretch(args.stretch)
        parse_interval(args.interval)
    except ValueError as err:
        raise UsageError(str(err)) from None
    ids = {"visit": args.visit, "instrument": args.instrument}
    source = open_source(args.file)
    box = None
    if args.bbox is not None:
        box = parse_bbox(args.bbox)
    elif args.ra is not None:
        box = sky_box(source, args.ra, args.dec, args.radius, **ids)
    obj = source.read(box, **ids)
    mask = None if args.mask is None else "all" if args.mask == ["all"] else args.mask
    try:
        requested_planes(picture_of(obj).mask, mask)
    except ValueError as err:
        raise UsageError(str(err)) from None
    figure = render(
        obj,
        mask=mask,
        stretch=args.stretch,
        interval=args.interval,
        alpha=args.mask_alpha,
        colorbar=not args.no_colorbar,
    )
    figure.savefig(args.output, dpi=args.dpi, bbox_inches="tight")
    print(f"wrote a picture of {type(obj).__name__} {obj.bbox} to {args.output}")
    return 0


def render(obj: Any, *, mask: Any, stretch: str, interval: str, alpha: float, colorbar: bool) -> Any:
    """Draw ``obj`` on a new figure that is not registered with pyplot (no GUI backend needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..display import make_axes, show
    from ..display._axes import FIGSIZE

    figure = Figure(figsize=FIGSIZE)
    FigureCanvasAgg(figure)
    ax = make_axes(obj, figure=figure)
    show(obj, ax=ax, mask=mask, stretch=stretch, interval=interval, mask_alpha=alpha, colorbar=colorbar)
    return figure
