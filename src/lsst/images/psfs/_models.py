"""Pydantic models of the serialized PSFs."""

from __future__ import annotations

__all__ = (
    "GalSimLocalWcsModel",
    "GalSimPixelScaleModel",
    "GaussianPSFSerializationModel",
    "PSFExSerializationModel",
    "PiffDict",
    "PiffObjectModel",
    "PiffScalar",
    "PiffSerializationModel",
    "PiffTableModel",
    "PiffValue",
)

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pydantic
from typing_extensions import TypeAliasType

from .._polygon import SerializableBounds
from ..serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    InlineArray,
    InlineArrayModel,
    InputArchive,
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


#: A scalar value in a Piff struct or table metadata.
PiffScalar = TypeAliasType("PiffScalar", int | float | str | bool | None)

#: A Piff struct value: a scalar, or a (nested) list or dict of them.
PiffValue = TypeAliasType("PiffValue", "PiffScalar | list[PiffValue] | dict[str, PiffValue]")

#: A flat dictionary written by Piff (``write_struct`` or table metadata).
PiffDict = TypeAliasType("PiffDict", dict[str, PiffValue])


class PiffTableModel(pydantic.BaseModel):
    """A table written by Piff, with the metadata Piff attached to it."""

    metadata: PiffDict
    table: TableModel


class GalSimPixelScaleModel(pydantic.BaseModel):
    """A GalSim ``PixelScale`` WCS (the only WCS kind Rubin's Piff PSFs use)."""

    scale: float
    wcs_type: Literal["pixel_scale"] = "pixel_scale"


#: Union of the supported GalSim local WCS models, discriminated by ``wcs_type``.
GalSimLocalWcsModel = TypeAliasType(
    "GalSimLocalWcsModel", Annotated[GalSimPixelScaleModel, pydantic.Field(discriminator="wcs_type")]
)


class PiffObjectModel(pydantic.BaseModel):
    """Everything one Piff object wrote through its writer interface, nested by name.

    Only plain data appear here (flat dicts, tables, pixel scales); Piff
    rebuilds its objects from them through its own reader interface, so no
    code is ever loaded from a file.
    """

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants")

    structs: dict[str, PiffDict] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)
    tables: dict[str, PiffTableModel] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)
    wcs: dict[str, GalSimLocalWcsModel] = pydantic.Field(default_factory=dict, exclude_if=_is_empty)
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
