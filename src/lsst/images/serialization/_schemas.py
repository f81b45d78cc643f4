"""Which public class a stored tree describes.

Rubin's 4300 files name the schema of their top-level tree (the ``DATAMODL`` card
and the tree's ``schema_url``, e.g. ``https://images.lsst.io/schemas/visit_image-1.1.0``);
2100 files name nothing, so their kind is recognised from the tree's keys.
`class_for_schema` maps a schema name to the class that reads it, imported only
when asked for, so that this table costs nothing at import time.
"""

from __future__ import annotations

__all__ = (
    "SCHEMA_URL_BASE",
    "ArchiveInfo",
    "available_schema_classes",
    "class_for_schema",
    "register_schema_class",
    "schema_name_for_class",
)

import importlib
from typing import Any

import pydantic

#: Base of the schema URLs written by Rubin's 4300 release.
SCHEMA_URL_BASE = "https://images.lsst.io/schemas"

#: Schema name -> ``"module:attribute"`` of the class that reads it.
_CLASSES: dict[str, str] = {
    "image": "lsst.images:Image",
    "mask": "lsst.images:Mask",
    "masked_image": "lsst.images:MaskedImage",
    "visit_image": "lsst.images:VisitImage",
    "color_image": "lsst.images:ColorImage",
    "difference_image": "lsst.images:DifferenceImage",
    "cell_coadd": "lsst.images.cells:CellCoadd",
    "sky_projection": "lsst.images:Projection",
    "transform": "lsst.images:Transform",
    "detector": "lsst.images.cameras:Detector",
    "gaussian_psf": "lsst.images.psfs:GaussianPointSpreadFunction",
}


def register_schema_class(schema_name: str, target: str | type[Any]) -> None:
    """Declare the class that reads trees of ``schema_name`` (a class or ``"module:attribute"``)."""
    if isinstance(target, type):
        target = f"{target.__module__}:{target.__qualname__}"
    _CLASSES[schema_name] = target


def available_schema_classes() -> dict[str, str]:
    """Schema name -> ``"module:attribute"`` of every registered class."""
    return dict(_CLASSES)


def class_for_schema(schema_name: str) -> type[Any]:
    """Return the class that reads trees of ``schema_name``.

    Raises
    ------
    LookupError
        If no class is registered for it, or its module is not available (e.g. a
        product type this installation does not provide yet).
    """
    target = _CLASSES.get(schema_name)
    if target is None:
        raise LookupError(f"No lsst.images class reads schema {schema_name!r}.")
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise LookupError(f"The class for schema {schema_name!r} ({target}) is not available: {err}") from err


def schema_name_for_class(cls: type[Any]) -> str | None:
    """The schema name whose registered class is exactly ``cls`` (None if unregistered)."""
    for name in _CLASSES:
        try:
            if class_for_schema(name) is cls:
                return name
        except LookupError:
            continue
    return None


def schema_name_from_tree(tree: dict[str, Any]) -> str | None:
    """Schema name of a top-level tree: from its ``schema_url`` (4300) or its keys (2100)."""
    url = tree.get("schema_url")
    if isinstance(url, str) and url:
        return ArchiveInfo.from_schema_url(url).schema_name
    keys = set(tree)
    if {"kernel", "templates"} & keys and "psf" in keys:
        return "difference_image"
    if "psf" in keys and "detector" in keys:
        return "visit_image"
    if {"grid", "patch"} & keys and "image" in keys:
        return "cell_coadd"
    if {"red", "green", "blue"} <= keys:
        return "color_image"
    if {"image", "mask", "variance"} <= keys:
        return "masked_image"
    if "planes" in keys and "data" in keys:
        return "mask"
    if "data" in keys and ("start" in keys or "yx0" in keys):
        return "image"
    if "pixel_to_sky" in keys:
        return "sky_projection"
    if "sigma" in keys and "stamp_size" in keys:
        return "gaussian_psf"
    if "attributes" in keys and "amplifiers" in keys:
        return "detector"
    if "frames" in keys and "mapping" in keys:
        return "transform"
    return None


class ArchiveInfo(pydantic.BaseModel):
    """What a file says about its content, readable without reading the content.

    Attributes
    ----------
    schema_url
        Schema URL of the top-level tree (4300 files), else `None`.
    schema_name
        Schema name (``visit_image``, ...): from the URL, or recognised from the
        tree of a 2100 file; `None` if unknown.
    schema_version
        Version part of the URL (4300 files), else `None`.
    format_version
        Container layout version (the FITS ``FMTVER`` card; `None` for 2100 files
        and for containers without one).
    """

    schema_url: str | None = None
    schema_name: str | None = None
    schema_version: str | None = None
    format_version: int | None = None

    @classmethod
    def from_schema_url(cls, url: str, format_version: int | None = None) -> ArchiveInfo:
        """Split a schema URL ``.../<name>-<version>`` into its parts."""
        last = url.rstrip("/").rsplit("/", 1)[-1]
        name, sep, version = last.rpartition("-")
        if not sep:
            name, version = last, ""
        return cls(
            schema_url=url,
            schema_name=name or None,
            schema_version=version or None,
            format_version=format_version,
        )
