"""The archive's built-in codec (`lsst.images.fits._engine.builtin_*`), used without the tile engine.

Every image HDU of the reference fixtures must decode exactly as astropy decodes it
(manifest hashes), full and in sub-regions, and arrays written by it must read back
exactly through astropy and through the default engine.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from astropy.io import fits as afits

from conftest import FIXTURES, load_manifest
from lsst.images.fits import _engine
from lsst.images.fits._headers import find_header_end, header_from_bytes


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(
        np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    ).hexdigest()


def _files() -> list:
    params = []
    for layout in ("lsst-images-2100", "lsst-images-4300"):
        if not (FIXTURES / layout).is_dir():
            continue
        for name, entry in load_manifest(layout)["files"].items():
            params.append(pytest.param(layout, entry, id=f"{layout[-4:]}-{name}"))
    return params


@pytest.mark.parametrize(("layout", "entry"), _files())
def test_builtin_decodes_fixture_hdus(layout: str, entry: dict) -> None:
    path = FIXTURES / layout / entry["file"]
    with _engine.builtin_open_range_reader(str(path)) as reader:
        for hdu in entry["hdus"]:
            key = hdu["extname"] if hdu["extver"] == 1 else f"{hdu['extname']},{hdu['extver']}"
            expected = entry["decoded_hdus_astropy"].get(key)
            if expected is None:
                continue
            (raw,) = reader.read_ranges([(hdu["header_offset"], hdu["data_offset"] - hdu["header_offset"])])
            header = header_from_bytes(raw[: find_header_end(raw)])
            full = _engine.builtin_decode_image(header, reader, hdu["data_offset"], threads=2)
            assert _sha(full) == expected["sha256"], key
            h, w = full.shape
            region = (slice(h // 3, h // 3 + max(1, h // 4)), slice(w // 5, w // 5 + max(1, w // 3)))
            part = _engine.builtin_decode_image(header, reader, hdu["data_offset"], region=region)
            np.testing.assert_array_equal(part, full[region])


@pytest.mark.parametrize("dtype", ["f4", "f8", "i2", "i4", "i8", "u1", "u2", "u4", "i1"])
@pytest.mark.parametrize("compression", [None, ("GZIP_1", None), ("GZIP_2", None), ("GZIP_2", (7, 11))])
def test_builtin_encode_roundtrip(dtype: str, compression) -> None:
    rng = np.random.default_rng(4)
    info = np.iinfo(dtype) if dtype[0] in "iu" else None
    if info is None:
        array = rng.normal(0, 10, (23, 31)).astype(dtype)
    else:
        array = rng.integers(info.min, info.max, (23, 31), endpoint=True, dtype=dtype)
    tile = None if compression is None else _engine.BuiltinTileCompression(*compression)
    encoded = _engine.builtin_encode_image(array, tile, threads=2)
    header = afits.Header()
    for card in encoded.cards:
        header.append(card)
    header["EXTNAME"] = "IMAGE"
    raw = afits.PrimaryHDU().header.tostring(padding=True).encode() + header.tostring(padding=True).encode()
    with afits.open(io.BytesIO(raw + encoded.data)) as hdus:
        np.testing.assert_array_equal(hdus[1].data, array)
    reader = _engine.builtin_open_range_reader(raw + encoded.data)
    offset = len(raw)
    np.testing.assert_array_equal(_engine.builtin_decode_image(header, reader, offset), array)
    np.testing.assert_array_equal(
        _engine.decode_image(header, _engine.open_range_reader(raw + encoded.data), offset), array
    )
    again = _engine.builtin_encode_image(array, tile, threads=1)
    assert again.data == encoded.data
