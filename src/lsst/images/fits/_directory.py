"""The directory of a FITS archive: where every HDU is, read without scanning the file.

An lsst.images archive ends with a JSON HDU (the tree) and an INDEX HDU (one row per
HDU: name, version, header and data offsets), and its primary header gives their
offsets in the locator cards.  `load_directory` reads the primary header and then
those two HDUs in one request, checks every offset against the file size and every
structural card it relies on, and returns an `ArchiveDirectory`: enough to fetch any
HDU's header or data later with one ranged read.
"""

from __future__ import annotations

__all__ = (
    "NOT_PRINTABLE",
    "ArchiveDirectory",
    "HduEntry",
    "archive_error",
    "header_and_data",
    "load_directory",
    "read_exact",
)

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checksum import HduVerifier
from ._common import INDEX_EXTNAME, JSON_EXTNAME, InvalidFitsArchiveError
from ._headers import BLOCK, LOCATOR_CARDS, find_header_end, header_values
from ._opaque import ExtensionKey

#: Longest primary header searched for its END card (afw headers reach a few dozen blocks).
_MAX_HEADER = 400 * BLOCK

#: Bytes a FITS header may not contain (FITS 4.0 §4.1.1: printable ASCII only).
NOT_PRINTABLE = re.compile(rb"[^\x20-\x7e]")


class HduEntry:
    """Byte location of one HDU, from the INDEX table."""

    __slots__ = ("key", "xtension", "zimage", "hdraddr", "dataddr", "datsize")

    def __init__(
        self, key: ExtensionKey, xtension: str, zimage: bool, hdraddr: int, dataddr: int, datsize: int
    ):
        self.key = key
        self.xtension = xtension
        self.zimage = zimage
        self.hdraddr = hdraddr
        self.dataddr = dataddr
        self.datsize = datsize


@dataclasses.dataclass(slots=True)
class ArchiveDirectory:
    """What `load_directory` learned from the primary header and the JSON and INDEX HDUs."""

    primary_bytes: bytes
    """The primary header, through its END card."""
    primary: dict[str, Any]
    """The primary header's values."""
    layout: str
    """``"2100"`` or ``"4300"`` (from the ``FMTVER`` card)."""
    json_rows: list[bytes]
    """The rows of the JSON HDU (row 0 is the tree)."""
    entries: dict[ExtensionKey, HduEntry]
    """Byte location of every HDU, from the INDEX table."""
    checks: HduVerifier
    """Checksum verification state, with the JSON and INDEX HDUs already verified."""


def archive_error(name: str, problem: str) -> InvalidFitsArchiveError:
    """The error for a damaged or unsupported archive, naming the file."""
    return InvalidFitsArchiveError(f"{name}: {problem}")


def read_exact(reader: Any, name: str, offset: int, length: int) -> bytes:
    """Read ``length`` bytes at ``offset``, refusing ranges outside the file and short reads."""
    if offset < 0 or length < 0 or offset + length > reader.size:
        raise archive_error(
            name,
            f"byte range [{offset}, {offset + length}) lies outside the file "
            f"({reader.size} bytes); the file is truncated or its offsets are wrong",
        )
    (data,) = reader.read_ranges([(offset, length)])
    if len(data) != length:
        raise archive_error(name, f"short read at offset {offset}: got {len(data)} of {length} bytes")
    return data


def load_directory(reader: Any, name: str, verify: bool) -> ArchiveDirectory:
    """Read and check the primary header, the JSON HDU and the INDEX HDU of an archive."""

    def fail(problem: str) -> InvalidFitsArchiveError:
        return archive_error(name, problem)

    def read(offset: int, length: int) -> bytes:
        return read_exact(reader, name, offset, length)

    size = reader.size
    if size == 0:
        raise fail("file is empty")
    head = read(0, min(size, BLOCK))
    if not head.startswith(b"SIMPLE  =") and not b"SIMPLE  =".startswith(head):
        # Checked before the size: a short text file is not FITS at all, not "truncated".
        raise fail("not a FITS file (no SIMPLE card at the start)")
    if size < BLOCK:
        raise fail(f"file is truncated ({size} bytes, less than one FITS block)")
    end = find_header_end(head)
    while end is None and len(head) < min(size, _MAX_HEADER):
        # Long primary headers (legacy files) need more blocks; grow geometrically.
        more = read(len(head), min(size - len(head), 4 * len(head)))
        end = find_header_end(head + more, start=len(head) - len(head) % 80)
        head += more
    if end is None:
        raise fail("primary header has no END card (file truncated or damaged?)")
    if NOT_PRINTABLE.search(head, 0, end):
        raise fail("primary header holds bytes that are not printable ASCII (damaged header)")
    primary_bytes = head[:end]
    try:
        primary = header_values(primary_bytes)
    except Exception as err:
        raise fail(f"cannot parse the primary header: {err}") from err
    checks = HduVerifier(name, verify, primary_bytes)
    missing = [key for key, _ in LOCATOR_CARDS if key not in primary]
    if missing:
        raise fail(
            "not an lsst.images FITS archive (the primary header lacks the locator cards "
            f"{', '.join(missing)})"
        )
    layout = "4300" if "FMTVER" in primary else "2100"
    if layout == "4300" and int(primary["FMTVER"]) > 1:
        raise fail(f"container layout version FMTVER={primary['FMTVER']} is newer than supported (1)")
    try:
        json_addr = int(primary["JSONADDR"])
        json_size = int(primary["JSONSIZE"])
        index_addr = int(primary["INDXADDR"])
        index_size = int(primary["INDXSIZE"])
    except (TypeError, ValueError) as err:
        raise fail(f"locator cards are not integers: {err}") from err
    if json_addr <= 0 or index_addr != json_addr + json_size or index_size <= 0:
        raise fail(
            f"inconsistent locator cards (JSONADDR={json_addr}, JSONSIZE={json_size}, "
            f"INDXADDR={index_addr}, INDXSIZE={index_size})"
        )
    if index_addr + index_size > size:
        raise fail(
            f"file is truncated: the INDEX HDU should end at byte {index_addr + index_size} "
            f"but the file has {size} bytes"
        )
    tail = read(json_addr, json_size + index_size)
    json_rows = _parse_json_hdu(tail[:json_size], fail)
    entries = _parse_index_hdu(tail[json_size:], reader.size, fail)
    checks.check_whole(JSON_EXTNAME, *header_and_data(tail[:json_size]))
    checks.check_whole(INDEX_EXTNAME, *header_and_data(tail[json_size:]))
    return ArchiveDirectory(primary_bytes, primary, layout, json_rows, entries, checks)


def header_and_data(hdu: bytes) -> tuple[bytes, bytes]:
    """Split the bytes of a whole HDU into its header (through END) and data part."""
    end = find_header_end(hdu) or len(hdu)
    return hdu[:end], hdu[end:]


def _split_hdu(data: bytes, what: str, fail: Callable[[str], Exception]) -> tuple[dict[str, Any], bytes]:
    end = find_header_end(data)
    if end is None or not data.startswith(b"XTENSION="):
        raise fail(f"no valid {what} HDU header at the offset given by the primary header")
    try:
        header = header_values(data[:end])
    except Exception as err:
        raise fail(f"cannot parse the {what} HDU header: {err}") from err
    if str(header.get("EXTNAME", "")).strip().upper() != what:
        raise fail(f"expected the {what} HDU at its locator offset, found {header.get('EXTNAME')!r}")
    return header, data[end:]


def _parse_json_hdu(data: bytes, fail: Callable[[str], Exception]) -> list[bytes]:
    header, body = _split_hdu(data, JSON_EXTNAME, fail)
    try:
        nrows = int(header["NAXIS2"])
        row_bytes = int(header["NAXIS1"])
        heap_size = int(header.get("PCOUNT", 0))
        heap_start = int(header.get("THEAP", nrows * row_bytes))
    except (KeyError, ValueError) as err:
        raise fail(f"JSON HDU header is incomplete: {err}") from err
    if row_bytes != 8 or nrows < 1 or heap_start + heap_size > len(body):
        raise fail("JSON HDU is malformed or truncated")
    descriptors = np.frombuffer(body, dtype=">i4", count=2 * nrows).reshape(nrows, 2)
    rows = []
    for count, offset in descriptors.tolist():
        if count < 0 or offset < 0 or offset + count > heap_size:
            raise fail("JSON HDU row descriptor points outside its heap")
        rows.append(body[heap_start + offset : heap_start + offset + count])
    return rows


def _parse_index_hdu(
    data: bytes, size: int, fail: Callable[[str], Exception]
) -> dict[ExtensionKey, HduEntry]:
    header, body = _split_hdu(data, INDEX_EXTNAME, fail)
    try:
        nrows = int(header["NAXIS2"])
        row_bytes = int(header["NAXIS1"])
        forms = [str(header[f"TFORM{i}"]).strip() for i in range(1, int(header["TFIELDS"]) + 1)]
        names = [str(header[f"TTYPE{i}"]).strip().upper() for i in range(1, len(forms) + 1)]
    except (KeyError, ValueError) as err:
        raise fail(f"INDEX HDU header is incomplete: {err}") from err
    codes = {"J": ">i4", "K": ">i8", "L": "S1", "I": ">i2"}
    fields = []
    for name, form in zip(names, forms, strict=True):
        if form.endswith("A"):
            fields.append((name, f"S{int(form[:-1] or 1)}"))
        elif form in codes:
            fields.append((name, codes[form]))
        else:
            raise fail(f"INDEX column {name} has unsupported TFORM {form!r}")
    dtype = np.dtype(fields)
    if dtype.itemsize != row_bytes or len(body) < nrows * row_bytes:
        raise fail("INDEX HDU is malformed or truncated")
    required = {"EXTNAME", "EXTVER", "HDRADDR", "DATADDR", "DATSIZE"}
    if not required <= set(names):
        raise fail(f"INDEX HDU lacks columns {sorted(required - set(names))}")
    table = np.frombuffer(body, dtype=dtype, count=nrows)
    entries: dict[ExtensionKey, HduEntry] = {}
    for row in table:
        key = ExtensionKey.from_index_row(row)
        zimage = bool(row["ZIMAGE"] == b"T") if "ZIMAGE" in names else False
        xtension = row["XTENSION"].decode("ascii", "replace").strip() if "XTENSION" in names else ""
        entry = HduEntry(key, xtension, zimage, int(row["HDRADDR"]), int(row["DATADDR"]), int(row["DATSIZE"]))
        if not 0 <= entry.hdraddr < entry.dataddr or entry.dataddr + entry.datsize > size:
            raise fail(f"INDEX gives impossible offsets for HDU {key.name or 'PRIMARY'!r}")
        entries[key] = entry
    return entries
