"""afw bounded fields, aperture-correction maps and polygons, decoded into plain numpy form.

These are the pieces of an afw archive that describe functions of pixel
position: ``ChebyshevBoundedField`` (and products of them), ``ApCorrMap``
(name → bounded field) and the ``Polygon`` used as an Exposure's valid region.
Conversion into `lsst.images.fields` / `lsst.images.Polygon` objects happens in
:func:`to_field` and :func:`to_polygon`, which import those types lazily.
"""

from __future__ import annotations

__all__ = (
    "LegacyChebyshevField",
    "LegacyPolygon",
    "LegacyProductField",
    "decode_ap_corr_map",
    "decode_chebyshev_field",
    "decode_polygon",
    "decode_product_field",
    "to_aperture_corrections",
    "to_field",
    "to_polygon",
)

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import LegacyFormatError

if TYPE_CHECKING:
    import astropy.units

    from ._archive import Catalog, LegacyArchive


@dataclasses.dataclass
class LegacyChebyshevField:
    """An afw ``ChebyshevBoundedField``.

    Attributes
    ----------
    bbox
        ``(min_x, min_y, max_x, max_y)`` with inclusive max; empty (max < min)
        for the constant fields afw stores inside constant PhotoCalibs.
    coefficients
        ``(ny, nx)`` array; ``coefficients[j, i]`` multiplies ``T_j(y') T_i(x')``.
    """

    bbox: tuple[int, int, int, int]
    coefficients: np.ndarray

    @property
    def is_empty(self) -> bool:
        """Whether the bounding box is afw's empty box."""
        return self.bbox[2] < self.bbox[0] or self.bbox[3] < self.bbox[1]

    def evaluate(self, x: Any, y: Any) -> np.ndarray:
        """Evaluate at parent-pixel positions, mapping ``[min - 0.5, max + 0.5]`` to ``[-1, 1]``."""
        from numpy.polynomial import chebyshev

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.is_empty:
            return np.broadcast_to(self.coefficients[0, 0], np.broadcast(x, y).shape).astype(float)
        min_x, min_y, max_x, max_y = self.bbox
        xp = (2.0 * x - (min_x - 0.5) - (max_x + 0.5)) / (max_x - min_x + 1.0)
        yp = (2.0 * y - (min_y - 0.5) - (max_y + 0.5)) / (max_y - min_y + 1.0)
        return chebyshev.chebval2d(yp, xp, self.coefficients)


@dataclasses.dataclass
class LegacyProductField:
    """An afw ``ProductBoundedField``: the product of its factors."""

    factors: list[Any]

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Bounding box of the first factor (afw requires all factors to share it)."""
        return self.factors[0].bbox

    def evaluate(self, x: Any, y: Any) -> np.ndarray:
        """Evaluate the product of the factors."""
        result = np.ones(np.broadcast(np.asarray(x), np.asarray(y)).shape)
        for factor in self.factors:
            result = result * factor.evaluate(x, y)
        return result


@dataclasses.dataclass
class LegacyPolygon:
    """An afw ``Polygon``: a closed ring of vertices (first vertex repeated last)."""

    x: np.ndarray
    y: np.ndarray


def decode_chebyshev_field(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyChebyshevField:
    """Archive factory for ``ChebyshevBoundedField``."""
    catalog = catalogs[0]
    order_x = int(catalog.scalar("order_x"))
    flat = catalog.array("coefficients").ravel().astype(float)
    nx = order_x + 1
    if flat.size % nx:
        raise LegacyFormatError(
            f"ChebyshevBoundedField has {flat.size} coefficients, not a multiple of {nx}."
        )
    return LegacyChebyshevField(bbox=catalog.box("bbox"), coefficients=flat.reshape(-1, nx))


def decode_product_field(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyProductField:
    """Archive factory for ``ProductBoundedField``: one row per factor, each an archive id."""
    catalog = catalogs[0]
    return LegacyProductField([archive.get(int(i)) for i in catalog.column("id")])


def decode_ap_corr_map(archive: LegacyArchive, catalogs: list[Catalog]) -> dict[str, Any]:
    """Archive factory for ``ApCorrMap``: ``{name: bounded field}``."""
    catalog = catalogs[0]
    ids = catalog.column("field")
    return {catalog.string("name", row): archive.get(int(ids[row])) for row in range(len(catalog))}


def decode_polygon(archive: LegacyArchive, catalogs: list[Catalog]) -> LegacyPolygon:
    """Archive factory for ``Polygon``: one row per vertex."""
    catalog = catalogs[0]
    return LegacyPolygon(
        x=catalog.column("vertices_x").astype(float), y=catalog.column("vertices_y").astype(float)
    )


# -- conversion to lsst.images objects ---------------------------------------------


def _box(bbox: tuple[int, int, int, int]) -> Any:
    from .._geom import Box

    min_x, min_y, max_x, max_y = bbox
    return Box.factory[min_y : max_y + 1, min_x : max_x + 1]


def to_field(legacy: Any, *, bounds: Any = None, unit: astropy.units.UnitBase | None = None) -> Any:
    """Convert a decoded bounded field into an `lsst.images.fields` field.

    Parameters
    ----------
    legacy
        `LegacyChebyshevField` or `LegacyProductField`.
    bounds
        Bounds to use instead of the field's own bounding box (needed for the
        empty-box constant fields of PhotoCalibs).
    unit
        Unit of the field values.

    Raises
    ------
    NotImplementedError
        For any other kind of afw bounded field.
    """
    from ..fields import ChebyshevField, ProductField

    if isinstance(legacy, LegacyChebyshevField):
        if bounds is None:
            if legacy.is_empty:
                raise LegacyFormatError("A ChebyshevBoundedField with an empty box needs explicit bounds.")
            bounds = _box(legacy.bbox)
        return ChebyshevField(bounds, np.array(legacy.coefficients, dtype=float), unit=unit)
    if isinstance(legacy, LegacyProductField):
        factors = [to_field(f, bounds=bounds) for f in legacy.factors]
        if unit is not None:
            factors[0] = factors[0].multiply_constant(unit)
        return ProductField(factors)
    raise NotImplementedError(f"Cannot convert legacy bounded field of type {type(legacy).__name__}.")


def to_aperture_corrections(legacy: dict[str, Any]) -> dict[str, Any]:
    """Convert a decoded ``ApCorrMap`` into an `ApertureCorrectionMap` (each field keeps its own box)."""
    return {name: to_field(field) for name, field in legacy.items()}


def to_polygon(legacy: LegacyPolygon) -> Any:
    """Convert a decoded afw polygon into an `lsst.images.Polygon` (closed ring kept as stored)."""
    from .._polygon import Polygon

    return Polygon(x_vertices=legacy.x, y_vertices=legacy.y)
