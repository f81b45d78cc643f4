"""Tile engine round trips: our encoded HDUs read back by astropy, fitsio and ourselves.

Also checks determinism (same input → same bytes), agreement of quantization with
astropy's writer for the same seed, the header cards against astropy's, the bytes a
region read fetches, and errors for truncated and corrupt data.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lsst.images.fits._codec import TileCompression, decode_image, encode_image
from lsst.images.fits._codec._gzip import TileCorruptError
from lsst.images.fits._rangeio import TruncatedFileError, open_range_reader

_SKIP = {"EXTNAME", "CHECKSUM", "DATASUM", "ZCHECKSM", "ZDATASUM"}


def _header(encoded: Any) -> Any:
    from astropy.io import fits

    header = fits.Header()
    for key, value, comment in encoded.cards + encoded.trailing_cards:
        header.append((key, value, comment))
    return header


def _file_bytes(encoded: Any) -> tuple[Any, bytes, int]:
    """(header, bytes of a 2-HDU FITS file, data offset of the image HDU)."""
    from astropy.io import fits

    header = _header(encoded)
    prefix = fits.PrimaryHDU().header.tostring().encode() + header.tostring().encode()
    return header, prefix + encoded.data, len(prefix)


def _random(dtype: str, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype[0] == "f":
        return rng.normal(100.0, 20.0, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


LOSSLESS = [
    (dtype, comp)
    for dtype in ("f4", "f8", "i2", "u2", "i4", "u4", "u1", "i1", "i8", "u8")
    for comp in (
        None,
        TileCompression("GZIP_1"),
        TileCompression("GZIP_2"),
        TileCompression("GZIP_2", tile_shape=(8, 16)),
        TileCompression("GZIP_1", tile_shape=(7, 100)),
        TileCompression("RICE_1", tile_shape=(5, 7)),
    )
    if not (comp is not None and comp.algorithm == "RICE_1" and dtype in ("i8", "u8", "f4", "f8"))
]


@pytest.mark.parametrize("dtype,comp", LOSSLESS, ids=lambda v: str(v))
def test_lossless_roundtrip_astropy_fitsio_ours(tmp_path: Path, dtype: str, comp: Any) -> None:
    import fitsio
    from astropy.io import fits

    array = _random(dtype, (37, 53))
    encoded = encode_image(array, comp, threads=2)
    assert len(encoded.data) % 2880 == 0
    header, raw, offset = _file_bytes(encoded)
    path = tmp_path / "x.fits"
    path.write_bytes(raw)
    with fits.open(path) as hdus:
        np.testing.assert_array_equal(hdus[1].data, array)
    if array.dtype.itemsize < 8 or array.dtype.kind == "f":
        # cfitsio cannot decompress 64-bit integer tiles nor convert full-range uint64
        # (astropy-written files fail the same way), so those are checked with astropy only.
        np.testing.assert_array_equal(fitsio.read(str(path), ext=1), array)
    with open_range_reader(path) as reader:
        full = decode_image(header, reader, offset)
        assert full.dtype == array.dtype and full.dtype.isnative
        np.testing.assert_array_equal(full, array)
        for region in (
            (slice(3, 20), slice(5, 40)),
            (slice(36, 37), slice(52, 53)),
            (slice(0, 37), slice(9, 10)),
        ):
            np.testing.assert_array_equal(
                decode_image(header, reader, offset, region, threads=1), array[region]
            )
    # Same pixels, same bytes (fixed gzip headers), whatever the thread count.
    again = encode_image(array.copy(), comp, threads=1)
    assert again.data == encoded.data
    assert again.cards == encoded.cards


@pytest.mark.parametrize(
    "dtype,comp",
    [
        ("f4", TileCompression("GZIP_2")),
        ("i4", TileCompression("GZIP_2")),
        ("u2", TileCompression("GZIP_1", tile_shape=(4, 8))),
        ("i2", TileCompression("RICE_1")),
        ("u2", TileCompression("RICE_1", tile_shape=(4, 8))),
        ("f4", None),
        ("u4", None),
    ],
    ids=str,
)
def test_cards_match_astropy(dtype: str, comp: Any) -> None:
    """Same cards as astropy's writer, apart from sizes that depend on the deflate level."""
    from astropy.io import fits

    array = _random(dtype, (20, 30))
    ours = encode_image(array, comp)
    if comp is None:
        hdu: Any = fits.ImageHDU(array)
    else:
        kwargs = {"quantize_level": 0.0} if array.dtype.kind == "f" else {}
        hdu = fits.CompImageHDU(
            array, compression_type=comp.algorithm, tile_shape=comp.tile_shape or (1, 30), **kwargs
        )
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    buffer.seek(0)
    with fits.open(buffer, disable_image_compression=True) as hdus:
        theirs = [(c.keyword, c.value) for c in hdus[1].header.cards if c.keyword not in _SKIP]
    variable = {"PCOUNT", "TFORM1"} if comp is not None and comp.algorithm != "RICE_1" else set()
    mine = [(k, v) for k, v, _ in ours.cards]
    assert [k for k, _ in mine] == [k for k, _ in theirs]
    for (key, value), (_, expected) in zip(mine, theirs, strict=True):
        if key not in variable:
            assert value == expected, key


QUANTIZED = [
    TileCompression("RICE_1", dither="SUBTRACTIVE_DITHER_2", level=16.0, seed=1234),
    TileCompression("RICE_1", tile_shape=(16, 32), dither="SUBTRACTIVE_DITHER_1", level=4.0, seed=9999),
    TileCompression("GZIP_2", dither="SUBTRACTIVE_DITHER_1", level=4.0, seed=17, tile_shape=(10, 10)),
    TileCompression("GZIP_1", dither="NO_DITHER", level=-0.01, seed=None),
    TileCompression("RICE_1", dither="NO_DITHER", level=8.0),
]


@pytest.mark.parametrize("comp", QUANTIZED, ids=str)
@pytest.mark.parametrize("dtype", ["f4", "f8"])
def test_quantization_matches_astropy(tmp_path: Path, comp: TileCompression, dtype: str) -> None:
    """Same ZSCALE, ZZERO, quantized integers and decoded values as astropy for the same seed."""
    from astropy.io import fits

    rng = np.random.default_rng(5)
    array = rng.normal(1000.0, 25.0, (45, 70)).astype(dtype)
    array[3, 4] = np.nan
    array[10, :] = 0.0
    array[20:22, 0:35] = np.nan
    ours = encode_image(array, comp, threads=2)
    methods = {"NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}
    hdu = fits.CompImageHDU(
        array,
        compression_type=comp.algorithm,
        tile_shape=comp.tile_shape or (1, 70),
        quantize_level=comp.level,
        quantize_method=methods[comp.dither],
        dither_seed=comp.seed or 1,
    )
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    header, raw, offset = _file_bytes(ours)
    with (
        fits.open(io.BytesIO(buffer.getvalue()), disable_image_compression=True) as ref,
        fits.open(io.BytesIO(raw), disable_image_compression=True) as mine,
    ):
        theirs_cards = [(c.keyword, c.value) for c in ref[1].header.cards if c.keyword not in _SKIP]
        mine_cards = [(c.keyword, c.value) for c in mine[1].header.cards]
        variable = {"PCOUNT", "TFORM1", "TFORM2"}
        assert [k for k, _ in mine_cards] == [k for k, _ in theirs_cards]
        for (key, value), (_, expected) in zip(mine_cards, theirs_cards, strict=True):
            if key not in variable:
                assert value == expected, key
        for column in ("ZSCALE", "ZZERO"):
            np.testing.assert_array_equal(mine[1].data[column], ref[1].data[column])
        if comp.algorithm == "RICE_1":
            # No gzip framing involved: quantized tiles are the same bytes (tiles stored
            # losslessly, e.g. the all-zero row, use gzip at another level).
            for row_mine, row_ref in zip(
                mine[1].data["COMPRESSED_DATA"], ref[1].data["COMPRESSED_DATA"], strict=True
            ):
                np.testing.assert_array_equal(row_mine, row_ref)
        fallback_mine = [len(r) > 0 for r in mine[1].data["GZIP_COMPRESSED_DATA"]]
        fallback_ref = [len(r) > 0 for r in ref[1].data["GZIP_COMPRESSED_DATA"]]
        assert fallback_mine == fallback_ref
    with fits.open(io.BytesIO(buffer.getvalue())) as ref:
        expected = np.array(ref[1].data)
    import fitsio

    path = tmp_path / "quantized.fits"
    path.write_bytes(raw)
    np.testing.assert_array_equal(fitsio.read(str(path), ext=1), expected)
    with open_range_reader(raw) as reader:
        got = decode_image(header, reader, offset)
        np.testing.assert_array_equal(got, expected)
        region = (slice(5, 30), slice(13, 61))
        np.testing.assert_array_equal(decode_image(header, reader, offset, region), expected[region])
    assert ours.trailing_cards == [("ZBLANK", -2147483648, "")]
    assert encode_image(array, comp, threads=1).data == ours.data


def test_rice_float_without_quantization_truncates_like_reference() -> None:
    """FORMAT.md §12.2: RICE_1 on floats without quantization stores truncated integers."""
    array = np.array([[1.7, -2.5, 3.2, 100.9]], dtype=np.float32)
    header, raw, offset = _file_bytes(encode_image(array, TileCompression("RICE_1")))
    with open_range_reader(raw) as reader:
        got = decode_image(header, reader, offset)
    np.testing.assert_array_equal(got, np.array([[1.0, -2.0, 3.0, 100.0]], dtype=np.float32))


def test_rice_rejects_int64() -> None:
    with pytest.raises(TypeError, match="RICE_1"):
        encode_image(np.zeros((4, 4), dtype=np.int64), TileCompression("RICE_1"))
    with pytest.raises(TypeError, match="bool"):
        encode_image(np.zeros((4, 4), dtype=bool), None)
    with pytest.raises(ValueError, match="2-D"):
        encode_image(np.zeros(4, dtype=np.float32), None)


def test_region_reads_fetch_only_needed_tiles() -> None:
    array = _random("f4", (512, 512), seed=3)
    comp = TileCompression("GZIP_2", tile_shape=(64, 64))
    encoded = encode_image(array, comp)
    header, raw, offset = _file_bytes(encoded)
    sizes = np.frombuffer(encoded.data[: 8 * 64], dtype=">i4").reshape(64, 2)[:, 0]
    region = (slice(100, 300), slice(130, 200))
    needed = sum(int(sizes[j * 8 + i]) for j in range(1, 5) for i in range(2, 4))
    with open_range_reader(raw) as reader:
        got = decode_image(header, reader, offset, region)
        np.testing.assert_array_equal(got, array[region])
        descriptor_bytes = 4 * 8 * 2  # four runs of two rows
        assert reader.bytes_read <= 1.3 * needed + descriptor_bytes
        assert reader.request_count <= 8
    # Row tiles: a 200-row cut-out reads 200 rows' tiles (one contiguous range) and their descriptors.
    encoded = encode_image(array, TileCompression("GZIP_2"))
    header, raw, offset = _file_bytes(encoded)
    sizes = np.frombuffer(encoded.data[: 8 * 512], dtype=">i4").reshape(512, 2)[:, 0]
    with open_range_reader(raw) as reader:
        np.testing.assert_array_equal(
            decode_image(header, reader, offset, (slice(50, 250), slice(0, 10))), array[50:250, :10]
        )
        assert reader.bytes_read <= 1.3 * int(sizes[50:250].sum()) + 8 * 200
        assert reader.request_count == 2


def test_plain_image_region_reads() -> None:
    array = _random("u2", (300, 200), seed=4)
    header, raw, offset = _file_bytes(encode_image(array, None))
    with open_range_reader(raw) as reader:
        region = (slice(10, 20), slice(50, 60))
        np.testing.assert_array_equal(decode_image(header, reader, offset, region), array[region])
        assert reader.bytes_read <= 10 * 200 * 2
    with open_range_reader(raw) as reader:
        np.testing.assert_array_equal(decode_image(header, reader, offset), array)


def test_truncated_data_names_the_file(tmp_path: Path) -> None:
    array = _random("f4", (64, 64), seed=6)
    header, raw, offset = _file_bytes(encode_image(array, TileCompression("GZIP_2")))
    path = tmp_path / "cut.fits"
    first_tile = int(np.frombuffer(raw[offset : offset + 4], dtype=">i4")[0])
    path.write_bytes(raw[: offset + 8 * 64 + first_tile + 10])
    with open_range_reader(path) as reader, pytest.raises(TruncatedFileError, match="cut.fits"):
        decode_image(header, reader, offset)
    # The descriptor rows are readable, so a region in the first row still decodes.
    with open_range_reader(path) as reader:
        np.testing.assert_array_equal(
            decode_image(header, reader, offset, (slice(0, 1), slice(0, 5))), array[:1, :5]
        )


def test_corrupt_tile_raises() -> None:
    array = _random("f4", (16, 16), seed=7)
    header, raw, offset = _file_bytes(encode_image(array, TileCompression("GZIP_2")))
    corrupted = bytearray(raw)
    heap = offset + 8 * 16
    corrupted[heap + 12 : heap + 40] = b"\xff" * 28
    with open_range_reader(bytes(corrupted)) as reader, pytest.raises(TileCorruptError):
        decode_image(header, reader, offset)


def test_region_outside_image_raises() -> None:
    array = _random("f4", (16, 16), seed=8)
    header, raw, offset = _file_bytes(encode_image(array, TileCompression("GZIP_2")))
    with open_range_reader(raw) as reader, pytest.raises(IndexError):
        decode_image(header, reader, offset, (slice(0, 17), slice(0, 4)))


@pytest.mark.parametrize(
    "comp",
    [
        None,
        TileCompression("GZIP_2"),
        TileCompression("GZIP_1", tile_shape=(3, 5)),
        TileCompression("RICE_1"),
    ],
    ids=str,
)
def test_big_endian_and_strided_inputs(comp: Any) -> None:
    """Inputs in any byte order / memory layout encode to the same bytes as native C arrays."""
    base = _random("i4", (40, 60), seed=9)
    reference = encode_image(base, comp)
    for variant in (base.astype(">i4"), np.asfortranarray(base), np.repeat(base, 2, axis=1)[:, ::2]):
        assert encode_image(variant, comp).data == reference.data


def test_tiles_larger_than_image_and_empty_regions() -> None:
    array = _random("f4", (10, 12), seed=10)
    header, raw, offset = _file_bytes(encode_image(array, TileCompression("GZIP_2", tile_shape=(64, 64))))
    with open_range_reader(raw) as reader:
        np.testing.assert_array_equal(decode_image(header, reader, offset), array)
        empty = decode_image(header, reader, offset, (slice(3, 3), slice(0, 12)))
        assert empty.shape == (0, 12) and empty.dtype == np.float32


def test_large_stored_planes_split_into_blocks() -> None:
    """Noise planes longer than 65535 bytes are split into several stored blocks."""
    from astropy.io import fits

    array = _random("f4", (300, 300), seed=11)
    encoded = encode_image(array, TileCompression("GZIP_2", tile_shape=(300, 300)))
    header, raw, offset = _file_bytes(encoded)
    with fits.open(io.BytesIO(raw)) as hdus:
        np.testing.assert_array_equal(hdus[1].data, array)
    with open_range_reader(raw) as reader:
        np.testing.assert_array_equal(decode_image(header, reader, offset), array)


def test_noise_planes_are_stored_verbatim() -> None:
    """GZIP_2 noise planes go into stored deflate blocks (fast to inflate), structure is deflated."""
    from lsst.images.fits._codec import _gzip

    rng = np.random.default_rng(12)
    row = rng.normal(0.0, 25.0, (1, 4096)).astype(np.float32)
    encoded = encode_image(row, TileCompression("GZIP_2"))
    payload = encoded.data[8 : 8 + int(np.frombuffer(encoded.data[:4], dtype=">i4")[0])]
    planes = row.astype(">f4").view(np.uint8).reshape(4096, 4).T
    assert planes[3].tobytes() in payload  # lowest mantissa byte: noise, stored as is
    assert planes[0].tobytes() not in payload  # sign/exponent plane: deflated
    assert len(payload) < 4 * 4096
    assert _gzip.inflate(payload, 4 * 4096) == planes.tobytes()
    zeros = encode_image(np.zeros((1, 4096), dtype=np.float32), TileCompression("GZIP_2"))
    assert int(np.frombuffer(zeros.data[:4], dtype=">i4")[0]) < 100


def test_zlib_without_isal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without isal the engine falls back to zlib and writes the same kind of members."""
    import zlib

    from astropy.io import fits

    from lsst.images.fits._codec import _gzip

    monkeypatch.setattr(_gzip, "_fast", None)
    monkeypatch.setattr(_gzip, "_compressobj", zlib.compressobj)
    monkeypatch.setattr(_gzip, "_crc32", zlib.crc32)
    array = _random("f4", (64, 300), seed=13)
    for comp in (TileCompression("GZIP_2"), TileCompression("GZIP_1", tile_shape=(16, 16))):
        header, raw, offset = _file_bytes(encode_image(array, comp))
        with fits.open(io.BytesIO(raw)) as hdus:
            np.testing.assert_array_equal(hdus[1].data, array)
        with open_range_reader(raw) as reader:
            np.testing.assert_array_equal(decode_image(header, reader, offset), array)


@pytest.mark.parametrize(
    "dtype,comp",
    [
        ("f4", TileCompression("GZIP_2")),
        ("u2", TileCompression("GZIP_2")),
        ("f8", TileCompression("GZIP_1")),
        ("f4", TileCompression("GZIP_2", tile_shape=(32, 48))),
        ("i4", TileCompression("RICE_1", tile_shape=(16, 16))),
        ("f4", TileCompression("RICE_1", dither="SUBTRACTIVE_DITHER_2", level=16.0, seed=3)),
        (
            "f8",
            TileCompression("GZIP_2", dither="SUBTRACTIVE_DITHER_1", level=4.0, seed=3, tile_shape=(8, 500)),
        ),
    ],
    ids=str,
)
def test_threaded_paths_match_serial(dtype: str, comp: TileCompression) -> None:
    """Images big enough for worker threads: same bytes and same pixels as serial work."""
    array = _random(dtype, (400, 500), seed=14)
    assert array.nbytes > 256 << 10
    parallel = encode_image(array, comp, threads=3)
    assert parallel.data == encode_image(array, comp, threads=1).data
    header, raw, offset = _file_bytes(parallel)
    with open_range_reader(raw) as reader:
        serial = decode_image(header, reader, offset, threads=1)
        threaded = decode_image(header, reader, offset, threads=3)
        np.testing.assert_array_equal(threaded, serial)
        if comp.dither is None:
            np.testing.assert_array_equal(threaded, array)
        else:
            assert np.nanmax(np.abs(threaded - array)) < 30.0
        region = (slice(7, 390), slice(33, 480))
        np.testing.assert_array_equal(decode_image(header, reader, offset, region, threads=3), serial[region])
