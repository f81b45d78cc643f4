"""4300-layout trees of the DP2 products: cell coadds and difference images.

Our models keep the 2100 shape (`._layout`); these adapters give the trees
lsst-images 4300 writes for `CellCoadd` (PRODUCTS.md §3) and `DifferenceImage` (§4):
schema stamps on every archive-tree node, ``yx0``/``sky_projection`` renames, and for
coadds ``{y, x}`` objects instead of ``[y, x]`` lists for cell shapes and patch
indices.  Reading needs no adapter beyond `._layout.to_internal` (the models accept
both spellings).
"""

from __future__ import annotations

__all__ = ("PRODUCT_ADAPTERS", "cell_coadd_to_4300", "difference_image_to_4300")

from collections.abc import Callable
from typing import Any

from ._layout import _field, _image, _mask, _projection, _rename_out, _stamp, _visit_image


def _yx(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return {"y": value[0], "x": value[1]}
    return value


def _grid(node: dict[str, Any]) -> dict[str, Any]:
    return {"bbox": node["bbox"], "cell_shape": _yx(node["cell_shape"])}


def _bounds(node: dict[str, Any]) -> dict[str, Any]:
    return {"grid": _grid(node["grid"]), "bbox": node["bbox"], "missing": node.get("missing", [])}


def _backgrounds(node: Any) -> dict[str, Any]:
    backgrounds = dict(node or {"fields": {}, "descriptions": {}, "subtracted": None})
    backgrounds["fields"] = {k: _field(v) for k, v in backgrounds.get("fields", {}).items()}
    backgrounds.setdefault("descriptions", {})
    backgrounds.setdefault("subtracted", None)
    return _stamp("background_map", backgrounds)


def cell_coadd_to_4300(data: dict[str, Any], obj: Any = None) -> dict[str, Any]:
    """Return the 4300 tree of a `CellCoadd` from its (2100-shaped) model dump."""
    n = _rename_out(data)
    body: dict[str, Any] = {}
    if n.get("metadata"):
        body["metadata"] = n["metadata"]
    body["image"] = _image(n["image"])
    body["mask"] = _mask(n["mask"])
    body["variance"] = _image(n["variance"])
    body["sky_projection"] = _projection(n.get("sky_projection"))
    body["mask_fractions"] = {k: _image(v) for k, v in (n.get("mask_fractions") or {}).items()}
    body["noise_realizations"] = [_image(v) for v in n.get("noise_realizations") or []]
    body["band"] = n.get("band")
    psf = n["psf"]
    body["psf"] = _stamp("cell_psf", {"array": psf["array"], "bounds": _bounds(psf["bounds"])})
    apcorr = n.get("aperture_corrections")
    body["aperture_corrections"] = (
        None
        if apcorr is None
        else _stamp(
            "cell_aperture_correction_map", {"table": apcorr["table"], "bounds": _bounds(apcorr["bounds"])}
        )
    )
    patch = n.get("patch")
    body["patch"] = (
        None
        if patch is None
        else {
            "id": patch["id"],
            "index": _yx(patch["index"]),
            "inner_bbox": patch["inner_bbox"],
            "cells": _grid(patch["cells"]),
        }
    )
    provenance = n.get("provenance")
    body["provenance"] = (
        None
        if provenance is None
        else _stamp(
            "coadd_provenance",
            {k: provenance[k] for k in ("instrument", "physical_filter", "inputs", "contributions")},
        )
    )
    body["backgrounds"] = _backgrounds(n.get("backgrounds"))
    if n.get("butler_info") is not None:
        body["butler_info"] = n["butler_info"]
    return _stamp("cell_coadd", body)


def _kernel(node: Any) -> Any:
    if not isinstance(node, dict):
        return None
    body = {
        "basis": node["basis"],
        "spatial": [_field(f) for f in node.get("spatial", [])],
        "center_y": node["center_y"],
        "center_x": node["center_x"],
        "kernel_type": node.get("kernel_type", "IMAGE_BASIS"),
    }
    return _stamp("image_basis_convolution_kernel", body)


def difference_image_to_4300(data: dict[str, Any], obj: Any = None) -> dict[str, Any]:
    """Return the 4300 tree of a `DifferenceImage` from its (2100-shaped) model dump."""
    band = data.get("band") or getattr(obj, "band", None)
    visit = _visit_image(data, band)
    for key in ("schema_version", "min_read_version", "schema_url"):
        visit.pop(key)
    butler_info = visit.pop("butler_info", None)
    visit["kernel"] = _kernel(data.get("kernel"))
    visit["templates"] = data.get("templates")
    if butler_info is not None:
        visit["butler_info"] = butler_info
    return _stamp("difference_image", visit)


#: Schema name -> adapter, used by `._layout.to_4300`.
PRODUCT_ADAPTERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
    "cell_coadd": cell_coadd_to_4300,
    "difference_image": difference_image_to_4300,
}
