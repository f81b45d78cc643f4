"""Aperture corrections: a plain mapping from photometry algorithm name to a correction field."""

from __future__ import annotations

__all__ = (
    "ApertureCorrectionMap",
    "ApertureCorrectionMapSerializationModel",
    "aperture_corrections_from_legacy",
    "aperture_corrections_to_legacy",
)

from typing import Any

import pydantic

from .fields import Field, FieldSerializationModel, field_from_legacy
from .serialization import ArchiveTree, InputArchive, OutputArchive

#: Photometry algorithm name (e.g. ``base_PsfFlux_instFlux``) → correction field.
ApertureCorrectionMap = dict[str, Field]


class ApertureCorrectionMapSerializationModel(ArchiveTree):
    """Serialized `ApertureCorrectionMap`: ``{fields: {name: field model}}``."""

    fields: dict[str, FieldSerializationModel] = pydantic.Field(default_factory=dict)

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> ApertureCorrectionMap:
        """Rebuild the mapping."""
        return {name: model.deserialize(archive) for name, model in self.fields.items()}

    @staticmethod
    def serialize(
        map: ApertureCorrectionMap, archive: OutputArchive[Any]
    ) -> ApertureCorrectionMapSerializationModel:
        """Serialize each field of ``map`` under ``fields/<name>``."""
        return ApertureCorrectionMapSerializationModel(
            fields={
                name: archive.serialize_direct(f"fields/{name}", field.serialize)
                for name, field in map.items()
            }
        )


def aperture_corrections_from_legacy(legacy_ap_corr_map: Any) -> ApertureCorrectionMap:
    """Convert an afw ``ApCorrMap`` (each field keeps its own bounding box)."""
    return {name: field_from_legacy(field) for name, field in legacy_ap_corr_map.items()}


def aperture_corrections_to_legacy(aperture_corrections: ApertureCorrectionMap) -> Any:
    """Convert to an afw ``ApCorrMap`` (needs the legacy stack at run time)."""
    try:
        from lsst.afw.image import ApCorrMap  # type: ignore[import-not-found]
    except ImportError as err:
        raise ImportError("aperture_corrections_to_legacy needs the legacy LSST stack (lsst.afw).") from err
    result = ApCorrMap()
    for name, field in aperture_corrections.items():
        result[name] = field.to_legacy()
    return result
