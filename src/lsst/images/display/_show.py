"""`show`: draw an image, masked image, visit image, mask or colour image.

The object is reduced to a `Picture` first (the pixels to draw, their unit,
the mask to overlay, the projection and the bbox) so that drawing is one code
path for every type; `lsst.images.display._html` uses the same reduction for
notebook thumbnails.
"""

from __future__ import annotations

__all__ = ("MAX_OVERLAY", "Picture", "picture_of", "plane_layer", "requested_planes", "show")

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._axes import add_colorbar, extent, has_sky_axes, make_axes, set_pixel_limits, set_title
from ._colors import plane_color
from ._mpl import require_matplotlib
from ._scaling import display_limits, parse_interval, parse_stretch, scaled

#: Largest mask overlay drawn pixel for pixel, per side; larger planes are drawn in blocks.
MAX_OVERLAY = 1024


@dataclasses.dataclass
class Picture:
    """What `show` draws for one object.

    Attributes
    ----------
    kind
        ``"image"`` (one plane, drawn through a colour map), ``"color"`` (an
        RGB array) or ``"mask"`` (mask planes only).
    array
        Pixels, ``(y, x)`` or ``(y, x, 3)``; `None` for a bare mask.
    unit
        Unit of the pixels, or `None`.
    mask
        `Mask` whose planes can be overlaid, or `None`.
    projection
        Pixel-to-sky projection, or `None`.
    bbox
        Absolute bbox of the pixels.
    title
        Short description used as the plot title.
    """

    kind: str
    array: np.ndarray | None
    unit: Any
    mask: Any
    projection: Any
    bbox: Any
    title: str


def picture_of(obj: Any, bbox: Any = None) -> Picture:
    """Reduce a supported object (optionally cut to ``bbox``) to a `Picture`.

    Raises
    ------
    TypeError
        If ``obj`` is not an `Image`, `MaskedImage` (or `VisitImage`), `Mask` or `ColorImage`.
    ValueError
        If ``bbox`` is not inside the object's bbox.
    """
    from .._color_image import ColorImage
    from .._image import Image
    from .._mask import Mask
    from .._masked_image import MaskedImage

    if not isinstance(obj, Image | MaskedImage | Mask | ColorImage):
        raise TypeError(
            "show() draws Image, MaskedImage, VisitImage, Mask and ColorImage objects, "
            f"not {type(obj).__name__}"
        )
    if bbox is not None:
        if obj.bbox.intersection(bbox) != bbox:
            raise ValueError(f"bbox {bbox} is not inside the {type(obj).__name__} bbox {obj.bbox}")
        obj = obj[bbox]
    title = f"{type(obj).__name__} {obj.bbox}"
    projection = obj.projection
    if isinstance(obj, MaskedImage):
        return Picture("image", obj.image.array, obj.unit, obj.mask, projection, obj.bbox, title)
    if isinstance(obj, Image):
        return Picture("image", obj.array, obj.unit, None, projection, obj.bbox, title)
    if isinstance(obj, Mask):
        return Picture("mask", None, None, obj, projection, obj.bbox, title)
    return Picture("color", obj.array, None, None, projection, obj.bbox, title)


def requested_planes(mask: Any, planes: str | Sequence[str] | None) -> list[str]:
    """Return the plane names to overlay for a ``mask=`` argument, in schema order for ``"all"``.

    Raises
    ------
    ValueError
        If a name is not a plane of the mask (the message lists the valid ones),
        or planes are requested for an object without a mask.
    """
    if planes is None:
        return []
    if mask is None:
        raise ValueError("mask planes were requested, but this object has no mask")
    valid = [plane.name for plane in mask.schema if plane is not None]
    if isinstance(planes, str):
        planes = valid if planes == "all" else [planes]
    unknown = [name for name in planes if name not in valid]
    if unknown:
        raise ValueError(
            f"unknown mask plane(s) {', '.join(map(repr, unknown))}; "
            f"valid planes: {', '.join(valid)} (or 'all')"
        )
    return list(dict.fromkeys(planes))


def show(
    obj: Any,
    *,
    ax: Any = None,
    bbox: Any = None,
    stretch: Any = "asinh",
    interval: Any = "zscale",
    mask: str | Sequence[str] | None = None,
    mask_alpha: float = 0.35,
    colorbar: bool = True,
) -> Any:
    """Draw an `Image`, `MaskedImage`, `VisitImage`, `Mask` or `ColorImage`.

    Pixels are drawn in absolute coordinates (tick labels are absolute pixel
    indices, so positions read off the plot can be used to slice the object),
    with an RA/Dec grid when the object has a projection.

    Parameters
    ----------
    obj
        The object to draw.
    ax
        Axes to draw into; by default new axes from `make_axes` (sky axes when
        the object has a projection).  Axes passed in must use absolute pixel
        data coordinates, as those from `make_axes` do.
    bbox
        Draw only this part (a `Box` in absolute coordinates, inside the object's bbox).
    stretch
        One of `STRETCHES` (``"asinh"``, ``"linear"``, ``"sqrt"``, ...) or an
        `astropy.visualization` stretch.
    interval
        How the display limits are chosen: ``"zscale"``, ``"minmax"``, a
        percentile such as ``"99.5%"``, a ``(vmin, vmax)`` pair or an
        `astropy.visualization` interval.
    mask
        Mask planes to overlay: ``"all"``, a plane name or a list of names.
        Each plane is drawn in its own stable colour where it is set, and the
        legend names every requested plane.  Objects larger than `MAX_OVERLAY`
        pixels on a side get overlays in small blocks, each coloured when any
        of its pixels is set.  A bare `Mask` shows all planes
        when this is `None`.
    mask_alpha
        Opacity of the mask overlays.
    colorbar
        Add a colour bar labelled with the pixel unit.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Raises
    ------
    ValueError
        For an unknown stretch, interval or mask plane (listing the valid ones).
    ImportError
        If matplotlib (the ``plot`` extra) is not installed.
    """
    require_matplotlib("lsst.images.display.show")
    picture = picture_of(obj, bbox)
    if picture.kind == "mask" and mask is None:
        mask = "all"
    planes = requested_planes(picture.mask, mask)
    stretch_obj, interval_obj = parse_stretch(stretch), parse_interval(interval)
    if ax is None:
        ax = make_axes(picture.projection)
    image = _draw_pixels(ax, picture, stretch_obj, interval_obj)
    if image is not None and colorbar:
        add_colorbar(ax, image, _unit_label(picture.unit), picture.bbox)
    if planes:
        _draw_planes(ax, picture, planes, mask_alpha)
    set_pixel_limits(ax, picture.bbox)
    set_title(ax, picture.title)
    return ax


def _unit_label(unit: Any) -> str:
    return "pixel value (no unit)" if unit is None else f"pixel value [{unit.to_string()}]"


def _draw_pixels(ax: Any, picture: Picture, stretch: Any, interval: Any) -> Any:
    """Draw the pixels; return the `AxesImage` a colour bar describes (None for masks and RGB)."""
    box = extent(picture.bbox)
    if picture.kind == "mask":
        ax.set_facecolor("0.15")
        return None
    limits = display_limits(picture.array, interval)
    if picture.kind == "color":
        rgb = np.nan_to_num(scaled(picture.array, stretch, limits), nan=0.0)
        ax.imshow(rgb, origin="lower", extent=box, interpolation="nearest")
        return None
    from astropy.visualization import ImageNormalize

    norm = ImageNormalize(vmin=limits[0], vmax=limits[1], stretch=stretch, clip=True)
    return ax.imshow(
        picture.array, origin="lower", extent=box, cmap="gray", norm=norm, interpolation="nearest"
    )


def plane_layer(bits: np.ndarray) -> tuple[np.ndarray, int]:
    """Reduce a plane to at most `MAX_OVERLAY` cells per side; return it and the block size.

    A cell is set when any pixel of its block is set, so no flagged pixel
    disappears from the picture; images up to `MAX_OVERLAY` pixels on a side
    are overlaid pixel for pixel.  Drawing cost grows with the overlay size, so
    this keeps a picture of a full 4k x 4k detector with every plane quick.
    """
    height, width = bits.shape
    block = math.ceil(max(height, width) / MAX_OVERLAY)
    if block == 1:
        return bits, 1
    ny, nx = math.ceil(height / block), math.ceil(width / block)
    padded = np.zeros((ny * block, nx * block), dtype=bool)
    padded[:height, :width] = bits
    return padded.reshape(ny, block, nx, block).any(axis=(1, 3)), block


def _draw_planes(ax: Any, picture: Picture, planes: list[str], alpha: float) -> None:
    """Overlay each plane as one translucent colour where it is set, with a legend entry."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    left, _, bottom, _ = extent(picture.bbox)
    handles = []
    for name in planes:
        color = plane_color(name)
        bits, block = plane_layer(picture.mask.get(name))
        layer = np.ma.masked_array(np.ones(bits.shape, dtype=np.uint8), mask=~bits)
        ax.imshow(
            layer,
            origin="lower",
            extent=(left, left + bits.shape[1] * block, bottom, bottom + bits.shape[0] * block),
            cmap=ListedColormap([color]),
            vmin=0,
            vmax=1,
            alpha=alpha,
            interpolation="nearest",
            label=name,
        )
        handles.append(Patch(facecolor=color, edgecolor="none", label=name))
    from matplotlib.transforms import offset_copy

    # Below the bottom tick labels and axis label, whatever the size of the axes: an
    # offset in points (the sky axes' RA/Dec labels take more room than pixel ticks).
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-42 if has_sky_axes(ax) else -30, units="points")
    ax.legend(
        handles=handles,
        title="mask planes",
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below,
        ncol=min(4, len(handles)),
        fontsize="small",
        frameon=False,
    )
