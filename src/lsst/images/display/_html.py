"""Notebook displays (``_repr_html_``) of images and visit-image components.

Each display is a compact table of what matters (type, bbox, shape, dtype,
unit, mask planes, projection, PSF, metadata) and, for pixel data, a small
thumbnail.  The cost is bounded whatever the size of the object: thumbnails
come from a strided view of at most `THUMBNAIL` pixels per side (never a copy
of the full array), display limits from that view, fields are evaluated on a
coarse grid and PSFs at one point.  matplotlib is imported only to encode a
thumbnail; without it (no ``plot`` extra) the table is shown alone.
"""

from __future__ import annotations

__all__ = ("THUMBNAIL", "repr_html", "thumbnail_png")

import base64
import html
import io
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._colors import plane_color
from ._mpl import matplotlib_available
from ._scaling import display_limits, scaled, strided

#: Largest thumbnail side, in pixels.
THUMBNAIL = 128

#: Evaluation points per side for field thumbnails and value ranges.
_FIELD_SAMPLES = 64


# ---------------------------------------------------------------------- thumbnails


def thumbnail_png(
    values: np.ndarray | None, *, stretch: str = "asinh", interval: str = "zscale"
) -> bytes | None:
    """Encode a small PNG of a 2-d array (grey) or a ``(y, x, 3)`` RGB array; None without matplotlib.

    ``values`` is decimated to at most `THUMBNAIL` pixels per side first (a
    strided view), then stretched like `show` would; row 0 is at the bottom.
    """
    if values is None or not matplotlib_available() or values.size == 0:
        return None
    small = strided(values, THUMBNAIL)
    if small.ndim == 3 and small.dtype == np.uint8:
        display = small.astype(np.float64) / 255.0
    else:
        display = scaled(small, stretch, display_limits(small, interval))
    return _png(display)


def _png(display: np.ndarray) -> bytes:
    """PNG bytes of 0..1 values (grey for 2-d, RGB for 3-d; NaN drawn dark red)."""
    from matplotlib.image import imsave

    if display.ndim == 2:
        rgb = np.repeat(np.nan_to_num(display, nan=0.0)[..., np.newaxis], 3, axis=-1)
        rgb[np.isnan(display)] = (0.5, 0.0, 0.0)
    else:
        rgb = np.nan_to_num(display, nan=0.0)
    buffer = io.BytesIO()
    imsave(buffer, np.clip(rgb, 0.0, 1.0), format="png", origin="lower")
    return buffer.getvalue()


def _mask_png(mask: Any) -> bytes | None:
    """Thumbnail of a mask: each set plane in its `plane_color`, later planes on top."""
    if not matplotlib_available():
        return None
    small = strided(mask.array, THUMBNAIL)
    rgb = np.full(small.shape[:2] + (3,), 0.15)
    for plane in mask.schema:
        if plane is None:
            continue
        bit = mask.schema.bit(plane.name)
        rgb[(small[..., bit.index] & bit.mask) != 0] = plane_color(plane.name)
    return _png(rgb)


def _img_tag(png: bytes | None, title: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" title="{html.escape(title)}" '
        f'style="max-width:{2 * THUMBNAIL}px;image-rendering:pixelated;width:{2 * THUMBNAIL}px"/>'
    )


# ---------------------------------------------------------------------- tables


def _table(title: str, rows: Iterable[tuple[str, Any]], picture: str = "") -> str:
    cells = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(str(k))}</th>'
        f'<td style="text-align:left">{html.escape(str(v))}</td></tr>'
        for k, v in rows
        if v is not None
    )
    table = f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>{cells}</table>"
    if not picture:
        return f"<div>{table}</div>"
    return f'<div style="display:flex;gap:1em;align-items:flex-start">{table}<div>{picture}</div></div>'


def _unit(unit: Any) -> str:
    return "(none)" if unit is None else unit.to_string()


def _projection_summary(projection: Any, bbox: Any) -> str | None:
    if projection is None:
        return None
    from ._plots import pixel_scale_arcsec

    x, y = float(bbox.x.center), float(bbox.y.center)
    try:
        centre = projection.pixel_to_sky(x=x, y=y)
        scale = pixel_scale_arcsec(projection, x, y)
    except Exception as err:  # a display must not fail on a projection that cannot be evaluated
        return f"{type(projection).__name__} (not evaluable at the centre: {err})"
    return f"centre RA {centre.ra.deg:.6f}°, Dec {centre.dec.deg:+.6f}°; {scale:.4g}″/pixel"


def _psf_summary(psf: Any, x: float, y: float) -> str:
    from ._plots import kernel_fwhm

    try:
        kernel = psf.compute_kernel_image(x=x, y=y)
        return f"{type(psf).__name__}, FWHM {kernel_fwhm(kernel):.3g} px at (x={x:g}, y={y:g})"
    except Exception as err:  # e.g. a PSF whose optional dependency is missing
        return f"{type(psf).__name__} (not evaluable: {err})"


def _image_html(obj: Any) -> str:
    from .._color_image import ColorImage
    from .._mask import Mask
    from .._masked_image import MaskedImage
    from .._visit_image import VisitImage

    bbox = obj.bbox
    rows: list[tuple[str, Any]] = [("bbox", bbox), ("shape (y, x)", tuple(bbox.shape))]
    if isinstance(obj, Mask):
        rows.append(("dtype", f"{obj.array.dtype} x {obj.array.shape[-1]}"))
        planes, png = list(obj.schema.names), _mask_png(obj)
    elif isinstance(obj, MaskedImage):
        rows += [("dtype", obj.image.array.dtype), ("unit", _unit(obj.unit))]
        planes, png = list(obj.mask.schema.names), thumbnail_png(obj.image.array)
    elif isinstance(obj, ColorImage):
        rows.append(("dtype", f"{obj.array.dtype} (RGB)"))
        planes, png = [], thumbnail_png(obj.array, stretch="linear", interval="minmax")
    else:
        rows += [("dtype", obj.array.dtype), ("unit", _unit(obj.unit))]
        planes, png = [], thumbnail_png(obj.array)
    if planes:
        rows.append(("mask planes", ", ".join(planes)))
    rows.append(("projection", _projection_summary(obj.projection, bbox) or "(none)"))
    if isinstance(obj, VisitImage):
        rows.append(("PSF", _psf_summary(obj.psf, float(bbox.x.center), float(bbox.y.center))))
        rows.append(("detector", f"{obj.detector.name} (id {obj.detector.id})"))
        if obj.photometric_scaling is not None:
            rows.append(("photometric scaling", type(obj.photometric_scaling).__name__))
        rows.append(("backgrounds", ", ".join(obj.backgrounds) or "(none)"))
        rows.append(("aperture corrections", f"{len(obj.aperture_corrections)} fields"))
    rows.append(("metadata", f"{len(obj.metadata)} entries"))
    return _table(type(obj).__name__, rows, _img_tag(png, str(bbox)))


def _field_html(field: Any, name: str | None = None) -> str:
    from ._plots import field_grid

    bbox = field.bounds.bbox
    values = np.asarray(field_grid(field, bbox, _FIELD_SAMPLES), dtype=np.float64)
    finite = values[np.isfinite(values)]
    span = f"{finite.min():.6g} … {finite.max():.6g}" if finite.size else "(no finite values)"
    rows = [("bounds", bbox), ("unit", _unit(field.unit)), ("values over the bounds", span)]
    title = f"{name}: {type(field).__name__}" if name else type(field).__name__
    return _table(title, rows, _img_tag(thumbnail_png(values, stretch="linear", interval="minmax"), title))


def _psf_html(psf: Any) -> str:
    bbox = psf.bounds.bbox
    x, y = float(bbox.x.center), float(bbox.y.center)
    rows = [("bounds", bbox), ("kernel bbox", psf.kernel_bbox), ("at the centre", _psf_summary(psf, x, y))]
    try:
        png = thumbnail_png(psf.compute_kernel_image(x=x, y=y).array, stretch="linear", interval="minmax")
    except Exception:  # the summary row already says why
        png = None
    return _table(type(psf).__name__, rows, _img_tag(png, "PSF kernel at the centre"))


def repr_html(obj: Any) -> str:
    """HTML display of an image, mask, PSF, field, projection, background map or detector."""
    from .._backgrounds import BackgroundMap
    from .._generalized_image import GeneralizedImage
    from .._transforms import Projection
    from ..cameras import Detector
    from ..fields import BaseField
    from ..psfs import PointSpreadFunction

    if isinstance(obj, GeneralizedImage):
        return _image_html(obj)
    if isinstance(obj, PointSpreadFunction):
        return _psf_html(obj)
    if isinstance(obj, BaseField):
        return _field_html(obj)
    if isinstance(obj, BackgroundMap):
        subtracted = obj.subtracted.name if obj.subtracted is not None else None
        rows = [
            (
                name,
                f"{type(b.field).__name__} [{_unit(b.field.unit)}]"
                + (" (subtracted)" if name == subtracted else ""),
            )
            for name, b in obj.items()
        ]
        return _table(f"BackgroundMap ({len(obj)} backgrounds)", rows)
    if isinstance(obj, Projection):
        bounds = obj.pixel_bounds
        rows = [("pixel frame", obj.pixel_frame), ("sky frame", obj.sky_frame)]
        if bounds is not None:
            rows.append(("pixel bounds", bounds.bbox))
            rows.append(("at the centre", _projection_summary(obj, bounds.bbox)))
        rows.append(("FITS approximation", "yes" if obj.fits_approximation is not None else "no"))
        return _table("Projection", rows)
    if isinstance(obj, Detector):
        rows = [
            ("name", obj.name),
            ("id", obj.id),
            ("type", obj.type.name),
            ("bbox", obj.bbox),
            ("amplifiers", len(obj.amplifiers)),
            ("instrument", obj.instrument),
            ("visit", obj.visit),
        ]
        return _table("Detector", rows)
    return f"<pre>{html.escape(repr(obj))}</pre>"
