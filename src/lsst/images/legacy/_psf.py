"""afw PSF archive objects and their conversion to `lsst.images.psfs` models.

Supported without the LSST stack:

* ``GaussianPsf`` / ``SingleGaussianPsf`` (odd square stamps) →
  `GaussianPointSpreadFunction`, whose kernel image is exactly afw's;
* ``PiffPsf`` → `PiffWrapper`, unpickled through the allow-list unpickler of
  :mod:`._unpickle` (needs the optional ``piff`` extra).

* ``PsfexPsf`` → `PSFExWrapper` around a numpy `PSFExModel` built from the
  stored parameters.

Anything else (PcaPsf, CoaddPsf, DoubleGaussianPsf, ...) raises
`UnsupportedLegacyObjectError`; the Exposure reader stores that error and
raises it only when the PSF is accessed.
"""

from __future__ import annotations

__all__ = (
    "LegacyGaussianPsf",
    "LegacyPiffPsf",
    "LegacyPsfexPsf",
    "decode_double_gaussian_psf",
    "decode_gaussian_psf",
    "decode_piff_psf",
    "decode_psfex_psf",
    "decode_single_gaussian_psf",
    "draw_piff",
    "gaussian_kernel_image",
    "to_psf",
)

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import ArchiveReadError, LegacyFormatError, UnsupportedLegacyObjectError
from ._unpickle import ForbiddenPickleError, restricted_loads

if TYPE_CHECKING:
    from ._archive import Catalog, LegacyArchive

PIFF_EXTRA_HINT = "install the optional 'piff' extra (pip install 'lsst-images-py[piff]')"


@dataclasses.dataclass(frozen=True)
class LegacyGaussianPsf:
    """A spatially constant circular Gaussian PSF on a ``width × height`` kernel grid."""

    width: int
    height: int
    sigma: float


@dataclasses.dataclass
class LegacyPiffPsf:
    """An unpickled Piff PSF and the stamp size afw drew it with."""

    width: int
    height: int
    piff_psf: Any


def gaussian_kernel_image(psf: LegacyGaussianPsf) -> tuple[np.ndarray, tuple[int, int]]:
    """Return afw's kernel image for a Gaussian PSF and its ``(x0, y0)``.

    The grid starts at ``-(dim // 2)``; values are
    ``exp(-(x² + y²) / (2σ²))`` normalised to unit sum, independent of position.
    """
    x = np.arange(psf.width) - psf.width // 2
    y = np.arange(psf.height) - psf.height // 2
    xx, yy = np.meshgrid(x, y)
    image = np.exp(-(xx**2 + yy**2) / (2 * psf.sigma**2))
    return image / image.sum(), (-(psf.width // 2), -(psf.height // 2))


def decode_gaussian_psf(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyGaussianPsf:
    """Archive factory for ``GaussianPsf``."""
    catalog = catalogs[0]
    return LegacyGaussianPsf(
        width=int(catalog.scalar("dimensions_x")),
        height=int(catalog.scalar("dimensions_y")),
        sigma=float(catalog.scalar("sigma")),
    )


def decode_single_gaussian_psf(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyGaussianPsf:
    """Archive factory for meas_algorithms' ``SingleGaussianPsf`` (same content as ``GaussianPsf``)."""
    return decode_gaussian_psf(archive, catalogs)


def decode_double_gaussian_psf(archive: LegacyArchive, catalogs: list[Catalog]) -> Any:
    """Archive factory for ``DoubleGaussianPsf``: no `lsst.images` equivalent exists."""
    catalog = catalogs[0]
    raise UnsupportedLegacyObjectError(
        "DoubleGaussianPsf (sigma1={}, sigma2={}, b={}) has no lsst.images equivalent.".format(
            catalog.scalar("sigma1"), catalog.scalar("sigma2"), catalog.scalar("b")
        )
    )


@dataclasses.dataclass
class LegacyPsfexPsf:
    """The stored parameters of a meas_extensions_psfex ``PsfexPsf``.

    Attributes
    ----------
    average_x, average_y
        Average position of the stars the model was fit to.
    pixel_step
        Size of a component-grid sample in image pixels.
    group, degree
        0-based polynomial group of each context dimension, and each group's degree.
    basis, coeff
        PSFEx basis and coefficient vectors (kept for serialization).
    parameters
        Component images, shape ``(n_components, height, width)``.
    context
        ``(2, n_dim)`` context offsets (first row) and scales (second row).
    """

    average_x: float
    average_y: float
    pixel_step: float
    group: list[int]
    degree: list[int]
    basis: list[float]
    coeff: list[float]
    parameters: np.ndarray
    context: np.ndarray


def decode_psfex_psf(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyPsfexPsf:
    """Archive factory for ``PsfexPsf``: the polynomial model's parameters.

    The component images (``_comp``) are stored flattened with the x axis
    varying fastest, then y, then the component index, with the three sizes
    in ``_size``.  afw stores the PSFEx group numbers already 0-based.
    """
    if len(catalogs) < 2:
        raise LegacyFormatError("PsfexPsf needs two catalogs (summary and model).")
    summary, model = catalogs
    size = [int(v) for v in model.array("_size").ravel()]
    components = model.array("_comp").astype(np.float64).ravel()
    if len(size) < 2:
        raise LegacyFormatError(f"PsfexPsf component sizes {size} are not at least 2-d.")
    width, height = size[0], size[1]
    n_components = int(np.prod(size[2:])) if len(size) > 2 else 1
    if components.size != width * height * n_components:
        raise LegacyFormatError(
            f"PsfexPsf has {components.size} component values for sizes {size} "
            f"({width * height * n_components} expected)."
        )
    group = [int(g) for g in model.array("group").ravel()]
    if group and min(group) >= 1:
        group = [g - 1 for g in group]
    context = np.array(
        [model.array("_context_first").ravel(), model.array("_context_second").ravel()], dtype=np.float64
    )
    average = summary.point("averagePosition")
    return LegacyPsfexPsf(
        average_x=average[0],
        average_y=average[1],
        pixel_step=float(summary.scalar("_pixstep")),
        group=group,
        degree=[int(d) for d in model.array("degree").ravel()],
        basis=[float(b) for b in model.array("basis").ravel()],
        coeff=[float(c) for c in model.array("coeff").ravel()],
        parameters=components.reshape(n_components, height, width),
        context=context,
    )


def decode_piff_psf(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyPiffPsf:
    """Archive factory for ``PiffPsf``: a pickle of ``(width, height, piff.PSF)``.

    The pickle is loaded with the allow-list unpickler only.  When piff or
    galsim is not installed an `ArchiveReadError` explains which extra to
    install; a pickle referencing anything outside the allow-list is refused
    first, either way.
    """
    blob = catalogs[0].bytes("bytes" if catalogs[0].has("bytes") else catalogs[0].names[0])
    try:
        # Globals outside the allow-list are refused (ForbiddenPickleError) before any import,
        # so a crafted pickle is rejected whether or not piff is installed.
        loaded = restricted_loads(blob, what="PiffPsf pickle")
    except ForbiddenPickleError:
        raise
    except ImportError as err:
        raise ArchiveReadError(f"Reading a Piff PSF requires piff and galsim: {PIFF_EXTRA_HINT}.") from err
    if not (isinstance(loaded, tuple) and len(loaded) == 3):
        raise LegacyFormatError(f"PiffPsf pickle holds a {type(loaded).__name__}, not (width, height, psf).")
    width, height, piff_psf = loaded
    _fix_piff_version_skew(piff_psf)
    return LegacyPiffPsf(width=int(width), height=int(height), piff_psf=piff_psf)


def _fix_piff_version_skew(piff_psf: Any) -> None:
    """Add attributes that newer piff versions expect on objects pickled by older ones."""
    for owner, names, value in (
        (piff_psf, ("_num",), None),
        (getattr(piff_psf, "model", None), ("_num", "_fit_flux"), None),
        (getattr(piff_psf, "interp", None), ("_num",), None),
        (getattr(piff_psf, "model", None), ("_maxk", "_stepk"), 0.0),
    ):
        if owner is None:
            continue
        for name in names:
            if name not in owner.__dict__:
                setattr(owner, name, value)


def _check_piff_supported(psf: LegacyPiffPsf) -> None:
    names = getattr(psf.piff_psf, "interp_property_names", ("u", "v"))
    if "colorValue" in names:
        raise NotImplementedError("Chromatic Piff PSFs (interpolated in colorValue) are not supported.")


def draw_piff(psf: LegacyPiffPsf, x: float, y: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Draw a Piff PSF the way meas_extensions_piff's ``computeImage`` does.

    Returns the unit-sum image and its ``(x0, y0)``: the stamp is centred on
    the pixel nearest to ``(x, y)`` (round half up).
    """
    image = psf.piff_psf.draw(x, y, stamp_size=psf.width, center=None)
    array = np.array(image.array, dtype=np.float64)
    x0 = math.floor(x + 0.5) - psf.width // 2
    y0 = math.floor(y + 0.5) - psf.height // 2
    return array / array.sum(), (x0, y0)


def to_psf(legacy: Any, bounds: Any) -> Any:
    """Convert a decoded PSF into an `lsst.images.psfs.PointSpreadFunction`.

    Raises
    ------
    UnsupportedLegacyObjectError
        For Gaussian PSFs on even or non-square stamps (not representable by
        `GaussianPointSpreadFunction`) and unknown PSF types.
    NotImplementedError
        For chromatic Piff models.
    """
    from ..psfs import GaussianPointSpreadFunction

    if isinstance(legacy, LegacyGaussianPsf):
        if legacy.width != legacy.height or legacy.width % 2 == 0:
            raise UnsupportedLegacyObjectError(
                f"GaussianPsf on a {legacy.width}x{legacy.height} stamp cannot be represented "
                "(odd square stamps only)."
            )
        return GaussianPointSpreadFunction(legacy.sigma, bounds, legacy.width)
    if isinstance(legacy, LegacyPsfexPsf):
        from ..psfs import PSFExModel, PSFExWrapper

        try:
            model = PSFExModel(
                average_x=legacy.average_x,
                average_y=legacy.average_y,
                pixel_step=legacy.pixel_step,
                group=legacy.group,
                degree=legacy.degree,
                basis=legacy.basis,
                coeff=legacy.coeff,
                parameters=legacy.parameters,
                context=legacy.context,
            )
        except ValueError as err:
            raise UnsupportedLegacyObjectError(f"PsfexPsf model cannot be evaluated: {err}") from err
        return PSFExWrapper(model, bounds)
    if isinstance(legacy, LegacyPiffPsf):
        from ..psfs import PiffWrapper

        _check_piff_supported(legacy)
        return PiffWrapper(legacy.piff_psf, bounds, legacy.width)
    raise UnsupportedLegacyObjectError(f"Cannot convert a legacy PSF of type {type(legacy).__name__}.")
