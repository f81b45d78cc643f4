"""Pure-JSON archive format.

Any archive-protocol object is stored as one JSON document: arrays and tables
inline as nested lists, shared subtrees in a top-level ``indirect`` list
referenced by ``{"$ref": "#/indirect/N"}``.  Handy for small objects (detector
descriptions) and for tests, since the whole file is human-readable.
"""

from ._input import *  # noqa: F403
from ._io import *  # noqa: F403
from ._output import *  # noqa: F403
