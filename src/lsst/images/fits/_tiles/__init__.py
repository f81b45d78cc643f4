"""The project's FITS tile-compression engine (arrays and bytes only).

Encodes 2-D arrays into the FITS tiled-image convention (``GZIP_1``, ``GZIP_2``,
``RICE_1``, optional lossy quantization with subtractive dithering) and decodes such
HDUs -- or plain ``IMAGE`` HDUs -- from a byte-range reader, fetching and decoding only
the tiles a region needs.  Tiles are processed in parallel threads.
"""

from __future__ import annotations

__all__ = ("EncodedHDU", "TileCompression", "decode_image", "encode_image", "read_raw_tiles")

from ._engine import EncodedHDU, TileCompression, decode_image, encode_image, read_raw_tiles
