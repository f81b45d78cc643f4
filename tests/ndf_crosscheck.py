"""Objects and summaries for NDF cross-checks between this library and Rubin's wheel.

Everything here uses only the public `lsst.images` API that both implementations share,
so the same code runs under this package (the tests import it) and under Rubin's
lsst-images 30.2026.2100 interpreter (the tests run this file as a script there, and
``tests/data/ndf/make_files.py`` used it to write the committed files).

``summarize(obj)`` reduces an object to plain JSON values: bbox, dtypes, SHA-256
digests of the pixel bytes (little-endian), mask planes with their pixel counts, sky
positions of a few pixels, metadata and, for visit images, values computed by the PSF,
the fields and the other components.  Two implementations agree on an object exactly
when they produce the same summary (sky positions within a tolerance).

Script use: ``python ndf_crosscheck.py batch COMMANDS.json`` runs a list of commands,
``["write", KIND, PATH, FIXTURES]`` (build object KIND and ``ndf.write`` it) or
``["read", CLASS, PATH]`` (``ndf.read`` it), and prints their summaries as JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import astropy.units as u
import astropy.wcs
import numpy as np

import lsst.images as li

#: Where the visit image of the cross-checks comes from (relative to the shared fixtures).
VISIT_FIXTURE = "lsst-images-2100/visit_full.fits"

#: Sub-box of that fixture used to keep visit files small (all components are kept).
VISIT_SUBSET = ((1010, 1030), (2020, 2044))

#: Kinds `build` knows (the visit one needs the shared fixtures).
KINDS = ("image", "image_i16", "mask", "masked_image", "color_image")


def _projection(frame: Any, bbox: li.Box) -> li.Projection:
    wcs = astropy.wcs.WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crpix = [1500.5, 1800.5]
    wcs.wcs.crval = [52.5, -28.25]
    wcs.wcs.cd = [[-5.5e-5, 1.1e-6], [1.2e-6, 5.5e-5]]
    return li.Projection.from_fits_wcs(wcs, frame, pixel_bounds=bbox)


def _detector_projection() -> li.Projection:
    bbox = li.Box.factory[0:4000, 0:4072]
    return _projection(
        li.DetectorFrame(instrument="LSSTCam", visit=2025052000177, detector=85, bbox=bbox), bbox
    )


def _tract_projection() -> li.Projection:
    bbox = li.Box.factory[0:30000, 0:30000]
    return _projection(li.TractFrame(skymap="lsst_cells_v2", tract=9813, bbox=bbox), bbox)


def build(kind: str, fixtures: str | None = None) -> Any:
    """A small deterministic object of the given kind (``fixtures``: the shared folder, for ``visit``)."""
    bbox = li.Box.factory[10:22, 20:36]
    ramp = np.arange(bbox.y.size * bbox.x.size, dtype=np.float32).reshape(bbox.y.size, bbox.x.size)
    if kind == "image":
        array = ramp * 0.5 - 7.25
        array[3, 4] = np.nan
        image = li.Image(array, bbox=bbox, unit=u.nJy, projection=_detector_projection())
        image.metadata.update({"answer": 42, "label": "ndf", "ratio": 0.125, "flag": True})
        return image
    if kind == "image_i16":
        return li.Image((np.arange(30, dtype=np.int16) * 7 - 90).reshape(5, 6), start=(-3, 4), unit=u.count)
    if kind == "mask":
        schema = li.MaskSchema([li.MaskPlane("BAD", "Bad pixel."), None, li.MaskPlane("SAT", "Saturated.")])
        mask = li.Mask(schema=schema, start=(-2, 5), shape=(7, 9))
        yy, xx = np.mgrid[0:7, 0:9]
        mask.set("BAD", (yy + xx) % 3 == 0)
        mask.set("SAT", yy > 4)
        return mask
    if kind == "masked_image":
        schema = li.MaskSchema([li.MaskPlane(f"P{i:02d}", f"Plane number {i}.") for i in range(12)])
        image = li.Image(ramp + 100.0, bbox=bbox, unit=u.nJy, projection=_tract_projection())
        masked = li.MaskedImage(
            image, mask_schema=schema, variance=li.Image(ramp * 0.0 + 4.5, bbox=bbox, unit=u.nJy**2)
        )
        yy, xx = np.mgrid[0 : bbox.shape[0], 0 : bbox.shape[1]]
        for i in range(12):
            masked.mask.set(f"P{i:02d}", (xx * 3 + yy * 5 + i) % 7 == 0)
        masked.metadata["exposure"] = 30.0
        return masked
    if kind == "color_image":
        rgb = np.stack([ramp, ramp[::-1] * 2.0, ramp[:, ::-1] + 0.5], axis=-1)
        return li.ColorImage(rgb, bbox=bbox, projection=_detector_projection())
    if kind == "visit":
        from lsst.images import fits

        visit = fits.read(li.VisitImage, f"{fixtures}/{VISIT_FIXTURE}").deserialized
        (y0, y1), (x0, x1) = VISIT_SUBSET
        return visit[li.Box.factory[y0:y1, x0:x1]]
    raise ValueError(f"unknown kind {kind!r}")


def _number(value: Any) -> Any:
    """JSON-safe scalars: NaN and infinities become strings so summaries compare with ==."""
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _number(v) for k, v in value.items()}
    return value


def digest(array: np.ndarray) -> dict[str, Any]:
    """dtype, shape and SHA-256 of the little-endian bytes of an array."""
    array = np.asarray(array)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
    }


def _bbox(bbox: li.Box) -> list[int]:
    return [bbox.y.start, bbox.x.start, bbox.y.size, bbox.x.size]


def _sky(projection: Any, bbox: li.Box) -> list[list[float]] | None:
    if projection is None:
        return None
    x = np.array([bbox.x.start, bbox.x.stop - 1, (bbox.x.start + bbox.x.stop) / 2], dtype=float)
    y = np.array([bbox.y.start, bbox.y.stop - 1, bbox.y.start + 1.25], dtype=float)
    sky = projection.pixel_to_sky(x=x, y=y)
    return [[float(a), float(d)] for a, d in zip(sky.ra.deg, sky.dec.deg, strict=True)]


def _mask(mask: li.Mask) -> dict[str, Any]:
    planes = [None if p is None else [p.name, p.description] for p in mask.schema]
    counts = {p.name: int(mask.get(p.name).sum()) for p in mask.schema if p is not None}
    return {
        "planes": planes,
        "counts": counts,
        "dtype": np.dtype(mask.schema.dtype).name,
        "array": digest(mask.array),
    }


def _unit(obj: Any) -> str | None:
    unit = getattr(obj, "unit", None)
    return None if unit is None else unit.to_string()


def summarize(obj: Any) -> dict[str, Any]:
    """Plain-JSON summary of an Image, Mask, MaskedImage, ColorImage or VisitImage."""
    result: dict[str, Any] = {
        "class": type(obj).__name__,
        "bbox": _bbox(obj.bbox),
        "metadata": _number(dict(obj.metadata)),
        "sky": _sky(obj.projection, obj.bbox),
    }
    if isinstance(obj, li.MaskedImage):
        result["image"] = digest(obj.image.array)
        result["variance"] = digest(obj.variance.array)
        result["unit"] = _unit(obj.image)
        result["variance_unit"] = _unit(obj.variance)
        result["mask"] = _mask(obj.mask)
        result["shared_projection"] = (
            obj.mask.projection is obj.projection and obj.variance.projection is obj.projection
        )
    elif isinstance(obj, li.Mask):
        result["mask"] = _mask(obj)
    elif isinstance(obj, li.ColorImage):
        result["channels"] = [digest(c.array) for c in (obj.red, obj.green, obj.blue)]
    else:
        result["image"] = digest(obj.array)
        result["unit"] = _unit(obj)
    if isinstance(obj, li.VisitImage):
        result["visit"] = _visit(obj)
    return result


def _visit(visit: Any) -> dict[str, Any]:
    cx = float(visit.bbox.x.start + 3)
    cy = float(visit.bbox.y.start + 5)
    xs, ys = np.array([cx, cx + 7.5]), np.array([cy, cy + 2.25])
    kernel = visit.psf.compute_kernel_image(x=cx, y=cy)
    scaling = visit.photometric_scaling
    return {
        "psf_kernel": digest(kernel.array),
        "psf_kernel_bbox": _bbox(kernel.bbox),
        "summary_stats": _number(visit.summary_stats.model_dump()),
        "detector": [visit.detector.name, visit.detector.id, _bbox(visit.detector.bbox)],
        "instrument": visit.obs_info.instrument,
        "aperture_corrections": {
            name: _number(np.asarray(field(x=xs, y=ys)).tolist())
            for name, field in sorted(visit.aperture_corrections.items())
        },
        "photometric_scaling": None if scaling is None else _number(np.asarray(scaling(x=xs, y=ys)).tolist()),
        "backgrounds": {
            name: _number(np.asarray(visit.backgrounds[name].field(x=xs, y=ys)).tolist())
            for name in visit.backgrounds
        },
    }


def run(command: list[str]) -> dict[str, Any]:
    """Run one ``["write", KIND, PATH, FIXTURES]`` or ``["read", CLASS, PATH]`` command; return a summary."""
    from lsst.images import ndf

    action, what, path = command[:3]
    if action == "write":
        obj = build(what, command[3] if len(command) > 3 else None)
        ndf.write(obj, path)
    elif action == "read":
        obj = ndf.read(getattr(li, what), path).deserialized
    else:
        raise ValueError(f"unknown command {action!r}")
    return summarize(obj)


def main(argv: list[str]) -> int:
    """``batch FILE``: run the JSON list of commands in FILE, print a JSON list of results.

    Each result is ``{"summary": ...}`` or ``{"error": traceback}``, so one failing
    command does not hide the others (one interpreter start serves every check).
    """
    import traceback

    if argv[1:2] != ["batch"] or len(argv) != 3:
        raise SystemExit(f"usage: {argv[0]} batch COMMANDS.json")
    results = []
    for command in json.loads(Path(argv[2]).read_text()):
        try:
            results.append({"summary": run(command)})
        except Exception:
            results.append({"error": traceback.format_exc()})
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
