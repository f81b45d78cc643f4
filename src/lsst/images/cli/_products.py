"""What ``lsst-images info`` says about the DP2 products: cell coadds and difference images.

For a `~lsst.images.cells.CellCoadd`: the cell grid, the block of cells the file
covers, its missing cells, the aperture corrections, patch and provenance, and the
PSF of every cell (its kernel size, and the width of each cell's kernel, computed from
the small ``PSF`` HDU -- the image planes are not read).  For a
`~lsst.images.DifferenceImage`: the matching kernel (basis size, centre, number of
basis images and their spatial fields) and the templates.
"""

from __future__ import annotations

__all__ = ("describe_product", "format_product", "product_class")

from typing import Any

import numpy as np

#: Grids wider than this get a one-line PSF-width summary instead of a table.
_MAX_COLUMNS = 12


def product_class(tree: dict[str, Any]) -> str | None:
    """The product class of an (internal-form) tree, or None for other trees."""
    psf = tree.get("psf")
    if isinstance(psf, dict) and isinstance(psf.get("bounds"), dict) and "grid" in psf["bounds"]:
        return "CellCoadd"
    if "detector" in tree and ("kernel" in tree or "templates" in tree):
        return "DifferenceImage"
    return None


def _box(node: dict[str, Any]) -> list[list[int]]:
    return [[node["y"]["start"], node["y"]["stop"]], [node["x"]["start"], node["x"]["stop"]]]


def _cells(tree: dict[str, Any], archive: Any) -> dict[str, Any]:
    from ..cells import CellGridBounds

    psf = tree["psf"]
    bounds = CellGridBounds.model_validate(psf["bounds"])
    grid = bounds.grid
    out: dict[str, Any] = {
        "grid": {
            "bbox": _box(psf["bounds"]["grid"]["bbox"]),
            "cell_shape": list(grid.cell_shape),
            "grid_size": list(grid.grid_size.as_tuple()),
        },
        "bounds": {
            "bbox": _box(psf["bounds"]["bbox"]),
            "start": list(bounds.subgrid_start.as_tuple()),
            "size": list(bounds.subgrid_size.as_tuple()),
        },
        "missing": [list(c.as_tuple()) for c in sorted(bounds.missing)],
        "psf_kernel_shape": list(psf["array"]["shape"][2:]),
    }
    out["psf_sigma"] = _psf_widths(archive, psf["array"], bounds)
    apcorr = tree.get("aperture_corrections")
    if isinstance(apcorr, dict):
        out["aperture_corrections"] = [
            c["name"] for c in apcorr["table"]["columns"] if c["name"] not in ("cell_i", "cell_j")
        ]
    patch = tree.get("patch")
    if isinstance(patch, dict):
        index = patch["index"]
        out["patch"] = {
            "id": patch["id"],
            "index": list(index.values()) if isinstance(index, dict) else index,
        }
    out["provenance"] = tree.get("provenance") is not None
    out["mask_fractions"] = sorted(tree.get("mask_fractions") or {})
    out["noise_realizations"] = len(tree.get("noise_realizations") or [])
    return out


def _psf_widths(archive: Any, array_node: dict[str, Any], bounds: Any) -> list[list[float | None]] | None:
    """Gaussian-equivalent sigma (pixels) of each cell's kernel, None for missing cells."""
    from ..serialization import ArrayReferenceModel, InlineArrayModel

    model: Any
    try:
        model = (ArrayReferenceModel if "source" in array_node else InlineArrayModel).model_validate(
            array_node
        )
        kernels = np.asarray(archive.get_array(model), dtype=np.float64)
    except Exception:  # (a summary: report what can be read)
        return None
    h, w = kernels.shape[2:]
    yy, xx = np.mgrid[0:h, 0:w]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = kernels.sum(axis=(2, 3))
        cy = (kernels * yy).sum(axis=(2, 3)) / total
        cx = (kernels * xx).sum(axis=(2, 3)) / total
        iyy = (kernels * (yy - cy[..., None, None]) ** 2).sum(axis=(2, 3)) / total
        ixx = (kernels * (xx - cx[..., None, None]) ** 2).sum(axis=(2, 3)) / total
        sigma = np.sqrt(0.5 * (ixx + iyy))
    sigma[~bounds.present] = np.nan
    return [[None if not np.isfinite(s) else round(float(s), 4) for s in row] for row in sigma]


def _difference(tree: dict[str, Any]) -> dict[str, Any]:
    from ._info import _field_summary

    out: dict[str, Any] = {}
    kernel = tree.get("kernel")
    if isinstance(kernel, dict):
        n, h, w = kernel["basis"]["shape"]
        out["kernel"] = {
            "type": kernel.get("kernel_type", "IMAGE_BASIS"),
            "size": [h, w],
            "center": [kernel["center_y"], kernel["center_x"]],
            "n_basis": n,
            "spatial": [_field_summary(f) for f in kernel.get("spatial", [])],
        }
    else:
        out["kernel"] = None
    templates = tree.get("templates")
    out["templates"] = (
        None
        if templates is None
        else [
            {
                "skymap": t.get("skymap"),
                "tract": t.get("tract"),
                "patch": t.get("patch"),
                "run": t.get("dataset_run"),
            }
            for t in templates
        ]
    )
    return out


def describe_product(tree: dict[str, Any], archive: Any) -> dict[str, Any]:
    """Extra summary entries for a product tree (empty for other trees)."""
    name = product_class(tree)
    if name == "CellCoadd":
        return {"cells": _cells(tree, archive)}
    if name == "DifferenceImage":
        return {"difference": _difference(tree)}
    return {}


def _psf_lines(cells: dict[str, Any]) -> list[str]:
    sigma = cells.get("psf_sigma")
    h, w = cells["psf_kernel_shape"]
    lines = [
        f"  PSF per cell         {h}x{w} kernels; Gaussian-equivalent sigma (px), '--' for missing cells:"
    ]
    if sigma is None:
        return lines[:1] + ["    (the PSF HDU could not be read)"]
    values = [v for row in sigma for v in row if v is not None]
    if not values:
        return lines + ["    (every cell is missing)"]
    if len(sigma[0]) > _MAX_COLUMNS:
        return lines + [
            f"    min {min(values):.3f}, median {float(np.median(values)):.3f}, max {max(values):.3f}"
        ]
    i0, j0 = cells["bounds"]["start"]
    lines.append("    " + " " * 6 + "".join(f"{f'j={j0 + j}':>8}" for j in range(len(sigma[0]))))
    for i, row in enumerate(sigma):
        lines.append(f"    i={i0 + i:<4}" + "".join(f"{'--' if v is None else f'{v:.3f}':>8}" for v in row))
    return lines


def format_product(summary: dict[str, Any]) -> list[str]:
    """Text lines for the entries `describe_product` added."""
    lines: list[str] = []
    cells = summary.get("cells")
    if cells:
        (gy, gx), (by, bx) = cells["grid"]["bbox"], cells["bounds"]["bbox"]
        cy, cx = cells["grid"]["cell_shape"]
        lines.append("Cells:")
        lines.append(
            f"  grid                 [y={gy[0]}:{gy[1]}, x={gx[0]}:{gx[1]}], {cells['grid']['grid_size'][0]}x"
            f"{cells['grid']['grid_size'][1]} cells of {cy}x{cx}"
        )
        si, sj = cells["bounds"]["start"]
        ni, nj = cells["bounds"]["size"]
        lines.append(
            f"  this file            cells i={si}:{si + ni}, j={sj}:{sj + nj}  "
            f"[y={by[0]}:{by[1]}, x={bx[0]}:{bx[1]}]"
        )
        missing = ", ".join(f"({i}, {j})" for i, j in cells["missing"]) or "none"
        lines.append(f"  missing cells        {missing}")
        lines.extend(_psf_lines(cells))
        if cells.get("aperture_corrections") is not None:
            lines.append(f"  aperture corrections {', '.join(cells['aperture_corrections']) or '(none)'}")
        if cells.get("patch"):
            lines.append(f"  patch                {cells['patch']['id']} at index {cells['patch']['index']}")
        lines.append(f"  provenance           {'yes' if cells['provenance'] else 'no'}")
        lines.append(
            f"  mask fractions       {', '.join(cells['mask_fractions']) or '(none)'}; "
            f"noise realizations: {cells['noise_realizations']}"
        )
    difference = summary.get("difference")
    if difference:
        lines.append("Difference image:")
        kernel = difference["kernel"]
        if kernel is None:
            lines.append("  kernel               none")
        else:
            h, w = kernel["size"]
            lines.append(
                f"  kernel               {h}x{w} ({kernel['type']}, {kernel['n_basis']} basis images, "
                f"centre y={kernel['center'][0]} x={kernel['center'][1]})"
            )
            lines.append(f"  kernel spatial       {', '.join(kernel['spatial'])}")
        templates = difference["templates"]
        if templates is None:
            lines.append("  templates            unknown")
        else:
            lines.append(f"  templates            {len(templates)}")
            for t in templates:
                lines.append(f"    {t['skymap']} tract {t['tract']} patch {t['patch']} ({t['run']})")
    return lines
