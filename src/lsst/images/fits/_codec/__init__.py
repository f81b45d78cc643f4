"""The project's tile-compression engine for FITS image HDUs.

Public entry points (re-exported by `lsst.images.fits._engine`): `TileCompression`,
`encode_image`, `decode_image`; see `._engine` for the design.
"""

from ._engine import EncodedHDU, TileCompression, decode_image, encode_image

__all__ = ("EncodedHDU", "TileCompression", "decode_image", "encode_image")
