"""Writing FITS archives: `FitsOutputArchive` (the entry point, `write`, is in `._write`).

The writer builds the file bytes itself instead of going through astropy's HDU
machinery, which is what makes it fast: every array is tile-compressed by the
project's own engine (`._tiles.encode_image`, parallel threads, GIL released) and its
header is formatted once with astropy's card formatter.  HDUs are streamed to a
temporary file in the target folder, in serialization order; when the tree is added
the JSON and INDEX HDUs are appended, the primary header's locator cards (written as
zero placeholders of fixed width) are patched in place, and the temporary file is
renamed over the target.  A failure at any point removes the temporary file, so the
target path never holds a partial file.
"""

from __future__ import annotations

__all__ = ("FitsOutputArchive",)

import contextlib
import datetime
import io
import os
import stat
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Self

import numpy as np

from .._atomic import atomic_output
from ..serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    InlineArrayModel,
    NestedOutputArchive,
    NumberType,
    OutputArchive,
    TableColumnModel,
    TableModel,
    no_header_updates,
)
from ._checksum import combine, ones_sum, sealed_header_bytes, sealed_header_bytes_for_sum
from ._common import JSON_EXTNAME, PointerModel
from ._headers import BLOCK, LOCATOR_CARDS, append_cards, header_to_bytes, insert_extname, padded
from ._index_hdus import IndexRow, index_hdu, json_hdu, make_pointer, model_json
from ._opaque import EXTNAME_REGEX, ExtensionKey, FitsOpaqueMetadata
from ._options import FitsCompressionOptions, SeedSequence
from ._write_buffers import file_descriptor, write_buffers

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.table
    import astropy.units

    from .._transforms import FrameSet
    from ._engine import StreamedHDU


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class FitsOutputArchive(OutputArchive[PointerModel]):
    """`OutputArchive` that streams an lsst.images FITS archive to a binary file.

    Parameters
    ----------
    hdu_list
        Optional astropy ``HDUList``; when given (API compatibility with the reference),
        the finished file is parsed back into it by `add_tree`.  Normally use `open`.
    compression_options
        Archive path (``"image"``, ``"mask"``, ``"backgrounds/fields/fine/data"``, ...) →
        options, or None for an uncompressed HDU.  Paths not listed get
        `FitsCompressionOptions.DEFAULT` (lossless GZIP_2, row tiles).
    opaque_metadata
        `FitsOpaqueMetadata` whose cards are re-emitted in the matching HDUs.
    compression_seed
        Dither seed for quantized planes whose options have no seed (§8.1).
    stream
        Seekable binary stream to write to (`open` provides a temporary file).
    update_header
        Callback adding cards to the primary header.
    layout
        ``"2100"`` (default) or ``"4300"`` (adds FMTVER/DATE/DATAMODL cards; the tree is
        converted by `write`).
    data_model
        Schema URL for the 4300 ``DATAMODL`` card.
    threads
        Worker threads for tile compression (None = engine default).
    checksum
        Write ``DATASUM``/``CHECKSUM`` cards (the FITS checksum convention) on every
        HDU, so that readers (ours, astropy, fitsio, CFITSIO) can detect corruption.
    """

    def __init__(
        self,
        hdu_list: astropy.io.fits.HDUList | None = None,
        compression_options: Mapping[str, FitsCompressionOptions | None] | None = None,
        opaque_metadata: Any = None,
        compression_seed: int | None = None,
        *,
        stream: IO[bytes] | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
        layout: str = "2100",
        data_model: str | None = None,
        threads: int | None = None,
        checksum: bool = True,
    ) -> None:
        if layout not in ("2100", "4300"):
            raise ValueError(f"unknown FITS archive layout {layout!r}; expected '2100' or '4300'")
        self._hdu_list = hdu_list
        self._stream: IO[bytes] = stream if stream is not None else io.BytesIO()
        self._options = {k.lower(): v for k, v in (compression_options or {}).items()}
        self._opaque = opaque_metadata if isinstance(opaque_metadata, FitsOpaqueMetadata) else None
        self._seeds = SeedSequence(compression_seed)
        self._layout = layout
        self._data_model = data_model
        self._threads = threads
        self._checksum = checksum
        self._rows: list[IndexRow] = []
        self._versions: dict[str, int] = {}
        self._pointer_rows: list[bytes] = []
        self._pointers: dict[Hashable, PointerModel] = {}
        self._frame_sets: list[tuple[FrameSet, PointerModel]] = []
        self._finished = False
        self._start = self._stream.tell()
        self._primary = self._make_primary_header(update_header)
        primary_bytes = self._header_bytes(self._primary, [])
        self._stream.write(primary_bytes)
        self._rows.append(IndexRow("", 1, "IMAGE", False, 0, len(primary_bytes), 0))
        self._offset = len(primary_bytes)

    # ------------------------------------------------------------------ construction

    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        filename: str,
        compression_options: Mapping[str, FitsCompressionOptions | None] | None = None,
        opaque_metadata: Any = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
        compression_seed: int | None = None,
        *,
        layout: str = "2100",
        data_model: str | None = None,
        threads: int | None = None,
        checksum: bool = True,
    ) -> Iterator[Self]:
        """Yield an archive writing to ``filename``; the file appears only on success.

        Bytes go to a temporary file in the same folder (`.._atomic.atomic_output`),
        flushed, fsync'ed and renamed over ``filename`` once the tree has been added; any
        exception (or a killed process) leaves ``filename`` as it was.
        """
        path = os.fspath(filename)
        if path.startswith("file://"):
            path = path[len("file://") :]
        with atomic_output(path) as stream:
            archive = cls(
                None,
                compression_options,
                opaque_metadata,
                compression_seed,
                stream=stream,
                update_header=update_header,
                layout=layout,
                data_model=data_model,
                threads=threads,
                checksum=checksum,
            )
            yield archive
            if not archive._finished:
                raise RuntimeError(f"FITS archive for {path!r} was closed before its tree was added")

    def _make_primary_header(
        self, update_header: Callable[[astropy.io.fits.Header], None]
    ) -> astropy.io.fits.Header:
        from astropy.io import fits

        header = fits.Header()
        header["SIMPLE"] = (True, "conforms to FITS standard")
        header["BITPIX"] = (8, "array data type")
        header["NAXIS"] = (0, "number of array dimensions")
        header["EXTEND"] = True
        if self._layout == "4300":
            header["FMTVER"] = (1, "FITS container layout version.")
        for key, comment in LOCATOR_CARDS:
            header[key] = (0, comment)
        if self._opaque is not None and (opaque := self._opaque.headers.get(ExtensionKey())) is not None:
            append_cards(header, opaque, skip_butler=True)
        update_header(header)
        if self._layout == "4300":
            header["DATE"] = (_utc_now(), "UTC date this HDU was written.")
            header["DATAMODL"] = (self._data_model or "", "Schema URL.")
        return header

    # ------------------------------------------------------------------ low-level HDU output

    def _next_key(self, name: str) -> ExtensionKey:
        extname = name.upper()
        if not EXTNAME_REGEX.fullmatch(extname):
            raise ValueError(
                f"cannot store {name!r} in a FITS archive: "
                "EXTNAME may only use letters, digits, '_', '-', '/'"
            )
        ver = self._versions.get(extname, 0) + 1
        self._versions[extname] = ver
        return ExtensionKey(extname, ver)

    def _write_hdu(
        self,
        header: astropy.io.fits.Header,
        data: bytes | memoryview | Sequence[Any],
        key: ExtensionKey,
        zimage: bool,
    ) -> None:
        """Append one HDU (header + data, given as one buffer or a list of them) and index it."""
        hdraddr = self._offset
        parts = [data] if isinstance(data, (bytes, bytearray, memoryview)) else list(data)
        header_bytes = self._header_bytes(header, parts)
        size = sum(len(p) if type(p) is bytes else memoryview(p).nbytes for p in parts)
        if size % BLOCK:
            parts.append(b"\0" * (BLOCK - size % BLOCK))
        write_buffers(self._stream, [header_bytes, *parts])
        self._record_hdu(header, key, zimage, hdraddr, len(header_bytes), size)

    def _record_hdu(
        self,
        header: astropy.io.fits.Header,
        key: ExtensionKey,
        zimage: bool,
        hdraddr: int,
        header_size: int,
        data_size: int,
    ) -> None:
        """Advance past an HDU just written and add its INDEX row."""
        dataddr = hdraddr + header_size
        datsize = padded(data_size)
        self._offset = dataddr + datsize
        xtension = str(header["XTENSION"]).strip()
        self._rows.append(IndexRow(key.name, key.ver, xtension, zimage, hdraddr, dataddr, datsize))

    def _header_bytes(self, header: astropy.io.fits.Header, parts: Sequence[Any]) -> bytes:
        """Serialize a header, with checksum cards for the data ``parts`` unless disabled."""
        if not self._checksum:
            return header_to_bytes(header)
        return sealed_header_bytes(header, parts)

    def _finish_header(self, header: astropy.io.fits.Header, key: ExtensionKey, trailing: list) -> None:
        """Append opaque cards, the 4300 DATE card and trailing cards (ZBLANK) to an HDU header."""
        if self._opaque is not None and (opaque := self._opaque.headers.get(key)) is not None:
            append_cards(header, opaque, skip_butler=False)
        if self._layout == "4300":
            header["DATE"] = (_utc_now(), "UTC date this HDU was written.")
        for card in trailing:
            header.append(tuple(card), end=True)

    def _compression_for(self, name: str) -> FitsCompressionOptions | None:
        key = name.lower()
        if key in self._options:
            return self._options[key]
        return FitsCompressionOptions.DEFAULT

    # ------------------------------------------------------------------ OutputArchive interface

    def add_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel | InlineArrayModel:
        """Store ``array`` as an image HDU named after its archive path and return its reference."""
        name = self._array_name(name)
        array = np.asarray(array)
        if array.dtype == np.bool_:
            raise TypeError(f"cannot write boolean array {name!r} to FITS; convert it to an integer type")
        if self._layout == "4300" and name.lower().endswith("/data") and array.size <= 64:
            # 4300 stores small field data (spline knots) inline in the JSON (FORMAT.md §9.5).
            return InlineArrayModel(data=array.tolist(), datatype=NumberType.from_numpy(array.dtype))
        return self._add_image(array, name, update_header)

    def add_array_rows(
        self,
        shape: tuple[int, int],
        dtype: np.dtype,
        rows: Callable[[int, int], np.ndarray],
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> ArrayReferenceModel | InlineArrayModel:
        """Store a 2-d array made band by band: compressed as the bands are produced."""
        from ._engine import RowSource

        name = self._array_name(name)
        dtype = np.dtype(dtype)
        if dtype == np.bool_ or len(shape) != 2:
            return self.add_array(rows(0, int(shape[0])), name=name, update_header=update_header)
        return self._add_image(RowSource(shape, dtype, rows), name, update_header)

    def _array_name(self, name: str | None) -> str:
        """Check that arrays can still be added and have a name (their EXTNAME)."""
        if name is None:
            raise ValueError("FITS archives need a name (archive path) for every array")
        self._check_open()
        return name

    def _add_image(
        self, array: Any, name: str, update_header: Callable[[astropy.io.fits.Header], None]
    ) -> ArrayReferenceModel:
        """Encode ``array`` (an ndarray or a row source) as the next image HDU for ``name``."""
        from astropy.io import fits

        from ._engine import StreamedHDU, encode_image

        datatype = NumberType.from_numpy(array.dtype)
        key = self._next_key(name)
        header = fits.Header()
        precompressed = None
        if self._opaque is not None and key.ver == 1:
            precompressed = self._opaque.maybe_use_precompressed(key.name)
            if precompressed is not None and _precompressed_shape(precompressed.header) != array.shape:
                precompressed = None
        streamed = None
        if precompressed is not None:
            data, trailing, zimage = self._precompressed_parts(precompressed, header)
        else:
            options = self._compression_for(name)
            tile = None
            if options is not None:
                seed = self._seeds.resolve(options, name) if array.dtype.kind == "f" else None
                opts = (
                    options if array.dtype.kind == "f" else options.model_copy(update={"quantization": None})
                )
                tile = opts.to_tile_compression(seed)
            if array.ndim > 2:
                from ._ndarray import encode_ndarray

                encoded = encode_ndarray(array, tile, threads=self._threads)
            else:
                encoded = encode_image(array, tile, threads=self._threads, stream=self._streams())
            for card in encoded.cards:
                header.append(tuple(card), end=True)
            if isinstance(encoded, StreamedHDU):
                streamed, data, trailing, zimage = encoded, [], [], True
            else:
                data, trailing, zimage = encoded.parts, list(encoded.trailing_cards), tile is not None
        insert_extname(header, key, compressed=zimage)
        update_header(header)
        self._finish_header(header, key, trailing)
        if streamed is not None:
            self._write_streamed_hdu(header, streamed, key)
        else:
            self._write_hdu(header, data, key, zimage)
        return ArrayReferenceModel(source=str(key), shape=list(array.shape), datatype=datatype)

    def _streams(self) -> bool:
        """Whether compressed HDUs are written while they compress (a regular file can be patched)."""
        fd = file_descriptor(self._stream)
        if fd is None:
            return False
        try:
            return stat.S_ISREG(os.fstat(fd).st_mode) and self._stream.seekable()
        except (OSError, ValueError):
            return False

    def _write_streamed_hdu(
        self, header: astropy.io.fits.Header, encoded: StreamedHDU, key: ExtensionKey
    ) -> None:
        """Append a compressed image HDU whose payloads arrive while it is written.

        The header (with placeholder table cards and checksums) and a zeroed table are
        written first, then each chunk of tile payloads as the workers finish it (the
        kernel starts writing it to disk at once, see `write_buffers`), then the header
        and table are rewritten in place with the real heap size, longest payload,
        descriptors and checksums.  Header cards keep their number, so the header keeps
        its length: the file is byte for byte what `_write_hdu` would have written.
        """
        hdraddr = self._offset
        placeholder = self._header_bytes(header, [])
        write_buffers(self._stream, [placeholder, b"\0" * encoded.table_size])
        heap_sums: list[int] = []
        sizes: list[int] = []
        position = 0
        for payloads in encoded.chunks:
            # One block per chunk (~1 MiB): one copy, one system call and one checksum
            # reduction instead of one of each per tile.
            block = payloads[0] if len(payloads) == 1 else b"".join(payloads)
            write_buffers(self._stream, [block], direct=True)
            sizes.extend(len(p) for p in payloads)
            if self._checksum:
                heap_sums.append(ones_sum(block, position))
            position += len(block)
        cards, table, heap_size = encoded.layout(sizes)
        total = len(table) + heap_size
        if total % BLOCK:
            write_buffers(self._stream, [b"\0" * (BLOCK - total % BLOCK)])
        for keyword, value, comment in cards:
            header[keyword] = (value, comment)
        if not self._checksum:
            final = header_to_bytes(header)
        else:
            # The table is a whole number of 4-byte words: the heap's sum needs no shift.
            final = sealed_header_bytes_for_sum(header, combine([ones_sum(table), *heap_sums]))
        if len(final) != len(placeholder) or len(table) != encoded.table_size:
            raise RuntimeError(
                f"streamed HDU {key}: the final header or table changed size"
            )  # pragma: no cover
        self._stream.flush()
        fd = file_descriptor(self._stream)
        assert fd is not None
        os.pwrite(fd, final + table, self._start + hdraddr)
        self._record_hdu(header, key, True, hdraddr, len(final), total)

    def _precompressed_parts(
        self, hdu: astropy.io.fits.BinTableHDU, header: astropy.io.fits.Header
    ) -> tuple[bytes, list, bool]:
        """Split a stored compressed BINTABLE into structural cards (into ``header``) and raw bytes."""
        source, data = _hdu_parts(hdu)
        trailing = []
        for card in source.cards:
            if card.keyword in ("EXTNAME", "EXTVER", "CHECKSUM", "DATASUM"):
                continue
            if card.keyword == "ZBLANK":
                trailing.append((card.keyword, card.value, card.comment))
            elif _is_compression_structural(card.keyword):
                header.append((card.keyword, card.value, card.comment), end=True)
        return data, trailing, True

    def add_structured_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        units: Mapping[str, astropy.units.UnitBase] | None = None,
        descriptions: Mapping[str, str] | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        """Store a numpy structured array as a BINTABLE HDU and return its `TableModel`."""
        from astropy.table import Table

        table = Table(array)
        for column_name, unit in (units or {}).items():
            table[column_name].unit = unit
        for column_name, description in (descriptions or {}).items():
            table[column_name].description = description
        return self.add_table(table, name=name, update_header=update_header)

    def add_table(
        self,
        table: astropy.table.Table,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        """Store an astropy Table as a BINTABLE HDU whose columns the returned model references."""
        from astropy.io import fits

        if name is None:
            raise ValueError("FITS archives need a name (archive path) for every table")
        self._check_open()
        key = self._next_key(name)
        source, data = _hdu_parts(fits.table_to_hdu(table))
        header = fits.Header()
        for card in source.cards:
            if card.keyword in ("EXTNAME", "EXTVER") or card.keyword.startswith(("TUNIT", "TDISP")):
                continue
            if card.keyword in (
                "XTENSION",
                "BITPIX",
                "PCOUNT",
                "GCOUNT",
                "TFIELDS",
                "THEAP",
            ) or card.keyword.startswith(("NAXIS", "TTYPE", "TFORM", "TDIM", "TNULL", "TSCAL", "TZERO")):
                header.append((card.keyword, card.value, card.comment), end=True)
        insert_extname(header, key, compressed=False)
        update_header(header)
        self._finish_header(header, key, [])
        self._write_hdu(header, data, key, False)
        columns = []
        for index, column in enumerate(table.columns.values(), start=1):
            dtype = column.dtype
            datatype = NumberType.from_numpy(dtype.base if dtype.subdtype is None else dtype.subdtype[0])
            columns.append(
                TableColumnModel(
                    data=ArrayReferenceModel(
                        source=f"{key}[{index}]",
                        shape=list(column.shape[1:]),  # the shape of one cell (TableColumnModel)
                        datatype=datatype,
                    ),
                    name=column.name,
                    description=column.description or "",
                    unit=column.unit,
                    meta=dict(column.meta or {}),
                )
            )
        return TableModel(columns=columns, meta={k: v for k, v in table.meta.items() if _is_scalar(v)})

    def serialize_direct(self, name: str, serializer: Callable[[OutputArchive[PointerModel]], Any]) -> Any:
        """Serialize a nested component inline, with array names prefixed by ``name``."""
        return serializer(NestedOutputArchive(name, self))

    def serialize_pointer(
        self, name: str, serializer: Callable[[OutputArchive[PointerModel]], Any], key: Hashable
    ) -> PointerModel:
        """Serialize once per ``key`` into a JSON-table row and return a pointer to that row."""
        if key in self._pointers:
            return self._pointers[key]
        model = serializer(NestedOutputArchive(name, self))
        self._pointer_rows.append(model_json(model))
        pointer = make_pointer(len(self._pointer_rows), len(self._pointer_rows[-1]))
        self._pointers[key] = pointer
        return pointer

    def serialize_frame_set(
        self, name: str, frame_set: FrameSet, serializer: Callable[[OutputArchive], Any], key: Hashable
    ) -> PointerModel:
        """Like `serialize_pointer`, also remembering the frame set for later transforms."""
        known = key in self._pointers
        pointer = self.serialize_pointer(name, serializer, key)
        if not known:
            self._frame_sets.append((frame_set, pointer))
        return pointer

    def iter_frame_sets(self) -> Iterator[tuple[FrameSet, PointerModel]]:
        """Iterate over the (frame set, pointer) pairs serialized so far."""
        return iter(list(self._frame_sets))

    def add_tree(self, tree: ArchiveTree | bytes | Mapping[str, Any]) -> None:
        """Write the JSON HDU (tree + pointer rows) and INDEX HDU, then patch the locator cards."""
        self._check_open()
        rows = [model_json(tree)] + self._pointer_rows
        json_start = self._offset
        json_header, json_data = json_hdu(rows)
        if self._layout == "4300":
            json_header["DATE"] = (_utc_now(), "UTC date this HDU was written.")
        self._write_hdu(json_header, json_data, ExtensionKey(JSON_EXTNAME), False)
        index_start = self._offset
        index_header, index_data = index_hdu(self._rows)
        if self._layout == "4300":
            index_header["DATE"] = (_utc_now(), "UTC date this HDU was written.")
        index_bytes = self._header_bytes(index_header, [index_data])
        self._stream.write(index_bytes)
        self._stream.write(index_data)
        self._stream.write(b"\0" * (padded(len(index_data)) - len(index_data)))
        index_size = len(index_bytes) + padded(len(index_data))
        self._offset = index_start + index_size
        self._primary["INDXADDR"] = index_start
        self._primary["INDXSIZE"] = index_size
        self._primary["JSONADDR"] = json_start
        self._primary["JSONSIZE"] = index_start - json_start
        patched = self._header_bytes(self._primary, [])
        end = self._stream.tell()
        self._stream.seek(self._start)
        old_len = self._rows[0].dataddr
        if len(patched) != old_len:  # pragma: no cover - fixed-width cards make this impossible
            raise RuntimeError("primary header changed size while patching the locator cards")
        self._stream.write(patched)
        self._stream.seek(end)
        self._finished = True
        if self._hdu_list is not None:
            self._copy_into_hdu_list()

    def _copy_into_hdu_list(self) -> None:
        from astropy.io import fits

        self._stream.seek(self._start)
        data = self._stream.read()
        parsed = fits.open(io.BytesIO(data), lazy_load_hdus=False)
        for hdu in parsed:
            self._hdu_list.append(hdu)

    def _check_open(self) -> None:
        if self._finished:
            raise RuntimeError("the FITS archive is finished; no more HDUs can be added")

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._offset


# ---------------------------------------------------------------------- helpers


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _hdu_parts(hdu: Any) -> tuple[astropy.io.fits.Header, bytes]:
    """Header and padded data bytes of an astropy extension HDU, as astropy would write them."""
    from astropy.io import fits

    from ._headers import find_header_end, header_from_bytes

    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    raw = buffer.getvalue()
    start = find_header_end(raw)
    assert start is not None
    end = find_header_end(raw, start)
    assert end is not None
    return header_from_bytes(raw[start:end]), raw[end:]


def _is_compression_structural(keyword: str) -> bool:
    return keyword in ("XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "TFIELDS", "BZERO", "BSCALE", "THEAP") or (
        keyword.startswith(("NAXIS", "TTYPE", "TFORM", "Z"))
    )


def _precompressed_shape(header: astropy.io.fits.Header) -> tuple[int, ...]:
    n = int(header.get("ZNAXIS", 0))
    return tuple(int(header[f"ZNAXIS{i}"]) for i in range(n, 0, -1))
