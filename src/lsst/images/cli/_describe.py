"""``lsst-images describe FILE``: the whole data model of a file as a tree, without decoding pixels.

For lsst.images archives the JSON tree is parsed into the same pydantic models
a read uses, and every node is printed: its type (the model class), its scalar
values, and for every array *where it lives* -- the HDU, its shape, dtype,
compression and size on disk -- taken from the HDU headers.  Pointers to other
JSON rows (sky projections) are followed.  For afw-written files the tree lists
the pixel planes (from their headers) and the objects of the afw persistence
archive (PSF, WCS, photometric calibration, ...).  Pixel data is never read:
describing a 16-megapixel visit costs the same as a stamp.
"""

from __future__ import annotations

__all__ = ("add_parser", "describe_lines", "run")

import argparse
import math
from collections.abc import Iterator
from typing import Any

#: Longest scalar text printed on one line before it is abbreviated.
_MAX_TEXT = 72
#: Most list items printed in full.
_MAX_ITEMS = 8


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "describe",
        help="print the whole data model of a file as a tree (no pixels are read)",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("file", help="FITS file (lsst.images or afw): path, file:// or http(s)/s3 URL")
    return parser


def run(args: argparse.Namespace) -> int:
    for line in describe_lines(args.file):
        print(line)
    return 0


def describe_lines(path: str) -> list[str]:
    """Return the tree of a file as text lines (see module docstring)."""
    from ._sources import open_source

    source = open_source(path)
    if source.is_legacy:
        return list(_legacy_tree(source))
    return list(_archive_tree(source))


# ---------------------------------------------------------------------- lsst.images archives


def _archive_tree(source: Any) -> Iterator[str]:
    from ..fits import FitsInputArchive
    from ..fits._common import PointerModel
    from ._info import _hdu_rows

    with FitsInputArchive.open(source.path) as archive:
        model = archive.get_tree(source.cls._get_archive_tree_type(PointerModel))
        hdus = {(row["name"], row.get("ver", 1)): row for row in _hdu_rows(archive)}
        rows = {}
        yield f"{source.path}: {source.cls.__name__} {source.bbox} (lsst.images {source.layout} layout)"
        walker = _Walker(hdus, lambda row: rows.setdefault(row, archive.get_tree_dict(row)))
        yield from walker.children(model, "")
        yield "HDUs:"
        for (name, ver), row in hdus.items():
            yield f"  {name}{f',{ver}' if ver > 1 else ''}: {_hdu_text(row)}"


def _type_name(model: Any) -> str:
    name = type(model).__name__.split("[", 1)[0]
    return name.removesuffix("SerializationModel") or name


def _hdu_text(row: dict[str, Any]) -> str:
    if row.get("kind") == "image" and row.get("shape"):
        shape = "x".join(str(s) for s in row["shape"])
        text = f"{row.get('dtype')} {shape}, {row.get('compression')}"
    elif row.get("kind") == "table":
        text = "table" + (f", {row['rows']} rows" if "rows" in row else "")
    else:
        text = row.get("kind", "")
    return f"{text}, {row['bytes']} bytes" if "bytes" in row else text


class _Walker:
    """Turns a pydantic tree into indented lines."""

    def __init__(self, hdus: dict[tuple[str, int], dict[str, Any]], pointer_row: Any) -> None:
        self.hdus = hdus
        self.pointer_row = pointer_row

    def children(self, node: Any, indent: str) -> Iterator[str]:
        import pydantic

        if isinstance(node, pydantic.BaseModel):
            items = [(name, getattr(node, name)) for name in type(node).model_fields]
            extra = node.model_extra or {}
            items += list(extra.items())
        else:
            items = list(node.items())
        unset = 0
        for key, value in items:
            if value is None or (isinstance(value, dict | list | tuple) and not value):
                continue
            if isinstance(value, float) and math.isnan(value):
                unset += 1
                continue
            yield from self.node(str(key), value, indent + "  ")
        if unset:
            yield f"{indent}  ({unset} more fields are NaN)"

    def node(self, key: str, value: Any, indent: str) -> Iterator[str]:
        import numpy as np
        import pydantic

        array = self._array_text(value)
        if array is not None:
            yield f"{indent}{key}: {array}"
        elif type(value).__name__ == "PointerModel":
            tree = self.pointer_row(value.row)
            yield f"{indent}{key}: -> JSON row {value.row}"
            yield from self.children(tree, indent)
        elif isinstance(value, pydantic.BaseModel):
            summary = _model_summary(value)
            yield f"{indent}{key}: {_type_name(value)}{f' ({summary})' if summary else ''}"
            yield from self.children(value, indent)
        elif hasattr(value, "raw") and isinstance(value.raw, dict):  # deferred ObservationInfo
            yield f"{indent}{key}: {type(value).__name__.removeprefix('Deferred')} ({len(value.raw)} keys)"
            yield from self.children(value.raw, indent)
        elif isinstance(value, dict):
            yield f"{indent}{key}: {len(value)} entries"
            yield from self.children(value, indent)
        elif isinstance(value, np.ndarray) and value.ndim == 0:
            yield f"{indent}{key} = {_scalar_text(value.item())}"
        elif isinstance(value, np.ndarray):
            shape = "x".join(str(s) for s in value.shape)
            yield f"{indent}{key}: {value.dtype} array {shape} (in the JSON tree)"
        elif isinstance(value, list | tuple) and value and isinstance(value[0], pydantic.BaseModel | dict):
            yield f"{indent}{key}: {len(value)} items"
            if len(value) > _MAX_ITEMS // 2 and isinstance(value[0], pydantic.BaseModel):
                for index, item in enumerate(value):  # long lists (amplifiers): one line per item
                    yield f"{indent}  [{index}]: {_type_name(item)} {_one_line(item)}"
                return
            for index, item in enumerate(value):
                yield from self.node(f"[{index}]", item, indent + "  ")
        else:
            yield f"{indent}{key} = {_scalar_text(value)}"

    def _array_text(self, value: Any) -> str | None:
        """Describe an array reference (or a quantity wrapping one), or return None."""
        unit = None
        if hasattr(value, "value") and hasattr(value, "unit") and hasattr(value.value, "source"):
            value, unit = value.value, value.unit
        source = getattr(value, "source", None)
        if not isinstance(source, str) or not hasattr(value, "shape"):
            return None
        shape = "x".join(str(s) for s in value.shape)
        text = f"{getattr(value, 'datatype', '?')} array {shape}"
        if unit:
            text += f" [{unit}]"
        where = source.removeprefix("fits:")
        name, _, ver = where.partition(",")
        row = self.hdus.get((name, int(ver) if ver else 1))
        if row is None:
            return f"{text} in {source}"
        return f"{text} in HDU {where} ({_hdu_text(row)})"


def _model_summary(model: Any) -> str:
    """A few words about models whose fields are long (mask planes, frames)."""
    planes = getattr(model, "planes", None)
    if isinstance(planes, list) and planes and hasattr(planes[0], "name"):
        return f"{len(planes)} planes"
    return ""


def _one_line(model: Any) -> str:
    """The scalar fields of a model on one line."""
    import pydantic

    parts = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None or isinstance(value, pydantic.BaseModel | dict | list | tuple):
            continue
        parts.append(f"{name}={_scalar_text(value)}")
    return " ".join(parts)


def _scalar_text(value: Any) -> str:
    import enum

    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, list | tuple):
        if value and all(hasattr(v, "name") and hasattr(v, "description") for v in value):
            value = [v.name for v in value]  # mask planes: their names
        items = [_scalar_text(v) for v in value[:_MAX_ITEMS]]
        more = f", ... ({len(value)} values)" if len(value) > _MAX_ITEMS else ""
        return "[" + ", ".join(items) + more + "]"
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    lines = text.strip().splitlines()
    if len(lines) > 1:
        return f"{lines[0].strip()[:_MAX_TEXT]!r} ... ({len(lines)} lines)"
    if len(text) > _MAX_TEXT:
        return repr(text[:_MAX_TEXT]) + f"... ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else text


# ---------------------------------------------------------------------- afw-written files


def _legacy_tree(source: Any) -> Iterator[str]:
    from ..legacy._fits import read_xy0
    from ..legacy._masks import read_mask_plane_cards
    from ..legacy._reader import _open
    from ._info import _compression, _dtype_from_header

    with _open(source.path) as lf:
        read_as = source.cls.__name__
        yield f"{source.path}: afw-written file, read as {read_as} {source.bbox} (legacy layout)"
        yield "  planes:"
        single = source.cls.__name__ == "Image"
        for kind in ("IMAGE",) if single else ("IMAGE", "MASK", "VARIANCE"):
            index = source.image_hdu if single else lf.find_plane(kind)
            header = lf.header(index)
            height, width = lf.plane_shape(index)
            x0, y0 = read_xy0(header)
            text = f"{_dtype_from_header(header)} array {height}x{width} at (y={y0}, x={x0})"
            unit = header.get("BUNIT")
            text += f" [{unit}]" if unit else ""
            yield f"    {kind.lower()}: {text} in HDU {index} (compression: {_compression(header)})"
            if kind == "MASK":
                planes = read_mask_plane_cards(header.copy())
                names = sorted(planes, key=planes.__getitem__)
                yield f"      planes = {_scalar_text(names)}"
        primary = lf.primary_header
        components = sorted(
            {
                (key.removeprefix("ARCHIVE_ID_").removesuffix("_ID"), int(primary[key]))
                for key in primary
                if (key.startswith("ARCHIVE_ID_") or key.endswith("_ID")) and isinstance(primary[key], int)
            }
        )
        archive = lf.archive
        if components:
            yield "  components (afw persistence archive):"
        for name, object_id in components:
            if not object_id:
                continue
            entry = archive.entry(object_id) if archive is not None and object_id in archive else None
            stored = f"{entry.name}, {len(entry.catalogs)} catalog(s)" if entry is not None else "missing"
            yield f"    {name.lower()}: archive object {object_id} ({stored})"
        cards = [key for key in primary if key not in ("COMMENT", "HISTORY", "")]
        yield f"  metadata: {len(cards)} primary header cards"
        for key in ("INSTRUME", "TELESCOP", "FILTER", "EXPTIME", "DATE-OBS", "LSST BUTLER DATAID VISIT"):
            if key in primary:
                yield f"    {key} = {primary[key]!r}"
        yield "HDUs:"
        for index, hdu in enumerate(lf.hdus):
            yield f"  {index}: {hdu.name or '(primary)'} ({type(hdu).__name__})"
