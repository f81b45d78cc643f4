"""Tile engine encode path: interoperability, determinism, quantization, errors.

* Our HDUs open in astropy and fitsio (CFITSIO) with identical values, for every
  algorithm, dtype and tile shape (incl. partial edge tiles).
* Encoding is deterministic (gzip MTIME=0) and independent of the thread count.
* Lossy quantization equals astropy's CompImageHDU bit for bit (quantized integers,
  ZSCALE, ZZERO, lossless fallback tiles, ZBLANK), and round-trip errors stay within
  ZSCALE/2.
* Files written by CFITSIO (through fitsio) decode like fitsio reads them.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lsst.images.fits._io import open_range_reader
from lsst.images.fits._tiles import EncodedHDU, TileCompression, decode_image, encode_image
from lsst.images.fits._tiles._codec import TileDecoder
from lsst.images.fits._tiles._geometry import TileGrid
from lsst.images.fits._tiles._table import build_table

DITHER = {"NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}


def _header(encoded: EncodedHDU) -> Any:
    from astropy.io import fits

    header = fits.Header()
    for card in encoded.cards + encoded.trailing_cards:
        header.append(card, end=True)
    return header


def _file_bytes(encoded: EncodedHDU) -> bytes:
    """A complete FITS file: empty primary HDU + the encoded HDU."""
    from astropy.io import fits

    return (
        fits.PrimaryHDU().header.tostring().encode()
        + _header(encoded).tostring().encode()
        + bytes(encoded.data)
    )


def _decode(encoded: EncodedHDU, **kwargs: Any) -> np.ndarray:
    return decode_image(_header(encoded), open_range_reader(bytes(encoded.data)), 0, **kwargs)


def _sample(dtype: str, shape: tuple[int, int], seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.normal(100, 5, shape).astype(dt)
    info = np.iinfo(dt)
    lo, hi = max(info.min, -(2**40)), min(info.max, 2**40)
    return rng.integers(lo, hi, shape, endpoint=True, dtype=dt)


CASES = [
    (dtype, algorithm, tile)
    for dtype in ("f4", "f8", "i2", "i4", "i8", "u1", "i1", "u2", "u4")
    for algorithm in ("GZIP_1", "GZIP_2", "RICE_1", None)
    for tile in (None, (7, 11))
    if not (algorithm == "RICE_1" and (dtype in ("i8", "f4", "f8")))
    if not (algorithm is None and tile is not None)
]


@pytest.mark.parametrize("dtype,algorithm,tile", CASES)
def test_lossless_roundtrip_astropy_fitsio(
    tmp_path: Path, dtype: str, algorithm: str | None, tile: Any
) -> None:
    import fitsio
    from astropy.io import fits

    array = _sample(dtype, (23, 37))
    compression = None if algorithm is None else TileCompression(algorithm, tile)
    encoded = encode_image(array, compression, threads=2)
    assert len(encoded.data) % 2880 == 0
    ours = _decode(encoded)
    assert ours.dtype == array.dtype
    np.testing.assert_array_equal(ours, array)
    path = tmp_path / "x.fits"
    path.write_bytes(_file_bytes(encoded))
    with fits.open(path) as hdus:
        np.testing.assert_array_equal(hdus[1].data, array)
        assert hdus[1].data.dtype.newbyteorder("=") == array.dtype
    if dtype == "i8" and algorithm is not None:
        # CFITSIO cannot decompress 64-bit integer images at all (the reference's own
        # image_i64_gzip2 fixture fails the same way), so only astropy checks these.
        return
    np.testing.assert_array_equal(fitsio.read(str(path), ext=1), array)


def test_unsigned_and_int8_cards() -> None:
    cards = {k: v for k, v, _ in encode_image(np.zeros((2, 3), "u2"), TileCompression("GZIP_2", None)).cards}
    assert (cards["ZBITPIX"], cards["BZERO"], cards["BSCALE"]) == (16, 32768, 1)
    cards = {k: v for k, v, _ in encode_image(np.zeros((2, 3), "i1"), None).cards}
    assert (cards["BITPIX"], cards["BZERO"]) == (8, -128)
    cards = {k: v for k, v, _ in encode_image(np.zeros((2, 3), "u8"), None).cards}
    assert (cards["BITPIX"], cards["BZERO"]) == (64, 9223372036854775808)


def test_reference_card_layout() -> None:
    """Cards and order as the reference writes them (FORMAT.md Appendix A, fixture manifests)."""
    encoded = encode_image(np.zeros((160, 192), "f4"), TileCompression("GZIP_2", None))
    assert [c[0] for c in encoded.cards] == [
        "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "TFIELDS", "TTYPE1",
        "TFORM1", "ZIMAGE", "ZTENSION", "ZBITPIX", "ZNAXIS", "ZNAXIS1", "ZNAXIS2", "ZPCOUNT", "ZGCOUNT",
        "ZTILE1", "ZTILE2", "ZCMPTYPE", "ZNAME1", "ZVAL1",
    ]  # fmt: skip
    values = {k: v for k, v, _ in encoded.cards}
    assert (values["ZTILE1"], values["ZTILE2"], values["ZNAME1"], values["ZVAL1"]) == (
        192,
        1,
        "NOISEBIT",
        0.0,
    )
    lossy = encode_image(
        np.zeros((4, 40), "f4") + np.arange(40),
        TileCompression("RICE_1", None, "SUBTRACTIVE_DITHER_2", 16.0, 9),
    )
    keys = [c[0] for c in lossy.cards]
    assert keys[8:16] == [
        "TTYPE1", "TFORM1", "TTYPE2", "TFORM2", "TTYPE3", "TFORM3", "TTYPE4", "TFORM4",
    ]  # fmt: skip
    assert keys[-8:] == ["ZNAME1", "ZVAL1", "ZNAME2", "ZVAL2", "ZNAME3", "ZVAL3", "ZQUANTIZ", "ZDITHER0"]


def test_deterministic_bytes_and_fixed_mtime() -> None:
    array = _sample("f4", (64, 50))
    for compression in (TileCompression("GZIP_2", None), TileCompression("GZIP_1", (8, 8))):
        one = encode_image(array, compression, threads=1)
        two = encode_image(array, compression, threads=2)
        assert bytes(one.data) == bytes(two.data)
        assert one.cards == two.cards
        header = _header(one)
        from lsst.images.fits._tiles._table import TableLayout

        layout = TableLayout(header)
        rows = layout.parse_rows(
            np.arange(layout.n_rows), [bytes(one.data[: layout.n_rows * layout.row_bytes])]
        )
        for count, offset in rows.columns["COMPRESSED_DATA"]:
            member = bytes(one.data[layout.heap_offset + offset : layout.heap_offset + offset + count])
            assert member[:4] == b"\x1f\x8b\x08\x00" and member[4:8] == b"\0\0\0\0"


def test_rice_rejects_int64() -> None:
    with pytest.raises(TypeError, match="64-bit"):
        encode_image(np.zeros((3, 3), "i8"), TileCompression("RICE_1", None))


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="seed"):
        encode_image(np.zeros((3, 3), "f4"), TileCompression("RICE_1", None, "SUBTRACTIVE_DITHER_1", 4.0))
    with pytest.raises(ValueError, match="algorithm"):
        encode_image(np.zeros((3, 3), "f4"), TileCompression("PLIO_1", None))
    with pytest.raises(ValueError, match="2-D"):
        encode_image(np.zeros(3, "f4"), None)
    with pytest.raises(TypeError):
        encode_image(np.zeros((3, 3), bool), None)


def test_rice_float_without_quantization_truncates_like_reference() -> None:
    """FORMAT.md §12.2: unquantized floats under RICE_1 are stored truncated to integers."""
    array = np.array([[1.7, -2.5, 3.2, 100.9]] * 3, dtype="f4")
    encoded = encode_image(array, TileCompression("RICE_1", None))
    np.testing.assert_array_equal(_decode(encoded), np.trunc(array))
    values = {k: v for k, v, _ in encoded.cards}
    assert (values["ZNAME2"], values["ZVAL2"], values["ZNAME3"]) == ("BYTEPIX", 4, "NOISEBIT")


# ---------------------------------------------------------------------------- quantization


def _astropy_table(array: np.ndarray, algorithm: str, dither: str, level: float, seed: int, tile: Any) -> Any:
    from astropy.io import fits

    hdu = fits.CompImageHDU(
        array,
        compression_type=algorithm,
        quantize_level=level,
        quantize_method=DITHER[dither],
        dither_seed=seed,
        tile_shape=tile,
    )
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    return buffer.getvalue()


def _lossy_input(dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    array = (rng.normal(100, 5, (30, 50)) * rng.uniform(0.5, 3)).astype(dtype)
    array[0, 3] = np.nan  # NaN in a noisy tile
    array[1, 5] = 0.0  # exact zero (SUBTRACTIVE_DITHER_2 keeps it)
    array[4:7, :] = 7.0  # zero-noise tiles -> lossless fallback
    array[10, :] = np.nan  # an all-NaN row
    array[12, :7] = 0.0
    return array


LOSSY = [
    (dtype, dither, algorithm, level, tile)
    for dtype in ("f4", "f8")
    for dither in DITHER
    for algorithm, level, tile in (
        ("RICE_1", 16.0, (1, 50)),
        ("GZIP_1", 4.0, (8, 50)),
        ("GZIP_2", -0.01, (1, 50)),
        ("RICE_1", 2.5, (3, 4)),
        ("GZIP_2", 4.0, (7, 9)),
    )
]


@pytest.mark.parametrize("dtype,dither,algorithm,level,tile", LOSSY)
def test_quantization_equals_astropy(
    dtype: str, dither: str, algorithm: str, level: float, tile: Any
) -> None:
    from astropy.io import fits

    array = _lossy_input(dtype, 5)
    reference = _astropy_table(array, algorithm, dither, level, 77, tile)
    encoded = encode_image(array, TileCompression(algorithm, tile, dither, level, 77))
    with (
        fits.open(io.BytesIO(reference), disable_image_compression=True) as theirs,
        fits.open(io.BytesIO(_file_bytes(encoded)), disable_image_compression=True) as ours,
    ):
        a, b = theirs[1].data, ours[1].data
        assert a.columns.names == b.columns.names
        decoder = TileDecoder(theirs[1].header)
        grid = TileGrid(array.shape, tile)
        for t in range(grid.n_tiles):
            pa, pb = bytes(a["COMPRESSED_DATA"][t]), bytes(b["COMPRESSED_DATA"][t])
            assert (len(pa) == 0) == (len(pb) == 0), t
            if pa:
                n = grid.tile_size(t)
                np.testing.assert_array_equal(decoder.integers(pa, n), decoder.integers(pb, n))
            else:
                ga, gb = bytes(a["GZIP_COMPRESSED_DATA"][t]), bytes(b["GZIP_COMPRESSED_DATA"][t])
                assert zlib.decompress(ga, 47) == zlib.decompress(gb, 47)
            assert a["ZSCALE"][t] == b["ZSCALE"][t] and a["ZZERO"][t] == b["ZZERO"][t], t
        ha, hb = theirs[1].header, ours[1].header
        assert [k for k in ha if k != "EXTNAME"] == list(hb)
        for key in hb:
            if key not in ("PCOUNT", "TFORM1", "TFORM2"):
                assert ha[key] == hb[key], key
    with fits.open(io.BytesIO(reference)) as hdus:
        expected = np.array(hdus[1].data)
    got = _decode(encoded)
    np.testing.assert_array_equal(got, expected)
    # Error bound: |decoded - original| <= ZSCALE/2 per tile (+ float rounding).
    zscale = np.array(fits.open(io.BytesIO(reference), disable_image_compression=True)[1].data["ZSCALE"])
    finite = np.isfinite(array)
    bound = np.zeros(array.shape)
    for t in range(grid.n_tiles):
        y0, y1, x0, x1 = grid.bounds(t)
        bound[y0:y1, x0:x1] = zscale[t] / 2
    err = np.abs(got.astype(float) - array.astype(float))
    assert np.all(err[finite] <= bound[finite] * (1 + 1e-6) + 1e-4)
    assert np.array_equal(np.isnan(got), np.isnan(array))
    if dither == "SUBTRACTIVE_DITHER_2":
        assert np.all(got[array == 0.0] == 0.0)


def test_dither_table_self_check() -> None:
    from lsst.images.fits._tiles._quantize import dither_table, dither_values

    table = dither_table()
    assert table.dtype == np.float32 and table.size == 10000
    assert table[0] == np.float32(16807 / 2147483647)
    # Tile 1 with ZDITHER0 = 1 starts at r[int(r[0] * 500)].
    np.testing.assert_array_equal(dither_values(1, 3), table[int(table[0] * 500) :][:3].astype(np.float64))


@pytest.mark.parametrize("n", [1, 4096, 9500, 9501, 12000])
def test_dither_rows_equal_per_tile_deviates(n: int) -> None:
    """The batched deviates equal the per-tile sequence, for runs that wrap the table or not."""
    from lsst.images.fits._tiles._quantize import dither_rows, dither_values

    rows = [1, 2, 499, 9999, 10000, 10001, 123456]
    expected = np.stack([dither_values(row, n) for row in rows])
    got = dither_rows(rows, n)
    assert got.dtype == np.float64 and got.shape == (len(rows), n)
    np.testing.assert_array_equal(got, expected)


def test_quantized_zero_noise_tiles_readable_by_cfitsio(tmp_path: Path) -> None:
    import fitsio

    array = _lossy_input("f4", 8)
    encoded = encode_image(array, TileCompression("RICE_1", None, "SUBTRACTIVE_DITHER_1", 4.0, 3))
    path = tmp_path / "lossy.fits"
    path.write_bytes(_file_bytes(encoded))
    cfitsio = fitsio.read(str(path), ext=1)
    ours = _decode(encoded)
    np.testing.assert_array_equal(cfitsio, ours)
    np.testing.assert_array_equal(ours[4:7], array[4:7])  # stored losslessly


# ---------------------------------------------------------------------------- foreign writers


@pytest.mark.parametrize(
    "dtype,kwargs",
    [
        ("i2", {"compress": "rice"}),
        ("i4", {"compress": "rice"}),
        ("u1", {"compress": "rice"}),
        ("i4", {"compress": "gzip", "tile_dims": (5, 7)}),
        ("i2", {"compress": "gzip_2"}),
        ("f4", {"compress": "gzip_2", "qlevel": None}),
        ("f8", {"compress": "gzip", "qlevel": None}),
        ("f4", {"compress": "rice", "qlevel": 4.0, "qmethod": "SUBTRACTIVE_DITHER_2", "dither_seed": 42}),
        ("f4", {"compress": "gzip_2", "qlevel": 8.0, "qmethod": "SUBTRACTIVE_DITHER_1", "dither_seed": 7}),
        ("f8", {"compress": "rice", "qlevel": 4.0, "qmethod": "NO_DITHER", "tile_dims": (4, 9)}),
    ],
)
def test_cfitsio_written_files_decode(tmp_path: Path, dtype: str, kwargs: dict) -> None:
    import fitsio
    from astropy.io import fits

    array = _sample(dtype, (21, 30), seed=3)
    if dtype.startswith("f"):
        array[2, 3] = np.nan
        array[5, :] = 1.5  # zero-noise row
    path = tmp_path / "cfitsio.fits"
    fitsio.write(str(path), array, clobber=True, **kwargs)
    expected = fitsio.read(str(path), ext=1)
    with fits.open(path, disable_image_compression=True) as raw:
        header, offset = raw[1].header.copy(), raw[1].fileinfo()["datLoc"]
    with open_range_reader(path) as reader:
        got = decode_image(header, reader, offset)
        np.testing.assert_array_equal(got, expected)
        region = (slice(3, 11), slice(4, 29))
        np.testing.assert_array_equal(decode_image(header, reader, offset, region=region), expected[region])


@pytest.mark.parametrize(
    "dtype,kwargs",
    [
        ("i4", {"compress": "plio"}),
        ("i2", {"compress": "plio"}),
        ("u2", {"compress": "plio", "tile_dims": (4, 20)}),
        ("i4", {"compress": "hcompress"}),
        ("i2", {"compress": "hcompress", "tile_dims": (8, 10)}),
        ("f4", {"compress": "hcompress", "qlevel": 4.0, "qmethod": "SUBTRACTIVE_DITHER_1", "dither_seed": 3}),
    ],
)
def test_read_only_algorithms(tmp_path: Path, dtype: str, kwargs: dict) -> None:
    """PLIO_1 and HCOMPRESS_1 tiles written by CFITSIO decode like fitsio reads them."""
    import fitsio
    from astropy.io import fits

    rng = np.random.default_rng(6)
    if dtype == "f4":
        array = rng.normal(100, 5, (16, 20)).astype(np.float32)
    else:
        array = rng.integers(0, 200, (16, 20)).astype(dtype)
    path = tmp_path / "ro.fits"
    fitsio.write(str(path), array, clobber=True, **kwargs)
    expected = fitsio.read(str(path), ext=1)
    with fits.open(path, disable_image_compression=True) as raw:
        header, offset = raw[1].header.copy(), raw[1].fileinfo()["datLoc"]
    with open_range_reader(path) as reader:
        got = decode_image(header, reader, offset)
        np.testing.assert_array_equal(got, expected)
        region = (slice(3, 13), slice(2, 19))
        np.testing.assert_array_equal(decode_image(header, reader, offset, region=region), expected[region])


def test_unsupported_algorithm_is_a_clear_error() -> None:
    header = _header(encode_image(np.zeros((4, 4), "i4"), TileCompression("GZIP_1", None)))
    header["ZCMPTYPE"] = "LZW_9"
    with pytest.raises(ValueError, match="LZW_9"):
        decode_image(header, open_range_reader(b"\0" * 2880), 0)


def test_q_descriptors_decode(tmp_path: Path) -> None:
    """A table written with 64-bit (1QB) descriptors decodes, and astropy agrees."""
    from astropy.io import fits

    array = _sample("f4", (12, 20))
    encoded = encode_image(array, TileCompression("GZIP_2", (4, 8)))
    header = _header(encoded)
    layout_rows = header["NAXIS2"]
    from lsst.images.fits._tiles._table import TableLayout

    layout = TableLayout(header)
    data = bytes(encoded.data)
    rows = layout.parse_rows(np.arange(layout_rows), [data[: layout.n_rows * layout.row_bytes]])
    payloads = [
        data[layout.heap_offset + o : layout.heap_offset + o + n] for n, o in rows.columns["COMPRESSED_DATA"]
    ]
    table = build_table(payloads, descriptor="Q")
    wide = EncodedHDU(table.cards + encoded.cards[len(table.cards) :], [], table.data)
    assert _header(wide)["TFORM1"].startswith("1QB")
    np.testing.assert_array_equal(_decode(wide), array)
    with fits.open(io.BytesIO(_file_bytes(wide))) as hdus:
        np.testing.assert_array_equal(hdus[1].data, array)


def test_noise_planes_stored_and_readable(tmp_path: Path) -> None:
    """Random low-order byte planes are written as deflate stored blocks; all readers agree."""
    import fitsio
    from astropy.io import fits

    from lsst.images.fits._tiles import _gzip

    rng = np.random.default_rng(4)
    array = rng.normal(0, 25, (40, 2048)).astype(np.float32)
    array[30:] = 3.0  # constant rows: every plane compressible
    encoded = encode_image(array, TileCompression("GZIP_2", None))
    planes = np.ascontiguousarray(array.astype(">f4").view(np.uint8).reshape(40, 2048, 4).transpose(0, 2, 1))
    store = _gzip.noisy_planes(planes)
    assert store[:30, 2:].all() and not store[:, 0].any() and not store[30:].any()
    member = _gzip.compress_planes(planes[0], store[0])
    assert zlib.decompress(member, 31) == planes[0].tobytes()
    assert len(member) > 2 * 2048  # two planes kept raw
    path = tmp_path / "noise.fits"
    path.write_bytes(_file_bytes(encoded))
    np.testing.assert_array_equal(_decode(encoded), array)
    with fits.open(path) as hdus:
        np.testing.assert_array_equal(hdus[1].data, array)
    np.testing.assert_array_equal(fitsio.read(str(path), ext=1), array)
    again = encode_image(array, TileCompression("GZIP_2", None), threads=1)
    assert bytes(again.data) == bytes(encoded.data)


def _table_parts(encoded: EncodedHDU) -> tuple[Any, list[bytes]]:
    from lsst.images.fits._tiles._table import TableLayout

    header = _header(encoded)
    layout = TableLayout(header)
    data = bytes(encoded.data)
    rows = layout.parse_rows(np.arange(layout.n_rows), [data[: layout.n_rows * layout.row_bytes]])
    heap = layout.heap_offset
    return header, [data[heap + o : heap + o + n] for n, o in rows.columns["COMPRESSED_DATA"]]


def test_rice_tiles_with_smaller_bytepix() -> None:
    """An int32 image whose RICE tiles were coded with BYTEPIX=2 (as some writers do) decodes."""
    from lsst.images.fits._tiles._rice import rice_compress

    array = _sample("i2", (9, 40)).astype(np.int32)
    encoded = encode_image(array, TileCompression("RICE_1", (3, 40)))
    payloads = [rice_compress(array[3 * t : 3 * t + 3].astype(np.int16).ravel()) for t in range(3)]
    table = build_table(payloads)
    cards = [(k, 2 if k == "ZVAL2" else v, c) for k, v, c in table.cards + encoded.cards[len(table.cards) :]]
    assert dict((k, v) for k, v, _ in cards)["ZNAME2"] == "BYTEPIX"
    np.testing.assert_array_equal(_decode(EncodedHDU(cards, [], table.data)), array)


def test_uncompressed_data_column() -> None:
    """Tiles stored raw in an UNCOMPRESSED_DATA column (1PE) instead of COMPRESSED_DATA."""
    from lsst.images.fits._tiles._table import BLOCK

    array = _sample("f4", (4, 10))
    encoded = encode_image(array, TileCompression("GZIP_1", None))
    header, payloads = _table_parts(encoded)
    # Row 2 keeps its gzip tile, the others hold raw big-endian floats in UNCOMPRESSED_DATA.
    heap = b""
    rows = []
    for t in range(4):
        comp = payloads[t] if t == 2 else b""
        raw = b"" if t == 2 else array[t].astype(">f4").tobytes()
        rows.append(np.array([len(comp), len(heap), len(raw) // 4, len(heap) + len(comp)], dtype=">i4"))
        heap += comp + raw
    table = b"".join(r.tobytes() for r in rows)
    data = table + heap
    data += b"\0" * (-len(data) % BLOCK)
    cards = []
    for key, value, comment in encoded.cards:
        if key == "NAXIS1":
            value = 16
        elif key == "PCOUNT":
            value = len(heap)
        elif key == "TFIELDS":
            value = 2
        cards.append((key, value, comment))
        if key == "TFORM1":
            cards += [("TTYPE2", "UNCOMPRESSED_DATA", ""), ("TFORM2", "1PE(10)", "")]
    np.testing.assert_array_equal(_decode(EncodedHDU(cards, [], data)), array)


def test_region_validation() -> None:
    encoded = encode_image(np.zeros((10, 12), "f4"), TileCompression("GZIP_2", None))
    np.testing.assert_array_equal(_decode(encoded, region=(slice(None), slice(3, 3))), np.zeros((10, 0)))
    with pytest.raises(IndexError, match="not inside"):
        _decode(encoded, region=(slice(0, 11), slice(0, 12)))
    with pytest.raises(IndexError):
        _decode(encoded, region=(slice(-1, 5), slice(0, 12)))
    with pytest.raises(ValueError, match="step"):
        _decode(encoded, region=(slice(0, 10, 2), slice(0, 12)))


def test_read_raw_tiles_copies_data_verbatim() -> None:
    from lsst.images.fits._tiles import read_raw_tiles

    array = _lossy_input("f4", 2)
    encoded = encode_image(array, TileCompression("RICE_1", None, "SUBTRACTIVE_DITHER_2", 16.0, 5))
    cards, data = read_raw_tiles(_header(encoded), open_range_reader(bytes(encoded.data)), 0)
    assert data == bytes(encoded.data)
    assert [c[0] for c in cards] == [c[0] for c in encoded.cards[: len(cards)]]


@pytest.mark.parametrize(
    ("dtype", "compression"),
    [
        ("f4", TileCompression("GZIP_2")),
        ("i4", TileCompression("GZIP_2", tile_shape=(3, 50))),
        ("u2", TileCompression("GZIP_1", tile_shape=(4, 17))),
        ("f4", TileCompression("RICE_1", dither="SUBTRACTIVE_DITHER_1", level=4.0, seed=7)),
        ("i2", None),
    ],
)
@pytest.mark.parametrize("region", [None, (slice(5, 171), slice(0, 400)), (slice(10, 11), slice(3, 40))])
def test_sink_receives_the_region_in_disjoint_bands(dtype, compression, region) -> None:
    """Streaming to a sink covers the region exactly once and equals the returned array."""
    array = _sample(dtype, (183, 400), seed=4)
    encoded = encode_image(array, compression, threads=2)
    expected = _decode(encoded, region=region)
    got = np.zeros_like(expected)
    seen = np.zeros(expected.shape[0], dtype=int)
    calls: list[tuple[int, int]] = []

    def sink(start: int, stop: int, block: np.ndarray) -> None:
        assert block.shape == (stop - start, expected.shape[1]) and block.dtype == expected.dtype
        got[start:stop] = block
        seen[start:stop] += 1
        calls.append((start, stop))

    assert _decode(encoded, region=region, sink=sink, threads=2) is None
    assert (seen == 1).all()
    np.testing.assert_array_equal(got, expected)
    if compression is not None and compression.tile_shape is None and region is None:
        # Whole-row tiles are streamed in several bands, never as one full-size array.
        assert len(calls) > 1


@pytest.mark.parametrize("algorithm", ["GZIP_1", "GZIP_2"])
@pytest.mark.parametrize("dtype", ["f4", "f8", "u2", "i4", "u1", "i1", "u8"])
@pytest.mark.parametrize("rows_per_tile", [1, 3])
def test_row_tile_regions_equal_slices_of_the_full_image(algorithm, dtype, rows_per_tile) -> None:
    """Cut-outs of whole-row tiles (columns cropped, partial first/last tiles) equal numpy slices."""
    array = _sample(dtype, (40, 301), seed=9)
    encoded = encode_image(array, TileCompression(algorithm, tile_shape=(rows_per_tile, 301)), threads=2)
    for ys, xs in [
        (slice(0, 40), slice(0, 301)),
        (slice(4, 29), slice(17, 203)),
        (slice(39, 40), slice(300, 301)),
    ]:
        np.testing.assert_array_equal(_decode(encoded, region=(ys, xs), threads=2), array[ys, xs])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_shared_worker_pool_survives_fork() -> None:
    """A forked child (multiprocessing's default on Linux) decodes with threads of its own."""
    import multiprocessing

    array = _sample("f4", (300, 400), seed=2)
    encoded = encode_image(array, TileCompression("GZIP_2"), threads=2)
    np.testing.assert_array_equal(_decode(encoded, threads=2), array)  # the parent's pool now exists
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        total = pool.apply_async(_decoded_sum_in_child, (encoded,)).get(timeout=60)
    assert total == float(array.astype(np.float64).sum())


def _decoded_sum_in_child(encoded: EncodedHDU) -> float:
    return float(_decode(encoded, threads=2).astype(np.float64).sum())


@pytest.mark.parametrize(
    "compression",
    [
        TileCompression("GZIP_2"),
        TileCompression("GZIP_1", tile_shape=(3, 400)),
        TileCompression("GZIP_2", tile_shape=(16, 16)),
        TileCompression("RICE_1"),
        None,
    ],
)
def test_row_source_encodes_the_same_bytes_as_the_array(compression) -> None:
    """Encoding from a band-by-band row source gives exactly the bytes of encoding the array."""
    from lsst.images.fits._tiles import RowSource

    array = _sample("i4", (257, 400), seed=8)
    calls: list[tuple[int, int]] = []

    def rows(start: int, stop: int) -> np.ndarray:
        calls.append((start, stop))
        return array[start:stop].copy()

    expected = encode_image(array, compression, threads=2)
    got = encode_image(RowSource(array.shape, array.dtype, rows), compression, threads=2)
    assert got.cards == expected.cards and got.data == expected.data
    covered = np.zeros(array.shape[0], dtype=int)
    for start, stop in calls:
        covered[start:stop] += 1
    assert (covered == 1).all()
    streamed = (
        compression is not None and compression.algorithm != "RICE_1" and compression.tile_shape != (16, 16)
    )
    assert (len(calls) > 1) == streamed


def test_row_source_with_wrong_bands_is_an_error() -> None:
    from lsst.images.fits._tiles import RowSource

    source = RowSource((50, 40), np.int32, lambda start, stop: np.zeros((stop - start, 39), np.int32))
    with pytest.raises(ValueError, match="row source returned"):
        encode_image(source, TileCompression("GZIP_2"))
