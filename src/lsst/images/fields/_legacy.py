"""Conversions between fields and the legacy LSST stack (afw BoundedFields, backgrounds, PhotoCalib).

Everything here needs ``lsst.afw`` (not on PyPI) at run time; it is imported
lazily so the rest of the package works without it.
"""

from __future__ import annotations

__all__ = (
    "chebyshev_from_legacy",
    "chebyshev_from_legacy_background",
    "chebyshev_to_legacy",
    "field_from_legacy",
    "field_from_legacy_background",
    "field_from_legacy_photo_calib",
    "product_from_legacy",
    "product_to_legacy",
    "spline_from_legacy_background",
    "sum_from_legacy_background",
)

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import astropy.units as u

    from .._geom import Bounds
    from . import Field
    from ._chebyshev import ChebyshevField
    from ._product import ProductField
    from ._spline import SplineField
    from ._sum import SumField
else:
    from .._lazy import astropy_units as u


def _require_afw(what: str) -> Any:
    """Import ``lsst.afw.math`` or raise an error explaining what needed it."""
    try:
        import lsst.afw.math as afw_math  # type: ignore[import-not-found]
    except ImportError as err:
        raise ImportError(f"{what} needs the legacy LSST stack (lsst.afw), which is not installed.") from err
    return afw_math


def _box_from_legacy(legacy_box: Any) -> Any:
    from .._geom import Box

    return Box.from_legacy(legacy_box)


def chebyshev_from_legacy(
    legacy: Any, unit: u.UnitBase | None = None, bounds: Bounds | None = None
) -> ChebyshevField:
    """Convert an afw ``ChebyshevBoundedField``.

    afw maps its (inclusive) bbox grown by half a pixel onto [-1, 1], like we
    do, and stores the coefficients with rows = y order, so the matrix carries
    over unchanged; ``bounds`` defaults to the legacy bbox.
    """
    from ._chebyshev import ChebyshevField

    if bounds is None:
        bounds = _box_from_legacy(legacy.getBBox())
    return ChebyshevField(bounds, np.array(legacy.getCoefficients(), dtype=np.float64), unit=unit)


def chebyshev_to_legacy(field: ChebyshevField) -> Any:
    """Convert a `ChebyshevField` to an afw ``ChebyshevBoundedField``."""
    afw_math = _require_afw("ChebyshevField.to_legacy")
    # afw wants a 2-d matrix; a 1-d coefficient array is its single (y order 0) row.
    return afw_math.ChebyshevBoundedField(field.bounds.bbox.to_legacy(), np.atleast_2d(field.coefficients))


def product_from_legacy(
    legacy: Any, unit: u.UnitBase | None = None, bounds: Bounds | None = None
) -> ProductField:
    """Convert an afw ``ProductBoundedField``; ``unit`` is attached to the first factor."""
    from ._product import ProductField

    operands = []
    for i, factor in enumerate(legacy.getFactors()):
        operands.append(field_from_legacy(factor, bounds=bounds, unit=unit if i == 0 else None))
    return ProductField(operands)


def product_to_legacy(field: ProductField) -> Any:
    """Convert a `ProductField` to an afw ``ProductBoundedField``."""
    afw_math = _require_afw("ProductField.to_legacy")
    return afw_math.ProductBoundedField([operand.to_legacy() for operand in field.operands])


def field_from_legacy(
    legacy_bounded_field: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
) -> Field:
    """Convert an afw BoundedField (Chebyshev or Product) to a field.

    Raises
    ------
    NotImplementedError
        For other BoundedField types.
    """
    type_name = type(legacy_bounded_field).__name__
    if type_name == "ChebyshevBoundedField":
        return chebyshev_from_legacy(legacy_bounded_field, unit=unit, bounds=bounds)
    if type_name == "ProductBoundedField":
        return product_from_legacy(legacy_bounded_field, unit=unit, bounds=bounds)
    raise NotImplementedError(f"Cannot convert legacy bounded field of type {type_name}.")


def field_from_legacy_photo_calib(
    legacy_photo_calib: Any,
    bounds: Bounds,
    instrumental_unit: u.UnitBase | str = "electron",
) -> Field | None:
    """Convert an afw ``PhotoCalib`` to a field in nJy per instrumental unit.

    Returns `None` for a constant calibration of exactly 1 (pixels already in
    nJy).  A constant calibration becomes a 1×1 Chebyshev over ``bounds``; a
    spatially varying one is its (normalized) field scaled by the mean.
    """
    from ._chebyshev import ChebyshevField

    unit = u.nJy / u.Unit(instrumental_unit)
    mean = float(legacy_photo_calib.getCalibrationMean())
    if _is_constant(legacy_photo_calib):
        if mean == 1.0:
            return None
        return ChebyshevField(bounds, np.array([[mean]]), unit=unit)
    field = field_from_legacy(legacy_photo_calib.computeScaledCalibration(), bounds=bounds)
    return field.multiply_constant(mean * unit)


def _is_constant(legacy_photo_calib: Any) -> bool:
    """Whether an afw ``PhotoCalib`` is spatially constant.

    Uses the object's own flag when it exposes one; otherwise inspects the
    scaled calibration field (a constant one has no non-zero coefficient
    beyond the first).
    """
    for name in ("isConstant", "_isConstant"):
        attribute = getattr(legacy_photo_calib, name, None)
        if attribute is not None:
            return bool(attribute() if callable(attribute) else attribute)
    scaled = legacy_photo_calib.computeScaledCalibration()
    get_coefficients = getattr(scaled, "getCoefficients", None)
    if get_coefficients is None:
        return False
    coefficients = np.asarray(get_coefficients(), dtype=np.float64).ravel()
    return not np.any(coefficients[1:])


def chebyshev_from_legacy_background(
    legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
) -> ChebyshevField:
    """Convert an afw ``BackgroundMI`` that used a Chebyshev approximation (needs afw)."""
    _require_afw("ChebyshevField.from_legacy_background")
    approximation = legacy_background.getApproximate()
    return chebyshev_from_legacy(approximation, unit=unit, bounds=bounds)


def spline_from_legacy_background(
    legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
) -> SplineField:
    """Convert an afw ``BackgroundMI`` that used spline interpolation (needs afw).

    The background's per-bin statistics image becomes the spline grid; grid
    coordinates are the bin centres in absolute pixel coordinates.
    """
    from ._spline import SplineField

    _require_afw("SplineField.from_legacy_background")
    stats = legacy_background.getStatsImage().getImage()
    data = np.array(stats.getArray(), dtype=np.float64)
    bbox = _box_from_legacy(legacy_background.getImageBBox())
    y = np.asarray(legacy_background.getBinCentersY(), dtype=np.float64)
    x = np.asarray(legacy_background.getBinCentersX(), dtype=np.float64)
    return SplineField(bounds if bounds is not None else bbox, data, y=y, x=x, unit=unit)


def sum_from_legacy_background(
    legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
) -> SumField:
    """Convert an afw ``BackgroundList`` (a sum of backgrounds; needs afw)."""
    from ._sum import SumField

    return SumField(
        field_from_legacy_background(entry[0], bounds=bounds, unit=unit) for entry in legacy_background
    )


def field_from_legacy_background(
    legacy_background: Any, bounds: Bounds | None = None, unit: u.UnitBase | None = None
) -> Field:
    """Convert an afw ``Background`` or ``BackgroundList`` to a field."""
    type_name = type(legacy_background).__name__
    if type_name == "BackgroundList":
        return sum_from_legacy_background(legacy_background, bounds=bounds, unit=unit)
    afw_math = _require_afw("field_from_legacy_background")
    control = legacy_background.getBackgroundControl()
    if control.getApproximateControl().getStyle() != afw_math.ApproximateControl.UNKNOWN:
        return chebyshev_from_legacy_background(legacy_background, bounds=bounds, unit=unit)
    return spline_from_legacy_background(legacy_background, bounds=bounds, unit=unit)
