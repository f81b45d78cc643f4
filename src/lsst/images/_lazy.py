"""Modules imported on first use, so ``import lsst.images`` does not pay for them.

``astropy.units`` alone is about half of what importing this package would cost (it
defines thousands of units and pulls in ``astropy.constants``), yet reading a file
never needs it: units arrive as validated strings (`~lsst.images.serialization.UnitText`)
and become astropy units only when somebody asks for one.  Modules therefore write::

    if TYPE_CHECKING:
        import astropy.units as u
    else:
        from ._lazy import astropy_units as u

so that type checkers see the real module and the code runs unchanged, importing astropy
at the first ``u.<name>`` that actually executes.
"""

from __future__ import annotations

__all__ = ("LazyModule", "astropy_units", "is_instance_if_loaded", "is_loaded")

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule:
    """Stand-in for a module that is imported at the first attribute access.

    Looked-up attributes are cached on the instance, so after the first use each access
    costs an ordinary instance-dictionary lookup.
    """

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def _lazy_module(self) -> ModuleType:
        return importlib.import_module(self.__dict__["_lazy_name"])

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # Keep introspection (copy, pickle, doctest, IPython) from importing the module.
            raise AttributeError(attr)
        value = getattr(self._lazy_module(), attr)
        self.__dict__[attr] = value
        return value

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"{self.__dict__['_lazy_name']} cannot be modified through a lazy proxy.")

    def __repr__(self) -> str:
        state = "loaded" if is_loaded(self.__dict__["_lazy_name"]) else "not loaded yet"
        return f"<lazy module {self.__dict__['_lazy_name']!r} ({state})>"


def is_loaded(name: str) -> bool:
    """Whether module ``name`` has been imported (by anybody) in this process."""
    return name in sys.modules


def is_instance_if_loaded(value: object, module: str, name: str) -> bool:
    """Whether ``value`` is a ``module.name``, without importing ``module``.

    Until ``module`` has been imported (by anybody), nothing can be an instance of its
    classes, so the answer is `False` at no cost.
    """
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(value, getattr(loaded, name))


astropy_units = LazyModule("astropy.units")
"""``astropy.units``, imported at the first attribute access."""
