"""Rubin Observatory image data model: geometry, images, projections, visit images and their FITS files.

The public names are re-exported here from small private modules.  Heavy optional
parts (the FITS container, legacy reading, plotting) are imported lazily.
"""

# Each section below is owned by one part of the package; keep one import block per module.
# The order is deliberate (later modules import earlier ones), so import sorting is off here.
# ruff: noqa: I001

from .version import __version__  # noqa: F401

# --- geometry and utilities -------------------------------------------------
from ._geom import *  # noqa: F403
from . import utils  # noqa: F401

# --- image types --------------------------------------------------------------
from ._generalized_image import *  # noqa: F403
from ._image import *  # noqa: F403
from ._mask import *  # noqa: F403
from ._masked_image import *  # noqa: F403
from ._color_image import *  # noqa: F403

# --- coordinates, projections, regions ---------------------------------------
from ._transforms import *  # noqa: F403
from ._transforms import __getattr__ as _transforms_getattr  # (lazy ProjectionAstropyView)
from ._polygon import *  # noqa: F403

# --- visit image components ---------------------------------------------------
from ._backgrounds import *  # noqa: F403
from ._observation_summary_stats import *  # noqa: F403
from ._visit_image import *  # noqa: F403
from ._visit_image import __getattr__ as _visit_image_getattr  # (lazy VisitImageSerializationModel)
from ._legacy_mask_planes import *  # noqa: F403
from . import cameras  # noqa: F401

# --- subpackages imported as a side effect ------------------------------------
# from . import utils, serialization, fields, psfs, cameras, aperture_corrections, fits  # noqa: F401
from . import serialization  # noqa: F401
from . import aperture_corrections, fields, psfs  # noqa: F401
from . import fits  # noqa: F401

# --- the read path, loaded now so that a first read costs what later ones do ---------
from . import _preload  # noqa: F401


#: DP2 products exported here but loaded on first use (see `__getattr__`).
_DIFFERENCE_IMAGE_NAMES = {
    "DifferenceImage": "_difference_image",
    "DifferenceImageTemplateInfo": "_difference_image",
    "DifferenceImageSerializationModel": "_difference_image_model",
}


def __getattr__(name: str) -> object:
    # Lazily loaded public names (their modules import heavy dependencies on first use).
    if name == "VisitImageSerializationModel":
        return _visit_image_getattr(name)
    if name in _DIFFERENCE_IMAGE_NAMES:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_DIFFERENCE_IMAGE_NAMES[name]}"), name)
        globals()[name] = value
        return value
    return _transforms_getattr(name)
