"""Pixel-space regions: polygons, general regions and lazy intersections of bounds.

Regions describe where something (a PSF model, a photometric calibration, a
whole visit image) is valid.  They all implement the `Bounds` protocol from
`lsst.images._geom`, as does `Box`:

* `Polygon` — one simple, hole-free polygon given by its vertices;
* `Region` — any union of polygons with holes, backed by shapely;
* an internal lazy intersection of two arbitrary bounds, used when the
  intersection cannot be computed geometrically.

Coordinates are logical (absolute) pixel coordinates with pixel centres at
integers, so the polygon covering a `Box` has its vertices on half-integers.

The serialized form is a GeoJSON subset (`RegionSerializationModel`) with
closed rings; an intersection serializes as ``{"a": ..., "b": ...}``.
`SerializableBounds` is the pydantic union of all these forms, resolved by
shape.
"""

from __future__ import annotations

__all__ = ("Polygon", "Region", "RegionSerializationModel")

import math
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
import numpy.typing as npt
import pydantic
from typing_extensions import TypeAliasType

from ._geom import XY, YX, Bounds, Box, Interval, NoOverlapError, split_point

if TYPE_CHECKING:
    import shapely


def _bool_result(values: Any) -> bool | np.ndarray:
    """Return a Python bool for 0-d results and a numpy array otherwise."""
    return bool(values) if np.ndim(values) == 0 else np.asarray(values)


def _box_covering(min_x: float, min_y: float, max_x: float, max_y: float) -> Box:
    """Smallest Box whose pixels (centred on integers, half-pixel edges) cover a rectangle."""
    return Box(
        Interval(math.floor(min_y + 0.5), math.ceil(max_y - 0.5) + 1),
        Interval(math.floor(min_x + 0.5), math.ceil(max_x - 0.5) + 1),
    )


def _closed_ring(coords: Any) -> list[tuple[float, float]]:
    """Return ring coordinates as (x, y) float tuples with the first vertex repeated at the end."""
    ring = [(float(x), float(y)) for x, y in coords]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def _geometry_of(bounds: Any) -> Any:
    """Return a shapely geometry for a Box or Region, or `None` for other bounds."""
    if isinstance(bounds, Region):
        return bounds.to_shapely()
    if isinstance(bounds, Box):
        return Polygon.from_box(bounds).to_shapely()
    return None


class Region:
    """A 2-d Euclidean region: one or more polygons, possibly with holes.

    Parameters
    ----------
    geometry
        A shapely ``Polygon`` or ``MultiPolygon``.

    Notes
    -----
    Region algebra (`intersection`, `union`, `difference`) is delegated to
    shapely.  Regions are immutable and compare equal when their geometries
    are topologically equal; they are not hashable.
    """

    def __init__(self, geometry: shapely.Polygon | shapely.MultiPolygon):
        import shapely

        if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon):
            raise TypeError(
                f"A Region needs a shapely Polygon or MultiPolygon, not {type(geometry).__name__}."
            )
        self._geometry = geometry

    # --- construction ---------------------------------------------------------------------------------

    @staticmethod
    def from_wkt(wkt: str) -> Region:
        """Parse well-known text, returning a `Polygon` for a simple hole-free polygon."""
        import shapely

        return Region(shapely.from_wkt(wkt)).try_to_polygon()

    # --- shapely access -------------------------------------------------------------------------------

    def to_shapely(self) -> shapely.Polygon | shapely.MultiPolygon:
        """Return the underlying shapely geometry."""
        return self._geometry

    @property
    def wkt(self) -> str:
        """Well-known text of the geometry."""
        return self.to_shapely().wkt

    # --- Bounds protocol ------------------------------------------------------------------------------

    @property
    def area(self) -> float:
        """Area in square pixels."""
        return float(self.to_shapely().area)

    @property
    def bbox(self) -> Box:
        """Smallest integer Box whose pixels (with half-pixel edges) cover the region."""
        geometry = self.to_shapely()
        if geometry.is_empty:
            raise NoOverlapError("An empty region has no bounding box.")
        return _box_covering(*geometry.bounds)

    def contains(
        self,
        other: Region | Box | None = None,
        *,
        x: float | int | np.ndarray | None = None,
        y: float | int | np.ndarray | None = None,
    ) -> bool | np.ndarray:
        """Test containment of another region or of points.

        Parameters
        ----------
        other
            Region (or Box, as the polygon covering its pixels) that must lie
            entirely inside this one.
        x, y
            Point coordinates (scalars or broadcastable arrays); points on
            the boundary are outside.

        Raises
        ------
        TypeError
            If both or neither of ``other`` and the ``x``/``y`` pair are given.
        """
        import shapely

        if isinstance(other, XY | YX):  # a 4300-style positional point
            if x is not None or y is not None:
                raise TypeError("Pass either a point or x= and y=, not both.")
            other, (x, y) = None, split_point(other)
        if other is not None:
            if x is not None or y is not None:
                raise TypeError("Pass either another region or x= and y=, not both.")
            other_geometry = _geometry_of(other)
            if other_geometry is None:
                raise TypeError(f"Cannot test containment of {type(other).__name__}.")
            return bool(self.to_shapely().contains(other_geometry))
        if x is None or y is None:
            raise TypeError("Pass either another region or both x= and y=.")
        return _bool_result(shapely.contains_xy(self.to_shapely(), x, y))

    def intersection(self, other: Bounds) -> Bounds:
        """Return the region common to this one and any other `Bounds`.

        The result type follows the operand types: with a `Box` the result is
        a `Box` when it is exactly a pixel-aligned rectangle (`try_to_box`);
        with another region it is always a region -- a `Polygon` when it is
        one ring without holes, else a general `Region` -- and never a `Box`,
        even when it happens to be rectangular.  A lazy intersection defers
        to its own rule; for any other bounds type (e.g. cell grids) a lazy
        intersection is returned.

        Raises
        ------
        NoOverlapError
            If the two regions do not overlap (or only touch along an edge or
            at a corner).
        """
        if isinstance(other, _IntersectionBounds):
            return other.intersection(self)
        other_geometry = _geometry_of(other)
        if other_geometry is None:
            return _IntersectionBounds(self, other)
        # Operand order matters only for the vertex order of the result; these match the reference.
        if isinstance(other, Box):
            result = other_geometry.intersection(self.to_shapely())
        else:
            result = self.to_shapely().intersection(other_geometry)
        result = _polygonal_part(result)
        if result is None:
            raise NoOverlapError(f"No overlap between {other_geometry.wkt} and {self.wkt}.")
        if isinstance(other, Box):
            return Region(result).try_to_box()
        return Region(result).try_to_polygon()

    def transform(self, transform: Any) -> Region:
        """The region a `Transform` maps this one to (every vertex mapped forward)."""
        import shapely

        def forward(coords: np.ndarray) -> np.ndarray:
            out = transform.apply_forward(x=coords[:, 0], y=coords[:, 1])
            return np.column_stack([np.asarray(out.x, dtype=float), np.asarray(out.y, dtype=float)])

        return Region(shapely.transform(self.to_shapely(), forward)).try_to_polygon()

    def union(self, other: Region) -> Region:
        """Return the point-set union (a `Polygon` when the result is one simple polygon)."""
        result = _polygonal_part(self.to_shapely().union(_geometry_of(other)))
        if result is None:
            raise ValueError("The union of two regions has no area.")
        return Region(result).try_to_polygon()

    def difference(self, other: Region) -> Region:
        """Return the points of this region that are not in ``other`` (may have holes or be empty)."""
        import shapely

        result = _polygonal_part(self.to_shapely().difference(_geometry_of(other)))
        return Region(shapely.Polygon() if result is None else result).try_to_polygon()

    def try_to_box(self) -> Region | Box:
        """Return the equivalent `Box` if this is a pixel-aligned rectangle, else `try_to_polygon`."""
        import shapely

        geometry = self.to_shapely()
        if isinstance(geometry, shapely.Polygon) and not geometry.interiors and not geometry.is_empty:
            min_x, min_y, max_x, max_y = geometry.bounds
            edges = np.array([min_x, min_y, max_x, max_y]) + 0.5
            if np.all(edges == np.round(edges)) and math.isclose(
                geometry.area, (max_x - min_x) * (max_y - min_y), rel_tol=1e-12, abs_tol=0.0
            ):
                return _box_covering(min_x, min_y, max_x, max_y)
        return self.try_to_polygon()

    def try_to_polygon(self) -> Region:
        """Return a `Polygon` if this is a single polygon without holes, else self."""
        import shapely

        geometry = self.to_shapely()
        if isinstance(self, Polygon):
            return self
        if isinstance(geometry, shapely.Polygon) and not geometry.interiors and not geometry.is_empty:
            coords = np.asarray(geometry.exterior.coords)
            return Polygon(x_vertices=coords[:, 0], y_vertices=coords[:, 1])
        return self

    # --- serialization --------------------------------------------------------------------------------

    def serialize(self) -> RegionSerializationModel:
        """Return the GeoJSON-like model (rings closed)."""
        import shapely

        geometry = self.to_shapely()

        def rings(polygon: shapely.Polygon) -> list[list[tuple[float, float]]]:
            return [_closed_ring(polygon.exterior.coords)] + [
                _closed_ring(interior.coords) for interior in polygon.interiors
            ]

        if isinstance(geometry, shapely.MultiPolygon):
            return RegionSerializationModel(
                type="MultiPolygon", coordinates=[rings(p) for p in geometry.geoms]
            )
        return RegionSerializationModel(type="Polygon", coordinates=rings(geometry))

    # --- protocols ------------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Region):
            return NotImplemented
        return bool(self.to_shapely().equals(other.to_shapely()))

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.wkt

    def __repr__(self) -> str:
        return f"Region.from_wkt({self.wkt!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Region, (self.to_shapely(),))


def _polygonal_part(geometry: Any) -> Any:
    """Keep the polygons of a shapely result (dropping lines/points); `None` if no area is left."""
    import shapely

    if isinstance(geometry, shapely.GeometryCollection) and not isinstance(geometry, shapely.MultiPolygon):
        parts = [g for g in geometry.geoms if isinstance(g, shapely.Polygon) and not g.is_empty]
        geometry = shapely.MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else None)
    if (
        geometry is None
        or geometry.is_empty
        or not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon)
    ):
        return None
    if geometry.area == 0.0:
        return None
    if isinstance(geometry, shapely.MultiPolygon) and len(geometry.geoms) == 1:
        return geometry.geoms[0]
    return geometry


class Polygon(Region):
    """A simple, hole-free polygon.

    Parameters
    ----------
    x_vertices, y_vertices
        Vertex coordinates (at least three).  A closing vertex equal to the
        first is allowed and kept (that is how polygons read from files look).
    """

    def __init__(self, *, x_vertices: npt.ArrayLike, y_vertices: npt.ArrayLike):
        x = np.array(x_vertices, dtype=np.float64)
        y = np.array(y_vertices, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError("x_vertices and y_vertices must be 1-d arrays of the same length.")
        if x.size < 3:
            raise ValueError(f"A polygon needs at least 3 vertices, not {x.size}.")
        x.flags.writeable = False
        y.flags.writeable = False
        self._x = x
        self._y = y
        self._shapely: Any = None

    @staticmethod
    def from_box(box: Box) -> Polygon:
        """Return the rectangle covering a Box's pixels (vertices on half-integer pixel edges)."""
        x0, x1 = box.x.start - 0.5, box.x.stop - 0.5
        y0, y1 = box.y.start - 0.5, box.y.stop - 0.5
        return Polygon(x_vertices=[x0, x0, x1, x1], y_vertices=[y0, y1, y1, y0])

    @staticmethod
    def from_legacy(legacy: Any) -> Polygon:
        """Build from an afw ``Polygon`` (vertex list of ``Point2D``)."""
        vertices = legacy.getVertices()
        return Polygon(x_vertices=[p.getX() for p in vertices], y_vertices=[p.getY() for p in vertices])

    def to_legacy(self) -> Any:
        """Convert to an afw ``Polygon`` (needs the legacy LSST stack)."""
        from lsst.afw.geom import Polygon as LegacyPolygon  # type: ignore[import-not-found]
        from lsst.geom import Point2D  # type: ignore[import-not-found]

        return LegacyPolygon([Point2D(float(x), float(y)) for x, y in zip(self._x, self._y, strict=True)])

    @property
    def x_vertices(self) -> np.ndarray:
        """Read-only vertex x coordinates."""
        return self._x

    @property
    def y_vertices(self) -> np.ndarray:
        """Read-only vertex y coordinates."""
        return self._y

    @property
    def n_vertices(self) -> int:
        """Number of vertices (including a closing vertex if one was given)."""
        return int(self._x.size)

    @property
    def centroid(self) -> XY[float]:
        """Centre of mass of the polygon's area."""
        point = self.to_shapely().centroid
        return XY(float(point.x), float(point.y))

    @property
    def bbox(self) -> Box:
        """Smallest integer Box whose pixels (with half-pixel edges) cover the polygon."""
        x, y = self._x, self._y
        if np.all(np.isfinite(x)) and np.all(np.isfinite(y)):
            # The vertices' extent is the geometry's (no shapely needed for it).
            return _box_covering(float(x.min()), float(y.min()), float(x.max()), float(y.max()))
        return super().bbox

    def intersection(self, other: Bounds) -> Bounds:
        """Return the region common to this polygon and ``other`` (see `Region.intersection`).

        A box well inside a convex polygon (the usual case: a cut-out of a visit image
        inside its valid polygon) is its own intersection with it; that is decided here
        without shapely, whose import would be most of a first cut-out's cost.
        """
        if isinstance(other, Box) and self._surrounds(other):
            return other
        return super().intersection(other)

    def _surrounds(self, box: Box, margin: float = 1e-6) -> bool:
        """Whether this polygon is convex and holds ``box``'s pixels with ``margin`` to spare.

        Conservative: `False` sends the caller to the exact (shapely) computation.
        """
        x, y = self._x, self._y
        if x.size > 3 and x[0] == x[-1] and y[0] == y[-1]:
            x, y = x[:-1], y[:-1]
        dx, dy = np.roll(x, -1) - x, np.roll(y, -1) - y
        length = np.hypot(dx, dy)
        if not np.all(np.isfinite(length)) or np.any(length == 0):
            return False
        turns = dx * np.roll(dy, -1) - dy * np.roll(dx, -1)
        orientation = np.sign(turns.sum())
        if orientation == 0 or np.any(turns * orientation < 0):
            return False
        # Consistent turns and one full turn in total: a convex polygon, not a star.
        total = np.sum(np.arctan2(turns, dx * np.roll(dx, -1) + dy * np.roll(dy, -1)))
        if not math.isclose(abs(total), 2 * math.pi, rel_tol=1e-9):
            return False
        px = np.array([box.x.start, box.x.start, box.x.stop, box.x.stop], dtype=np.float64) - 0.5
        py = np.array([box.y.start, box.y.stop, box.y.stop, box.y.start], dtype=np.float64) - 0.5
        # Signed distance of every corner (columns) from every edge line (rows), inward positive.
        inward = orientation * (
            dx[:, None] * (py[None, :] - y[:, None]) - dy[:, None] * (px[None, :] - x[:, None])
        )
        return bool(np.all(inward > margin * length[:, None]))

    def transform(self, transform: Any) -> Polygon:
        """The polygon whose vertices are this one's mapped forward by a `Transform`."""
        out = transform.apply_forward(x=self._x, y=self._y)
        return Polygon(x_vertices=np.asarray(out.x, dtype=float), y_vertices=np.asarray(out.y, dtype=float))

    def to_shapely(self) -> shapely.Polygon:
        """Return the equivalent shapely Polygon (built on first use)."""
        if self._shapely is None:
            import shapely

            self._shapely = shapely.Polygon(np.column_stack([self._x, self._y]))
        return self._shapely

    def __repr__(self) -> str:
        return f"Polygon(x_vertices={self._x!r}, y_vertices={self._y!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_polygon, (self._x, self._y))


def _make_polygon(x: np.ndarray, y: np.ndarray) -> Polygon:
    return Polygon(x_vertices=x, y_vertices=y)


class _IntersectionBounds:
    """Lazy intersection of two `Bounds` that cannot be combined geometrically.

    Containment requires both operands to contain a point; the bounding box is
    the intersection of the operands' boxes.
    """

    def __init__(self, a: Bounds, b: Bounds):
        self.a = a
        self.b = b

    @property
    def bbox(self) -> Box:
        """Intersection of the two operands' bounding boxes."""
        return self.a.bbox.intersection(self.b.bbox)  # type: ignore[return-value]

    def contains(self, *, x: Any, y: Any) -> bool | np.ndarray:
        """Points inside both operands."""
        return _bool_result(np.logical_and(self.a.contains(x=x, y=y), self.b.contains(x=x, y=y)))

    def intersection(self, other: Bounds) -> Bounds:
        """Intersect with ``other``, combining it with the operands where possible.

        ``a ∩ other`` is tried first: if it can be combined (it is not lazy
        again) the result is ``(a ∩ other) ∩ b``, otherwise
        ``a ∩ (b ∩ other)``.  `NoOverlapError` propagates from either step.
        """
        a_other = self.a.intersection(other)
        if isinstance(a_other, _IntersectionBounds):
            return self.a.intersection(self.b.intersection(other))
        return a_other.intersection(self.b)

    def serialize(self) -> IntersectionBoundsSerializationModel:
        """Return the ``{"a": ..., "b": ...}`` model."""
        return IntersectionBoundsSerializationModel(a=self.a.serialize(), b=self.b.serialize())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _IntersectionBounds):
            return NotImplemented
        return bool(self.a == other.a and self.b == other.b)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"_IntersectionBounds({self.a!r}, {self.b!r})"


class RegionSerializationModel(pydantic.BaseModel):
    """GeoJSON-style model of a `Region`: ``{"type": "Polygon"|"MultiPolygon", "coordinates": ...}``.

    For a Polygon, ``coordinates`` is a list of closed rings (exterior first,
    then holes) of ``[x, y]`` pairs; for a MultiPolygon, a list of such
    lists.
    """

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[list[tuple[float, float] | list[tuple[float, float]]]]

    def deserialize(self) -> Region:
        """Rebuild the Region (a `Polygon` when it is one simple polygon)."""
        if self.type == "Polygon":
            rings = [np.asarray(ring, dtype=np.float64).reshape(-1, 2) for ring in self.coordinates]
            if len(rings) == 1:
                # (No shapely needed until the polygon is used for geometry.)
                return Polygon(x_vertices=rings[0][:, 0], y_vertices=rings[0][:, 1])
        import shapely

        if self.type == "Polygon":
            return Region(shapely.Polygon(rings[0], rings[1:]))
        polygons = []
        for polygon in self.coordinates:
            rings = [np.asarray(ring, dtype=np.float64).reshape(-1, 2) for ring in polygon]
            polygons.append(shapely.Polygon(rings[0], rings[1:]))
        return Region(shapely.MultiPolygon(polygons))


class IntersectionBoundsSerializationModel(pydantic.BaseModel):
    """Serialized lazy intersection ``{"a": Bounds, "b": Bounds}``."""

    a: SerializableBounds
    b: SerializableBounds

    def deserialize(self) -> Bounds:
        """Rebuild the intersection from its two operands."""
        return _IntersectionBounds(self.a.deserialize(), self.b.deserialize())


#: Pydantic type of any serialized `Bounds`: a Box, a GeoJSON-like region or an
#: intersection of two bounds.  The union is untagged and resolved by shape.
SerializableBounds = TypeAliasType(
    "SerializableBounds",
    Union[Box, RegionSerializationModel, IntersectionBoundsSerializationModel],  # noqa: UP007
)

IntersectionBoundsSerializationModel.model_rebuild()
