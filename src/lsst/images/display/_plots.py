"""`show_psf` and `show_field`: pictures of the smooth components of a visit image."""

from __future__ import annotations

__all__ = ("field_grid", "kernel_fwhm", "pixel_scale_arcsec", "show_field", "show_psf")

import math
from typing import Any

import numpy as np

from ._axes import add_colorbar, extent, make_axes, set_pixel_limits, set_title
from ._mpl import require_matplotlib
from ._scaling import display_limits, parse_interval, parse_stretch

#: FWHM of a Gaussian in units of its sigma.
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

#: Most evaluation points per side when a field is drawn (fields are smooth).
FIELD_GRID = 256


def kernel_fwhm(kernel: Any) -> float:
    """Gaussian-equivalent FWHM (pixels) of a kernel image, from its second moments.

    ``sqrt((Ixx + Iyy) / 2)`` is the sigma of the circular Gaussian with the
    same trace of the second-moment matrix, which is how Rubin summary
    statistics quote PSF size; the FWHM is that sigma times 2.3548.
    """
    array = np.asarray(kernel.array, dtype=np.float64)
    total = array.sum()
    if not total > 0:
        raise ValueError("the PSF kernel has no positive flux, so its FWHM is undefined")
    ys, xs = np.indices(array.shape, dtype=np.float64)
    cx, cy = (array * xs).sum() / total, (array * ys).sum() / total
    ixx = (array * (xs - cx) ** 2).sum() / total
    iyy = (array * (ys - cy) ** 2).sum() / total
    return _FWHM_PER_SIGMA * math.sqrt(max((ixx + iyy) / 2.0, 0.0))


def pixel_scale_arcsec(projection: Any, x: float, y: float) -> float:
    """Local pixel scale (arcsec per pixel, square root of the pixel area) at a point."""
    sky = projection.pixel_to_sky(x=np.array([x, x + 1.0, x]), y=np.array([y, y, y + 1.0]))
    dx = sky[0].spherical_offsets_to(sky[1])
    dy = sky[0].spherical_offsets_to(sky[2])
    area = abs(dx[0].arcsec * dy[1].arcsec - dx[1].arcsec * dy[0].arcsec)
    return math.sqrt(area)


def show_psf(
    visit: Any,
    *,
    x: float | None = None,
    y: float | None = None,
    ax: Any = None,
    stretch: Any = "linear",
    interval: Any = "minmax",
    colorbar: bool = True,
) -> Any:
    """Draw the PSF kernel image at a point, titled with its FWHM.

    Parameters
    ----------
    visit
        A `VisitImage` (the FWHM is also given in arcsec through its
        projection) or a `PointSpreadFunction`.
    x, y
        Absolute pixel position; default the centre of the visit's bbox (or of
        the PSF's bounds).
    ax, stretch, interval, colorbar
        As for `show`; the kernel is drawn in its own pixel offsets.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.
    """
    require_matplotlib("lsst.images.display.show_psf")
    psf = getattr(visit, "psf", visit)
    if not hasattr(psf, "compute_kernel_image"):
        raise TypeError(f"show_psf() needs a VisitImage or a PointSpreadFunction, not {type(visit).__name__}")
    area = visit.bbox if hasattr(visit, "bbox") else psf.bounds.bbox
    x = float(area.x.center) if x is None else float(x)
    y = float(area.y.center) if y is None else float(y)
    stretch_obj, interval_obj = parse_stretch(stretch), parse_interval(interval)
    kernel = psf.compute_kernel_image(x=x, y=y)
    fwhm = kernel_fwhm(kernel)
    title = f"PSF at (x={x:g}, y={y:g}): FWHM {fwhm:.3g} px"
    projection = getattr(visit, "projection", None)
    if projection is not None:
        title += f" = {fwhm * pixel_scale_arcsec(projection, x, y):.3g} arcsec"
    if ax is None:
        ax = make_axes(None)
    image = _draw_values(ax, kernel.array, kernel.bbox, stretch_obj, interval_obj, cmap="viridis")
    if colorbar:
        add_colorbar(ax, image, "kernel value (sums to 1)", kernel.bbox)
    ax.set_xlabel("x offset (pixel)")
    ax.set_ylabel("y offset (pixel)")
    set_pixel_limits(ax, kernel.bbox)
    set_title(ax, title)
    return ax


def show_field(
    field: Any,
    bbox: Any = None,
    *,
    ax: Any = None,
    stretch: Any = "linear",
    interval: Any = "minmax",
    colorbar: bool = True,
    title: str | None = None,
) -> Any:
    """Draw a field (background, photometric scaling, aperture correction) over an image area.

    Fields are smooth, so they are evaluated on a grid of at most `FIELD_GRID`
    points per side spanning ``bbox`` rather than on every pixel: drawing the
    field of a full 4k x 4k detector costs the same as a small cut-out.

    Parameters
    ----------
    field
        A field (anything with ``evaluate(x=, y=)``, ``bounds`` and ``unit``),
        or a `Background` (its ``field`` is drawn).
    bbox
        Area to draw, in absolute pixels; default ``field.bounds.bbox``.
        Pass ``visit.bbox`` to see the field over one image.
    ax, stretch, interval, colorbar
        As for `show`.
    title
        Plot title; default the field type and its unit.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.
    """
    require_matplotlib("lsst.images.display.show_field")
    name = getattr(field, "name", None) if hasattr(field, "field") else None
    field = getattr(field, "field", field)
    if not hasattr(field, "evaluate"):
        raise TypeError(f"show_field() needs a field or a Background, not {type(field).__name__}")
    if bbox is None:
        bbox = field.bounds.bbox
    stretch_obj, interval_obj = parse_stretch(stretch), parse_interval(interval)
    values = field_grid(field, bbox)
    if ax is None:
        ax = make_axes(None)
    image = _draw_values(ax, values, bbox, stretch_obj, interval_obj, cmap="magma")
    unit = field.unit
    if colorbar:
        label = "value (no unit)" if unit is None else f"value [{unit.to_string()}]"
        add_colorbar(ax, image, label, bbox)
    set_pixel_limits(ax, bbox)
    if title is None:
        title = f"{name + ': ' if name else ''}{type(field).__name__} over {bbox}"
    set_title(ax, title)
    return ax


def field_grid(field: Any, bbox: Any, size: int = FIELD_GRID) -> np.ndarray:
    """Evaluate a field at the centres of a grid of at most ``size`` x ``size`` cells covering ``bbox``."""
    ny, nx = min(bbox.y.size, size), min(bbox.x.size, size)
    left, right, bottom, top = extent(bbox)
    xs = left + (np.arange(nx) + 0.5) * (right - left) / nx
    ys = bottom + (np.arange(ny) + 0.5) * (top - bottom) / ny
    return np.asarray(field.evaluate(x=xs[np.newaxis, :], y=ys[:, np.newaxis]), dtype=np.float64)


def _draw_values(ax: Any, values: np.ndarray, bbox: Any, stretch: Any, interval: Any, cmap: str) -> Any:
    from astropy.visualization import ImageNormalize

    vmin, vmax = display_limits(values, interval)
    norm = ImageNormalize(vmin=vmin, vmax=vmax, stretch=stretch, clip=True)
    return ax.imshow(
        values, origin="lower", extent=extent(bbox), cmap=cmap, norm=norm, interpolation="nearest"
    )
