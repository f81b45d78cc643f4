"""Lazy access to matplotlib, the ``plot`` extra.

Nothing in `lsst.images` imports matplotlib at module import time: plotting
functions call `require_matplotlib` first, which either returns the module or
raises an `ImportError` that tells the user which extra to install.
"""

from __future__ import annotations

__all__ = ("PLOT_EXTRA_HINT", "matplotlib_available", "require_matplotlib")

import importlib.util
from types import ModuleType

#: How to get the plotting dependencies, quoted in every "matplotlib missing" error.
PLOT_EXTRA_HINT = "install the 'plot' extra: pip install 'lsst-images-py[plot]'"


def matplotlib_available() -> bool:
    """Whether matplotlib can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except ValueError:  # ``sys.modules["matplotlib"] = None``: deliberately unavailable
        return False


def require_matplotlib(what: str = "plotting") -> ModuleType:
    """Import and return matplotlib, or raise an `ImportError` naming the ``plot`` extra.

    Parameters
    ----------
    what
        What the caller wanted to do, for the error message.
    """
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(f"{what} needs matplotlib; {PLOT_EXTRA_HINT}") from err
    return matplotlib
