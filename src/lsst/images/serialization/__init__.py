"""Format-agnostic serialization framework.

Objects serialize themselves into pydantic "archive trees" through an
`OutputArchive`, which decides where bulk data goes (FITS HDUs, inline JSON
lists...), and deserialize from such trees through an `InputArchive`.  The
models here describe arrays, quantities, times, tables and pointers in an
ASDF-like way so every format shares the same tree structure.
"""

from ._annotations import *  # noqa: F403
from ._archive import *  # noqa: F403
from ._backends import *  # noqa: F403
from ._dtypes import *  # noqa: F403
from ._errors import *  # noqa: F403
from ._models import *  # noqa: F403
from ._reader import *  # noqa: F403
from ._schemas import *  # noqa: F403
from ._tables import *  # noqa: F403
from ._tree import *  # noqa: F403
from ._units import *  # noqa: F403


def __getattr__(name: str) -> object:
    # `Time` needs astropy.time, which most users of this package never touch.
    if name == "Time":
        from ._time import Time

        return Time
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "Time"])
