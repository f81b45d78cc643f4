"""Pictures of images, masks, PSFs and fields (the optional ``plot`` extra: matplotlib).

`show` draws any image type in absolute pixel coordinates, with RA/Dec axes
when there is a projection and translucent mask-plane overlays; `show_psf`
draws a PSF kernel with its FWHM; `show_field` draws a field (background,
photometric scaling, aperture correction) over an image area.  Importing this
module is cheap: matplotlib is imported only when something is drawn, and a
missing matplotlib gives an `ImportError` naming the ``plot`` extra.
"""

from __future__ import annotations

__all__ = (
    "INTERVALS",
    "STRETCHES",
    "make_axes",
    "plane_color",
    "show",
    "show_field",
    "show_psf",
)

from ._axes import make_axes
from ._colors import plane_color
from ._plots import show_field, show_psf
from ._scaling import INTERVALS, STRETCHES
from ._show import show
