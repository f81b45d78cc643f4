"""`CellCoadd`: a cell-based coadd of one patch, as Rubin's DP2 deep coadds are.

A patch of a tract is divided into cells (a `CellGrid`); each cell is coadded on its
own, so the PSF, the aperture corrections and the list of inputs are per cell, and
cells without any input are *missing* (NaN pixels, ``NO_DATA`` mask, NaN PSF).  Beside
the usual image, mask and variance planes a coadd carries mask fractions (per-plane
weights of the rejected inputs) and Monte-Carlo noise realizations.
"""

from __future__ import annotations

__all__ = ("CellCoadd",)

import copy
from collections.abc import Mapping, Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, ClassVar

from .._aliases import either
from .._backgrounds import BackgroundMap
from .._geom import Box
from .._image import Image
from .._mask import Mask, MaskPlane, MaskSchema
from .._masked_image import MaskedImage
from .._transforms import TractFrame
from ..serialization import parametrized
from ..serialization._units import has_unit
from ._field import CellField
from ._grid import CellGrid, CellGridBounds
from ._patch import PatchDefinition
from ._provenance import CoaddProvenance
from ._provenance_io import DeferredProvenance
from ._psf import CellPointSpreadFunction

if TYPE_CHECKING:
    import astropy.units as u

    from .._transforms import Projection
    from ..serialization import MetadataValue, OutputArchive
    from ._coadd_model import CellCoaddSerializationModel
else:
    from .._lazy import astropy_units as u


def _same_box_planes(kind: str, planes: Mapping[str, Image] | Sequence[Image], bbox: Box) -> None:
    items = planes.items() if isinstance(planes, Mapping) else enumerate(planes)
    for key, plane in items:
        if not isinstance(plane, Image):
            raise TypeError(f"{kind} {key!r} must be an Image, not {type(plane).__name__}")
        if plane.bbox != bbox:
            raise ValueError(f"{kind} {key!r} has bbox {plane.bbox}, but the coadd's is {bbox}")


class CellCoadd(MaskedImage):
    """A coadd of one patch built cell by cell.

    Parameters
    ----------
    image
        The coadded image; it must have a unit.
    mask, variance, mask_schema
        As for `MaskedImage`.
    mask_fractions
        Plane name → `Image` (no unit) of the fraction of input weight that plane
        flagged.
    noise_realizations
        Monte-Carlo noise images with the image's unit.
    sky_projection, projection
        The projection (two spellings, 4300 and 2100); its pixel frame must be a
        `TractFrame`.  Defaults to the image's.
    band
        Band name (``"r"``...), or `None`.
    psf
        The per-cell PSF.  If its bounds differ from the image bbox it is cut to the
        cells overlapping the image.
    aperture_corrections
        Photometry algorithm → `CellField` on the PSF's cell grid, without units.
    patch
        The patch the coadd covers; required with ``provenance``.
    provenance
        The inputs of every cell.
    backgrounds
        Background models of the coadd.
    metadata
        Flexible metadata.

    Raises
    ------
    TypeError
        If the image has no unit, the projection is missing or not on a `TractFrame`,
        the PSF is not a `CellPointSpreadFunction`, or provenance comes without a patch.
    ValueError
        If an aperture correction is not on the PSF's grid, or a mask fraction or noise
        realization has another bbox.
    """

    #: FITS layout written by default: these files are a 4300/DP2 product.
    _fits_default_layout: ClassVar[str] = "4300"

    def __init__(
        self,
        image: Image,
        *,
        mask: Mask | None = None,
        variance: Image | None = None,
        mask_fractions: Mapping[str, Image] | None = None,
        noise_realizations: Sequence[Image] = (),
        mask_schema: MaskSchema | None = None,
        sky_projection: Projection[TractFrame] | None = None,
        projection: Projection[TractFrame] | None = None,
        band: str | None = None,
        psf: CellPointSpreadFunction,
        aperture_corrections: Mapping[str, CellField] | None = None,
        patch: PatchDefinition | None = None,
        provenance: CoaddProvenance | DeferredProvenance | None = None,
        backgrounds: BackgroundMap | None = None,
        metadata: dict[str, MetadataValue] | None = None,
    ) -> None:
        if not isinstance(image, Image):
            raise TypeError(f"image must be an Image, not {type(image).__name__}.")
        if not has_unit(image):
            raise TypeError("The image component of a CellCoadd must have units.")
        projection = either("projection", projection, "sky_projection", sky_projection)
        if projection is None:
            projection = image.projection
        if projection is None:
            raise TypeError("A CellCoadd needs a sky projection, passed directly or attached to its image.")
        if not isinstance(projection.pixel_frame, TractFrame):
            raise TypeError(
                "A CellCoadd's projection must have a TractFrame pixel frame, not "
                f"{projection.pixel_frame!r}."
            )
        if not isinstance(psf, CellPointSpreadFunction):
            raise TypeError(f"psf must be a CellPointSpreadFunction, not {type(psf).__name__}.")
        if provenance is not None and patch is None:
            raise TypeError("A CellCoadd cannot carry provenance without a patch definition.")
        super().__init__(
            image,
            mask=mask,
            variance=variance,
            mask_schema=mask_schema,
            projection=projection,
            metadata=metadata,
        )
        apcorr = dict(aperture_corrections or {})
        for name, field in apcorr.items():
            if not isinstance(field, CellField):
                raise TypeError(
                    f"aperture correction {name!r} must be a CellField, not {type(field).__name__}"
                )
            if field.bounds.grid != psf.grid:
                raise ValueError(f"aperture correction {name!r} is not on the cell grid of the PSF")
        mask_fractions = dict(mask_fractions or {})
        noise_realizations = list(noise_realizations)
        _same_box_planes("mask fraction", mask_fractions, self.bbox)
        _same_box_planes("noise realization", noise_realizations, self.bbox)
        if psf.bounds.bbox != self.bbox:
            psf = psf[self.bbox.intersection(psf.bounds.bbox)]
        self._psf = psf
        self._band = band
        self._aperture_corrections = apcorr
        self._mask_fractions = mask_fractions
        self._noise_realizations = noise_realizations
        self._patch = patch
        self._provenance = provenance
        self._backgrounds = backgrounds if backgrounds is not None else BackgroundMap()

    # -- components ---------------------------------------------------------------

    @property
    def unit(self) -> u.UnitBase:
        """Unit of the image (never `None` for a coadd)."""
        unit = self.image.unit
        assert unit is not None, "checked at construction"
        return unit

    @property
    def projection(self) -> Projection[TractFrame]:
        """The projection of the tract's pixel grid onto the sky."""
        projection = self.image.projection
        assert projection is not None, "checked at construction"
        return projection

    @property
    def skymap(self) -> str:
        """Name of the skymap of the tract."""
        return self.projection.pixel_frame.skymap

    @property
    def tract(self) -> int:
        """Tract number."""
        return self.projection.pixel_frame.tract

    @property
    def band(self) -> str | None:
        """Band name, or `None`."""
        return self._band

    @property
    def psf(self) -> CellPointSpreadFunction:
        """The per-cell PSF."""
        return self._psf

    @property
    def bounds(self) -> CellGridBounds:
        """The cells of the coadd, with the missing ones (the PSF's bounds)."""
        return self._psf.bounds

    @property
    def grid(self) -> CellGrid:
        """The cell grid."""
        return self._psf.grid

    @property
    def aperture_corrections(self) -> dict[str, CellField]:
        """Photometry algorithm name → per-cell aperture correction."""
        return self._aperture_corrections

    @property
    def mask_fractions(self) -> dict[str, Image]:
        """Mask plane name → image of the fraction of input weight flagged by that plane."""
        return self._mask_fractions

    @property
    def noise_realizations(self) -> list[Image]:
        """Monte-Carlo realizations of the coadd noise."""
        return self._noise_realizations

    @property
    def backgrounds(self) -> BackgroundMap:
        """Background models of the coadd."""
        return self._backgrounds

    @property
    def patch(self) -> PatchDefinition:
        """The patch the coadd covers (`AttributeError` when unknown)."""
        if self._patch is None:
            raise AttributeError("Coadd has no patch information.")
        return self._patch

    @property
    def provenance(self) -> CoaddProvenance:
        """The inputs of every cell (`AttributeError` when not recorded or not read).

        Provenance read from a file is built into tables on first access.
        """
        provenance = self._resolved_provenance()
        if provenance is None:
            raise AttributeError("Coadd has no provenance information.")
        return provenance

    def _resolved_provenance(self) -> CoaddProvenance | None:
        if isinstance(self._provenance, DeferredProvenance):
            self._provenance = self._provenance.resolve()
        return self._provenance

    # -- cut-outs and copies -----------------------------------------------------------

    def __getitem__(self, bbox: Box | EllipsisType) -> CellCoadd:
        """Return the cut-out ``bbox``.

        The planes are sliced (views); the PSF, aperture corrections and provenance are
        restricted to the cells the box overlaps.

        A box inside missing cells is a valid cut-out: its pixels are NaN, every cell
        of its bounds is missing and it has no provenance.
        """
        if bbox is ...:
            return self
        self._check_subset_key(bbox)
        psf = self._psf[bbox.intersection(self._psf.bounds.bbox)]
        result = CellCoadd(
            self.image[bbox],
            mask=self.mask[bbox],
            variance=self.variance[bbox],
            mask_fractions={k: v[bbox] for k, v in self._mask_fractions.items()},
            noise_realizations=[v[bbox] for v in self._noise_realizations],
            band=self._band,
            psf=psf,
            aperture_corrections=_restricted_fields(self._aperture_corrections, bbox),
            patch=self._patch,
            provenance=None
            if self._provenance is None
            else self._provenance.subset(psf.bounds.cell_indices()),
            backgrounds=self._backgrounds,
        )
        result._init_subset_state(self, bbox)
        return result

    def copy(self) -> CellCoadd:
        """Return a deep copy (planes, mask fractions, noise, provenance tables, metadata).

        The PSF, aperture-correction fields, patch and background fields are immutable
        and shared.
        """
        result = CellCoadd(
            self.image.copy(),
            mask=self.mask.copy(),
            variance=self.variance.copy(),
            mask_fractions={k: v.copy() for k, v in self._mask_fractions.items()},
            noise_realizations=[v.copy() for v in self._noise_realizations],
            band=self._band,
            psf=self._psf,
            aperture_corrections=dict(self._aperture_corrections),
            patch=self._patch,
            provenance=None if (provenance := self._resolved_provenance()) is None else provenance.copy(),
            backgrounds=self._backgrounds.copy(),
        )
        result._init_copy_state(self)
        return result

    def apply_background(self, name: str | None) -> None:
        """Subtract the background ``name`` from the image in place (`None`: restore the original).

        The background subtracted so far, if any, is added back first, so the image
        always differs from the original by exactly the one named here.

        Raises
        ------
        KeyError
            If there is no background called ``name``.
        """
        if name is not None and name not in self._backgrounds:
            raise KeyError(f"No background called {name!r}; have {sorted(self._backgrounds)}.")
        current = self._backgrounds.subtracted
        if current is not None and current.name == name:
            return
        array = self.image.array
        if current is not None:
            array += current.field.render(self.bbox).array.astype(array.dtype, copy=False)
        if name is not None:
            array -= self._backgrounds[name].field.render(self.bbox).array.astype(array.dtype, copy=False)
        self._backgrounds = BackgroundMap(self._backgrounds.values(), subtracted=name)

    # -- display -----------------------------------------------------------------------

    def __str__(self) -> str:
        return f"CellCoadd({self.bbox}, tract={self.tract})"

    def __repr__(self) -> str:
        return f"<CellCoadd({self.bbox}, tract={self.tract})>"

    # -- serialization ----------------------------------------------------------------

    def serialize(self, archive: OutputArchive[Any]) -> CellCoaddSerializationModel:
        """Write the planes, mask fractions, noise, PSF, aperture corrections and provenance.

        HDUs (FITS): ``IMAGE``, ``MASK``, ``VARIANCE``, ``MASK_FRACTIONS/<NAME>``,
        ``NOISE_REALIZATIONS/<n>``, ``PSF``, ``APERTURE_CORRECTIONS/TABLE``,
        ``PROVENANCE/INPUTS``, ``PROVENANCE/CONTRIBUTIONS``, then background data.
        """
        from ._apcorr import CellApertureCorrectionMapSerializationModel
        from ._coadd_model import CellCoaddSerializationModel

        planes = super().serialize(archive)
        mask_fractions = {
            name: archive.serialize_direct(
                f"mask_fractions/{name}", lambda a, image=image: image.serialize(a, save_projection=False)
            )
            for name, image in self._mask_fractions.items()
        }
        noise = [
            archive.serialize_direct(
                f"noise_realizations/{n}", lambda a, image=image: image.serialize(a, save_projection=False)
            )
            for n, image in enumerate(self._noise_realizations)
        ]
        psf = archive.serialize_direct("psf", self._psf.serialize)
        apcorr = archive.serialize_direct(
            "aperture_corrections",
            lambda a: CellApertureCorrectionMapSerializationModel.serialize(self._aperture_corrections, a),
        )
        provenance = (
            archive.serialize_direct("provenance", self._provenance.serialize)
            if self._resolved_provenance() is not None
            else None
        )
        backgrounds = archive.serialize_direct("backgrounds", self._backgrounds.serialize)
        return CellCoaddSerializationModel(
            metadata=planes.metadata,
            image=planes.image,
            mask=planes.mask,
            variance=planes.variance,
            projection=planes.projection,
            mask_fractions=mask_fractions,
            noise_realizations=noise,
            band=self._band,
            psf=psf,
            aperture_corrections=apcorr,
            patch=self._patch,
            provenance=provenance,
            backgrounds=backgrounds,
        )

    @classmethod
    def _get_archive_tree_type(cls, pointer_type: type[Any]) -> type[CellCoaddSerializationModel[Any]]:
        """Return the model class read for a coadd stored with ``pointer_type`` pointers."""
        from ._coadd_model import CellCoaddSerializationModel

        return parametrized(CellCoaddSerializationModel, pointer_type)

    def _prepare_fits_write(
        self, options: Mapping[str, Any] | None, layout: str
    ) -> tuple[CellCoadd, dict[str, Any]]:
        """Return what `lsst.images.fits.write` serializes in ``layout``, and per-HDU options.

        In the 4300 layout the ``image`` options also apply to the noise realizations
        and ``mask_fractions`` to every mask fraction, and planes are tiled one cell per
        tile unless a tile shape is given.  The provenance ``unmasked_fraction`` column
        exists in 4300 only, and each release refuses contribution tables with the other's
        columns: a shallow copy of the coadd drops it for 2100, or adds it (NaN: unknown)
        to a coadd read from a 2100 file for 4300.
        """
        from ._compression import compression_options

        obj = self
        if self._resolved_provenance() is not None:
            provenance = self._provenance.for_layout(layout)
            if provenance is not self._provenance:
                obj = copy.copy(self)
                obj._provenance = provenance
        return obj, compression_options(self, options, layout)

    @staticmethod
    def from_legacy(  # type: ignore[override]
        legacy: Any, *, plane_map: Mapping[str, MaskPlane] | None = None, tract_info: Any
    ) -> CellCoadd:
        """Convert a legacy ``lsst.cell_coadds.MultipleCellCoadd`` (the 2100 name).

        The legacy object is used through its documented interface only (see
        `lsst.images.cells._legacy`): the stitched planes, the per-cell PSF kernels,
        aperture corrections and inputs, the identifiers and the WCS.  ``tract_info``
        gives the tract bbox (the `TractFrame`) and the patch number.
        """
        from ._legacy import cell_coadd_from_legacy

        return cell_coadd_from_legacy(legacy, plane_map=plane_map, tract_info=tract_info)

    @staticmethod
    def from_legacy_cell_coadd(
        legacy: Any, *, plane_map: Mapping[str, MaskPlane] | None = None, tract_info: Any
    ) -> CellCoadd:
        """The 4300 name of `from_legacy`."""
        from ._legacy import cell_coadd_from_legacy

        return cell_coadd_from_legacy(legacy, plane_map=plane_map, tract_info=tract_info)

    def to_legacy(self, *args: Any, **kwargs: Any) -> Any:
        """Not available: building a legacy ``MultipleCellCoadd`` needs the LSST stack.

        (Inherited `MaskedImage.to_legacy` would silently drop the cells, so it is
        refused here.)
        """
        raise _needs_stack("CellCoadd.to_legacy")

    def to_legacy_cell_coadd(self, *args: Any, **kwargs: Any) -> Any:
        """Not available: see `to_legacy`."""
        raise _needs_stack("CellCoadd.to_legacy_cell_coadd")

    @classmethod
    def read_fits(cls, url: Any, *, bbox: Box | None = None, provenance: bool = True) -> CellCoadd:
        """Read a coadd (2100 or 4300 layout), optionally only the cut-out ``bbox``.

        Only the tiles the box touches are decoded (one tile per cell in 4300 files),
        and only the PSF kernels, aperture corrections and provenance of the cells it
        overlaps are kept.  ``provenance=False`` skips the provenance tables.

        Raises
        ------
        IndexError
            If ``bbox`` is not inside the stored image.
        """
        from .. import fits

        return fits.read(cls, url, bbox=bbox, provenance=provenance).deserialized


def _needs_stack(what: str) -> Exception:
    try:
        import lsst.cell_coadds  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return ImportError(f"{what} needs the LSST stack (lsst.cell_coadds), which is not installed.")
    return NotImplementedError(f"{what}: conversion to lsst.cell_coadds objects is not implemented.")


def _restricted_fields(fields: Mapping[str, CellField], bbox: Box) -> dict[str, CellField]:
    """The aperture corrections of the cells that overlap ``bbox`` (fields not covering it are dropped)."""
    from .._geom import NoOverlapError

    result = {}
    for name, field in fields.items():
        try:
            result[name] = field[bbox.intersection(field.bounds.bbox)]
        except NoOverlapError:
            continue
    return result
