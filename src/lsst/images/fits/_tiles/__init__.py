"""The project's FITS tile-compression engine (arrays and bytes only).

Encodes 2-D arrays into the FITS tiled-image convention (``GZIP_1``, ``GZIP_2``,
``RICE_1``, optional lossy quantization with subtractive dithering, bit-identical to
astropy/CFITSIO for the same seed) and decodes such HDUs -- or plain ``IMAGE`` HDUs --
from a byte-range reader (`lsst.images.fits._io`), fetching and decoding only the tiles
a region needs.  ``PLIO_1``/``HCOMPRESS_1`` tiles written by CFITSIO are read too.
Tiles are processed in parallel threads.

Module map: `._geometry` (tile grid, region -> tiles), `._gzip` (gzip members, ISA-L),
`._rice` (RICE_1 via astropy's compiled coder), `._quantize` (dither sequence, noise
estimate, quantize/dequantize), `._codec` (pixel representations, one-tile decoding),
`._table` (the compressed BINTABLE), `._encode` (encoding), `._engine` (decoding),
`._threads` (worker pools, chunks, scratch buffers).
"""

from __future__ import annotations

__all__ = (
    "EncodedHDU",
    "RowSource",
    "StreamedHDU",
    "TileCompression",
    "decode_image",
    "encode_image",
    "read_raw_tiles",
)

from ._encode import EncodedHDU, RowSource, StreamedHDU, TileCompression, encode_image
from ._engine import decode_image, read_raw_tiles
