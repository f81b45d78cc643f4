"""Checks of DP2 products (cell coadds, difference images) against their fixture manifests.

The manifests (``shared/fixtures/lsst-images-4300-products``) record what Rubin's
library sees in each file; these functions compare an object we read with one
manifest entry's ``expect`` section, key by key.  They are shared by the cell-coadd
and difference-image fixture tests.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import astropy.units as u
import numpy as np
import pytest

import lsst.images as li

SKY_DEG = 1e-9
FIELD_RTOL = 1e-9
KERNEL_RTOL = 1e-10
TABLE_RTOL = 1e-12


def sha256(array: Any) -> str:
    """The manifests' hash: in-memory dtype, C order, little-endian."""
    array = np.asarray(array)
    return hashlib.sha256(
        np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    ).hexdigest()


def value(v: Any) -> Any:
    """A manifest value with its NaN/Infinity strings turned into floats."""
    if v == "NaN":
        return math.nan
    if v == "Infinity":
        return math.inf
    if v == "-Infinity":
        return -math.inf
    return v


def close(got: Any, want: Any, rtol: float) -> bool:
    want = value(want)
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, (float, np.floating)) and math.isnan(got)
    return bool(np.isclose(float(got), float(want), rtol=rtol, atol=0.0))


def box(d: dict) -> li.Box:
    return li.Box(li.Interval(*d["y"]), li.Interval(*d["x"]))


def box_dict(b: li.Box) -> dict:
    return {"y": [b.y.start, b.y.stop], "x": [b.x.start, b.x.stop]}


def unit_str(unit: Any) -> str | None:
    if unit is None:
        return None
    try:
        return unit.to_string("vounit")
    except ValueError:
        return unit.to_string()


def ij(cell: Any) -> list[int]:
    return [int(cell.i), int(cell.j)]


def check_plane(image: li.Image, want: dict, where: str) -> None:
    array = image.array
    assert str(array.dtype.newbyteorder("=")) == want["dtype"], where
    assert list(array.shape) == want["shape"], where
    assert unit_str(image.unit) == want["unit"], where
    assert sha256(array) == want["sha256"], where
    nan_count = int(np.isnan(array).sum()) if array.dtype.kind == "f" else 0
    assert nan_count == want["nan_count"], where
    for sample in want["samples"]:
        got = array[sample["y"] - image.bbox.y.start, sample["x"] - image.bbox.x.start].item()
        assert close(got, sample["value"], 0.0), (where, sample)


def check_mask(mask: li.Mask, want: dict, where: str) -> None:
    array = mask.array
    assert str(array.dtype) == want["dtype"], where
    assert list(array.shape) == want["shape3d"], where
    schema = mask.schema
    assert schema.mask_size == want["mask_size"], where
    assert sha256(array) == want["sha256"], where
    assert [None if p is None else {"name": p.name, "description": p.description} for p in schema] == want[
        "schema"
    ], where
    for name, bit in want["bits"].items():
        assert (schema.bit(name).index, int(schema.bit(name).mask)) == (bit["index"], bit["mask"]), (
            where,
            name,
        )
    assert {n: int(mask.get(n).sum()) for n in schema.names} == want["plane_counts"], where
    for sample in want["samples"]:
        iy, ix = sample["y"] - mask.bbox.y.start, sample["x"] - mask.bbox.x.start
        assert [n for n in schema.names if mask.get(n)[iy, ix]] == sample["planes"], (where, sample)
        assert array[iy, ix].tolist() == sample["raw"], (where, sample)


def check_projection(projection: Any, want: dict) -> None:
    assert json.loads(projection.pixel_frame.model_dump_json()) == want["pixel_frame"]
    xs = np.array([p["x"] for p in want["points"]])
    ys = np.array([p["y"] for p in want["points"]])
    sky = projection.pixel_to_sky(x=xs, y=ys)
    np.testing.assert_allclose(sky.ra.deg, [p["ra_deg"] for p in want["points"]], rtol=0, atol=SKY_DEG)
    np.testing.assert_allclose(sky.dec.deg, [p["dec_deg"] for p in want["points"]], rtol=0, atol=SKY_DEG)
    back = projection.sky_to_pixel(sky)
    err = max(np.abs(back.x - xs).max(), np.abs(back.y - ys).max())
    assert err <= max(1e-8, 10 * want["roundtrip_max_pixel_err"])


def check_field(field: Any, want: dict, where: str) -> None:
    assert type(field).__name__ == want["type"], where
    assert unit_str(field.unit) == want["unit"], where
    assert box_dict(field.bounds.bbox) == want["bounds_bbox"], where
    xs = np.array([p["x"] for p in want["values"]], dtype=float)
    ys = np.array([p["y"] for p in want["values"]], dtype=float)
    got = np.asarray(field(x=xs, y=ys), dtype=float)
    for g, p in zip(got, want["values"], strict=True):
        assert close(g, p["value"], FIELD_RTOL), (where, p, g)


def check_backgrounds(backgrounds: li.BackgroundMap, want: dict) -> None:
    subtracted = backgrounds.subtracted
    assert (subtracted.name if subtracted is not None else None) == want["subtracted"]
    assert sorted(backgrounds) == sorted(want["entries"])
    for name, entry in want["entries"].items():
        assert backgrounds[name].description == entry["description"]
        check_field(backgrounds[name].field, entry, f"background {name}")


def check_common(obj: Any, expect: dict) -> None:
    """The keys shared by every product: class, bbox, planes, metadata, projection."""
    assert type(obj).__name__ == expect["class"]
    assert obj.bbox == box(expect["bbox"])
    planes = expect["planes"]
    check_plane(obj.image, planes["image"], "image")
    check_plane(obj.variance, planes["variance"], "variance")
    check_mask(obj.mask, planes["mask"], "mask")
    assert dict(obj.metadata) == expect["metadata"]
    check_projection(obj.sky_projection, expect["projection"])


def table_rows(table: Any) -> list[dict]:
    rows = []
    for row in table:
        d = {}
        for name in table.colnames:
            v = row[name]
            if isinstance(v, li.Polygon):
                v = {
                    "x_vertices": [float(q) for q in v.x_vertices],
                    "y_vertices": [float(q) for q in v.y_vertices],
                }
            elif isinstance(v, (bytes, np.bytes_)):
                v = v.decode()
            elif isinstance(v, (str, np.str_)):
                v = str(v)
            elif hasattr(v, "item"):
                v = v.item()
            d[name] = v
        rows.append(d)
    return rows


def _rows_match(got: dict, want: dict) -> bool:
    if got.keys() != want.keys():
        return False
    for key, w in want.items():
        g = got[key]
        if isinstance(w, dict):
            if any(not np.allclose(g[k], w[k], rtol=TABLE_RTOL, atol=0) for k in w):
                return False
        elif isinstance(w, float) or w in ("NaN", "Infinity", "-Infinity"):
            if not close(g, w, TABLE_RTOL):
                return False
        elif g != w:
            return False
    return True


def check_table(table: Any, want: dict, where: str) -> None:
    assert len(table) == want["n_rows"], where
    assert list(table.colnames) == want["columns"], where
    units = {c: unit_str(table[c].unit) for c in table.colnames if table[c].unit is not None}
    assert units == want["units"], where
    remaining = table_rows(table)
    for row in want["rows"]:
        match = next((n for n, got in enumerate(remaining) if _rows_match(got, row)), None)
        assert match is not None, (where, row)
        remaining.pop(match)
    assert not remaining, where


def expect_raises(exc: type[BaseException], func: Any, *args: Any, **kwargs: Any) -> BaseException:
    with pytest.raises(exc) as info:
        func(*args, **kwargs)
    return info.value


def check_units_equal(a: Any, b: Any) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and u.Unit(a) == u.Unit(b))
