"""afw photometric calibration (``PhotoCalib``) and its conversion to a ``photometric_scaling`` field.

``instFlux × calibration = nJy``.  Exposures written with ExposureInfo
version 0 have no PhotoCalib object; their calibration is derived from the
``FLUXMAG0``/``FLUXMAG0ERR`` primary-header cards as R/FLUXMAG0 with R the AB
reference flux in nJy (LEGACY.md §2.1).
"""

from __future__ import annotations

__all__ = (
    "AB_REFERENCE_FLUX_NJY",
    "LegacyPhotoCalib",
    "decode_photo_calib",
    "photo_calib_from_header",
    "to_photometric_scaling",
)

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ._apcorr import LegacyChebyshevField
from ._errors import LegacyFormatError

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.units

    from ._archive import Catalog, LegacyArchive

#: Flux of a zero-magnitude AB source in nJy: 1e23 · 10^(−48.6/2.5) · 1e9.
AB_REFERENCE_FLUX_NJY = 1e23 * 10 ** (-48.6 / 2.5) * 1e9


@dataclasses.dataclass
class LegacyPhotoCalib:
    """A decoded afw ``PhotoCalib``.

    Attributes
    ----------
    mean
        Mean calibration (nJy per instrumental flux unit).
    error
        1-sigma uncertainty of ``mean``.
    is_constant
        Whether the calibration is spatially constant.
    field
        The bounded field giving the spatially varying calibration (None for
        header-derived calibrations).
    """

    mean: float
    error: float
    is_constant: bool
    field: Any = None

    def evaluate(self, x: Any, y: Any) -> np.ndarray:
        """Calibration factor at parent-pixel positions."""
        if self.is_constant or self.field is None:
            return np.broadcast_to(float(self.mean), np.broadcast(np.asarray(x), np.asarray(y)).shape)
        return self.field.evaluate(x, y)


def decode_photo_calib(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyPhotoCalib:
    """Archive factory for ``PhotoCalib`` (afw refuses ``version < 1`` and so do we)."""
    catalog = catalogs[0]
    if not catalog.has("version"):
        raise LegacyFormatError("PhotoCalib archive object has no 'version' column (unsupported by afw too).")
    version = int(catalog.scalar("version"))
    if version < 1:
        raise LegacyFormatError(f"PhotoCalib archive object has unsupported version {version}.")
    field_id = int(catalog.scalar("field", default=0))
    return LegacyPhotoCalib(
        mean=float(catalog.scalar("calibrationMean")),
        error=float(catalog.scalar("calibrationErr")),
        is_constant=catalog.flag("isConstant", default=True),
        field=archive.get(field_id) if field_id else None,
    )


def photo_calib_from_header(header: astropy.io.fits.Header) -> LegacyPhotoCalib | None:
    """Build the calibration of an ExposureInfo-version-0 file from ``FLUXMAG0``/``FLUXMAG0ERR``.

    Returns None when ``FLUXMAG0`` is absent or not positive (afw files with
    ``FLUXMAG0 = 0`` carry no usable calibration).
    """
    if "FLUXMAG0" not in header:
        return None
    flux_mag0 = float(header["FLUXMAG0"])
    if not np.isfinite(flux_mag0) or flux_mag0 <= 0.0:
        return None
    flux_mag0_err = float(header.get("FLUXMAG0ERR", 0.0))
    return LegacyPhotoCalib(
        mean=AB_REFERENCE_FLUX_NJY / flux_mag0,
        error=AB_REFERENCE_FLUX_NJY * flux_mag0_err / flux_mag0**2,
        is_constant=True,
    )


def to_photometric_scaling(
    photo_calib: LegacyPhotoCalib | None,
    detector_bbox: Any,
    instrumental_unit: astropy.units.UnitBase | None = None,
) -> Any:
    """Convert a PhotoCalib to a ``photometric_scaling`` field in nJy per instrumental unit.

    A missing calibration, or a constant one equal to exactly 1 (pixels
    already in nJy, as in DP1 visit images), gives None.  The bounds are
    always the detector's bounding box.
    """
    import astropy.units as u

    from ._apcorr import to_field

    if photo_calib is None:
        return None
    unit = u.nJy / (instrumental_unit if instrumental_unit is not None else u.electron)
    if photo_calib.is_constant or photo_calib.field is None:
        if photo_calib.mean == 1.0:
            return None
        constant = LegacyChebyshevField(bbox=(0, 0, -1, -1), coefficients=np.array([[photo_calib.mean]]))
        return to_field(constant, bounds=detector_bbox, unit=unit)
    return to_field(photo_calib.field, unit=unit)
