"""``lsst-images info FILE``: a readable summary of a FITS file.

For lsst.images archives (2100 or 4300 layout) the summary comes from the JSON tree and
the HDU headers only -- no pixels are decoded, so it is instant even for remote files:
object type, bounding box, units, mask planes, the components of a visit image, and the
storage/compression of every HDU.  Other FITS files (e.g. legacy afw files) get a plain
HDU listing.
"""

from __future__ import annotations

__all__ = ("add_parser", "describe", "format_summary", "run")

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "info",
        help="summarize a FITS file (type, bbox, units, planes, components, compression)",
        description="Print a summary of an lsst.images FITS file (or an HDU listing of any other FITS file).",
    )
    parser.add_argument("file", help="FITS file: local path, file:// or http(s)/s3 URL")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    summary = describe(args.file)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(format_summary(summary))
    return 0


# ---------------------------------------------------------------------- building the summary


_CLASS_BY_SCHEMA = {
    "image": "Image",
    "mask": "Mask",
    "masked_image": "MaskedImage",
    "visit_image": "VisitImage",
}


def guess_class(tree: dict[str, Any]) -> str:
    """Return the class name an (internal-form) archive tree belongs to."""
    from ._products import product_class

    product = product_class(tree)
    if product is not None:
        return product
    if "psf" in tree and "detector" in tree:
        return "VisitImage"
    if "image" in tree and "mask" in tree and "variance" in tree:
        return "MaskedImage"
    if "planes" in tree:
        return "Mask"
    if "data" in tree:
        return "Image"
    return "unknown"


def _array_ref(node: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Return (array reference dict, unit) of an image node's ``data`` field."""
    data = node.get("data") if isinstance(node, dict) else None
    if isinstance(data, dict) and "value" in data and isinstance(data["value"], dict):
        return data["value"], data.get("unit")
    if isinstance(data, dict):
        return data, None
    return None, None


def _bbox(start: Any, shape: Any) -> dict[str, list[int]] | None:
    if not start or not shape:
        return None
    y0, x0 = int(start[0]), int(start[1])
    return {"y": [y0, y0 + int(shape[0])], "x": [x0, x0 + int(shape[1])]}


def _plane(node: dict[str, Any]) -> dict[str, Any]:
    ref, unit = _array_ref(node)
    out: dict[str, Any] = {"unit": unit}
    if ref is not None:
        out.update(dtype=ref.get("datatype"), shape=ref.get("shape"), source=ref.get("source"))
    return out


def _mask(node: dict[str, Any]) -> dict[str, Any]:
    planes = node.get("planes") or []
    data = node.get("data") or []
    shape = data[0].get("shape") if data and isinstance(data[0], dict) else None
    return {
        "dtype": node.get("dtype"),
        "shape": shape,
        "planes": [p["name"] if isinstance(p, dict) else None for p in planes],
        "hdus": len(data),
    }


def _field_summary(field: Any) -> str:
    if not isinstance(field, dict):
        return str(field)
    kind = field.get("field_type", "?")
    unit = field.get("unit")
    if kind in ("SUM", "PRODUCT"):
        inner = ", ".join(_field_summary(f) for f in field.get("operands", []))
        return f"{kind.lower()}({inner})"
    if kind == "CHEBYSHEV":
        coeffs = field.get("coefficients", {})
        data = coeffs.get("data") if isinstance(coeffs, dict) else coeffs
        order = f"{len(data)}x{len(data[0])}" if data and isinstance(data[0], list) else "?"
        text = f"Chebyshev {order}"
    elif kind == "SPLINE":
        text = f"spline {len(field.get('y', {}).get('data', []))}x{len(field.get('x', {}).get('data', []))}"
    else:
        text = kind
    return f"{text} [{unit}]" if unit else text


def _psf_summary(psf: Any) -> str:
    if not isinstance(psf, dict):
        return "none"
    if "sigma" in psf:
        return f"Gaussian (sigma={psf['sigma']:.4g} px, stamp {psf.get('stamp_size')})"
    if "piff" in psf:
        return f"Piff (stamp {psf.get('stamp_size')})"
    if "coeff" in psf or "basis" in psf:
        return "PSFEx"
    return "unknown"


def _projection_summary(projection: Any) -> str | None:
    if not isinstance(projection, dict):
        return None
    frames = projection.get("pixel_to_sky", {}).get("frames", [])
    frame = frames[0] if frames else {}
    kind = frame.get("frame_type", "?") if isinstance(frame, dict) else str(frame)
    text = f"{kind} -> ICRS (AST)"
    if projection.get("fits_approximation"):
        text += ", with FITS approximation"
    return text


def _components(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    projection = _projection_summary(tree.get("projection"))
    if projection:
        out["projection"] = projection
    if "psf" in tree:
        out["psf"] = _psf_summary(tree.get("psf"))
    if tree.get("photometric_scaling") is not None:
        out["photometric_scaling"] = _field_summary(tree["photometric_scaling"])
    apcorr = (
        (tree.get("aperture_corrections") or {}).get("fields") if "aperture_corrections" in tree else None
    )
    if apcorr is not None:
        out["aperture_corrections"] = sorted(apcorr)
    backgrounds = tree.get("backgrounds")
    if isinstance(backgrounds, dict):
        out["backgrounds"] = {
            name: _field_summary(f) + (" (subtracted)" if name == backgrounds.get("subtracted") else "")
            for name, f in (backgrounds.get("fields") or {}).items()
        }
    detector = tree.get("detector")
    if isinstance(detector, dict):
        attrs = detector.get("attributes", {})
        out["detector"] = f"{attrs.get('name')} (id {attrs.get('id')}, {attrs.get('type')})"
    obs = tree.get("obs_info")
    if isinstance(obs, dict):
        keys = ("instrument", "exposure_id", "physical_filter", "datetime_begin", "exposure_time")
        out["obs_info"] = {k: obs[k] for k in keys if k in obs}
    if "summary_stats" in tree:
        stats = tree.get("summary_stats") or {}
        out["summary_stats"] = {
            k: stats[k] for k in ("psfSigma", "zeroPoint", "skyBg", "nPsfStar") if k in stats
        }
    if tree.get("bounds") is not None:
        out["bounds"] = tree["bounds"].get("type", "box") if isinstance(tree["bounds"], dict) else "set"
    if tree.get("band"):
        out["band"] = tree["band"]
    return out


def _dtype_from_header(header: Any) -> str:
    bitpix = int(header.get("ZBITPIX", header.get("BITPIX", 0)))
    bzero = header.get("BZERO")
    names = {8: "uint8", 16: "int16", 32: "int32", 64: "int64", -32: "float32", -64: "float64"}
    if bzero is not None:
        if bitpix == 8 and float(bzero) == -128:
            return "int8"
        if bitpix in (16, 32, 64) and float(bzero) == 2 ** (bitpix - 1):
            return f"uint{bitpix}"
    return names.get(bitpix, f"BITPIX={bitpix}")


def _compression(header: Any) -> str:
    if not header.get("ZIMAGE"):
        return "none" if header.get("XTENSION", "IMAGE").strip() == "IMAGE" else "-"
    text = str(header.get("ZCMPTYPE", "?")).strip()
    tile = f"{header.get('ZTILE2', 1)}x{header.get('ZTILE1', '?')}"
    width = header.get("ZNAXIS1")
    text += " rows" if header.get("ZTILE2", 1) == 1 and header.get("ZTILE1") == width else f" tiles {tile}"
    names = {header.get(f"ZNAME{i}"): header.get(f"ZVAL{i}") for i in range(1, 10) if f"ZNAME{i}" in header}
    if "ZQUANTIZ" in header or ("ZDITHER0" in header):
        method = str(header.get("ZQUANTIZ", "NO_DITHER")).strip()
        text += f", lossy {method} q={names.get('NOISEBIT')} seed={header.get('ZDITHER0')}"
    elif header.get("ZBITPIX", 0) < 0 and header.get("ZCMPTYPE", "").strip() == "RICE_1":
        text += ", float without quantization (values truncated!)"
    else:
        text += ", lossless"
    return text


def _hdu_rows(archive: Any) -> list[dict[str, Any]]:
    rows = []
    archive.prefetch_headers()
    for key in archive.hdu_keys():
        entry = archive._entries[key]
        if key.name == "":
            rows.append({"name": "PRIMARY", "ver": 1, "kind": "primary", "bytes": entry.dataddr})
            continue
        header = archive.get_header(key)
        row: dict[str, Any] = {
            "name": key.name,
            "ver": key.ver,
            "bytes": entry.dataddr - entry.hdraddr + entry.datsize,
        }
        if header.get("ZIMAGE") or str(header.get("XTENSION", "")).strip() == "IMAGE":
            prefix = "ZNAXIS" if header.get("ZIMAGE") else "NAXIS"
            n = int(header.get(prefix, 0))
            row["kind"] = "image"
            row["shape"] = [int(header[f"{prefix}{i}"]) for i in range(n, 0, -1)]
            row["dtype"] = _dtype_from_header(header)
            row["compression"] = _compression(header)
            if "BUNIT" in header:
                row["unit"] = header["BUNIT"]
        else:
            row["kind"] = "table"
            row["rows"] = int(header.get("NAXIS2", 0))
        rows.append(row)
    index_bytes = archive.reader.size - (archive._entries[key].dataddr + archive._entries[key].datsize)
    rows.append({"name": "INDEX", "ver": 1, "kind": "table", "bytes": index_bytes})
    return rows


def describe(path: str) -> dict[str, Any]:
    """Return a JSON-able summary of a FITS file (see module docstring)."""
    from ..fits import ExtensionKey, FitsInputArchive, InvalidFitsArchiveError
    from ..fits._layout import to_internal
    from ._products import describe_product
    from ._sources import check_exists

    check_exists(path)
    try:
        with FitsInputArchive.open(path) as archive:
            raw_tree = archive.get_tree_dict()
            tree = to_internal(raw_tree) if archive.layout == "4300" else raw_tree
            summary = _describe_tree(tree)
            summary.update(describe_product(tree, archive))
            summary["file"] = str(path)
            summary["layout"] = f"lsst.images {archive.layout}"
            if archive.layout == "4300":
                summary["schema"] = raw_tree.get("schema_url")
            summary["file_size"] = archive.reader.size
            summary["hdus"] = _hdu_rows(archive)
            opaque = archive.get_opaque_metadata().headers.get(ExtensionKey())
            if opaque is not None and len(opaque):
                summary["primary_cards"] = {
                    k: opaque[k] for k in opaque.keys() if k not in ("COMMENT", "HISTORY")
                }
            return summary
    except InvalidFitsArchiveError as err:
        if "not an lsst.images FITS archive" not in str(err):
            raise
    from ._sources import check_fits_complete

    check_fits_complete(path)
    return _describe_plain_fits(path)


def _describe_tree(tree: dict[str, Any]) -> dict[str, Any]:
    cls = guess_class(tree)
    summary: dict[str, Any] = {"type": cls}
    if cls == "Image":
        ref, unit = _array_ref(tree)
        summary["bbox"] = _bbox(tree.get("start"), (ref or {}).get("shape"))
        summary["planes"] = {"image": _plane(tree)}
    elif cls == "Mask":
        mask = _mask(tree)
        summary["bbox"] = _bbox(tree.get("start"), mask["shape"])
        summary["planes"] = {"mask": mask}
    elif cls in ("MaskedImage", "VisitImage", "CellCoadd", "DifferenceImage"):
        image = tree.get("image", {})
        ref, _ = _array_ref(image)
        summary["bbox"] = _bbox(image.get("start"), (ref or {}).get("shape"))
        summary["planes"] = {
            "image": _plane(image),
            "mask": _mask(tree.get("mask", {})),
            "variance": _plane(tree.get("variance", {})),
        }
    components = _components(tree)
    if cls == "CellCoadd":
        components["psf"] = "one kernel per cell (see Cells)"
        components = {
            k: v for k, v in components.items() if k in ("projection", "psf", "backgrounds", "band")
        }
    elif cls not in ("VisitImage", "DifferenceImage"):
        components = {k: v for k, v in components.items() if k == "projection"}
    if components:
        summary["components"] = components
    if tree.get("metadata"):
        summary["metadata"] = tree["metadata"]
    return summary


def _describe_plain_fits(path: str) -> dict[str, Any]:
    """HDU listing of a FITS file that is not an lsst.images archive (e.g. a legacy afw file)."""
    from astropy.io import fits

    summary: dict[str, Any] = {"file": str(path), "layout": "plain FITS (not an lsst.images archive)"}
    rows = []
    with fits.open(path, disable_image_compression=True, lazy_load_hdus=True) as hdus:
        for index, hdu in enumerate(hdus):
            header = hdu.header
            row: dict[str, Any] = {
                "name": hdu.name or ("PRIMARY" if index == 0 else str(index)),
                "ver": hdu.ver,
            }
            if header.get("ZIMAGE") or index == 0 or str(header.get("XTENSION", "")).strip() == "IMAGE":
                prefix = "ZNAXIS" if header.get("ZIMAGE") else "NAXIS"
                n = int(header.get(prefix, 0))
                row["kind"] = "image"
                row["shape"] = [int(header[f"{prefix}{i}"]) for i in range(n, 0, -1)]
                if n:
                    row["dtype"] = _dtype_from_header(header)
                    row["compression"] = _compression(header)
                if "BUNIT" in header:
                    row["unit"] = header["BUNIT"]
                if header.get("EXTTYPE"):
                    row["exttype"] = header["EXTTYPE"]
            else:
                row["kind"] = "table"
                row["rows"] = int(header.get("NAXIS2", 0))
            rows.append(row)
    summary["hdus"] = rows
    types = {row.get("exttype") for row in rows}
    if {"IMAGE", "MASK", "VARIANCE"} <= types:
        summary["type"] = "legacy afw Exposure/MaskedImage (read with VisitImage/MaskedImage.read_legacy)"
        indices = {row["exttype"]: i for i, row in enumerate(rows) if row.get("exttype")}
        try:
            summary.update(_legacy_planes(path, indices))
        except (KeyError, ValueError, TypeError):
            pass  # best effort: the HDU listing above is still a complete answer
    return summary


def _legacy_planes(path: str, indices: dict[str, int]) -> dict[str, Any]:
    """Bounding box, units and mask planes of an afw file, from its plane headers."""
    from astropy.io import fits

    from ..fits._headers import read_offset_wcs

    out: dict[str, Any] = {"planes": {}}
    with fits.open(path, lazy_load_hdus=True) as hdus:
        for name in ("IMAGE", "MASK", "VARIANCE"):
            header = hdus[indices[name]].header
            shape = [int(header["NAXIS2"]), int(header["NAXIS1"])]
            if name == "IMAGE":
                start = read_offset_wcs(header)
                if start is None:  # older files: IRAF-style LTV offsets
                    start = (-round(float(header.get("LTV2", 0))), -round(float(header.get("LTV1", 0))))
                out["bbox"] = _bbox(start, shape)
            plane: dict[str, Any] = {"dtype": _dtype_from_header(header), "shape": shape}
            if name == "MASK":
                bits = {k[3:]: int(header[k]) for k in header if k.startswith("MP_")}
                plane["planes"] = sorted(bits, key=bits.__getitem__)
                plane["hdus"] = 1
            else:
                plane["unit"] = header.get("BUNIT")
            out["planes"][name.lower()] = plane
    return out


# ---------------------------------------------------------------------- text output


def _fmt_bbox(bbox: dict[str, list[int]] | None) -> str:
    if not bbox:
        return "?"
    (y0, y1), (x0, x1) = bbox["y"], bbox["x"]
    return f"[y={y0}:{y1}, x={x0}:{x1}]  ({y1 - y0} x {x1 - x0} pixels)"


def format_summary(summary: dict[str, Any]) -> str:
    """Render `describe`'s summary as aligned text."""
    lines = [f"File:       {summary['file']}", f"Format:     {summary['layout']}"]
    if summary.get("schema"):
        lines.append(f"Schema:     {summary['schema']}")
    if "type" in summary:
        lines.append(f"Type:       {summary['type']}")
    if "bbox" in summary:
        lines.append(f"BBox:       {_fmt_bbox(summary['bbox'])}")
    planes = summary.get("planes") or {}
    if planes:
        lines.append("Planes:")
        for name, plane in planes.items():
            if "planes" in plane:
                named = [p for p in plane["planes"] if p]
                lines.append(
                    f"  {name:<10} {plane.get('dtype')}, {len(named)} planes in {plane.get('hdus')} HDU(s): "
                    + ", ".join(named)
                )
            else:
                unit = plane.get("unit") or "(no unit)"
                lines.append(f"  {name:<10} {plane.get('dtype')}, unit {unit}")
    components = summary.get("components") or {}
    if components:
        lines.append("Components:")
        for name, value in components.items():
            if isinstance(value, dict):
                text = ", ".join(f"{k}={v}" for k, v in value.items()) or "(empty)"
            elif isinstance(value, list):
                text = ", ".join(value) or "(none)"
            else:
                text = str(value)
            lines.append(f"  {name:<21} {text}")
    if summary.get("metadata"):
        lines.append(f"Metadata:   {len(summary['metadata'])} keys: " + ", ".join(summary["metadata"]))
    if summary.get("primary_cards"):
        lines.append("Primary cards: " + ", ".join(f"{k}={v!r}" for k, v in summary["primary_cards"].items()))
    from ._products import format_product

    lines.extend(format_product(summary))
    lines.append("HDUs:")
    rows = summary.get("hdus", [])
    width = max([len(r["name"]) + 4 for r in rows] + [12])
    for row in rows:
        name = row["name"] + (f",{row['ver']}" if row.get("ver", 1) > 1 else "")
        if row.get("kind") == "image" and row.get("shape"):
            shape = "x".join(str(s) for s in row["shape"])
            unit = f" [{row['unit']}]" if row.get("unit") else ""
            lines.append(f"  {name:<{width}} {shape:>11} {row['dtype']:<8}{unit}  {row['compression']}")
        elif row.get("kind") == "table":
            lines.append(f"  {name:<{width}} table")
        else:
            lines.append(f"  {name:<{width}} {row.get('kind', '')}")
    if "file_size" in summary:
        lines.append(f"Size:       {summary['file_size']} bytes")
    return "\n".join(lines)
