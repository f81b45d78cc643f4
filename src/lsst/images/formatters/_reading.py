"""Reading for the butler: parsed trees cached per dataset, components and the ``components`` multi-read.

A butler asks for one component per call (``visit_image.psf``, then
``visit_image.image`` with a ``bbox``, ...).  Parsing and validating the JSON tree is
the expensive part of such a read, so each thread keeps the last opened dataset (its
`Reader`, with the file still open) keyed by dataset ID and location: later
component reads of the same dataset reuse the tree and read only the arrays they
return.  Components that the tree holds by reference (summary statistics, the
observation info) are deep-copied, so changing what one read returned cannot change
the next.
"""

from __future__ import annotations

__all__ = ("cached_reader", "clear_cache", "read_components")

import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pydantic

from ..serialization import Reader, open_archive

_local = threading.local()


def clear_cache() -> None:
    """Close this thread's cached dataset (if any)."""
    entry = getattr(_local, "entry", None)
    _local.entry = None
    if entry is not None:
        entry[1].close()


def cached_reader(key: tuple[Any, str], target: Any, cls: type[Any]) -> Reader:
    """The `Reader` of dataset ``key`` (``(id, location)``), opening ``target`` if it is not cached."""
    entry = getattr(_local, "entry", None)
    if entry is not None and entry[0] == key:
        return entry[2]
    clear_cache()
    stack = contextlib.ExitStack()
    try:
        reader = stack.enter_context(open_archive(target, cls))
    except BaseException:
        stack.close()
        raise
    _local.entry = (key, stack, reader)
    return reader


def detach(value: Any) -> Any:
    """A copy of a component the tree holds by reference (pydantic models); other values as they are."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_copy(deep=True)
    return value


def read_components(
    get: Callable[[str, dict[str, Any]], Any],
    storage_class: Any,
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``components`` pseudo-component: several components in one call.

    Parameters
    ----------
    get
        ``get(component, parameters)`` reading one component.
    storage_class
        The composite's storage class (its ``derivedComponents`` declare which
        parameters each component takes).
    parameters
        The read parameters: ``components`` (names; default all but ``components``
        and ``masked_image``) and parameters for the components that declare them.

    Raises
    ------
    ValueError
        If a component is unknown to the storage class, or a parameter is declared
        by none of the requested components.
    """
    declared: dict[str, Any] = dict(getattr(storage_class, "derivedComponents", None) or {})
    declared.update(getattr(storage_class, "components", None) or {})
    params = dict(parameters)
    names = params.pop("components", None)
    if names is None:
        names = [name for name in declared if name not in ("components", "masked_image")]
    elif isinstance(names, str):
        names = [names]
    unknown = [name for name in names if name not in declared]
    if unknown:
        raise ValueError(
            f"Requested data for components {unknown} that storage class {storage_class.name} "
            "does not declare."
        )
    accepted = {name: set(getattr(declared[name], "parameters", ()) or ()) for name in names}
    unused = set(params) - set().union(*accepted.values())
    if unused:
        raise ValueError(
            f"Parameters {sorted(unused)} are not known to any of the requested components {sorted(names)}."
        )
    return {name: get(name, {k: v for k, v in params.items() if k in accepted[name]}) for name in names}
