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
    UsageError
        If the extension names no container (a `ValueError`; exit status 2).
    """
    from ..serialization._backends import backend_for_path
    from ._errors import UsageError

    try:
        return backend_for_path(path).name
    except ValueError as err:
        raise UsageError(str(err)) from None


def check_output(path: str | os.PathLike[str], layout: str | None = None) -> str:
    """The container for ``path``, checking that ``layout`` (a FITS layout) makes sense for it.

    Commands call this before reading their input, so a bad output name fails at once.

    Raises
    ------
    UsageError
        If the extension is unknown or ``layout`` is given for a non-FITS output
        (a `ValueError`; exit status 2).
    ValueError
        If an NDF output is asked for without h5py installed.
    FileNotFoundError
        If a local output's folder does not exist (named in the error, rather than
        the temporary file the atomic writer would fail to create there).
    """
    from ._errors import UsageError

    container = container_for(path)
    folder = os.path.dirname(os.fspath(path))
    if folder and "://" not in os.fspath(path) and not os.path.isdir(folder):
        raise FileNotFoundError(2, f"no such folder to write {os.path.basename(path)} in", folder)
    if layout is not None and container != "fits":
        raise UsageError(f"--layout selects a FITS layout; it does not apply to {container.upper()} output")
    if container == "ndf" and importlib.util.find_spec("h5py") is None:
        raise ValueError(f"writing {os.fspath(path)!r} as NDF needs h5py: pip install 'lsst-images-py[ndf]'")
    return container


def write_container(obj: Any, path: str | os.PathLike[str], *, layout: str | None = None) -> str:
    """Write ``obj`` in the container its extension names and return that container.

    ``layout`` (``"2100"`` or ``"4300"``) selects the FITS layout; `None` leaves the
    choice to `lsst.images.fits.write` (4300 for the DP2 products, else 2100).  It
    cannot be given for the other containers (see `check_output`).
    """
    from ..serialization._backends import backend_for_name

    container = check_output(path, layout)
    options = {"layout": layout} if container == "fits" else {}
    backend_for_name(container).write(obj, path, **options)
    return container
