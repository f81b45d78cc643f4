"""The one place the archive gets its tile engine and range reader from.

`._tiles` holds the tile-compression engine (tiling, GZIP_1/GZIP_2/RICE_1 codecs,
quantization, the compressed BINTABLE layout, parallel encode/decode of only the tiles a
region needs); `._io` holds the range readers for local files, buffers and remote URLs.
The archive modules import these names from here so that the engine can be swapped in
one place.
"""

from __future__ import annotations

__all__ = (
    "EncodedHDU",
    "RowSource",
    "StreamedHDU",
    "TileCompression",
    "decode_image",
    "encode_image",
    "open_range_reader",
)

from ._io import open_range_reader
from ._tiles import EncodedHDU, RowSource, StreamedHDU, TileCompression, decode_image, encode_image
