"""Axes in absolute pixel coordinates, with RA/Dec through WCSAxes when there is a projection.

Every picture in `lsst.images.display` is drawn in *absolute* pixel coordinates:
pixel ``(y, x)`` of an image whose bbox starts at ``(1000, 2000)`` is drawn at
data coordinates ``(x, y) = (2000, 1000)``, centred on the integer.  For an
object with a projection the axes are astropy ``WCSAxes`` built on the
projection's APE-14 view *without* a bbox (its pixel coordinates are then the
absolute ones), so RA/Dec ticks and grid are exact everywhere in the image,
and a second, pixel-coordinate overlay labels the top and right edges with
absolute pixel indices.
"""

from __future__ import annotations

__all__ = ("add_colorbar", "extent", "has_sky_axes", "make_axes", "set_pixel_limits", "set_title")

from typing import Any

from ._mpl import require_matplotlib

#: Figure size (inches) of a figure `make_axes` creates; at the default 100 dpi the
#: PNG is 800x700 pixels.
FIGSIZE = (8.0, 7.0)

_OVERLAY_ATTR = "_lsst_images_pixel_overlay"


def extent(bbox: Any) -> tuple[float, float, float, float]:
    """Return the matplotlib ``extent`` (left, right, bottom, top) of a box's pixel edges."""
    return (bbox.x.start - 0.5, bbox.x.stop - 0.5, bbox.y.start - 0.5, bbox.y.stop - 0.5)


def make_axes(obj: Any = None, *, figure: Any = None, subplot: Any = 111) -> Any:
    """Create axes suited to drawing ``obj`` with `show`: sky axes if it has a projection.

    Parameters
    ----------
    obj
        An image-like object (anything with a ``projection`` attribute), a
        `Projection`, or `None` for plain pixel axes.
    figure
        Figure to add the axes to; by default a new ``pyplot`` figure (so that
        notebooks display it).  Pass a `matplotlib.figure.Figure` to stay
        outside pyplot (as the command-line tool does).
    subplot
        Subplot specification passed to ``figure.add_subplot``.

    Returns
    -------
    matplotlib.axes.Axes
        `astropy.visualization.wcsaxes.WCSAxes` when there is a projection.
    """
    require_matplotlib("lsst.images.display")
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=FIGSIZE)
    projection = getattr(obj, "projection", obj) if obj is not None else None
    if projection is None or not hasattr(projection, "as_astropy"):
        ax = figure.add_subplot(subplot)
        _label_pixel_axes(ax)
        return ax
    wcs = projection.as_astropy()  # no bbox: WCS pixel coordinates are absolute pixel coordinates
    ax = figure.add_subplot(subplot, projection=wcs)
    ra, dec = ax.coords[0], ax.coords[1]
    ra.set_axislabel("RA (ICRS)")
    dec.set_axislabel("Dec (ICRS)")
    _place_sky_ticks(ax, "b", "l")
    ax.coords.grid(True, color="white", alpha=0.35, linestyle="solid", linewidth=0.6)
    setattr(ax, _OVERLAY_ATTR, _pixel_overlay(ax, wcs))
    return ax


def _place_sky_ticks(ax: Any, ra_side: str, dec_side: str) -> None:
    for coord, side in ((ax.coords[0], ra_side), (ax.coords[1], dec_side)):
        coord.set_ticks_position(side)
        coord.set_ticklabel_position(side)
        coord.set_axislabel_position(side)


def _orient_sky_ticks(ax: Any, bbox: Any) -> None:
    """Put RA on the edge along which it changes most (bottom, or left for rotated images)."""
    import numpy as np

    left, right, bottom, top = extent(bbox)
    sky = ax.wcs.pixel_to_world(np.array([left, right, left]), np.array([bottom, bottom, top]))
    along_bottom = sky[0].spherical_offsets_to(sky[1])
    along_left = sky[0].spherical_offsets_to(sky[2])
    ra_on_bottom = abs(along_bottom[0].deg) * abs(along_left[1].deg) >= abs(along_bottom[1].deg) * abs(
        along_left[0].deg
    )
    _place_sky_ticks(ax, "b" if ra_on_bottom else "l", "l" if ra_on_bottom else "b")


def _label_pixel_axes(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("x (absolute pixel)")
    ax.set_ylabel("y (absolute pixel)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _pixel_overlay(ax: Any, wcs: Any) -> Any:
    """Add absolute pixel ticks on the top and right edges of a ``WCSAxes``."""
    import astropy.units as u
    from astropy.visualization.wcsaxes.wcsapi import WCSWorld2PixelTransform

    meta = {"type": ("scalar", "scalar"), "wrap": (None, None), "unit": (u.one, u.one), "name": ("x", "y")}
    overlay = ax.get_coords_overlay(WCSWorld2PixelTransform(wcs), coord_meta=meta)
    for coord, side, label in (
        (overlay[0], "t", "x (absolute pixel)"),
        (overlay[1], "r", "y (absolute pixel)"),
    ):
        coord.set_ticks_position(side)
        coord.set_ticklabel_position(side)
        coord.set_axislabel_position(side)
        coord.set_axislabel(label)
        coord.set_major_formatter("%d")
        coord.grid(False)
    return overlay


def set_pixel_limits(ax: Any, bbox: Any) -> None:
    """Set the view to a box (absolute pixels) and put integer pixel ticks on the overlay."""
    left, right, bottom, top = extent(bbox)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    overlay = getattr(ax, _OVERLAY_ATTR, None)
    if overlay is None:
        return
    _orient_sky_ticks(ax, bbox)
    import astropy.units as u
    from matplotlib.ticker import MaxNLocator

    for coord, (low, high) in ((overlay[0], (left, right)), (overlay[1], (bottom, top))):
        values = [v for v in MaxNLocator(nbins=5, integer=True).tick_values(low, high) if low <= v <= high]
        coord.set_ticks(values=values * u.one)


def has_sky_axes(ax: Any) -> bool:
    """Whether ``ax`` was made by `make_axes` for an object with a projection."""
    return getattr(ax, _OVERLAY_ATTR, None) is not None


def set_title(ax: Any, title: str) -> None:
    """Set the title, above the pixel tick labels of sky axes."""
    ax.set_title(title, pad=42 if has_sky_axes(ax) else 6)


def add_colorbar(ax: Any, image: Any, label: str, bbox: Any) -> Any:
    """Add a labelled colour bar as tall as the image, with ticks inside the display range.

    Stretched norms otherwise get extra, overlapping ticks at both ends.
    """
    from matplotlib.ticker import MaxNLocator

    ratio = min(max(bbox.y.size / bbox.x.size, 0.2), 5.0)
    pad = 0.16 if has_sky_axes(ax) else 0.04
    bar = ax.figure.colorbar(image, ax=ax, pad=pad, fraction=0.046 * ratio)
    vmin, vmax = image.norm.vmin, image.norm.vmax
    bar.set_ticks([v for v in MaxNLocator(nbins=7).tick_values(vmin, vmax) if vmin <= v <= vmax])
    bar.set_label(label)
    return bar
