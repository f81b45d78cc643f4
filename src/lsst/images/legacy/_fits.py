"""Low-level access to the HDUs of a FITS file written by ``lsst.afw``.

afw-era files vary a lot (see LEGACY.md §1): the pixel planes may sit in the
primary HDU, ``EXTNAME`` may be missing, ``LTV`` cards may be missing, masks may
be stored as scaled 16-bit integers, and any plane may be tile-compressed.  This
module hides those variations behind :class:`LegacyFitsFile`, which only deals in
numpy arrays and astropy headers; turning them into `lsst.images` objects is the
job of the reader modules.
"""

from __future__ import annotations

__all__ = ("LegacyFitsFile", "LegacyPlane", "PLANE_KINDS", "read_xy0")

import dataclasses
import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import astropy.io.fits

    from ._archive import LegacyArchive

#: The three plane kinds of a MaskedImage, in their afw HDU order.
PLANE_KINDS = ("IMAGE", "MASK", "VARIANCE")


@dataclasses.dataclass
class LegacyPlane:
    """One decoded pixel plane.

    Attributes
    ----------
    array
        Pixel values in native byte order, with FITS integer scaling applied.
    header
        The HDU header (for a compressed HDU, the header of the image it holds).
    x0, y0
        Parent-pixel coordinates of the first array pixel.
    hdu_index
        0-based position of the HDU in the file.
    compressed
        Whether the HDU was tile-compressed.
    """

    array: np.ndarray
    header: astropy.io.fits.Header
    x0: int
    y0: int
    hdu_index: int
    compressed: bool


def read_xy0(header: astropy.io.fits.Header) -> tuple[int, int]:
    """Return the ``(x0, y0)`` image origin recorded in an afw plane header.

    afw stores the origin authoritatively as the linear alternate WCS "A"
    (``CRVAL1A/2A`` with ``CRPIX1A/2A == 1``); ``LTV1/2`` (written for ds9)
    is the fallback, and files with neither start at (0, 0).
    """
    if (
        header.get("CTYPE1A", "").strip().upper() == "LINEAR"
        and float(header.get("CRPIX1A", 0.0)) == 1.0
        and float(header.get("CRPIX2A", 0.0)) == 1.0
        and "CRVAL1A" in header
        and "CRVAL2A" in header
    ):
        return int(round(float(header["CRVAL1A"]))), int(round(float(header["CRVAL2A"])))
    if "LTV1" in header and "LTV2" in header:
        return -int(round(float(header["LTV1"]))), -int(round(float(header["LTV2"])))
    return 0, 0


def _native(array: np.ndarray) -> np.ndarray:
    """Return a native-byte-order, C-contiguous, writeable copy of ``array``."""
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))


def _apply_scaling(raw: np.ndarray, header: astropy.io.fits.Header) -> np.ndarray:
    """Apply FITS ``BSCALE``/``BZERO`` the way afw did, keeping integers integral.

    afw wrote unsigned 16/32-bit masks as signed integers with ``BZERO = 2**15``
    or ``2**31``; astropy would return float64 for those, which breaks bitwise
    operations, so the offset is applied here in integer arithmetic instead.
    """
    bscale = float(header.get("BSCALE", 1.0))
    bzero = float(header.get("BZERO", 0.0))
    if bscale == 1.0 and bzero == 0.0:
        return _native(raw)
    if raw.dtype.kind in "iu" and bscale == 1.0 and bzero == int(bzero):
        offset = int(bzero)
        unsigned = {2**7: np.uint8, 2**15: np.uint16, 2**31: np.uint32, 2**63: np.uint64}.get(offset)
        if unsigned is not None and raw.dtype.kind == "i" and raw.dtype.itemsize * 8 == offset.bit_length():
            if unsigned is np.uint64:
                return _native(raw).view(np.uint64) ^ np.uint64(offset)
            return (raw.astype(np.int64) + offset).astype(unsigned)
        return raw.astype(np.int64) + offset
    return raw.astype(np.float64) * bscale + bzero


class LegacyFitsFile:
    """An open afw-written FITS file.

    Parameters
    ----------
    filename
        Local path (or anything `os.fspath` accepts).

    Notes
    -----
    The file is read eagerly through `astropy.io.fits` with image scaling
    disabled so that the reader, not astropy, decides how to interpret the
    ``BSCALE``/``BZERO`` cards that old afw masks carry.  The object is a
    context manager; it closes the underlying HDU list on exit.
    """

    def __init__(self, filename: str | os.PathLike[str]) -> None:
        from astropy.io import fits

        self.filename = os.fspath(filename)
        try:
            self._hdus = fits.open(self.filename, memmap=False, do_not_scale_image_data=True)
        except OSError as err:
            raise OSError(f"Could not open {self.filename!r} as a FITS file: {err}") from err
        self._archive: LegacyArchive | None | bool = False
        #: Absolute `Box` to which `read_plane` limits every plane (None: whole planes).  Only the
        #: rows (and, for tile-compressed HDUs, the tiles) inside it are read from the file.
        self.region: Any = None

    def __enter__(self) -> LegacyFitsFile:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying astropy HDU list."""
        self._hdus.close()

    @property
    def hdus(self) -> astropy.io.fits.HDUList:
        """The underlying astropy HDU list."""
        return self._hdus

    @property
    def primary_header(self) -> astropy.io.fits.Header:
        """The primary HDU header."""
        return self._hdus[0].header

    def __len__(self) -> int:
        return len(self._hdus)

    def header(self, index: int) -> astropy.io.fits.Header:
        """Return the header of an HDU (the image header for compressed HDUs)."""
        return self._hdus[index].header

    # -- plane location -------------------------------------------------------

    def find_plane(self, kind: str) -> int:
        """Return the 0-based index of the HDU holding the ``IMAGE``, ``MASK`` or ``VARIANCE`` plane.

        The lookup prefers ``EXTTYPE`` (written by every afw version), then
        ``EXTNAME`` (newer files only), then the positional layout: HDUs 1-3,
        or 0-2 when the primary HDU holds pixels (very old MaskedImage files).
        """
        kind = kind.upper()
        if kind not in PLANE_KINDS:
            raise ValueError(f"Unknown plane kind {kind!r}; expected one of {PLANE_KINDS}.")
        for key in ("EXTTYPE", "EXTNAME"):
            for index, hdu in enumerate(self._hdus):
                value = hdu.header.get(key)
                if isinstance(value, str) and value.strip().upper() == kind:
                    return index
        first = 0 if self._hdus[0].header.get("NAXIS", 0) else 1
        index = first + PLANE_KINDS.index(kind)
        if index >= len(self._hdus) or not self._is_image(index):
            raise LookupError(f"No {kind} plane found in {self.filename!r}.")
        return index

    def _is_image(self, index: int) -> bool:
        from astropy.io import fits

        hdu = self._hdus[index]
        return isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU | fits.CompImageHDU)

    def has_plane(self, kind: str) -> bool:
        """Whether the file has a plane of the given kind."""
        try:
            self.find_plane(kind)
        except LookupError:
            return False
        return True

    # -- pixel access ---------------------------------------------------------

    def read_raw(self, index: int) -> tuple[np.ndarray, astropy.io.fits.Header]:
        """Return the pixel array of an HDU exactly as stored (no scaling) and its header.

        A zero-sized or data-less HDU gives an empty 2-d array whose shape is
        taken from the ``NAXISn`` cards (0×0 planes occur in afw test data).
        """
        from astropy.io import fits

        hdu = self._hdus[index]
        header = hdu.header
        if not self._is_image(index):
            raise TypeError(f"HDU {index} of {self.filename!r} is not an image HDU.")
        data = hdu.data
        if data is None:
            naxis = int(header.get("ZNAXIS", header.get("NAXIS", 0)))
            prefix = "ZNAXIS" if isinstance(hdu, fits.CompImageHDU) else "NAXIS"
            shape = tuple(int(header.get(f"{prefix}{i}", 0)) for i in range(naxis, 0, -1))
            if len(shape) < 2:
                shape = (0,) * (2 - len(shape)) + shape
            dtype = {8: np.uint8, 16: np.int16, 32: np.int32, 64: np.int64, -32: np.float32, -64: np.float64}[
                int(header.get("ZBITPIX", header.get("BITPIX", -32)))
            ]
            return np.zeros(shape, dtype=dtype), header
        return np.asarray(data), header

    def read_plane(self, kind_or_index: str | int) -> LegacyPlane:
        """Decode one plane: native byte order, integer scaling applied, origin from the header.

        Parameters
        ----------
        kind_or_index
            ``"IMAGE"``, ``"MASK"``, ``"VARIANCE"`` or an explicit 0-based HDU index.
        """
        from astropy.io import fits

        index = self.find_plane(kind_or_index) if isinstance(kind_or_index, str) else kind_or_index
        header = self._hdus[index].header
        x0, y0 = read_xy0(header)
        if self.region is None:
            raw, header = self.read_raw(index)
        else:
            raw, (y0, x0) = self._read_region(index, x0, y0), (self.region.y.start, self.region.x.start)
        compressed = isinstance(self._hdus[index], fits.CompImageHDU)
        # astropy applies the quantization scaling of compressed HDUs itself; the
        # BSCALE/BZERO logic below only matters for plain HDUs.
        array = _native(raw) if compressed else _apply_scaling(raw, header)
        if array.ndim != 2:
            raise ValueError(f"HDU {index} of {self.filename!r} is {array.ndim}-d; expected a 2-d image.")
        return LegacyPlane(array=array, header=header, x0=x0, y0=y0, hdu_index=index, compressed=compressed)

    def _read_region(self, index: int, x0: int, y0: int) -> np.ndarray:
        """Read the `region` part of a plane through astropy's ``section`` (no full decode)."""
        from .._geom import Box

        height, width = self.plane_shape(index)
        full = Box.factory[y0 : y0 + height, x0 : x0 + width]
        region = self.region
        if full.intersection(region) != region:
            raise ValueError(f"bbox {region} is not inside the image bbox {full} of {self.filename!r}.")
        rows = slice(region.y.start - y0, region.y.stop - y0)
        cols = slice(region.x.start - x0, region.x.stop - x0)
        return np.asarray(self._hdus[index].section[rows, cols])

    def plane_shape(self, kind_or_index: str | int) -> tuple[int, int]:
        """Return the ``(height, width)`` of a plane without decoding its pixels."""
        from astropy.io import fits

        index = self.find_plane(kind_or_index) if isinstance(kind_or_index, str) else kind_or_index
        hdu = self._hdus[index]
        header = hdu.header
        if isinstance(hdu, fits.CompImageHDU):
            return int(header.get("ZNAXIS2", 0)), int(header.get("ZNAXIS1", 0))
        if int(header.get("NAXIS", 0)) < 2:
            return 0, 0
        return int(header.get("NAXIS2", 0)), int(header.get("NAXIS1", 0))

    def raw_compressed_table(self, index: int) -> tuple[astropy.io.fits.Header, np.ndarray] | None:
        """Return the raw BINTABLE header and rows of a tile-compressed HDU, or None if not compressed.

        This is what ``preserve_quantization`` keeps so that a rewrite can emit
        the original quantized tiles verbatim.
        """
        from astropy.io import fits

        hdu = self._hdus[index]
        if not isinstance(hdu, fits.CompImageHDU):
            return None
        with fits.open(self.filename, memmap=False, disable_image_compression=True) as raw_hdus:
            table = raw_hdus[index]
            data = table.data
            # Touch every column while the file is open: astropy converts (and caches) the
            # variable-length tile columns from the heap only on first access.
            for name in data.columns.names:
                data.field(name)
            return table.header.copy(), data

    # -- metadata -------------------------------------------------------------

    def metadata_header(self) -> astropy.io.fits.Header:
        """Return the header holding the file's metadata.

        afw writes metadata to the primary header and marks the image HDU with
        ``INHERIT = T``; very old files without that card kept it on the image HDU.
        """
        if self.has_plane("IMAGE"):
            index = self.find_plane("IMAGE")
            image_header = self._hdus[index].header
            if index != 0 and not image_header.get("INHERIT", False) and self.primary_is_empty():
                return image_header
        return self.primary_header

    def primary_is_empty(self) -> bool:
        """Whether the primary header carries no afw metadata beyond structural cards."""
        structural = {"SIMPLE", "BITPIX", "NAXIS", "EXTEND", "COMMENT", "HISTORY", ""}
        return all(key in structural for key in self.primary_header.keys())

    # -- archive --------------------------------------------------------------

    @property
    def archive(self) -> LegacyArchive | None:
        """The afw persistence archive of the file, or None if it has none."""
        if self._archive is False:
            from ._archive import LegacyArchive

            self._archive = LegacyArchive.from_hdus(self._hdus, self.primary_header, filename=self.filename)
        return self._archive  # type: ignore[return-value]
