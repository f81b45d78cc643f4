"""Format-agnostic serialization framework.

Objects serialize themselves into pydantic "archive trees" through an
`OutputArchive`, which decides where bulk data goes (FITS HDUs, inline JSON
lists...), and deserialize from such trees through an `InputArchive`.  The
models here describe arrays, quantities, times, tables and pointers in an
ASDF-like way so every format shares the same tree structure.
"""

from ._annotations import *  # noqa: F403
from ._archive import *  # noqa: F403
from ._dtypes import *  # noqa: F403
from ._errors import *  # noqa: F403
from ._models import *  # noqa: F403
from ._tables import *  # noqa: F403
from ._tree import *  # noqa: F403
from ._units import *  # noqa: F403
