"""Access point for the tile engine and range reader used by the archive.

The archive uses the project's own engine (`._tiles`: parallel tile compression,
`._io`: ranged reads of local and remote files).  If those modules are unavailable
(e.g. a partial installation), a slow but correct astropy-based stand-in with the same
interface is used instead, so that files can still be read and written.
"""

from __future__ import annotations

__all__ = ("TileCompression", "decode_image", "encode_image", "open_range_reader", "using_fallback")

import dataclasses
import io
import os
from typing import Any

import numpy as np

try:
    from ._io import open_range_reader
    from ._tiles import TileCompression, decode_image, encode_image

    using_fallback = False
except ImportError:  # pragma: no cover - exercised only without the tile engine
    using_fallback = True

    @dataclasses.dataclass(frozen=True)
    class TileCompression:  # type: ignore[no-redef]
        """Tile-compression settings (same fields as the engine's class)."""

        algorithm: str
        tile_shape: tuple[int, int] | None = None
        dither: str | None = None
        level: float = 0.0
        seed: int | None = None

    @dataclasses.dataclass
    class _Encoded:
        cards: list
        trailing_cards: list
        data: bytes

    _METHODS = {"NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}

    def encode_image(array: np.ndarray, compression: Any, threads: int | None = None) -> Any:  # type: ignore[no-redef]
        from astropy.io import fits

        if compression is None:
            hdu = fits.ImageHDU(array)
        else:
            kwargs: dict[str, Any] = {
                "compression_type": compression.algorithm,
                "tile_shape": compression.tile_shape or (1, array.shape[-1]),
            }
            if compression.dither and array.dtype.kind == "f":
                kwargs.update(
                    quantize_level=compression.level,
                    quantize_method=_METHODS[compression.dither],
                    dither_seed=compression.seed,
                )
            elif array.dtype.kind == "f":
                kwargs["quantize_level"] = 0.0
            hdu = fits.CompImageHDU(array, **kwargs)
        buffer = io.BytesIO()
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
        raw = buffer.getvalue()
        with fits.open(io.BytesIO(raw), disable_image_compression=True) as hdus:
            header = hdus[1].header
            skip = ("EXTNAME", "ZBLANK", "CHECKSUM", "DATASUM", "ZCHECKSM", "ZDATASUM")
            cards = [(c.keyword, c.value, c.comment) for c in header.cards if c.keyword not in skip]
            trailing = [(c.keyword, c.value, c.comment) for c in header.cards if c.keyword == "ZBLANK"]
            info = hdus[1].fileinfo()
            data = raw[info["datLoc"] : info["datLoc"] + info["datSpan"]]
        return _Encoded(cards, trailing, data)

    def decode_image(  # type: ignore[no-redef]
        header: Any, reader: Any, data_offset: int, region: Any = None, threads: int | None = None
    ) -> np.ndarray:
        from astropy.io import fits

        if header.get("ZIMAGE"):
            size = int(header["NAXIS1"]) * int(header["NAXIS2"]) + int(header.get("PCOUNT", 0))
        else:
            size = int(np.prod([int(header[f"NAXIS{i}"]) for i in range(1, int(header["NAXIS"]) + 1)]))
            size *= abs(int(header["BITPIX"])) // 8
        size = -(-size // 2880) * 2880
        (data,) = reader.read_ranges([(data_offset, size)])
        raw = (
            fits.PrimaryHDU().header.tostring(padding=True).encode() + header.tostring(padding=True).encode()
        )
        with fits.open(io.BytesIO(raw + data)) as hdus:
            array = np.asarray(hdus[1].data)
            if region is not None:
                array = array[region]
            return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))

    class _FileReader:
        def __init__(self, target: Any) -> None:
            if isinstance(target, (bytes, bytearray, memoryview)):
                self._data: bytes | None = bytes(target)
                self.name, self.size = "<bytes>", len(self._data)
                self._stream = None
            elif str(target).startswith(("http://", "https://")):
                self.name = str(target)
                self._stream = None
                self._data = None
                self.size = _http_size(self.name)
            else:
                from lsst.resources import ResourcePath

                uri = ResourcePath(target)
                self.name = str(target)
                if uri.isLocal:
                    self._stream = open(uri.ospath, "rb")  # noqa: SIM115
                    self.size = os.fstat(self._stream.fileno()).st_size
                    self._data = None
                else:
                    self._data = uri.read()
                    self._stream = None
                    self.size = len(self._data)
            self.bytes_read = 0
            self.request_count = 0

        def read_ranges(self, ranges: list[tuple[int, int]]) -> list[bytes]:
            out = []
            for offset, length in ranges:
                if self._stream is not None:
                    self._stream.seek(offset)
                    out.append(self._stream.read(length))
                elif self._data is None:
                    out.append(_http_range(self.name, offset, length))
                else:
                    assert self._data is not None
                    out.append(self._data[offset : offset + length])
                self.bytes_read += length
            self.request_count += 1
            return out

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *args: Any) -> None:
            if self._stream is not None:
                self._stream.close()

    def _http_size(url: str) -> int:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as response:
                return int(response.headers["Content-Length"])
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise FileNotFoundError(f"{url}: not found (HTTP 404)") from err
            raise OSError(f"{url}: HTTP error {err.code}") from err

    def _http_range(url: str, offset: int, length: int) -> bytes:
        import urllib.request

        if length == 0:
            return b""
        request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        with urllib.request.urlopen(request) as response:
            data = response.read()
        return data if response.status == 206 else data[offset : offset + length]

    def open_range_reader(target: Any) -> Any:  # type: ignore[no-redef]
        return _FileReader(target)
