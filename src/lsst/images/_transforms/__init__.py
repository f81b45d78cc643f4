"""Frames, transforms, projections and their astropy views.

Transforms are backed by Starlink AST mappings (the ``starlink-pyast``
package); the native AST text of those mappings is what the JSON trees store.

`ProjectionAstropyView` subclasses astropy's APE-14 base classes, whose import
pulls in ``astropy.wcs`` and ``astropy.coordinates``, and the serialization
models need `lsst.images.serialization`; both are loaded lazily (module
``__getattr__``) to keep ``import lsst.images`` fast and free of cycles.
"""

from typing import Any

from . import _camera_frame_set, _frame_set, _frames, _projection, _transform
from ._camera_frame_set import *  # noqa: F403
from ._frame_set import *  # noqa: F403
from ._frames import *  # noqa: F403
from ._projection import *  # noqa: F403
from ._transform import *  # noqa: F403

__all__ = [
    *_camera_frame_set.__all__,
    *_frame_set.__all__,
    *_frames.__all__,
    *_projection.__all__,
    *_transform.__all__,
]


_LAZY_MODELS = frozenset(
    {
        "CameraFrameSetSerializationModel",
        "MappingSerializationModel",
        "ProjectionSerializationModel",
        "TransformSerializationModel",
    }
)


#: Rubin's 4300 names of lazily loaded classes (equal aliases of the 2100 names).
_RENAMED_4300 = {
    "SkyProjectionAstropyView": "ProjectionAstropyView",
    "SkyProjectionSerializationModel": "ProjectionSerializationModel",
}


def __getattr__(name: str) -> Any:
    name = _RENAMED_4300.get(name, name)
    if name == "ProjectionAstropyView":
        from ._astropy_view import ProjectionAstropyView

        return ProjectionAstropyView
    if name in _LAZY_MODELS:
        from . import _models

        return getattr(_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
