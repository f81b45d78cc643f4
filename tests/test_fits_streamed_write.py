"""Compressed HDUs are written while their tiles compress, byte for byte as the buffered path.

Writing to a real file, `FitsOutputArchive` writes each lossless compressed HDU's header
(with placeholder table cards) and a zeroed table first, streams the tile payloads as the
worker threads finish them, then patches header and table in place.  The file must be
exactly what the buffered path (all payloads first, then header + table + heap) writes,
with valid checksums, for every lossless codec and for the band-by-band mask.
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits as afits

from lsst.images import Image, MaskedImage, MaskPlane, MaskSchema, fits
from lsst.images.fits import FitsCompressionAlgorithm, FitsCompressionOptions
from lsst.images.fits._output import FitsOutputArchive
from lsst.images.fits._tiles import _encode


def _masked() -> MaskedImage:
    rng = np.random.default_rng(8)
    pixels = (100 + 5 * rng.standard_normal((300, 410))).astype(np.float32)
    schema = MaskSchema([MaskPlane(f"P{i}", "plane") for i in range(20)])
    masked = MaskedImage(Image(pixels, unit=u.nJy), mask_schema=schema)
    masked.mask.set("P3", pixels > 108)
    masked.mask.set("P17", pixels < 92)
    masked.variance.array[...] = 25 + rng.random(pixels.shape, dtype=np.float32)
    return masked


OPTIONS = {
    "gzip2": None,
    "gzip1": {"image": FitsCompressionOptions(algorithm=FitsCompressionAlgorithm.GZIP_1)},
    "rice": {"mask": FitsCompressionOptions(algorithm=FitsCompressionAlgorithm.RICE_1)},
    "tiles": {"variance": FitsCompressionOptions(tile_shape=(64, 50))},
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("checksum", [True, False])
def test_streamed_file_is_byte_identical_to_the_buffered_one(
    tmp_path: Path, monkeypatch, name, checksum, deterministic_deflate
):
    masked = _masked()
    streamed_calls = []
    original = FitsOutputArchive._write_streamed_hdu

    def spy(self, header, encoded, key):
        streamed_calls.append(str(key))
        return original(self, header, encoded, key)

    monkeypatch.setattr(FitsOutputArchive, "_write_streamed_hdu", spy)
    a, b = tmp_path / "streamed.fits", tmp_path / "buffered.fits"
    fits.write(masked, str(a), compression_options=OPTIONS[name], checksum=checksum)
    assert len(streamed_calls) >= 3  # image, mask (band by band) and variance
    monkeypatch.setattr(FitsOutputArchive, "_streams", lambda self: False)
    fits.write(masked, str(b), compression_options=OPTIONS[name], checksum=checksum)
    assert len(streamed_calls) >= 3 and a.read_bytes() == b.read_bytes()
    back = MaskedImage.read_fits(str(a))
    np.testing.assert_array_equal(back.image.array, masked.image.array)
    np.testing.assert_array_equal(back.mask.array, masked.mask.array)
    if checksum:
        with afits.open(a, checksum=True, disable_image_compression=True) as hdus:
            for hdu in hdus:
                assert hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1, hdu.name


def test_failure_while_streaming_leaves_the_old_file(tmp_path: Path, monkeypatch):
    path = tmp_path / "image.fits"
    path.write_bytes(b"old contents")
    calls = {"n": 0}
    original = _encode._lossless_chunk

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("simulated failure in a worker")
        return original(*args, **kwargs)

    monkeypatch.setattr(_encode, "_lossless_chunk", failing)
    big = Image(np.zeros((2048, 512), dtype=np.float32))
    with pytest.raises(MemoryError, match="simulated"):
        fits.write(big, str(path))
    assert path.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.fits"]


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("shape", [(1, 7), (5, 3000), (257, 64)])
def test_streamed_file_is_identical_for_any_thread_count_and_shape(
    tmp_path: Path, monkeypatch, threads, shape, deterministic_deflate
):
    rng = np.random.default_rng(shape[0])
    image = Image(rng.normal(size=shape).astype(np.float32))
    a, b = tmp_path / "streamed.fits", tmp_path / "buffered.fits"
    fits.write(image, str(a), threads=threads)
    monkeypatch.setattr(FitsOutputArchive, "_streams", lambda self: False)
    fits.write(image, str(b), threads=threads)
    assert a.read_bytes() == b.read_bytes()
    np.testing.assert_array_equal(Image.read_fits(str(a)).array, image.array)


@pytest.mark.parametrize("threads", [1, 3])
def test_streamed_and_buffered_files_read_the_same_with_the_default_compressor(
    tmp_path: Path, monkeypatch, threads
):
    # With ISA-L (when installed) the deflate streams may differ by a few bytes between
    # writes; what is read back, and the checksums, may not.
    masked = _masked()
    a, b = tmp_path / "streamed.fits", tmp_path / "buffered.fits"
    fits.write(masked, str(a), threads=threads)
    monkeypatch.setattr(FitsOutputArchive, "_streams", lambda self: False)
    fits.write(masked, str(b), threads=threads)
    first, second = MaskedImage.read_fits(str(a)), MaskedImage.read_fits(str(b))
    for plane in ("image", "mask", "variance"):
        assert np.array_equal(getattr(first, plane).array, getattr(masked, plane).array)
        assert np.array_equal(getattr(second, plane).array, getattr(masked, plane).array)
    for path in (a, b):
        with afits.open(path, disable_image_compression=True, checksum=True) as hdus:
            for hdu in hdus:
                assert hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1, hdu.name
