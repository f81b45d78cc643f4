"""Adapters between the 2100 JSON trees (our in-memory models) and the 4300/DP2 trees.

The 4300 layout (lsst-images 30.2026.4300, used by Rubin's DP2 files) stores the same
information with a few renames and schema stamps (FORMAT.md §7, §11):

* ``yx0`` instead of ``start`` for image origins, ``sky_projection`` instead of
  ``projection``;
* every archive-tree node starts with ``schema_version`` and ``min_read_version`` and
  ends with ``schema_url``;
* spline-field data with at most 64 values is inlined;
* visit images carry a required ``band``; summary statistics have no ``version`` key.

`to_internal` maps a 4300 tree (plain JSON values) onto the 2100 shape our pydantic
models validate; `to_4300` does the reverse when writing the 4300 layout is requested.
Both work on plain dicts so they never depend on the model classes.
"""

from __future__ import annotations

__all__ = ("SCHEMA_VERSIONS", "data_model_url", "to_4300", "to_internal")

from typing import Any

SCHEMA_BASE = "https://images.lsst.io/schemas/"

#: Schema names and versions written by 4300 (FORMAT.md Appendix B).
SCHEMA_VERSIONS = {
    "image": "1.0.0",
    "mask": "1.0.0",
    "masked_image": "1.0.0",
    "visit_image": "1.1.0",
    "sky_projection": "1.0.0",
    "transform": "1.0.0",
    "gaussian_psf": "1.0.0",
    "piff_psf": "1.0.0",
    "psfex_psf": "1.0.0",
    "chebyshev_field": "1.0.0",
    "spline_field": "1.0.0",
    "sum_field": "1.0.0",
    "product_field": "1.0.0",
    "background_map": "1.0.0",
    "aperture_correction_map": "1.0.0",
    "detector": "1.1.0",
    "camera_frame_set": "1.0.0",
    "observation_summary_stats": "1.0.0",
    # DP2 products (adapters in `._layout_products`).
    "cell_coadd": "1.0.0",
    "cell_psf": "1.0.0",
    "cell_aperture_correction_map": "1.0.0",
    "coadd_provenance": "1.0.0",
    "difference_image": "1.2.0",
    "image_basis_convolution_kernel": "1.0.0",
}

_STAMPS = ("schema_version", "min_read_version", "schema_url")
_RENAMES_IN = {"yx0": "start", "sky_projection": "projection"}
_RENAMES_OUT = {v: k for k, v in _RENAMES_IN.items()}
#: Subtrees holding user values whose keys must never be renamed.
_OPAQUE_KEYS = frozenset({"metadata", "obs_info", "butler_info", "structs", "meta", "descriptions"})


def to_internal(tree: Any) -> Any:
    """Return a copy of a 4300 tree reshaped into the 2100 form our models validate."""
    if isinstance(tree, list):
        return [to_internal(item) for item in tree]
    if not isinstance(tree, dict):
        return tree
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key in _STAMPS:
            continue
        new_key = _RENAMES_IN.get(key, key)
        out[new_key] = value if key in _OPAQUE_KEYS else to_internal(value)
    return out


def schema_url(name: str) -> str:
    """Return the schema URL 4300 stamps on a node of the given schema name."""
    return f"{SCHEMA_BASE}{name}-{SCHEMA_VERSIONS[name]}"


def _schema_name_for(obj: Any) -> str:
    name = getattr(obj, "_archive_default_name", None)
    cls_name = type(obj).__name__
    by_class = {
        "Image": "image",
        "Mask": "mask",
        "MaskedImage": "masked_image",
        "VisitImage": "visit_image",
        "CellCoadd": "cell_coadd",
        "DifferenceImage": "difference_image",
    }
    if cls_name in by_class:
        return by_class[cls_name]
    if name in SCHEMA_VERSIONS:
        return name
    raise TypeError(f"the 4300 layout has no schema for {cls_name} objects")


def data_model_url(obj: Any) -> str:
    """Return the ``DATAMODL`` card value (top-level schema URL) for writing ``obj`` in 4300 layout."""
    return schema_url(_schema_name_for(obj))


def _stamp(name: str, body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSIONS[name], "min_read_version": 1}
    out.update(body)
    out["schema_url"] = schema_url(name)
    return out


def _rename_out(node: dict[str, Any]) -> dict[str, Any]:
    return {_RENAMES_OUT.get(k, k): v for k, v in node.items()}


def _image(node: dict[str, Any]) -> dict[str, Any]:
    node = _rename_out(node)
    if "projection" in node or "sky_projection" in node:
        node["sky_projection"] = _projection(node.pop("sky_projection", node.pop("projection", None)))
    return _stamp("image", node)


def _mask(node: dict[str, Any]) -> dict[str, Any]:
    node = _rename_out(node)
    if "sky_projection" in node:
        node["sky_projection"] = _projection(node["sky_projection"])
    return _stamp("mask", node)


def _transform(node: Any) -> Any:
    if not isinstance(node, dict) or "frames" not in node:
        return node
    return _stamp("transform", dict(node))


def _projection(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    body = {k: (_transform(v) if k in ("pixel_to_sky", "fits_approximation") else v) for k, v in node.items()}
    return _stamp("sky_projection", body)


def _field(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    kind = node.get("field_type")
    body = dict(node)
    if kind in ("SUM", "PRODUCT"):
        body["operands"] = [_field(op) for op in body.get("operands", [])]
        return _stamp("sum_field" if kind == "SUM" else "product_field", body)
    if kind == "CHEBYSHEV":
        return _stamp("chebyshev_field", body)
    if kind == "SPLINE":
        return _stamp("spline_field", body)
    return body


def _psf(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if "piff" in node:
        return _stamp("piff_psf", dict(node))
    if "coeff" in node or "basis" in node:
        return _stamp("psfex_psf", dict(node))
    if "sigma" in node:
        return _stamp("gaussian_psf", dict(node))
    return node


def _detector(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    body = dict(node)
    frames = body.get("frames")
    if isinstance(frames, dict):
        body["frames"] = _stamp("camera_frame_set", dict(frames))
    return _stamp("detector", body)


def _summary_stats(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    body = {k: v for k, v in node.items() if k != "version"}
    for n in range(1, 5):
        for suffix in ("e1", "e2", "ex"):
            body.setdefault(f"psfTE{n}{suffix}", float("nan"))
    return _stamp("observation_summary_stats", body)


def _visit_image(node: dict[str, Any], band: str | None) -> dict[str, Any]:
    n = _rename_out(node)
    body: dict[str, Any] = {}
    if n.get("metadata"):
        body["metadata"] = n["metadata"]
    body["image"] = _image(n["image"])
    body["mask"] = _mask(n["mask"])
    body["variance"] = _image(n["variance"])
    body["sky_projection"] = _projection(n.get("sky_projection"))
    body["photometric_scaling"] = _field(n.get("photometric_scaling"))
    apcorr = n.get("aperture_corrections") or {"fields": {}}
    body["aperture_corrections"] = _stamp(
        "aperture_correction_map", {"fields": {k: _field(v) for k, v in apcorr.get("fields", {}).items()}}
    )
    if n.get("bounds") is not None:
        body["bounds"] = n["bounds"]
    backgrounds = dict(n.get("backgrounds") or {"fields": {}, "descriptions": {}, "subtracted": None})
    backgrounds["fields"] = {k: _field(v) for k, v in backgrounds.get("fields", {}).items()}
    body["backgrounds"] = _stamp("background_map", backgrounds)
    body["psf"] = _psf(n.get("psf"))
    body["obs_info"] = n.get("obs_info")
    body["summary_stats"] = _summary_stats(n.get("summary_stats"))
    body["detector"] = _detector(n.get("detector"))
    if band is None:
        obs = n.get("obs_info") or {}
        band = n.get("band") or _band_from_filter(obs.get("physical_filter"))
    if not band:
        raise ValueError("writing a VisitImage in the 4300 layout needs a band (obs_info.physical_filter)")
    body["band"] = band
    for key in ("butler_info",):
        if n.get(key) is not None:
            body[key] = n[key]
    return _stamp("visit_image", body)


def _band_from_filter(physical_filter: Any) -> str | None:
    from .._visit_image import band_from_physical_filter

    return band_from_physical_filter(physical_filter) if isinstance(physical_filter, str) else None


def to_4300(tree: Any, obj: Any = None) -> dict[str, Any]:
    """Return the 4300-layout JSON value of a 2100 tree (pydantic model or dict)."""
    import json

    if hasattr(tree, "model_dump_json"):
        data = json.loads(tree.model_dump_json())
    else:
        data = dict(tree)
    name = _schema_name_for(obj) if obj is not None else _guess_name(data)
    if name == "image":
        return _image(data)
    if name == "mask":
        return _mask(data)
    if name == "masked_image":
        n = _rename_out(data)
        body: dict[str, Any] = {}
        if n.get("metadata"):
            body["metadata"] = n["metadata"]
        body["image"] = _image(n["image"])
        body["mask"] = _mask(n["mask"])
        body["variance"] = _image(n["variance"])
        if n.get("sky_projection") is not None:
            body["sky_projection"] = _projection(n["sky_projection"])
        for key, value in n.items():
            if key not in body and key not in ("image", "mask", "variance", "metadata", "sky_projection"):
                body[key] = value
        return _stamp("masked_image", body)
    if name == "visit_image":
        return _visit_image(data, getattr(obj, "band", None))
    if name in ("cell_coadd", "difference_image"):
        from ._layout_products import PRODUCT_ADAPTERS

        return PRODUCT_ADAPTERS[name](data, obj)
    raise TypeError(f"no 4300 layout for {name!r} trees")


def _guess_name(data: dict[str, Any]) -> str:
    if "psf" in data and "detector" in data and "kernel" in data:
        return "difference_image"
    if "psf" in data and "noise_realizations" in data:
        return "cell_coadd"
    if "psf" in data and "detector" in data:
        return "visit_image"
    if "image" in data and "mask" in data:
        return "masked_image"
    if "planes" in data:
        return "mask"
    return "image"
