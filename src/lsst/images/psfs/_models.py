"""Pydantic models of the serialized PSFs."""

from __future__ import annotations

__all__ = (
    "GaussianPSFSerializationModel",
    "PSFExSerializationModel",
    "PiffObjectModel",
    "PiffSerializationModel",
    "PiffTableModel",
    "PiffWcsModel",
)

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pydantic

from .._polygon import SerializableBounds
from ..serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    InlineArray,
    InlineArrayModel,
    InputArchive,
    MetadataValue,
    TableModel,
)
from ._gaussian import GaussianPointSpreadFunction

if TYPE_CHECKING:
    from ._piff import PiffWrapper
    from ._psfex import PSFExWrapper


def _bounds(model: Any) -> Any:
    return model.deserialize() if hasattr(model, "deserialize") else model


def _is_default_group(group: list[int]) -> bool:
    return list(group) == [0, 0]


def _is_empty(value: Any) -> bool:
    return not value


class GaussianPSFSerializationModel(ArchiveTree):
    """Serialized `GaussianPointSpreadFunction`: ``{sigma, stamp_size, bounds}``."""

    sigma: float
    stamp_size: int
    bounds: SerializableBounds

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> GaussianPointSpreadFunction:
        """Rebuild the Gaussian PSF."""
        return GaussianPointSpreadFunction(self.sigma, _bounds(self.bounds), self.stamp_size)


class PSFExSerializationModel(ArchiveTree):
    """Serialized PSFEx model: polynomial description, component images and context normalization."""

    average_x: float
    average_y: float
    pixel_step: float
    group: list[int] = pydantic.Field(default_factory=lambda: [0, 0], exclude_if=_is_default_group)
    degree: list[int]
    basis: list[float]
    coeff: list[float]
    parameters: ArrayReferenceModel | InlineArrayModel
    context: InlineArray
    bounds: SerializableBounds

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> PSFExWrapper:
        """Rebuild the PSFEx PSF (evaluated with numpy)."""
        from ._psfex import PSFExModel, PSFExWrapper

        model = PSFExModel(
            average_x=self.average_x,
            average_y=self.average_y,
            pixel_step=self.pixel_step,
            group=self.group,
            degree=self.degree,
            basis=self.basis,
            coeff=self.coeff,
            parameters=np.asarray(archive.get_array(self.parameters)),
            context=np.asarray(self.context),
        )
        return PSFExWrapper(model, _bounds(self.bounds))


class PiffTableModel(pydantic.BaseModel):
    """A table written by Piff, with the metadata Piff attached to it."""

    metadata: dict[str, MetadataValue] = pydantic.Field(default_factory=dict)
    table: TableModel


class PiffWcsModel(pydantic.BaseModel):
    """A Piff WCS entry (only GalSim ``PixelScale`` WCSs are supported)."""

    scale: float
    wcs_type: Literal["pixel_scale"] = "pixel_scale"


class PiffObjectModel(pydantic.BaseModel):
    """Everything one Piff object wrote through its writer interface, nested by name.

    Only plain data appear here (flat dicts, tables, pixel scales); Piff
    rebuilds its objects from them through its own reader interface, so no
    code is ever loaded from a file.
    """

    structs: dict[str, dict[str, Any]] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)
    tables: dict[str, PiffTableModel] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)
    wcs: dict[str, PiffWcsModel] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)
    objects: dict[str, PiffObjectModel] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)


class PiffSerializationModel(ArchiveTree):
    """Serialized `PiffWrapper`: the Piff object tree, the stamp size and the bounds."""

    piff: PiffObjectModel
    stamp_size: int
    bounds: SerializableBounds

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> PiffWrapper:
        """Rebuild the Piff PSF through Piff's reader interface (needs the ``piff`` extra)."""
        from ._piff import PiffWrapper, read_piff_psf

        return PiffWrapper(read_piff_psf(self.piff, archive), _bounds(self.bounds), self.stamp_size)


PiffObjectModel.model_rebuild()
