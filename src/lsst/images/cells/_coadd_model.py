"""`CellCoaddSerializationModel`: the JSON-tree form of a `CellCoadd`.

The model has the 2100 shape (``projection``, ``start``), which 4300 trees are adapted
to when read (`lsst.images.fits._layout`); ``aperture_corrections`` (new in 4300) is
optional, so both layouts validate.
"""

from __future__ import annotations

__all__ = ("CellCoaddSerializationModel",)

from typing import Any, Generic

import pydantic

from .._backgrounds import BackgroundMapSerializationModel
from .._geom import Box
from .._image import ImageSerializationModel
from .._masked_image import MaskedImageSerializationModel
from .._transforms import ProjectionSerializationModel
from ..serialization import ArchiveReadError, InputArchive, InvalidComponentError, InvalidParameterError
from ..serialization._archive import ArrayRequest, P
from ..utils import is_none
from ._apcorr import CellApertureCorrectionMapSerializationModel
from ._coadd import CellCoadd
from ._patch import PatchDefinition
from ._provenance import CoaddProvenanceSerializationModel
from ._psf import CellPointSpreadFunctionSerializationModel

#: Components read without pixels (they take no ``bbox``).
_PLAIN_COMPONENTS = ("projection", "sky_projection", "band", "patch", "backgrounds", "bounds", "grid")


class CellCoaddSerializationModel(MaskedImageSerializationModel[P], Generic[P]):
    """Serialized form of a `CellCoadd` (the JSON tree of a coadd file)."""

    projection: ProjectionSerializationModel[P]
    mask_fractions: dict[str, ImageSerializationModel[P]] = pydantic.Field(default_factory=dict)
    noise_realizations: list[ImageSerializationModel[P]] = pydantic.Field(default_factory=list)
    band: str | None = None
    psf: CellPointSpreadFunctionSerializationModel
    aperture_corrections: CellApertureCorrectionMapSerializationModel | None = pydantic.Field(
        default=None, exclude_if=is_none
    )
    patch: PatchDefinition | None = None
    provenance: CoaddProvenanceSerializationModel | None = None
    backgrounds: BackgroundMapSerializationModel = pydantic.Field(
        default_factory=BackgroundMapSerializationModel
    )

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, provenance: bool = True, **kwargs: Any
    ) -> CellCoadd:
        """Rebuild the coadd, optionally only the cut-out ``bbox``.

        Only the pixels, PSF kernels, aperture corrections and provenance of the cells
        the box overlaps are read; ``provenance=False`` skips the provenance tables.

        Raises
        ------
        IndexError
            If ``bbox`` is not inside the stored image.
        """
        if kwargs:
            raise InvalidParameterError(f"Unrecognized parameters for reading a CellCoadd: {sorted(kwargs)}.")
        cutout = bbox is not None
        image = self.image.deserialize(archive, bbox=bbox)
        bbox = image.bbox
        psf = self.psf.deserialize(archive, bbox=bbox)
        coadd_provenance = None
        if provenance and self.provenance is not None:
            coadd_provenance = self.provenance.deserialize(archive)
            if cutout:
                # As ``coadd[bbox]`` (even for the full box): the inputs of the kept cells.
                coadd_provenance = coadd_provenance.subset(psf.bounds.cell_indices())
        try:
            return CellCoadd(
                image,
                mask=self.mask.deserialize(archive, bbox=bbox),
                variance=self.variance.deserialize(archive, bbox=bbox),
                mask_fractions={k: v.deserialize(archive, bbox=bbox) for k, v in self.mask_fractions.items()},
                noise_realizations=[v.deserialize(archive, bbox=bbox) for v in self.noise_realizations],
                projection=self.projection.deserialize(archive),
                band=self.band,
                psf=psf,
                aperture_corrections=(
                    self.aperture_corrections.deserialize(archive, bbox=bbox)
                    if self.aperture_corrections is not None
                    else None
                ),
                patch=self.patch,
                provenance=coadd_provenance,
                backgrounds=self.backgrounds.deserialize(archive),
                metadata=dict(self.metadata),
            )
        except (TypeError, ValueError) as err:
            raise ArchiveReadError(f"the stored cell coadd is inconsistent: {err}") from err

    def array_requests(self, *, bbox: Box | None = None) -> list[ArrayRequest]:
        """The plane arrays (and slices) `deserialize` loads for ``bbox`` (for read-ahead)."""
        requests = super().array_requests(bbox=bbox)
        for plane in [*self.mask_fractions.values(), *self.noise_realizations]:
            requests.extend(plane.array_requests(bbox=bbox))
        return requests

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read one component by name.

        ``image``, ``mask``, ``variance``, ``masked_image``, ``mask_fractions``,
        ``noise_realizations``, ``psf`` and ``aperture_corrections`` accept ``bbox=``;
        ``unit``, ``provenance``, ``projection`` (``sky_projection``), ``band``, ``patch``, ``backgrounds``,
        ``bounds``, ``grid`` and ``bbox`` take no arguments.
        """
        match component:
            case "image" | "mask" | "variance" | "bbox" | "unit":
                return super().deserialize_component(component, archive, **kwargs)
            case "masked_image":  # the three planes as a plain MaskedImage (4300 storage class)
                return MaskedImageSerializationModel.deserialize(self, archive, **kwargs)
            case "mask_fractions":
                return {k: v.deserialize(archive, **kwargs) for k, v in self.mask_fractions.items()}
            case "noise_realizations":
                return [v.deserialize(archive, **kwargs) for v in self.noise_realizations]
            case "psf":
                return self.psf.deserialize(archive, **kwargs)
            case "aperture_corrections":
                if self.aperture_corrections is None:
                    return {}
                return self.aperture_corrections.deserialize(archive, **kwargs)
        if component == "provenance" or component in _PLAIN_COMPONENTS:
            if kwargs:
                raise InvalidParameterError(f"Component {component!r} of a CellCoadd takes no parameters.")
            match component:
                case "provenance":
                    return None if self.provenance is None else self.provenance.deserialize(archive)
                case "projection" | "sky_projection":
                    return self.projection.deserialize(archive)
                case "backgrounds":
                    return self.backgrounds.deserialize(archive)
                case "bounds":
                    return self.psf.bounds
                case "grid":
                    return self.psf.bounds.grid
                case _:
                    return getattr(self, component)
        raise InvalidComponentError(f"CellCoadd has no component {component!r}.")
