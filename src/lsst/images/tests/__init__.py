"""Public testing helpers for code that uses `lsst.images`.

Each submodule contributes its names through a star import, so that adding a
new family of helpers (projections, PSFs, round trips, ...) only means adding
one line here.  Nothing imported here may require optional packages such as
``lsst.daf.butler``.
"""

from ._assertions import *  # noqa: F403
from ._butler import *  # noqa: F403
from ._coords import *  # noqa: F403
from ._data import *  # noqa: F403
from ._legacy_cameras import *  # noqa: F403
from ._legacy_cells import *  # noqa: F403
from ._legacy_components import *  # noqa: F403
from ._legacy_images import *  # noqa: F403
from ._products import *  # noqa: F403
from ._roundtrip import *  # noqa: F403
from ._roundtrip_fits import *  # noqa: F403
from ._roundtrip_ndf import *  # noqa: F403
