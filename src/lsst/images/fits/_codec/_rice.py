"""RICE_1 tiles through astropy's compiled implementation of the FITS Rice coder.

Rice coding is bit-level work that numpy cannot vectorize; astropy ships the
reference C routines (the same ones cfitsio uses), and calling them per tile from our
worker threads gives exactly the reference bytes.  The import is lazy so that
``import lsst.images`` does not load astropy.io.fits.
"""

from __future__ import annotations

__all__ = ("DEFAULT_BLOCKSIZE", "rice_decode", "rice_encode")

from typing import Any

import numpy as np

DEFAULT_BLOCKSIZE = 32


def _c() -> Any:
    from astropy.io.fits.hdu.compressed import _compression

    return _compression


def rice_encode(values: np.ndarray, bytepix: int, blocksize: int = DEFAULT_BLOCKSIZE) -> bytes:
    """Rice-compress integer ``values`` (any shape) stored with ``bytepix`` bytes per value."""
    native = np.ascontiguousarray(values, dtype=np.dtype(f"i{bytepix}"))
    return _c().compress_rice_1_c(native.tobytes(), blocksize, bytepix)


def rice_decode(data: Any, npix: int, bytepix: int, blocksize: int = DEFAULT_BLOCKSIZE) -> np.ndarray:
    """Decode one Rice tile of ``npix`` values into a native ``int{8*bytepix}`` array."""
    raw = _c().decompress_rice_1_c(bytes(data), blocksize, bytepix, npix)
    return np.frombuffer(raw, dtype=np.dtype(f"i{bytepix}"))[:npix]
