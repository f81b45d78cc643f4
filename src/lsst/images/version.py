"""The version of this package, where Rubin's generated ``version`` module keeps it.

Rubin's build writes ``lsst/images/version.py`` with ``__version__`` (e.g.
``"30.2026.2100"``).  Here the literal below is the single source of the version:
``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), so the installed
distribution's metadata and this module cannot disagree, and ``import lsst.images``
does not pay for `importlib.metadata` (tens of milliseconds) to learn it.
"""

__all__ = ["__version__"]

__version__: str = "0.1.0"
