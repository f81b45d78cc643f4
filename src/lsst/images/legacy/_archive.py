"""The afw persistence archive: an index table plus shared data catalogs.

An afw Exposure stores every non-pixel component (WCS, PSF, PhotoCalib,
Detector, ...) as rows of binary tables (LEGACY.md §3-4).  The
``ARCHIVE_INDEX`` table maps an integer archive id to the class name of the
object and to row ranges of the ``ARCHIVE_DATA`` catalogs that hold its data.

Decoding dispatches on the class *name* through :data:`FACTORIES`, a fixed
allow-list of functions in this package.  The ``module`` column of the index
(which afw would import to find a factory) is recorded for error messages but
never imported.
"""

from __future__ import annotations

__all__ = ("ArchiveEntry", "Catalog", "FACTORIES", "LegacyArchive")

import dataclasses
import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import LegacyFormatError, UnsupportedLegacyObjectError

if TYPE_CHECKING:
    import astropy.io.fits


#: Allow-list of archive class names → "submodule:function" decoders in this package.
#: Each decoder takes ``(archive, catalogs)`` and returns a plain Python object.
FACTORIES: dict[str, str] = {
    "SkyWcs": "_skywcs:decode_sky_wcs",
    "Wcs": "_skywcs:decode_old_wcs",
    "TanWcs": "_skywcs:decode_old_wcs",
    "TransformPoint2ToPoint2": "_skywcs:decode_transform",
    "TransformPoint2ToSpherePoint": "_skywcs:decode_transform",
    "TransformSpherePointToPoint2": "_skywcs:decode_transform",
    "TransformGenericToGeneric": "_skywcs:decode_transform",
    "PhotoCalib": "_photocalib:decode_photo_calib",
    "ChebyshevBoundedField": "_apcorr:decode_chebyshev_field",
    "ProductBoundedField": "_apcorr:decode_product_field",
    "ApCorrMap": "_apcorr:decode_ap_corr_map",
    "Polygon": "_apcorr:decode_polygon",
    "FilterLabel": "_visit_info:decode_filter_label",
    "ExposureSummaryStats": "_summary_stats:decode_summary_stats",
    "Detector": "_detector:decode_detector",
    "TransformMap": "_detector:decode_transform_map",
    "GaussianPsf": "_psf:decode_gaussian_psf",
    "SingleGaussianPsf": "_psf:decode_single_gaussian_psf",
    "DoubleGaussianPsf": "_psf:decode_double_gaussian_psf",
    "PiffPsf": "_psf:decode_piff_psf",
    "PsfexPsf": "_psf:decode_psfex_psf",
}


class Catalog:
    """A row range of one afw-table binary table.

    Parameters
    ----------
    data
        The full table (an astropy ``FITS_rec``).
    header
        The table HDU header (used for flag names and the table version).
    start, stop
        Row range belonging to the object being decoded.

    Notes
    -----
    afw-table conventions handled here: version-0 tables wrote dots in field
    names as underscores; boolean fields are bits of a single ``flags`` column
    named by ``TFLAGn`` cards; strings may be fixed or variable-length
    character arrays.
    """

    def __init__(self, data: Any, header: astropy.io.fits.Header, start: int = 0, stop: int | None = None):
        self._data = data
        self._header = header
        self._start = start
        self._stop = len(data) if stop is None else stop
        self._names = list(data.columns.names) if data is not None else []
        self._flags: list[str] | None = None

    @property
    def header(self) -> astropy.io.fits.Header:
        """Header of the table HDU."""
        return self._header

    @property
    def version(self) -> int:
        """``AFW_TABLE_VERSION`` of the table (0 when absent)."""
        return int(self._header.get("AFW_TABLE_VERSION", 0))

    def __len__(self) -> int:
        return self._stop - self._start

    @property
    def names(self) -> list[str]:
        """Column names as stored."""
        return list(self._names)

    def _resolve(self, name: str) -> str | None:
        if name in self._names:
            return name
        for candidate in (name.replace(".", "_"), name.replace("_", ".")):
            if candidate in self._names:
                return candidate
        lowered = {n.lower(): n for n in self._names}
        return lowered.get(name.lower())

    def has(self, name: str) -> bool:
        """Whether a column (or flag bit) with this name exists."""
        return self._resolve(name) is not None or name in self.flag_names

    def _column(self, name: str) -> Any:
        resolved = self._resolve(name)
        if resolved is None:
            raise LegacyFormatError(f"Archive catalog has no column {name!r} (columns: {self._names}).")
        return self._data[resolved]

    def column(self, name: str) -> np.ndarray:
        """Values of a scalar column for every row of this range, in native byte order."""
        values = np.asarray(self._column(name)[self._start : self._stop])
        return values.astype(values.dtype.newbyteorder("="))

    def scalar(self, name: str, row: int = 0, default: Any = None) -> Any:
        """One scalar value as a Python number (``default`` if the column is missing)."""
        if self._resolve(name) is None:
            if default is not None:
                return default
            raise LegacyFormatError(f"Archive catalog has no column {name!r} (columns: {self._names}).")
        value = self._column(name)[self._start + row]
        if isinstance(value, np.ndarray) and value.shape == (1,):
            value = value[0]
        return value.item() if isinstance(value, np.generic) else value

    def array(self, name: str, row: int = 0) -> np.ndarray:
        """A fixed- or variable-length array cell as a native numpy array."""
        value = np.asarray(self._column(name)[self._start + row])
        return value.astype(value.dtype.newbyteorder("=")) if value.dtype.kind in "iuf" else value

    def string(self, name: str, row: int = 0) -> str:
        """A fixed (``nA``) or variable-length (``QA``/``PA``) string cell."""
        value = self._column(name)[self._start + row]
        if isinstance(value, bytes):
            return value.decode("ascii", errors="replace").rstrip("\x00 ")
        if isinstance(value, str):
            return value.rstrip("\x00 ")
        array = np.asarray(value)
        if array.dtype.kind in "iu":
            return bytes(array.astype(np.uint8)).decode("ascii", errors="replace").rstrip("\x00 ")
        return "".join(str(c) for c in array.ravel()).rstrip("\x00 ")

    def bytes(self, name: str, row: int = 0) -> bytes:
        """A byte-array cell (``QB``/``PB``) as `bytes`."""
        value = self._column(name)[self._start + row]
        if isinstance(value, bytes):
            return value
        return np.asarray(value).astype(np.uint8).tobytes()

    @property
    def flag_names(self) -> list[str]:
        """Names of the bits of the packed ``flags`` column (``TFLAGn`` cards)."""
        if self._flags is None:
            names = []
            i = 1
            while f"TFLAG{i}" in self._header:
                names.append(str(self._header[f"TFLAG{i}"]).strip())
                i += 1
            self._flags = names
        return self._flags

    def flag(self, name: str, row: int = 0, default: bool | None = None) -> bool:
        """One named bit of the packed ``flags`` column."""
        names = self.flag_names
        key = name if name in names else name.replace(".", "_") if name.replace(".", "_") in names else None
        if key is None:
            if default is not None:
                return default
            raise LegacyFormatError(f"Archive catalog has no flag {name!r} (flags: {names}).")
        bits = np.asarray(self._column("flags")[self._start + row]).ravel()
        return bool(bits[names.index(key)])

    def point(self, prefix: str, row: int = 0) -> tuple[float, float]:
        """A 2-d point stored as ``<prefix>_x``/``<prefix>_y`` (or a 2-element array column)."""
        if self._resolve(f"{prefix}_x") is not None:
            return float(self.scalar(f"{prefix}_x", row)), float(self.scalar(f"{prefix}_y", row))
        values = self.array(prefix, row).ravel()
        return float(values[0]), float(values[1])

    def box(self, prefix: str, row: int = 0) -> tuple[int, int, int, int]:
        """An integer box as ``(min_x, min_y, max_x, max_y)`` with **inclusive** max.

        Both afw spellings are accepted: ``_min_*``/``_max_*`` and
        ``_min_*``/``_extent_*``.  An empty box comes back with max < min.
        """
        min_x = int(self.scalar(f"{prefix}_min_x", row))
        min_y = int(self.scalar(f"{prefix}_min_y", row))
        if self._resolve(f"{prefix}_max_x") is not None:
            return (
                min_x,
                min_y,
                int(self.scalar(f"{prefix}_max_x", row)),
                int(self.scalar(f"{prefix}_max_y", row)),
            )
        width = int(self.scalar(f"{prefix}_extent_x", row))
        height = int(self.scalar(f"{prefix}_extent_y", row))
        return min_x, min_y, min_x + width - 1, min_y + height - 1


@dataclasses.dataclass(frozen=True)
class ArchiveEntry:
    """One object of the archive index.

    Attributes
    ----------
    id
        Archive id (> 0).
    name
        afw persistence name of the object's class.
    module
        Python module afw would import (informational only; never imported).
    catalogs
        ``(catalog number, row0, nrows)`` per catalog, in the object's own
        catalog order; catalog numbers are 1-based among the data HDUs, -1 for
        objects that saved nothing.
    """

    id: int
    name: str
    module: str
    catalogs: tuple[tuple[int, int, int], ...]


class LegacyArchive:
    """Decoder for the afw archive of one file.

    Parameters
    ----------
    index
        The ``ARCHIVE_INDEX`` catalog.
    data
        Mapping from 1-based catalog number to ``(data, header)`` of each ``ARCHIVE_DATA`` table.
    filename
        Used in error messages.
    """

    def __init__(
        self,
        index: Catalog,
        data: dict[int, tuple[Any, astropy.io.fits.Header]],
        filename: str = "<memory>",
    ):
        self.filename = filename
        self._data = data
        self._cache: dict[int, Any] = {}
        rows: dict[int, list[tuple[int, int, int, int]]] = {}
        names: dict[int, tuple[str, str]] = {}
        ids = index.column("id")
        cat_archive = index.column("cat.archive")
        cat_persistable = index.column("cat.persistable")
        row0 = index.column("row0")
        nrows = index.column("nrows")
        for i, object_id in enumerate(ids):
            object_id = int(object_id)
            rows.setdefault(object_id, []).append(
                (int(cat_persistable[i]), int(cat_archive[i]), int(row0[i]), int(nrows[i]))
            )
            names.setdefault(object_id, (index.string("name", i), index.string("module", i)))
        self._entries = {
            object_id: ArchiveEntry(
                id=object_id,
                name=names[object_id][0],
                module=names[object_id][1],
                catalogs=tuple((c, r, n) for _, c, r, n in sorted(parts)),
            )
            for object_id, parts in rows.items()
        }

    @classmethod
    def from_hdus(
        cls, hdus: astropy.io.fits.HDUList, primary_header: astropy.io.fits.Header, filename: str = "<memory>"
    ) -> LegacyArchive | None:
        """Locate the archive in an open file, returning None if there is none.

        ``AR_HDU`` (1-based) points at the index in Exposure files; standalone
        persistables and catalogs have no ``AR_HDU``, so the first HDU with
        ``EXTTYPE = 'ARCHIVE_INDEX'`` is used instead.
        """
        from astropy.io import fits

        index_position: int | None = None
        ar_hdu = primary_header.get("AR_HDU")
        if ar_hdu is not None and 0 < int(ar_hdu) <= len(hdus):
            index_position = int(ar_hdu) - 1
            if str(hdus[index_position].header.get("EXTTYPE", "")).strip() != "ARCHIVE_INDEX":
                index_position = None
        if index_position is None:
            for i, hdu in enumerate(hdus):
                if str(hdu.header.get("EXTTYPE", "")).strip() == "ARCHIVE_INDEX":
                    index_position = i
                    break
        if index_position is None:
            return None
        index_hdu = hdus[index_position]
        if not isinstance(index_hdu, fits.BinTableHDU):
            raise LegacyFormatError(
                f"Archive index HDU {index_position} of {filename!r} is not a binary table."
            )
        n_catalogs = int(index_hdu.header.get("AR_NCAT", 1))
        data: dict[int, tuple[Any, astropy.io.fits.Header]] = {}
        position = index_position + 1
        for number in range(1, n_catalogs):
            if position >= len(hdus):
                raise LegacyFormatError(
                    f"Archive in {filename!r} declares {n_catalogs - 1} data catalogs but the file ends "
                    f"after {number - 1}."
                )
            hdu = hdus[position]
            exttype = str(hdu.header.get("EXTTYPE", "")).strip()
            catn = int(hdu.header.get("AR_CATN", number))
            if exttype not in ("ARCHIVE_DATA", "") or catn != number:
                raise LegacyFormatError(
                    f"HDU {position} of {filename!r} should be archive data catalog {number} "
                    f"(EXTTYPE={exttype!r}, AR_CATN={catn})."
                )
            data[number] = (hdu.data, hdu.header)
            position += 1
        return cls(Catalog(index_hdu.data, index_hdu.header), data, filename=filename)

    # -- index ----------------------------------------------------------------

    def __contains__(self, object_id: int) -> bool:
        return object_id in self._entries

    def __iter__(self) -> Iterator[ArchiveEntry]:
        return iter(self._entries.values())

    def entry(self, object_id: int) -> ArchiveEntry:
        """Return the index entry for an archive id (`LegacyFormatError` if absent)."""
        try:
            return self._entries[object_id]
        except KeyError:
            raise LegacyFormatError(
                f"Archive of {self.filename!r} has no object with id {object_id}."
            ) from None

    def catalogs(self, object_id: int) -> list[Catalog]:
        """Return the row ranges holding an object's data, in the object's catalog order."""
        result = []
        for number, row0, nrows in self.entry(object_id).catalogs:
            if number < 0:
                continue
            if number not in self._data:
                raise LegacyFormatError(
                    f"Archive object {object_id} of {self.filename!r} refers to missing catalog {number}."
                )
            data, header = self._data[number]
            result.append(Catalog(data, header, row0, row0 + nrows))
        return result

    # -- decoding -------------------------------------------------------------

    def get(self, object_id: int) -> Any:
        """Decode (once, then from a cache) the object with the given archive id.

        Raises
        ------
        UnsupportedLegacyObjectError
            If the object's class is not on the allow-list of :data:`FACTORIES`.
        LegacyFormatError
            If the object's catalogs do not have the expected layout.
        """
        if object_id in self._cache:
            return self._cache[object_id]
        entry = self.entry(object_id)
        factory = self.factory(entry.name)
        if factory is None:
            raise UnsupportedLegacyObjectError(
                f"Archive object {object_id} of {self.filename!r} has class {entry.name!r} "
                f"(module {entry.module!r}), which this reader does not decode."
            )
        result = factory(self, self.catalogs(object_id))
        self._cache[object_id] = result
        return result

    @staticmethod
    def factory(name: str) -> Callable[[LegacyArchive, list[Catalog]], Any] | None:
        """Return the allow-listed decoder for an archive class name, or None."""
        target = FACTORIES.get(name)
        if target is None:
            return None
        module_name, function_name = target.split(":")
        # Only modules of this package are imported here, never one named by the file.
        module = importlib.import_module(f"{__package__}.{module_name}")
        return getattr(module, function_name)

    def get_optional(self, object_id: int | None) -> Any:
        """Like `get`, but return None for a null (0 or missing) id."""
        if not object_id:
            return None
        return self.get(int(object_id))
