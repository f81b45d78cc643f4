"""A restricted unpickler for the Piff PSF objects that afw stores as pickles.

``meas_extensions_piff`` persists a ``PiffPsf`` as ``pickle.dumps((width,
height, piff_psf))``.  Plain `pickle.loads` on file content would let a
crafted file run arbitrary code (a pickle can call any importable callable).
:class:`RestrictedUnpickler` only resolves the explicit ``(module, name)``
pairs in :data:`ALLOWED_GLOBALS` — data classes of piff, galsim and numpy that
real Piff pickles reference — and refuses everything else *before* importing
anything, so a refused pickle never executes code.

Nothing here imports a module because the file names it: the modules that may
be imported are fixed by :data:`ALLOWED_GLOBALS`, written in this source file.
"""

from __future__ import annotations

__all__ = ("ALLOWED_GLOBALS", "ForbiddenPickleError", "RestrictedUnpickler", "restricted_loads")

import importlib
import io
import pickle
from typing import Any

from ._errors import ArchiveReadError


class ForbiddenPickleError(ArchiveReadError, pickle.UnpicklingError):
    """A pickle references a global that is not on the allow-list."""


#: The (module, qualified name) pairs a Piff pickle may reference.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        # numpy array and scalar reconstruction (numpy 1 and numpy 2 spellings).
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy", "float64"),
        ("numpy", "float32"),
        ("numpy", "int64"),
        ("numpy", "int32"),
        ("numpy", "bool_"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        # galsim value types used inside Piff models.
        ("galsim.bounds", "BoundsI"),
        ("galsim.bounds", "BoundsD"),
        ("galsim.gsparams", "GSParams"),
        ("galsim.image", "Image"),
        ("galsim.interpolant", "Lanczos"),
        ("galsim.interpolant", "Quintic"),
        ("galsim.interpolant", "Cubic"),
        ("galsim.interpolant", "Linear"),
        ("galsim.interpolant", "Nearest"),
        ("galsim.interpolant", "Delta"),
        ("galsim.interpolant", "SincInterpolant"),
        ("galsim.interpolatedimage", "InterpolatedImage"),
        ("galsim.position", "PositionD"),
        ("galsim.position", "PositionI"),
        ("galsim.wcs", "PixelScale"),
        ("galsim.wcs", "OffsetWCS"),
        ("galsim.wcs", "JacobianWCS"),
        ("galsim.wcs", "AffineTransform"),
        ("galsim.angle", "Angle"),
        ("galsim.angle", "AngleUnit"),
        ("galsim.celestial", "CelestialCoord"),
        # piff model, interpolation and bookkeeping classes.
        ("piff.simplepsf", "SimplePSF"),
        ("piff.singlechip", "SingleChipPSF"),
        ("piff.pixelgrid", "PixelGrid"),
        ("piff.basis_interp", "BasisPolynomial"),
        ("piff.mean_interp", "Mean"),
        ("piff.outliers", "ChisqOutliers"),
        ("piff.star", "Star"),
        ("piff.star", "StarData"),
        ("piff.star", "StarFit"),
        ("piff.gsobject_model", "Gaussian"),
        ("piff.gsobject_model", "Moffat"),
        ("piff.gsobject_model", "Kolmogorov"),
        ("piff.gsobject_model", "GSObjectModel"),
        # Generic containers pickles use for plain data.
        ("builtins", "slice"),
        ("builtins", "complex"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("collections", "OrderedDict"),
    }
)

#: Modules that moved in numpy 2; resolving through the new location avoids deprecation shims.
_MODULE_ALIASES = {"numpy.core.multiarray": "numpy._core.multiarray"}


class RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` that resolves only allow-listed globals.

    Parameters
    ----------
    file
        Binary file object holding the pickle.
    what
        Description of the pickled object, used in error messages.
    """

    def __init__(self, file: io.BufferedIOBase | io.BytesIO, *, what: str = "pickle"):
        super().__init__(file)
        self._what = what

    def find_class(self, module: str, name: str) -> Any:
        # Refuse before importing anything: the check uses only the strings in the stream.
        if (module, name) not in ALLOWED_GLOBALS:
            raise ForbiddenPickleError(
                f"Refusing to load {self._what}: it references {module}.{name}, which is not on the "
                "allow-list of Piff/galsim/numpy data classes."
            )
        target_module = module
        if module in _MODULE_ALIASES:
            try:
                importlib.import_module(_MODULE_ALIASES[module])
                target_module = _MODULE_ALIASES[module]
            except ImportError:
                pass
        return getattr(importlib.import_module(target_module), name)

    def persistent_load(self, pid: Any) -> Any:
        raise ForbiddenPickleError(f"Refusing to load {self._what}: it uses persistent ids.")


def restricted_loads(data: bytes, *, what: str = "pickle") -> Any:
    """Unpickle ``data`` through :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data), what=what).load()
