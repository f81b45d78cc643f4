"""Vectorized 2-d coordinate transforms between frames, backed by AST mappings."""

from __future__ import annotations

__all__ = ("Transform", "TransformCompositionError")

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np
from starlink import Ast

from .._geom import XY, YX, Bounds, Box, split_point
from . import _ast_utils
from ._frames import Frame, SkyFrame

if TYPE_CHECKING:
    import astropy.units as u
    import astropy.wcs

    from ..serialization import OutputArchive
    from ._models import TransformSerializationModel
    from ._projection import Projection
else:
    from .._lazy import astropy_units as u

I = TypeVar("I", bound=Frame)  # noqa: E741
O = TypeVar("O", bound=Frame)  # noqa: E741
F = TypeVar("F", bound=Frame)
T = TypeVar("T")


class TransformCompositionError(RuntimeError):
    """Raised when composing transforms whose intermediate frames do not match."""


def _evaluate(mapping: Ast.Mapping, forward: bool, x: Any, y: Any) -> tuple[Any, Any]:
    """Push x/y through an AST mapping, preserving the input shape.

    Scalars come back as Python floats and arrays keep their (broadcast)
    shape; AST itself only sees one contiguous ``(2, n)`` float64 array, which
    is what makes the call vectorized.
    """
    x_arr = np.asarray(x, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    scalar = x_arr.ndim == 0 and y_arr.ndim == 0
    x_arr, y_arr = np.broadcast_arrays(x_arr, y_arr)
    shape = x_arr.shape
    points = np.empty((2, x_arr.size), dtype=np.float64)
    points[0] = x_arr.ravel()
    points[1] = y_arr.ravel()
    if points.shape[1] == 0:
        return x_arr.copy(), y_arr.copy()
    out = mapping.tran(points, forward)
    if scalar:
        return float(out[0, 0]), float(out[1, 0])
    return out[0].reshape(shape), out[1].reshape(shape)


class Transform(Generic[I, O]):
    """A mapping of 2-d points from one frame to another.

    Parameters
    ----------
    in_frame
        Frame of the input coordinates.
    out_frame
        Frame of the output coordinates.
    ast_mapping
        AST Mapping (or FrameSet, evaluated base → current) with two inputs
        and two outputs.  It is not copied, so it must not be modified later.
    in_bounds, out_bounds
        Optional regions where the inputs (outputs) are valid.  They are
        carried along and serialized, not enforced on evaluation.  When not
        given, a frame's own ``bbox`` (pixel frames have one) is used.
    components
        Transforms this one was composed from, reported by `decompose` and
        used to serialize the chain of intermediate frames.

    Notes
    -----
    Coordinates are plain floats in each frame's unit (pixels, radians, ...);
    the ``_q`` methods accept and return `astropy.units.Quantity` instead.
    Outputs are passed through the output frame's ``standardize_x/y`` so sky
    longitudes always come back in ``[0, 2π)``.
    """

    def __init__(
        self,
        in_frame: I,
        out_frame: O,
        ast_mapping: Ast.Mapping,
        in_bounds: Bounds | None = None,
        out_bounds: Bounds | None = None,
        components: Iterable[Transform[Any, Any]] = (),
    ):
        if ast_mapping.Nin != 2 or ast_mapping.Nout != 2:
            raise ValueError(
                f"A Transform needs a mapping with 2 inputs and 2 outputs, not "
                f"{ast_mapping.Nin} and {ast_mapping.Nout}."
            )
        self._in_frame = in_frame
        self._out_frame = out_frame
        self._ast_mapping = ast_mapping
        self._in_bounds = in_bounds if in_bounds is not None else getattr(in_frame, "bbox", None)
        self._out_bounds = out_bounds if out_bounds is not None else getattr(out_frame, "bbox", None)
        self._components = tuple(components)

    # --- construction ---------------------------------------------------------------------------------

    @staticmethod
    def identity(frame: I) -> Transform[I, I]:
        """Return the transform that maps a frame onto itself unchanged."""
        return Transform(frame, frame, Ast.UnitMap(2))

    @staticmethod
    def affine(in_frame: I, out_frame: O, matrix: Any) -> Transform[I, O]:
        """Return the affine transform ``(x, y) -> M @ (x, y) + shift`` (Rubin 4300).

        Parameters
        ----------
        in_frame, out_frame
            Frames of the input and output points.
        matrix
            A 2x2 linear matrix (rows give x' and y'), or a 3x3 augmented matrix
            whose third column is the shift and whose third row is ``[0, 0, 1]``.

        Raises
        ------
        ValueError
            If the matrix is not 2x2 or 3x3.
        """
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape not in ((2, 2), (3, 3)):
            raise ValueError(f"An affine transform needs a 2x2 or 3x3 matrix, not one of shape {m.shape}.")
        mapping: Ast.Mapping = Ast.MatrixMap(m[:2, :2].copy())
        if m.shape == (3, 3) and (m[0, 2] != 0.0 or m[1, 2] != 0.0):
            mapping = Ast.CmpMap(mapping, Ast.ShiftMap([m[0, 2], m[1, 2]]), True)
        return Transform(in_frame, out_frame, mapping.simplify())

    @staticmethod
    def from_fits_wcs(
        fits_wcs: astropy.wcs.WCS,
        in_frame: I,
        out_frame: O,
        in_bounds: Bounds | None = None,
        out_bounds: Bounds | None = None,
        x0: int = 0,
        y0: int = 0,
    ) -> Transform[I, O]:
        """Build a transform from an astropy FITS WCS.

        Parameters
        ----------
        fits_wcs
            The WCS; its pixel coordinates are those of an array whose first
            pixel has absolute coordinates ``(x0, y0)``.
        in_frame, out_frame
            Frames of the pixel and world coordinates.
        in_bounds, out_bounds
            Optional validity regions.
        x0, y0
            Absolute coordinates of the array's first pixel.
        """
        from ._fits import frame_set_from_fits_wcs

        frame_set = frame_set_from_fits_wcs(fits_wcs, x0=x0, y0=y0)
        return Transform(in_frame, out_frame, frame_set, in_bounds=in_bounds, out_bounds=out_bounds)

    @staticmethod
    def from_legacy(
        legacy: Any,
        in_frame: I,
        out_frame: O,
        in_bounds: Bounds | None = None,
        out_bounds: Bounds | None = None,
    ) -> Transform[I, O]:
        """Build from an afw ``TransformPoint2ToPoint2`` (its AST mapping is copied through text)."""
        text = legacy.getMapping().show()
        return Transform(
            in_frame, out_frame, _ast_utils.ast_from_text(text), in_bounds=in_bounds, out_bounds=out_bounds
        )

    def to_legacy(self) -> Any:
        """Convert to an afw ``TransformPoint2ToPoint2`` (needs the legacy LSST stack)."""
        import astshim  # type: ignore[import-not-found]
        from lsst.afw.geom import TransformPoint2ToPoint2  # type: ignore[import-not-found]

        mapping = astshim.Mapping.fromString(_ast_utils.ast_to_text(self._ast_mapping))
        return TransformPoint2ToPoint2(mapping)

    # --- properties -----------------------------------------------------------------------------------

    @property
    def in_frame(self) -> I:
        """Frame of the input coordinates."""
        return self._in_frame

    @property
    def out_frame(self) -> O:
        """Frame of the output coordinates."""
        return self._out_frame

    @property
    def in_bounds(self) -> Bounds | None:
        """Region where inputs are valid, or `None`."""
        return self._in_bounds

    @property
    def out_bounds(self) -> Bounds | None:
        """Region where outputs are valid, or `None`."""
        return self._out_bounds

    @property
    def _ast(self) -> Ast.Mapping:
        """The underlying AST mapping (or FrameSet); do not modify it."""
        return self._ast_mapping

    # --- evaluation -----------------------------------------------------------------------------------

    def apply_forward(self, point: XY[T] | YX[T] | None = None, /, *, x: T = None, y: T = None) -> XY[T]:
        """Map points from `in_frame` to `out_frame`.

        Parameters
        ----------
        point
            An `XY` or `YX` of coordinates instead of ``x``/``y`` (4300 style).
        x, y
            Coordinates in the input frame's unit: scalars or broadcastable
            arrays of any shape.

        Returns
        -------
        XY
            Output coordinates with the broadcast input shape (floats for
            scalar inputs), standardized for the output frame.
        """
        x, y = _point_arguments(point, x, y)
        out_x, out_y = _evaluate(self._ast_mapping, True, x, y)
        return XY(self._out_frame.standardize_x(out_x), self._out_frame.standardize_y(out_y))

    def apply_inverse(self, point: XY[T] | YX[T] | None = None, /, *, x: T = None, y: T = None) -> XY[T]:
        """Map points from `out_frame` back to `in_frame` (see `apply_forward`)."""
        x, y = _point_arguments(point, x, y)
        out_x, out_y = _evaluate(self._ast_mapping, False, x, y)
        return XY(self._in_frame.standardize_x(out_x), self._in_frame.standardize_y(out_y))

    def apply_forward_q(
        self,
        point: XY[u.Quantity] | YX[u.Quantity] | None = None,
        /,
        *,
        x: u.Quantity = None,
        y: u.Quantity = None,
    ) -> XY[u.Quantity]:
        """Unit-aware `apply_forward`: Quantities in, Quantities in ``out_frame.unit`` out."""
        x, y = _point_arguments(point, x, y)
        in_unit = self._in_frame.unit
        result = self.apply_forward(x=u.Quantity(x).to_value(in_unit), y=u.Quantity(y).to_value(in_unit))
        return XY(result.x * self._out_frame.unit, result.y * self._out_frame.unit)

    def apply_inverse_q(
        self,
        point: XY[u.Quantity] | YX[u.Quantity] | None = None,
        /,
        *,
        x: u.Quantity = None,
        y: u.Quantity = None,
    ) -> XY[u.Quantity]:
        """Unit-aware `apply_inverse`: Quantities in, Quantities in ``in_frame.unit`` out."""
        x, y = _point_arguments(point, x, y)
        out_unit = self._out_frame.unit
        result = self.apply_inverse(x=u.Quantity(x).to_value(out_unit), y=u.Quantity(y).to_value(out_unit))
        return XY(result.x * self._in_frame.unit, result.y * self._in_frame.unit)

    # --- algebra --------------------------------------------------------------------------------------

    def then(self, next: Transform[O, F], remember_components: bool = True) -> Transform[I, F]:
        """Compose this transform followed by ``next``.

        Parameters
        ----------
        next
            Transform whose `in_frame` must equal this transform's `out_frame`.
        remember_components
            If `True`, the result remembers both parts (flattened) so
            `decompose` and serialization keep the intermediate frames.

        Raises
        ------
        TransformCompositionError
            If the frames do not match.
        """
        if self._out_frame != next._in_frame:
            raise TransformCompositionError(
                "Cannot compose transforms that do not share a common intermediate frame: "
                f"{self._out_frame!r} != {next._in_frame!r}."
            )
        components: list[Transform[Any, Any]] = []
        if remember_components:
            components = [*self.decompose(), *next.decompose()]
        return Transform(
            self._in_frame,
            next._out_frame,
            Ast.CmpMap(self._ast_mapping, next._ast_mapping, True),
            in_bounds=self._in_bounds,
            out_bounds=next._out_bounds,
            components=components,
        )

    def inverted(self) -> Transform[O, I]:
        """Return the reverse transform (frames, bounds and components swapped)."""
        mapping = self._ast_mapping.copy()
        mapping.invert()
        return Transform(
            self._out_frame,
            self._in_frame,
            mapping,
            in_bounds=self._out_bounds,
            out_bounds=self._in_bounds,
            components=[c.inverted() for c in reversed(self._components)],
        )

    def decompose(self) -> list[Transform[Any, Any]]:
        """Return the component transforms.

        An identity gives ``[]``, a transform built by `then` (with
        ``remember_components=True``) its parts, anything else ``[self]``.
        """
        if self._components:
            return list(self._components)
        if isinstance(self._ast_mapping, Ast.UnitMap) and self._in_frame == self._out_frame:
            return []
        return [self]

    def as_projection(self: Transform[I, SkyFrame]) -> Projection[I]:
        """View a pixel → sky transform as a `Projection`."""
        from ._projection import Projection

        if self._out_frame != SkyFrame.ICRS:
            raise TypeError(
                f"Only transforms to the ICRS sky frame are projections, not {self._out_frame!r}."
            )
        return Projection(self)

    def as_fits_wcs(self, bbox: Box) -> astropy.wcs.WCS | None:
        """Return an exact astropy FITS WCS for the pixel grid of ``bbox``, or `None`.

        The WCS uses 0-based array coordinates of an array covering ``bbox``
        (CRPIX is shifted by ``bbox.start``).  `None` is returned when AST
        cannot write the mapping as FITS-WCS within 1e-4 pixels.
        """
        from ._fits import mapping_to_fits_wcs

        return mapping_to_fits_wcs(self._ast_mapping, bbox, sky=self._out_frame == SkyFrame.ICRS)

    # --- text -----------------------------------------------------------------------------------------

    def show(self, simplified: bool = False, comments: bool = False) -> str:
        """Return the AST native text of the mapping.

        Parameters
        ----------
        simplified
            Simplify the mapping first (a FrameSet is reduced to its
            base → current mapping), so equivalent transforms give equal text.
        comments
            Keep AST's explanatory ``# ...`` comments.

        Notes
        -----
        The text is deterministic for a given mapping, which is how
        transforms are compared for equivalence.
        """
        mapping = _ast_utils.simplified_mapping(self._ast_mapping) if simplified else self._ast_mapping
        return _ast_utils.ast_to_text(mapping, comments=comments)

    def serialize(
        self, archive: OutputArchive[Any], *, use_frame_sets: bool = False
    ) -> TransformSerializationModel[Any]:
        """Store the chain of frames, bounds and AST mappings in a model.

        Parameters
        ----------
        archive
            Archive being written; consulted for frame sets already stored
            when ``use_frame_sets`` is `True`.
        use_frame_sets
            Replace a component's mapping by a pointer to a stored frame set
            that contains both of its frames, instead of repeating its AST
            text.
        """
        from ._models import serialize_transform

        return serialize_transform(self, archive, use_frame_sets=use_frame_sets)

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[TransformSerializationModel[Any]]:
        """Return the model class to parse for a transform stored on its own with ``pointer_type``.

        A transform has no ``_archive_default_name``: written alone, its
        serialized model *is* the top-level tree.
        """
        from ..serialization._models import parametrized
        from ._models import TransformSerializationModel

        return parametrized(TransformSerializationModel, pointer_type)

    def __repr__(self) -> str:
        return f"Transform({self._in_frame!r} -> {self._out_frame!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _unpickle_transform,
            (
                self._in_frame,
                self._out_frame,
                _ast_utils.ast_to_text(self._ast_mapping),
                self._in_bounds,
                self._out_bounds,
                self._components,
            ),
        )


def _unpickle_transform(
    in_frame: Any,
    out_frame: Any,
    text: str,
    in_bounds: Bounds | None,
    out_bounds: Bounds | None,
    components: tuple[Transform[Any, Any], ...],
) -> Transform[Any, Any]:
    return Transform(in_frame, out_frame, _ast_utils.ast_from_text(text), in_bounds, out_bounds, components)


def _point_arguments(point: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """``(x, y)`` from a positional `XY`/`YX` point or the ``x=``/``y=`` keywords (exactly one form)."""
    if point is not None:
        if x is not None or y is not None:
            raise TypeError("Pass either a point or x= and y=, not both.")
        return split_point(point)
    if x is None or y is None:
        raise TypeError("Both x= and y= (or a point) are needed.")
    return x, y
