"""Pixel ↔ ICRS sky projections (the library's WCS type)."""

from __future__ import annotations

__all__ = ("Projection", "SkyProjection")

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from starlink import Ast

from .._geom import XY, Bounds, Box
from ._frames import ICRS, Frame, SkyFrame
from ._transform import Transform

if TYPE_CHECKING:
    import astropy.units as u
    import astropy.wcs
    from astropy.coordinates import SkyCoord

    from ..serialization import OutputArchive
    from ._astropy_view import ProjectionAstropyView
    from ._models import ProjectionSerializationModel
else:
    from .._lazy import astropy_units as u

F = TypeVar("F", bound=Frame)
T = TypeVar("T")


def _default_bounds(pixel_frame: Any, pixel_bounds: Bounds | None) -> Bounds | None:
    """Use the pixel frame's bbox as validity region when none is given."""
    if pixel_bounds is not None:
        return pixel_bounds
    return getattr(pixel_frame, "bbox", None)


class Projection(Generic[F]):
    """Mapping from a pixel frame to ICRS sky coordinates.

    Parameters
    ----------
    pixel_to_sky
        Transform from the pixel frame to `SkyFrame.ICRS`.
    fits_approximation
        Optional transform with the same frames that is known to be exactly
        representable as a FITS WCS, used when the real mapping is not.

    Notes
    -----
    Projections are immutable; pixel coordinates are absolute (they include
    the image's bbox start), sky coordinates are `astropy.coordinates.SkyCoord`
    objects in ICRS.
    """

    def _repr_html_(self) -> str:
        """Notebook display: a summary table (and a small thumbnail where there are pixels)."""
        from ..display._html import repr_html

        return repr_html(self)

    def __init__(
        self,
        pixel_to_sky: Transform[F, SkyFrame],
        fits_approximation: Transform[F, SkyFrame] | None = None,
    ):
        if pixel_to_sky.out_frame != ICRS:
            raise ValueError(f"A projection must map to ICRS, not {pixel_to_sky.out_frame!r}.")
        if fits_approximation is not None and (
            fits_approximation.in_frame != pixel_to_sky.in_frame or fits_approximation.out_frame != ICRS
        ):
            raise ValueError("The FITS approximation must have the same frames as the projection.")
        self._pixel_to_sky = pixel_to_sky
        self._fits_approximation = fits_approximation

    # --- construction ---------------------------------------------------------------------------------

    @staticmethod
    def from_fits_wcs(
        fits_wcs: astropy.wcs.WCS,
        pixel_frame: F,
        pixel_bounds: Bounds | None = None,
        x0: int = 0,
        y0: int = 0,
    ) -> Projection[F]:
        """Build a projection from an astropy FITS WCS.

        Parameters
        ----------
        fits_wcs
            Celestial WCS (TAN, TAN-SIP, or any projection AST and astropy
            understand, in any celestial system; it is converted to ICRS).
        pixel_frame
            Frame of the absolute pixel coordinates.
        pixel_bounds
            Valid pixel region; defaults to the frame's ``bbox`` if it has one.
        x0, y0
            Absolute coordinates of the first pixel of the array the WCS
            describes (FITS pixel ``(1, 1)``).
        """
        transform = Transform.from_fits_wcs(
            fits_wcs, pixel_frame, ICRS, in_bounds=_default_bounds(pixel_frame, pixel_bounds), x0=x0, y0=y0
        )
        return Projection(transform)

    @staticmethod
    def from_ast_frame_set(
        ast_frame_set: Ast.FrameSet, pixel_frame: F, pixel_bounds: Bounds | None = None
    ) -> Projection[F]:
        """Wrap an AST FrameSet whose base frame is absolute pixels and current frame ICRS."""
        current = ast_frame_set.getframe(Ast.CURRENT)
        if not isinstance(current, Ast.SkyFrame):
            raise ValueError(f"The FrameSet's current frame must be a SkyFrame, not a {current.Class}.")
        transform = Transform(
            pixel_frame, ICRS, ast_frame_set, in_bounds=_default_bounds(pixel_frame, pixel_bounds)
        )
        return Projection(transform)

    @staticmethod
    def from_legacy(sky_wcs: Any, pixel_frame: F, pixel_bounds: Bounds | None = None) -> Projection[F]:
        """Build from an afw ``SkyWcs`` (needs the legacy stack), keeping its FITS approximation."""
        from . import _ast_utils

        frame_set = _ast_utils.ast_from_text(sky_wcs.getFrameDict().show())
        projection = Projection.from_ast_frame_set(frame_set, pixel_frame, pixel_bounds)
        approximation = None
        if sky_wcs.hasFitsApproximation():
            legacy_approx = sky_wcs.getFitsApproximation()
            approx_fs = _ast_utils.ast_from_text(legacy_approx.getFrameDict().show())
            approximation = Transform(
                pixel_frame, ICRS, approx_fs, in_bounds=projection.pixel_to_sky_transform.in_bounds
            )
        return Projection(projection.pixel_to_sky_transform, approximation)

    def to_legacy(self) -> Any:
        """Convert to an afw ``SkyWcs`` (needs the legacy stack)."""
        import astshim  # type: ignore[import-not-found]
        from lsst.afw.geom import SkyWcs  # type: ignore[import-not-found]

        return SkyWcs(astshim.FrameDict(astshim.FrameSet.fromString(self.show(comments=True))))

    # --- properties -----------------------------------------------------------------------------------

    @property
    def pixel_frame(self) -> F:
        """Frame of the pixel coordinates."""
        return self._pixel_to_sky.in_frame

    @property
    def sky_frame(self) -> SkyFrame:
        """Always `SkyFrame.ICRS`."""
        return ICRS

    @property
    def pixel_bounds(self) -> Bounds | None:
        """Region of valid pixel coordinates, or `None`."""
        return self._pixel_to_sky.in_bounds

    @property
    def pixel_to_sky_transform(self) -> Transform[F, SkyFrame]:
        """The underlying pixel → sky transform (radians)."""
        return self._pixel_to_sky

    @property
    def sky_to_pixel_transform(self) -> Transform[SkyFrame, F]:
        """The inverse, sky → pixel transform."""
        return self._pixel_to_sky.inverted()

    @property
    def fits_approximation(self) -> Projection[F] | None:
        """A FITS-representable approximation of this projection, or `None`."""
        if self._fits_approximation is None:
            return None
        return Projection(self._fits_approximation)

    # --- evaluation -----------------------------------------------------------------------------------

    def pixel_to_sky(self, *, x: T, y: T) -> SkyCoord:
        """Map absolute pixel coordinates (scalars or arrays) to an ICRS `SkyCoord`."""
        from astropy.coordinates import SkyCoord

        ra, dec = self._pixel_to_sky.apply_forward(x=x, y=y)
        return SkyCoord(ra=ra, dec=dec, unit=u.rad, frame="icrs", copy=False)

    def sky_to_pixel(self, sky: SkyCoord) -> XY[Any]:
        """Map an `astropy.coordinates.SkyCoord` (any frame, scalar or array) to absolute pixels."""
        icrs = sky.icrs
        return self._pixel_to_sky.apply_inverse(x=icrs.ra.to_value(u.rad), y=icrs.dec.to_value(u.rad))

    # --- views ----------------------------------------------------------------------------------------

    def as_astropy(self, bbox: Box | None = None) -> ProjectionAstropyView:
        """Return an APE-14 WCS view in the local (0-based array) coordinates of ``bbox``."""
        from ._astropy_view import ProjectionAstropyView

        return ProjectionAstropyView(self._pixel_to_sky._ast, bbox)

    def as_fits_wcs(self, bbox: Box, allow_approximation: bool = False) -> astropy.wcs.WCS | None:
        """Return an astropy FITS WCS for the array covering ``bbox``.

        Parameters
        ----------
        bbox
            Box covered by the array (its start becomes array pixel (0, 0)).
        allow_approximation
            Fall back to the FITS approximation when the projection itself is
            not FITS-representable.

        Returns
        -------
        astropy.wcs.WCS or None
            Exact WCS if possible, else the approximation (if allowed and
            present), else `None`.
        """
        wcs = self._pixel_to_sky.as_fits_wcs(bbox)
        if wcs is None and allow_approximation and self._fits_approximation is not None:
            wcs = self._fits_approximation.as_fits_wcs(bbox)
        return wcs

    def show(self, simplified: bool = False, comments: bool = False) -> str:
        """AST text of the pixel → sky mapping (see `Transform.show`)."""
        return self._pixel_to_sky.show(simplified=simplified, comments=comments)

    def serialize(
        self, archive: OutputArchive[Any], *, use_frame_sets: bool = False
    ) -> ProjectionSerializationModel[Any]:
        """Store the pixel → sky transform and FITS approximation in a model."""
        from ._models import ProjectionSerializationModel

        return ProjectionSerializationModel(
            pixel_to_sky=self._pixel_to_sky.serialize(archive, use_frame_sets=use_frame_sets),
            fits_approximation=(
                self._fits_approximation.serialize(archive, use_frame_sets=use_frame_sets)
                if self._fits_approximation is not None
                else None
            ),
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[ProjectionSerializationModel[Any]]:
        """Return the model class to parse for a projection stored on its own with ``pointer_type``."""
        from ..serialization._models import parametrized
        from ._models import ProjectionSerializationModel

        return parametrized(ProjectionSerializationModel, pointer_type)

    def __repr__(self) -> str:
        return f"Projection({self.pixel_frame!r})"


#: The 4300 name of `Projection`: the same class, so ``isinstance`` and either spelling work alike.
SkyProjection = Projection
