"""Output containers of the command-line tool, chosen from the output file's extension.

The extensions are those of the archive registry (`lsst.images.serialization` backends):
``.fits`` (lsst.images FITS), ``.json`` and ``.sdf``/``.h5`` (NDF, needs h5py).
"""

from __future__ import annotations

__all__ = ("check_output", "container_for", "write_container")

import importlib.util
import os
from typing import Any


def container_for(path: str | os.PathLike[str]) -> str:
    """The container (``fits``, ``json`` or ``ndf``) for an output path, from its extension.

    Raises
    ------
    ValueError
        If the extension names no container.
    """
    from ..serialization._backends import backend_for_path

    return backend_for_path(path).name


def check_output(path: str | os.PathLike[str], layout: str | None = None) -> str:
    """The container for ``path``, checking that ``layout`` (a FITS layout) makes sense for it.

    Commands call this before reading their input, so a bad output name fails at once.

    Raises
    ------
    ValueError
        If the extension is unknown, ``layout`` is given for a non-FITS output, or an
        NDF output is asked for without h5py installed.
    """
    container = container_for(path)
    if layout is not None and container != "fits":
        raise ValueError(f"--layout selects a FITS layout; it does not apply to {container.upper()} output")
    if container == "ndf" and importlib.util.find_spec("h5py") is None:
        raise ValueError(f"writing {os.fspath(path)!r} as NDF needs h5py: pip install 'lsst-images-py[ndf]'")
    return container


def write_container(obj: Any, path: str | os.PathLike[str], *, layout: str | None = None) -> str:
    """Write ``obj`` in the container its extension names and return that container.

    ``layout`` (``"2100"``, the default, or ``"4300"``) selects the FITS layout; it
    cannot be given for the other containers (see `check_output`).
    """
    from ..serialization._backends import backend_for_name

    container = check_output(path, layout)
    options = {"layout": layout or "2100"} if container == "fits" else {}
    backend_for_name(container).write(obj, path, **options)
    return container
