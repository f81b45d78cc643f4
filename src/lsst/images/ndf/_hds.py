"""HDS-on-HDF5 building blocks: structures, typed primitives, character arrays, WCS records.

Starlink's HDS (version 5) keeps its hierarchy in HDF5: an HDS *structure* is an HDF5
group whose ``CLASS`` attribute (older files: ``HDSTYPE``) holds its HDS type (``NDF``,
``ARRAY``, ``EXT``, ...); an HDS *primitive* is a dataset whose HDS dimensions are the
HDF5 shape reversed, so a numpy ``(y, x)`` image is an HDS ``(x, y)`` array.  Everything
in this package that touches raw HDF5 objects goes through the helpers here, so the
conventions live in one place.
"""

from __future__ import annotations

__all__ = (
    "HDS_CLASS_ATTRIBUTES",
    "WCS_RECORD_WIDTH",
    "create_structure",
    "decode_records",
    "encode_records",
    "hds_type",
    "read_chars",
    "require_structure",
    "storage_dtype",
    "structure_class",
    "write_chars",
    "write_logical",
    "write_primitive",
)

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import h5py
import numpy as np

#: Attributes that name a structure's HDS type; ``HDSTYPE`` is what older HDS v5 files use.
HDS_CLASS_ATTRIBUTES = ("CLASS", "HDSTYPE")

#: Width of the ``_CHAR`` records of an NDF ``WCS`` component (column 1 is a flag).
WCS_RECORD_WIDTH = 32

#: Numpy kinds/sizes with a genuine HDS primitive type.
_HDS_NAMES: dict[np.dtype, str] = {
    np.dtype(np.bool_): "_LOGICAL",
    np.dtype(np.int8): "_BYTE",
    np.dtype(np.uint8): "_UBYTE",
    np.dtype(np.int16): "_WORD",
    np.dtype(np.uint16): "_UWORD",
    np.dtype(np.int32): "_INTEGER",
    np.dtype(np.int64): "_INT64",
    np.dtype(np.float32): "_REAL",
    np.dtype(np.float64): "_DOUBLE",
}

#: Types HDS has no name for that are still stored (as plain HDF5 integers) so that no
#: lsst.images array type is unwritable; Starlink tools cannot interpret them.
_NON_HDS = frozenset({np.dtype(np.uint32), np.dtype(np.uint64)})


def storage_dtype(dtype: np.dtype) -> np.dtype:
    """Return the native-byte-order dtype an array of ``dtype`` is stored with.

    HDS files are written in the machine's byte order (an array read from an
    uncompressed FITS file is big-endian and is converted).

    Raises
    ------
    NotImplementedError
        For dtypes with no stored form (complex, strings, objects, structured, float16).
    """
    native = np.dtype(dtype).newbyteorder("=")
    if native in _HDS_NAMES or native in _NON_HDS:
        return native
    raise NotImplementedError(f"Arrays of dtype {dtype} cannot be stored in an NDF file.")


def hds_type(dataset: h5py.Dataset) -> str:
    """Return the HDS type name of a dataset (``_REAL``, ``_LOGICAL``, ``_CHAR*80``, ...).

    Types HDS does not define come back as ``"HDF5:<numpy dtype>"``.
    """
    type_id = dataset.id.get_type()
    if type_id.get_class() == h5py.h5t.BITFIELD:
        return "_LOGICAL"
    if dataset.dtype.kind == "S":
        return f"_CHAR*{dataset.dtype.itemsize}"
    native = dataset.dtype.newbyteorder("=")
    return _HDS_NAMES.get(native, f"HDF5:{native}")


def structure_class(group: h5py.Group) -> str | None:
    """Return the HDS type of a structure (`None` if it has no type attribute)."""
    for name in HDS_CLASS_ATTRIBUTES:
        if name in group.attrs:
            value = group.attrs[name]
            return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return None


def _ascii(text: str, what: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"{what} must be ASCII text for HDS, got {text!r}.") from None


def set_class(group: h5py.Group, hds_class: str) -> None:
    """Give a group its HDS type (a fixed-length ASCII ``CLASS`` attribute)."""
    group.attrs.create("CLASS", np.bytes_(_ascii(hds_class, "An HDS type")))


def create_structure(parent: h5py.Group, name: str, hds_class: str) -> h5py.Group:
    """Create an HDS structure ``name`` of type ``hds_class`` under ``parent``."""
    group = parent.create_group(name)
    set_class(group, hds_class)
    return group


def require_structure(file: h5py.File, path: str, classes: Mapping[str, str] | None = None) -> h5py.Group:
    """Return the structure at absolute ``path``, creating it and any missing parents.

    A new group's HDS type is ``classes[its path]`` when given, else its own
    component name (what the reference writes for the intermediate structures of
    hoisted arrays, e.g. ``BACKGROUNDS`` of type ``BACKGROUNDS``).
    """
    group: h5py.Group = file
    current = ""
    for component in (c for c in path.split("/") if c):
        current = f"{current}/{component}"
        if component in group:
            node = group[component]
            if not isinstance(node, h5py.Group):
                raise ValueError(f"Cannot create HDS structure {path!r}: {current!r} is a primitive.")
            group = node
        else:
            group = create_structure(group, component, (classes or {}).get(current, component))
    return group


def write_primitive(
    parent: h5py.Group, name: str, array: np.ndarray, dataset_options: Mapping[str, Any] | None = None
) -> h5py.Dataset:
    """Store a numeric array as an HDS primitive (native byte order; bool as ``_LOGICAL``).

    ``dataset_options`` are h5py ``create_dataset`` keywords (compression, chunks, ...),
    used only for non-scalar arrays.
    """
    array = np.asarray(array)
    options = dict(dataset_options or {}) if array.ndim else {}
    if array.dtype == np.bool_:
        return parent.create_dataset(name, data=array.astype(np.uint8), dtype=h5py.h5t.STD_B8LE, **options)
    dtype = storage_dtype(array.dtype)
    return parent.create_dataset(name, data=np.asarray(array, dtype=dtype), **options)


def write_logical(parent: h5py.Group, name: str, value: bool) -> h5py.Dataset:
    """Store a scalar ``_LOGICAL`` (an HDF5 8-bit BITFIELD, as HDS does)."""
    return write_primitive(parent, name, np.bool_(value))


def write_chars(
    parent: h5py.Group, name: str, text: str | Sequence[str], width: int | None = None
) -> h5py.Dataset:
    """Store a scalar string or a 1-d array of strings as ``_CHAR*width`` (space padded).

    ``width`` defaults to the longest string (at least 1).

    Raises
    ------
    ValueError
        If a string is not ASCII or is longer than ``width``.
    """
    lines = [text] if isinstance(text, str) else list(text)
    encoded = [_ascii(line, f"Component {name!r}") for line in lines]
    if width is None:
        width = max((len(b) for b in encoded), default=1) or 1
    for line in encoded:
        if len(line) > width:
            raise ValueError(f"String {line!r} does not fit a _CHAR*{width} element of {name!r}.")
    data = np.array([line.ljust(width) for line in encoded], dtype=f"S{width}")
    return parent.create_dataset(name, data=data[0] if isinstance(text, str) else data)


def read_chars(dataset: h5py.Dataset) -> list[str]:
    """Read a ``_CHAR`` primitive (scalar or 1-d) as a list of strings, trailing blanks removed.

    Both NUL-padded (this package, the reference) and space-padded (Starlink) strings
    are accepted; bytes that are not ASCII are replaced rather than rejected.
    """
    if dataset.dtype.kind != "S":
        raise ValueError(f"{dataset.name} is not a character array (HDS type {hds_type(dataset)}).")
    values = np.atleast_1d(dataset[()]).ravel()
    return [bytes(v).rstrip(b"\0 ").decode("ascii", "replace") for v in values]


def encode_records(lines: Iterable[str], width: int = WCS_RECORD_WIDTH) -> list[str]:
    """Split text lines into the fixed-width records of an NDF ``WCS`` component.

    Each line loses its surrounding blanks; blank lines and ``#`` comments are
    dropped.  A line's first record starts with a space, its continuation records
    (for lines longer than ``width - 1``) with ``+``.
    """
    records = []
    size = width - 1
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for start in range(0, len(line), size):
            records.append(("+" if start else " ") + line[start : start + size])
    return records


def decode_records(records: Iterable[str], width: int = WCS_RECORD_WIDTH) -> list[str]:
    """Rejoin NDF ``WCS`` records into text lines (the inverse of `encode_records`).

    Continuation records (``+`` in column 1) extend the previous line; comment
    records (``#`` in column 1) are skipped.  Records are re-padded to ``width``
    first, so a line split just after a blank keeps that blank.
    """
    lines: list[str] = []
    for record in records:
        body = record.ljust(width)[1:]
        if record[:1] == "+" and lines:
            lines[-1] += body
        elif record[:1] != "#":
            lines.append(body)
    return [line.rstrip() for line in lines]
