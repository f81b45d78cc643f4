"""The version of this package, where Rubin's generated ``version`` module keeps it.

Rubin's build writes ``lsst/images/version.py`` with ``__version__`` (e.g.
``"30.2026.2100"``); this package takes it from its installed distribution
(``lsst-images-py``) instead, so it cannot go stale.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

__all__ = ["__version__"]

try:
    __version__: str = _distribution_version("lsst-images-py")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
