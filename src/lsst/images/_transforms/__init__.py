"""Frames, transforms, projections and their astropy views.

Transforms are backed by Starlink AST mappings (the ``starlink-pyast``
package); the native AST text of those mappings is what the JSON trees store.

`ProjectionAstropyView` subclasses astropy's APE-14 base classes, whose import
pulls in ``astropy.wcs`` and ``astropy.coordinates``; it is therefore loaded
lazily on first access to keep ``import lsst.images`` fast.
"""

from typing import Any

from ._camera_frame_set import *  # noqa: F403
from ._frame_set import *  # noqa: F403
from ._frames import *  # noqa: F403
from ._projection import *  # noqa: F403
from ._transform import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name == "ProjectionAstropyView":
        from ._astropy_view import ProjectionAstropyView

        return ProjectionAstropyView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
