"""Abstract base class shared by every image-like type.

`GeneralizedImage` owns the state that is common to `Image`, `Mask`,
`MaskedImage`, `ColorImage` and `VisitImage`: the metadata dictionary (shared
between an object and its views), butler provenance recorded by readers,
format-specific opaque metadata (e.g. FITS header cards to re-emit on write),
and the ``local``/``absolute`` slicing proxies and WCS views that only depend
on ``bbox`` and ``projection``.
"""

from __future__ import annotations

__all__ = ("GeneralizedImage",)  # ArrayImage is an implementation base, not exported

import functools
from abc import ABC, abstractmethod
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Self

from ._geom import YX, AbsoluteSliceProxy, Box, LocalSliceProxy

if TYPE_CHECKING:
    import astropy.wcs

    from ._transforms import Projection, ProjectionAstropyView
    from .serialization import MetadataValue


_SUBSET_KEY_MESSAGE = (
    "Only Box objects can be used to subset image objects directly; use .local[y, x] or "
    ".absolute[y, x] proxies for slice-based subsets."
)


class GeneralizedImage(ABC):
    """Base class for image-like objects with a bounding box.

    Parameters
    ----------
    metadata
        Initial metadata dictionary; a new empty dict is created if `None`.
        The dictionary is *not* copied, so callers may deliberately share one.
    """

    def _repr_html_(self) -> str:
        """Notebook display: a summary table (and a small thumbnail where there are pixels)."""
        from .display._html import repr_html

        return repr_html(self)

    def __init__(self, metadata: dict[str, MetadataValue] | None = None):
        self._metadata: dict[str, MetadataValue] = {} if metadata is None else metadata
        # Format-specific metadata (e.g. fits.FitsOpaqueMetadata) carried
        # across copies (via its ``copy()``) and subsets (via ``subset(bbox)``).
        self._opaque_metadata: Any = None
        # serialization.ButlerInfo recorded by butler-aware readers.
        self._butler_info: Any = None

    # -- abstract interface ------------------------------------------------

    @property
    @abstractmethod
    def bbox(self) -> Box:
        """Bounding box in absolute pixel coordinates."""
        raise NotImplementedError()

    @property
    @abstractmethod
    def projection(self) -> Projection[Any] | None:
        """Pixel-to-sky projection (absolute pixel coordinates), or `None`."""
        raise NotImplementedError()

    @abstractmethod
    def copy(self) -> Self:
        """Return a deep copy of pixel data and metadata.

        Immutable attached objects (projection, PSF, ...) are shared.
        """
        raise NotImplementedError()

    @abstractmethod
    def __getitem__(self, bbox: Box | EllipsisType) -> Self:
        raise NotImplementedError()

    # -- common state ------------------------------------------------------

    @property
    def metadata(self) -> dict[str, MetadataValue]:
        """Mutable dict of scalar metadata, shared by views and subimages.

        Assign a new dict to detach this object from its views.
        """
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, MetadataValue]) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"metadata must be a dict; got {type(value).__name__}.")
        self._metadata = value

    @property
    def sky_projection(self) -> Projection[Any] | None:
        """The 4300 name of `projection` (the same object)."""
        return self.projection

    @property
    def yx0(self) -> YX[int]:
        """The 4300 name of ``bbox.start``: the ``(y, x)`` of the first pixel."""
        return self.bbox.start

    @classmethod
    def read(cls, path: Any, **kwargs: Any) -> Self:
        """Read an object of this type from a file, in the container its extension names.

        Rubin's 4300 entry point beside ``read_fits``: ``.fits``, ``.json`` and
        (with `lsst.images.ndf`) ``.sdf``/``.h5``.  ``kwargs`` are this type's read
        options, e.g. ``bbox=`` for a cut-out that reads only the tiles it needs.
        """
        from .serialization import read_archive

        return read_archive(path, cls, **kwargs)

    def write(self, path: Any, **kwargs: Any) -> None:
        """Write to a file in the container its extension names (``.fits``, ``.json``, ...).

        ``kwargs`` go to the container's writer (for FITS e.g. ``compression_options``,
        ``compression_seed``, ``layout``).
        """
        from .serialization import write_archive

        write_archive(self, path, **kwargs)

    @property
    def absolute(self) -> AbsoluteSliceProxy[Self]:
        """Proxy for subsets with absolute-coordinate slices: ``img.absolute[ys, xs]``."""
        return AbsoluteSliceProxy(self)

    @property
    def local(self) -> LocalSliceProxy[Self]:
        """Proxy for subsets with 0-based array-index slices: ``img.local[ys, xs]``."""
        return LocalSliceProxy(self)

    @property
    def butler_dataset(self) -> Any:
        """Butler dataset reference recorded when written through a butler, else `None`.

        A ``lsst.daf.butler.SerializedDatasetRef`` when the butler is installed,
        else its JSON form.
        """
        info = self._butler_info
        return None if info is None else info.dataset_ref()

    @property
    def butler_provenance(self) -> Any:
        """Butler provenance recorded when written through a butler, else `None`.

        A ``lsst.daf.butler.DatasetProvenance`` when the butler is installed, else
        its JSON form.
        """
        info = self._butler_info
        return None if info is None else info.dataset_provenance()

    def bbox_from_sky_circle(self, center: Any, radius: Any, clip: bool | None = None) -> Box:
        """Box of pixels covering a sky circle (needs a projection).

        Parameters
        ----------
        center, radius
            Centre (`~astropy.coordinates.SkyCoord`) and angular radius.
        clip
            Whether to intersect the box with this image's bbox.  The default
            (`None`) follows 2100, which always does (`NoOverlapError` if the
            circle misses the image); ``clip=False`` (the 4300 default) returns
            the unclipped box.
        """
        if self.projection is None:
            raise ValueError("This image has no projection.")
        box = Box.from_sky_circle(center, radius, self.projection)
        return box if clip is False else self.bbox.intersection(box)

    @property
    def astropy_wcs(self) -> ProjectionAstropyView | None:
        """APE-14 WCS view of the projection in local (array) pixel coordinates, or `None`."""
        projection = self.projection
        if projection is None:
            return None
        return projection.as_astropy(self.bbox)

    @functools.cached_property
    def fits_wcs(self) -> astropy.wcs.WCS | None:
        """`astropy.wcs.WCS` for the local pixel grid (possibly approximate), or `None`.

        Computed once and cached, since building a FITS WCS may require fitting
        an approximation to the projection.
        """
        projection = self.projection
        if projection is None:
            return None
        return projection.as_fits_wcs(self.bbox, allow_approximation=True)

    # -- helpers for subclasses --------------------------------------------

    @staticmethod
    def _check_subset_key(key: Any) -> None:
        """Raise `TypeError` unless ``key`` is a `Box` (Ellipsis is handled by callers)."""
        if not isinstance(key, Box):
            raise TypeError(_SUBSET_KEY_MESSAGE)

    def _init_subset_state(self, parent: GeneralizedImage, bbox: Box) -> None:
        """Initialize this view's shared state from ``parent`` for a subset ``bbox``."""
        self._metadata = parent._metadata
        self._butler_info = parent._butler_info
        opaque = parent._opaque_metadata
        self._opaque_metadata = None if opaque is None else opaque.subset(bbox)

    def _init_view_state(self, parent: GeneralizedImage) -> None:
        """Initialize this view's shared state from ``parent`` for a full-size view."""
        self._metadata = parent._metadata
        self._butler_info = parent._butler_info
        self._opaque_metadata = parent._opaque_metadata

    def _init_copy_state(self, parent: GeneralizedImage) -> None:
        """Initialize this copy's state from ``parent`` (metadata copied, not shared)."""
        self._metadata = dict(parent._metadata)
        self._butler_info = parent._butler_info
        opaque = parent._opaque_metadata
        self._opaque_metadata = None if opaque is None else opaque.copy()


class ArrayImage(GeneralizedImage):
    """Base of the image types that are a single numpy array covering ``bbox``.

    `Image`, `Mask` and `ColorImage` keep ``_array`` (local indexing, first
    two axes y and x), ``_bbox`` and ``_projection``.  Subsets and deep copies
    of them differ only in the type-specific state carried along (a unit, a
    mask schema), which subclasses supply through `_with_array`; the slicing,
    copying and metadata bookkeeping is written once here.
    """

    _array: Any
    _bbox: Box
    _projection: Projection[Any] | None

    @abstractmethod
    def _with_array(self, array: Any, bbox: Box) -> Self:
        """Return a new object of this type over ``array`` covering ``bbox``.

        The result keeps this object's projection and type-specific state, is
        not validated and has no metadata yet (callers initialize it).
        """
        raise NotImplementedError()

    @property
    def bbox(self) -> Box:
        """2-d bounding box in absolute pixel coordinates."""
        return self._bbox

    @property
    def projection(self) -> Projection[Any] | None:
        """Attached projection, or `None`."""
        return self._projection

    def __getitem__(self, bbox: Box | EllipsisType) -> Self:
        if bbox is Ellipsis:
            return self
        self._check_subset_key(bbox)
        result = self._with_array(self._array[bbox.slice_within(self._bbox)], bbox)
        result._init_subset_state(self, bbox)
        return result

    def copy(self) -> Self:
        """Return a deep copy of the array and metadata (the projection is shared)."""
        result = self._with_array(self._array.copy(), self._bbox)
        result._init_copy_state(self)
        return result
