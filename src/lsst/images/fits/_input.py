"""Reading FITS archives: `FitsInputArchive` (the entry point, `read`, is in `._read`).

A read never scans the file.  It fetches the primary header, takes the JSON and INDEX
locations from its locator cards, reads ``[JSONADDR, JSONADDR + JSONSIZE + INDXSIZE)``
in one request, and from then on knows the byte range of every HDU.  Arrays are decoded
lazily by the tile engine, which for a sub-image fetches (with coalesced range requests
on remote files) only the tiles that intersect it.  Both the 2100 layout and the
schema-versioned 4300 layout are accepted; the layout is detected from the ``FMTVER``
card and 4300 trees are adapted to the in-memory models by `._layout`.
"""

from __future__ import annotations

__all__ = ("FitsInputArchive",)

import concurrent.futures
import contextlib
import copy
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np
import pydantic

from ..serialization import (
    ArrayReferenceModel,
    InlineArrayModel,
    InputArchive,
    TableModel,
    no_header_updates,
)
from ..serialization._archive import ArrayRequest
from ..serialization._guard import content_errors
from ..serialization._pointers import pointer_context
from ._common import JSON_EXTNAME, InvalidFitsArchiveError, PointerModel
from ._directory import NOT_PRINTABLE, HduEntry, archive_error, header_and_data, load_directory, read_exact
from ._headers import (
    find_header_end,
    header_from_bytes,
    header_values,
    header_without_structural_cards,
    remove_cards,
    strip_layout_cards,
)
from ._limits import check_image_hdu, check_json_depth
from ._opaque import ExtensionKey, FitsOpaqueMetadata, HeaderMap

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.table

    from .._transforms import FrameSet

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")


class FitsInputArchive(InputArchive[PointerModel]):
    """`InputArchive` over an lsst.images FITS file (2100 or 4300 layout).

    Parameters
    ----------
    reader
        A range reader (`._io.RangeReader`) or anything `._io.open_range_reader` accepts
        (path, ``file://`` URL, bytes, binary stream, `lsst.resources.ResourcePath`).
    threads
        Worker threads for tile decompression (None = engine default).
    verify
        Verify the ``CHECKSUM``/``DATASUM`` cards of the HDUs read, where the file has
        them (see `._checksum.HduVerifier` for what a cut-out covers); a mismatch raises
        `._checksum.ChecksumMismatchError`, an `InvalidFitsArchiveError`.
    """

    def __init__(self, reader: Any, *, threads: int | None = None, verify: bool = True) -> None:
        from ._engine import open_range_reader

        if not (hasattr(reader, "read_ranges") and hasattr(reader, "size")):
            if hasattr(reader, "read") and hasattr(reader, "seek") and not isinstance(reader, (str, bytes)):
                reader.seek(0)
                reader = reader.read()
            reader = open_range_reader(reader)
        self._reader = reader
        self._name = str(getattr(reader, "name", "<FITS archive>"))
        self._threads = threads
        self._verify = verify
        self._header_cache: dict[ExtensionKey, astropy.io.fits.Header] = {}
        self._raw_headers: dict[ExtensionKey, bytes] = {}
        self._values_cache: dict[ExtensionKey, dict[str, Any]] = {}
        self._prefetched: dict[tuple[str, Any], concurrent.futures.Future[np.ndarray]] = {}
        self._prefetch_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._opaque = FitsOpaqueMetadata()
        self._pointer_cache: dict[int, Any] = {}
        self._frame_sets: dict[int, Any] = {}
        with content_errors(self._name, InvalidFitsArchiveError):
            directory = load_directory(reader, self._name, verify)
        self._primary_bytes = directory.primary_bytes
        self._values_cache[ExtensionKey()] = directory.primary
        self._layout = directory.layout
        self._json_rows = directory.json_rows
        self._entries = directory.entries
        self._checks = directory.checks

    # ------------------------------------------------------------------ opening

    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        path: Any,
        *,
        page_size: int = 144000,
        partial: bool = False,
        threads: int | None = None,
        verify: bool = True,
    ) -> Iterator[Self]:
        """Yield an archive reading ``path`` (local path, URL, ResourcePath or bytes).

        ``page_size`` and ``partial`` are accepted for API compatibility; the range
        reader always fetches exactly the bytes needed.  ``verify=False`` skips the
        checksum verification.
        """
        from ._engine import open_range_reader

        try:
            reader = open_range_reader(path)
        except FileNotFoundError:
            raise
        except OSError as err:
            raise InvalidFitsArchiveError(f"{path}: cannot open FITS archive: {err}") from err
        with reader:
            archive = cls(reader, threads=threads, verify=verify)
            try:
                yield archive
            finally:
                archive._stop_prefetching()

    @property
    def name(self) -> str:
        """Name of the file being read (used in error messages)."""
        return self._name

    @property
    def layout(self) -> str:
        """``"2100"`` or ``"4300"`` (detected from the FMTVER card)."""
        return self._layout

    @property
    def primary_header(self) -> astropy.io.fits.Header:
        """The primary header as stored (including locator cards)."""
        return self._primary_header().copy()

    @property
    def primary_values(self) -> dict[str, Any]:
        """Keyword -> value of the primary header's cards (parsed without astropy.io.fits)."""
        return dict(self._header_values(ExtensionKey()))

    def _primary_header(self) -> astropy.io.fits.Header:
        """The primary header as an astropy header, parsed on first use.

        Reading needs only the primary header's values (`header_values`), so a read
        never imports astropy.io.fits unless a caller asks for the header itself.
        """
        header = self._header_cache.get(ExtensionKey())
        if header is None:
            try:
                header = header_from_bytes(self._primary_bytes)
            except Exception as err:
                raise self._error(f"cannot parse the primary header: {err}") from err
            self._header_cache[ExtensionKey()] = header
        return header

    @property
    def reader(self) -> Any:
        """The range reader (exposes ``bytes_read`` and ``request_count``)."""
        return self._reader

    def with_reader(self, reader: Any, *, cutout_sums: bool = True) -> FitsInputArchive:
        """Return an archive over the same file that reads through another ``reader``.

        The parsed directory, JSON rows and header caches are shared (they never change
        once read), while per-read state (deserialized components, read-ahead) starts
        empty, so code that opens a file once per task (`lsst.images.dask`) parses its
        headers and index only once per process.  ``cutout_sums=False`` stops cut-outs
        of small data parts from reading all of it to verify its ``DATASUM`` (for
        callers that read a plane as many cut-outs); headers, full reads and the tiles'
        own CRCs are still verified.
        """
        if int(reader.size) != int(self._reader.size):
            raise self._error(
                f"the file now has {reader.size} bytes, not {self._reader.size}: it changed since it was read"
            )
        clone = copy.copy(self)
        clone._reader = reader
        clone._prefetched = {}
        clone._prefetch_pool = None
        clone._opaque = FitsOpaqueMetadata()
        clone._pointer_cache = {}
        clone._frame_sets = {}
        if not cutout_sums:
            clone._checks = copy.copy(self._checks)
            clone._checks.small_data = 0
        return clone

    def _error(self, problem: str, cause: BaseException | None = None) -> InvalidFitsArchiveError:
        return archive_error(self._name, problem)

    def _read(self, offset: int, length: int) -> bytes:
        return read_exact(self._reader, self._name, offset, length)

    # ------------------------------------------------------------------ headers and trees

    def hdu_keys(self) -> list[ExtensionKey]:
        """Keys of every HDU listed by the INDEX (primary first, JSON last)."""
        return list(self._entries)

    def get_header(self, key: ExtensionKey) -> astropy.io.fits.Header:
        """Return the (raw, on-disk) header of one HDU, fetched once and cached."""
        header = self._header_cache.get(key)
        if header is None:
            if key == ExtensionKey():
                return self._primary_header()
            header = self._parse_header(key, header_from_bytes)
            self._header_cache[key] = header
        return header

    def _header_values(self, key: ExtensionKey) -> dict[str, Any]:
        """Keyword -> value of a data HDU's plain cards (fast path for the tile engine)."""
        values = self._values_cache.get(key)
        if values is None:
            # (The primary header's values are cached when the archive opens.)
            values = self._parse_header(key, header_values)
            self._values_cache[key] = values
        return values

    def _parse_header(self, key: ExtensionKey, parse: Callable[[bytes], T]) -> T:
        """Apply ``parse`` to the raw header of HDU ``key``; failures name the file and HDU."""
        data = self._header_bytes(key)
        try:
            return parse(data)
        except Exception as err:
            raise self._error(f"cannot parse the header of HDU {key.name!r}: {err}") from err

    def _header_bytes(self, key: ExtensionKey) -> bytes:
        """The raw cards of a data HDU's header (through END), fetched once and cached."""
        data = self._raw_headers.get(key)
        if data is None:
            entry = self._entry(key)
            data = self._read(entry.hdraddr, entry.dataddr - entry.hdraddr)
            if not data.startswith(b"XTENSION="):
                raise self._error(f"HDU {key.name!r} does not start with XTENSION at the INDEX offset")
            data = data[: find_header_end(data) or len(data)]
            if NOT_PRINTABLE.search(data):
                raise self._error(
                    f"header of HDU {_hdu_label(key)!r} holds bytes that are not printable ASCII"
                )
            self._raw_headers[key] = data
        return data

    def prefetch_headers(self) -> None:
        """Fetch all data-HDU headers with one (coalesced) range request."""
        keys = [k for k in self._entries if k not in self._header_cache and k != ExtensionKey()]
        if not keys:
            return
        ranges = [
            (self._entries[k].hdraddr, self._entries[k].dataddr - self._entries[k].hdraddr) for k in keys
        ]
        for key, data in zip(keys, self._reader.read_ranges(ranges), strict=True):
            end = find_header_end(data)
            if end is None or not data.startswith(b"XTENSION="):
                raise self._error(f"HDU {key.name!r} does not start with a valid header at the INDEX offset")
            self._raw_headers[key] = data[:end]

    def get_compression_options(self) -> dict[str, Any]:
        """Return the compression of every image HDU as ``write``'s ``compression_options``.

        Keys are archive paths (lower-cased EXTNAMEs), values `FitsCompressionOptions`
        (with the stored dither seed) or None for uncompressed HDUs, so a file can be
        rewritten with the same storage settings it was read with.
        """
        from ._options import (
            FitsCompressionAlgorithm,
            FitsCompressionOptions,
            FitsDitherAlgorithm,
            FitsQuantizationOptions,
        )

        self.prefetch_headers()
        options: dict[str, Any] = {}
        for key, entry in self._entries.items():
            if not key.name or key.name == JSON_EXTNAME or key.ver > 1:
                continue
            header = self.get_header(key)
            if not entry.zimage:
                if str(header.get("XTENSION", "")).strip() == "IMAGE":
                    options[key.name.lower()] = None
                continue
            zvals = {
                header.get(f"ZNAME{i}"): header.get(f"ZVAL{i}") for i in range(1, 10) if f"ZNAME{i}" in header
            }
            width, tile = int(header["ZNAXIS1"]), (int(header["ZTILE2"]), int(header["ZTILE1"]))
            quantization = None
            if "ZDITHER0" in header or "ZQUANTIZ" in header or "ZSCALE" in header.get("TTYPE3", ""):
                quantization = FitsQuantizationOptions(
                    dither=FitsDitherAlgorithm(str(header.get("ZQUANTIZ", "NO_DITHER")).strip()),
                    level=float(zvals.get("NOISEBIT", 0.0)),
                    seed=int(header["ZDITHER0"]) if "ZDITHER0" in header else None,
                )
            options[key.name.lower()] = FitsCompressionOptions(
                algorithm=FitsCompressionAlgorithm(str(header["ZCMPTYPE"]).strip()),
                tile_shape=None if tile == (1, width) else tile,
                quantization=quantization,
            )
        return options

    def _entry(self, key: ExtensionKey) -> HduEntry:
        entry = self._entries.get(key)
        if entry is None:
            raise self._error(f"HDU {str(key)!r} referenced by the tree is missing from the INDEX")
        return entry

    def get_tree_bytes(self, row: int = 0) -> bytes:
        """Return the raw UTF-8 JSON bytes of JSON row ``row`` (0 = the main tree)."""
        if not 0 <= row < len(self._json_rows):
            raise self._error(f"JSON row {row} does not exist (the JSON HDU has {len(self._json_rows)} rows)")
        return self._json_rows[row]

    def get_tree_dict(self, row: int = 0) -> dict[str, Any]:
        """Return JSON row ``row`` parsed to plain Python (NaN/Infinity tokens accepted)."""
        if not 0 <= row < len(self._json_rows):
            raise self._error(f"JSON row {row} does not exist (the JSON HDU has {len(self._json_rows)} rows)")
        check_json_depth(self._json_rows[row], f"{self._name}: JSON row {row}")
        try:
            value = json.loads(self._json_rows[row].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise self._error(f"JSON row {row} is not valid JSON: {err}") from err
        if not isinstance(value, dict):
            raise self._error(f"JSON row {row} is not a JSON object")
        return value

    def get_tree(self, model_type: type[T]) -> T:
        """Parse the main JSON tree into ``model_type`` (4300 trees adapted first)."""

        from ._layout import to_internal

        tree = self.get_tree_dict(0)
        if self._layout == "4300":
            tree = to_internal(tree)
        try:
            return model_type.model_validate(tree, context=pointer_context(PointerModel))  # type: ignore[attr-defined]
        except pydantic.ValidationError as err:
            raise self._error(f"JSON tree does not match {model_type.__name__}: {err}") from err

    # ------------------------------------------------------------------ InputArchive interface

    def get_array(
        self,
        model: ArrayReferenceModel | InlineArrayModel,
        *,
        slices: tuple[slice, ...] | EllipsisType = ...,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> np.ndarray:
        """Decode the referenced array (only the tiles ``slices`` touch) or return inline data."""
        if isinstance(model, InlineArrayModel):
            array = np.asarray(model.data, dtype=model.datatype.to_numpy())
            return array if slices is ... else array[slices]
        array = self._decode(model, slices, strip_header, None)
        assert array is not None
        return array

    def get_array_rows(
        self,
        model: ArrayReferenceModel | InlineArrayModel,
        consume: Callable[[int, int, np.ndarray], None],
        *,
        slices: tuple[slice, ...] | EllipsisType = ...,
        strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> None:
        """Decode the referenced array band by band (whole-row tiles), in parallel threads."""
        if isinstance(model, InlineArrayModel) or len(model.shape) != 2:
            super().get_array_rows(model, consume, slices=slices, strip_header=strip_header)
            return
        self._decode(model, slices, strip_header, consume)

    #: Regions up to this many pixels are loaded ahead when announced (`prefetch_arrays`);
    #: larger ones are decoded on request, so that packed mask planes can stream.
    PREFETCH_MAX_PIXELS = 1 << 22

    @property
    def _reads_ahead(self) -> bool:
        """Whether announced arrays are loaded ahead: for remote files only (see `prefetch_arrays`)."""
        return bool(getattr(self._reader, "remote", True))

    def prefetch_arrays(self, requests: Sequence[ArrayRequest]) -> None:
        """Start decoding the announced arrays concurrently (see `InputArchive.prefetch_arrays`).

        Each array is fetched and decoded in a thread of its own (its tiles still go to
        the shared tile workers), so headers, tile tables and tiles of all of them are in
        flight at once: for a remote file a cut-out costs a few round trips in all.
        Only regions of at most `PREFETCH_MAX_PIXELS` pixels are taken, and only for
        remote files: local reads cost no round trips, and measured on two cores the
        extra threads only contend for the interpreter.
        """
        if not self._reads_ahead:
            return
        for model, slices in requests:
            if isinstance(model, InlineArrayModel) or not isinstance(model.source, str):
                continue
            try:
                shape = tuple(int(n) for n in model.shape)
                region = _check_region(slices, shape)
                key = _prefetch_key(model, region)
            except Exception:
                continue  # the real request will report the problem
            extent = shape if region is None else tuple(s.stop - s.start for s in region)
            if key in self._prefetched or int(np.prod(extent)) > self.PREFETCH_MAX_PIXELS:
                continue
            if self._prefetch_pool is None:
                self._prefetch_pool = concurrent.futures.ThreadPoolExecutor(
                    8, thread_name_prefix="lsst-images-read"
                )
            self._prefetched[key] = self._prefetch_pool.submit(self._decode_array, model, slices, None)

    def _stop_prefetching(self) -> None:
        """Drop announced arrays nobody asked for and stop the read-ahead threads."""
        pool, self._prefetch_pool = self._prefetch_pool, None
        self._prefetched.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _decode(
        self,
        model: ArrayReferenceModel,
        slices: tuple[slice, ...] | EllipsisType,
        strip_header: Callable[[astropy.io.fits.Header], None],
        consume: Callable[[int, int, np.ndarray], None] | None,
    ) -> np.ndarray | None:
        """Decode the HDU ``model`` refers to (returned, or streamed to ``consume``)."""
        future = None
        if self._prefetched:
            with contextlib.suppress(Exception):
                region = _check_region(slices, tuple(int(n) for n in model.shape))
                future = self._prefetched.pop(_prefetch_key(model, region), None)
        if future is not None:
            array = future.result()
            if consume is not None:
                if array.shape[0] > 0:
                    consume(0, array.shape[0], array)
                array = None
        else:
            array = self._decode_array(model, slices, consume)
        self._record_opaque(ExtensionKey.from_str(model.source), strip_header)
        return array

    def _decode_array(
        self,
        model: ArrayReferenceModel,
        slices: tuple[slice, ...] | EllipsisType,
        consume: Callable[[int, int, np.ndarray], None] | None,
    ) -> np.ndarray | None:
        """Decode (only) the pixels: returned, or handed to ``consume`` band by band."""
        from ._engine import decode_image

        source = model.source
        if not isinstance(source, str):
            raise self._error(f"array source {source!r} is not a 'fits:' reference")
        key = ExtensionKey.from_str(source)
        entry = self._entry(key)
        header = self._header_values(key)
        check_image_hdu(header, entry.datsize, f"{self._name}: HDU {_hdu_label(key)!r}")
        shape = tuple(int(s) for s in model.shape)
        if len(shape) > 2:
            return self._decode_ndarray(key, header, entry.dataddr, shape, slices, model)
        region = _check_region(slices, shape)
        stored = stored_shape(header)
        if len(shape) == 2 and stored is not None and stored != shape:
            raise self._error(f"HDU {key.name!r} has shape {stored}, but the tree says {shape}")
        want = np.dtype(model.datatype.to_numpy()).newbyteorder("=")
        sink = None
        if consume is not None:

            def sink(start: int, stop: int, block: np.ndarray) -> None:
                consume(start, stop, block if block.dtype == want else block.astype(want))

        raw_header = self._header_bytes(key)
        hdu = _hdu_label(key)
        summing = self._checks.reader_for(
            self._reader, hdu, raw_header, entry.dataddr, min(entry.datsize, _data_bytes(header))
        )
        try:
            array = decode_image(
                header,
                summing or self._reader,
                entry.dataddr,
                region=region,
                threads=self._threads,
                sink=sink,
            )
            self._checks.finish(summing, hdu, raw_header, full=region is None, remote=self._reads_ahead)
        except InvalidFitsArchiveError:
            raise
        except Exception as err:
            raise self._error(f"cannot decode HDU {key.name!r}: {type(err).__name__}: {err}") from err
        if array is not None:
            expected = shape if region is None else tuple(s.stop - s.start for s in region)
            if tuple(array.shape) != expected:
                raise self._error(f"HDU {key.name!r} has shape {array.shape}, but the tree says {expected}")
            if array.dtype != want:
                array = array.astype(want, copy=False)
        return array

    def _decode_ndarray(
        self,
        key: ExtensionKey,
        header: Mapping[str, Any],
        offset: int,
        shape: tuple[int, ...],
        slices: tuple[slice, ...] | EllipsisType,
        model: ArrayReferenceModel,
    ) -> np.ndarray:
        """Decode an array of three or more axes (only the block of leading axes ``slices`` selects)."""
        from ._ndarray import decode_ndarray, flat_header

        try:
            _, stored = flat_header(header)
        except (KeyError, TypeError, ValueError) as err:
            raise self._error(f"HDU {key.name!r} is not a readable {len(shape)}-d image: {err}") from err
        if stored != shape:
            raise self._error(f"HDU {key.name!r} has shape {stored}, but the tree says {shape}")
        try:
            array = decode_ndarray(header, self._reader, offset, slices, threads=self._threads)
        except IndexError:
            raise
        except Exception as err:
            raise self._error(f"cannot decode HDU {key.name!r}: {type(err).__name__}: {err}") from err
        want = np.dtype(model.datatype.to_numpy()).newbyteorder("=")
        return array if array.dtype == want else array.astype(want)

    def _record_opaque(self, key: ExtensionKey, strip_header: Callable[[Any], None]) -> None:
        """Keep the cards of HDU ``key`` that neither the container nor ``strip_header`` interprets.

        The leftover header is only built (parsed, stripped) when somebody asks for it,
        typically when the object is written again.
        """
        if key in self._opaque.headers:
            return
        # The builder must not hold on to the archive (and through it the file's caches).
        raw = self._primary_bytes if key == ExtensionKey() else self._header_bytes(key)
        name = self._name

        def build() -> astropy.io.fits.Header:
            try:
                leftover = _leftover_cards(raw)
                strip_header(leftover)
                remove_cards(leftover, ("EXTNAME", "EXTVER").__contains__)
            except Exception as err:
                raise InvalidFitsArchiveError(
                    f"{name}: cannot parse the header cards of HDU {key.name or 'PRIMARY'!r}: {err}"
                ) from err
            return leftover

        self._opaque.headers.defer(key, build)  # type: ignore[attr-defined]

    def get_structured_array(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> np.ndarray:
        """Load a table stored as a BINTABLE HDU as a numpy structured array.

        Plain tables (fixed-width numeric, logical and character columns) are decoded
        with numpy alone, without importing astropy.io.fits or astropy.table.
        """
        from ._bintable import decode_bintable

        first = model.columns[0].data if model.columns else None
        if first is None or isinstance(first, InlineArrayModel):
            return self.get_table(model, strip_header).as_array()
        key, raw = self._table_bytes(first, strip_header)
        end = find_header_end(raw) or len(raw)
        if raw.startswith(b"XTENSION="):
            try:
                array = decode_bintable(header_values(raw[:end]), memoryview(raw)[end:])
            except (KeyError, TypeError, ValueError) as err:
                raise self._error(f"table HDU {key.name!r} is malformed: {err}") from err
            if array is not None:
                return array
        return self._table_from_bytes(raw, model).as_array()

    def get_table(
        self, model: TableModel, strip_header: Callable[[astropy.io.fits.Header], None] = no_header_updates
    ) -> astropy.table.Table:
        """Load a table stored as a BINTABLE HDU as an astropy Table (units/descriptions applied)."""
        from astropy.table import Table

        if not model.columns:
            return Table()
        first = model.columns[0].data
        if isinstance(first, InlineArrayModel):
            return Table({c.name: np.asarray(c.data.data) for c in model.columns}, meta=dict(model.meta))
        _, raw = self._table_bytes(first, strip_header)
        return self._table_from_bytes(raw, model)

    def _table_bytes(
        self, first: ArrayReferenceModel, strip_header: Callable[[Any], None]
    ) -> tuple[ExtensionKey, bytes]:
        """Fetch (and verify) the whole HDU of a stored table; its leftover cards become opaque metadata."""
        key = ExtensionKey.from_str(first.source)
        entry = self._entry(key)
        raw = self._read(entry.hdraddr, entry.dataddr - entry.hdraddr + entry.datsize)
        self._checks.check_whole(_hdu_label(key), *header_and_data(raw))
        if not raw.startswith(b"SIMPLE"):
            self._record_opaque(key, strip_header)
        return key, raw

    def _table_from_bytes(self, raw: bytes, model: TableModel) -> astropy.table.Table:
        """An astropy Table (units and descriptions of ``model`` applied) from a table HDU's bytes."""
        import io

        from astropy.io import fits
        from astropy.table import Table

        if raw.startswith(b"SIMPLE"):
            hdu = fits.open(io.BytesIO(raw))[0]
        else:
            hdu = fits.BinTableHDU.fromstring(raw, uint=True)  # TZERO columns as unsigned ints
        table = Table.read(hdu, mask_invalid=False)  # NaN stays NaN, not masked
        for column in model.columns:
            if column.name in table.colnames:
                column.update_table(table)
        table.meta.update(model.meta)
        return table

    def deserialize_pointer(
        self,
        pointer: PointerModel,
        model_type: type[U],
        deserializer: Callable[[U, InputArchive[PointerModel]], V],
    ) -> V:
        """Parse the JSON row a pointer names into ``model_type`` and deserialize it (cached per row)."""

        from ._layout import to_internal

        if pointer.row in self._pointer_cache:
            return self._pointer_cache[pointer.row]
        tree = self.get_tree_dict(pointer.row)
        if self._layout == "4300":
            tree = to_internal(tree)
        try:
            model = model_type.model_validate(tree, context=pointer_context(PointerModel))  # type: ignore[attr-defined]
        except pydantic.ValidationError as err:
            raise self._error(f"JSON row {pointer.row} does not match {model_type.__name__}: {err}") from err
        result = deserializer(model, self)
        self._pointer_cache[pointer.row] = result
        self._frame_sets[pointer.row] = result
        return result

    def get_frame_set(self, ref: PointerModel) -> FrameSet:
        """Return the frame set already deserialized for this pointer."""
        try:
            return self._frame_sets[ref.row]
        except KeyError:
            raise self._error(f"frame set in JSON row {ref.row} was referenced before it was read") from None

    def get_opaque_metadata(self) -> FitsOpaqueMetadata:
        """Leftover header cards: primary (minus locator/layout cards) and every HDU read."""

        primary, name = self._primary_bytes, self._name

        def build() -> astropy.io.fits.Header:
            try:
                return _leftover_cards(primary)
            except Exception as err:
                raise InvalidFitsArchiveError(f"{name}: cannot parse the primary header: {err}") from err

        headers = HeaderMap()
        headers.defer(ExtensionKey(), build)
        headers.add_missing(self._opaque.headers)  # type: ignore[arg-type]  # (always a HeaderMap)
        return FitsOpaqueMetadata(headers, dict(self._opaque.precompressed))


def _leftover_cards(raw: bytes) -> astropy.io.fits.Header:
    """The cards of a raw header that are not the container's own (structural, layout)."""
    header = header_without_structural_cards(raw)
    strip_layout_cards(header)
    return header


def _prefetch_key(model: ArrayReferenceModel, region: tuple[slice, slice] | None) -> tuple:
    """What identifies an announced array: its HDU and the region of it."""
    span = None if region is None else tuple((s.start, s.stop) for s in region)
    return (str(ExtensionKey.from_str(str(model.source))), span)


def _hdu_label(key: ExtensionKey) -> str:
    """How messages name an HDU: ``IMAGE``, ``MASK,2`` (EXTVER 2), ``PRIMARY``."""
    name = key.name or "PRIMARY"
    return name if key.ver == 1 else f"{name},{key.ver}"


def _data_bytes(header: Mapping[str, Any]) -> int:
    """Length of an HDU's data part (without padding) from its structural cards."""
    try:
        naxis = int(header.get("NAXIS", 0))
        if naxis == 0:
            return 0
        count = 1
        for i in range(1, naxis + 1):
            count *= int(header[f"NAXIS{i}"])
        return (
            abs(int(header["BITPIX"]))
            // 8
            * int(header.get("GCOUNT", 1))
            * (count + int(header.get("PCOUNT", 0)))
        )
    except (KeyError, TypeError, ValueError):
        return 0


def stored_shape(header: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(height, width)`` of a 2-d image HDU from its header (None if it is not 2-d)."""
    prefix = "ZNAXIS" if header.get("ZIMAGE", False) else "NAXIS"
    try:
        naxis = int(header.get(prefix, 0))
        if naxis != 2:
            return None
        return (int(header[f"{prefix}2"]), int(header[f"{prefix}1"]))
    except (KeyError, TypeError, ValueError):
        return None


def _check_region(
    slices: tuple[slice, ...] | EllipsisType, shape: tuple[int, ...]
) -> tuple[slice, slice] | None:
    """Validate ``slices`` against the array shape; None means the whole array.

    Unlike numpy, a region sticking out of the array is an error (`IndexError`), since
    silently clipping a requested bounding box would return a different box.
    """
    if slices is ... or slices is None:
        return None
    if not isinstance(slices, tuple):
        slices = (slices,)
    if len(slices) != 2 or len(shape) != 2:
        raise IndexError(f"sub-array reads need two slices for a 2-D array, got {slices!r} for shape {shape}")
    out = []
    for s, n, axis in zip(slices, shape, "yx", strict=True):
        if not isinstance(s, slice) or s.step not in (None, 1):
            raise IndexError(f"only contiguous slices are supported for sub-array reads, got {s!r}")
        start = 0 if s.start is None else int(s.start)
        stop = n if s.stop is None else int(s.stop)
        if start < 0 or stop > n or start >= stop:
            raise IndexError(
                f"requested {axis} range [{start}, {stop}) is not inside the stored array (size {n})"
            )
        out.append(slice(start, stop))
    if out[0] == slice(0, shape[0]) and out[1] == slice(0, shape[1]):
        return None
    return out[0], out[1]
