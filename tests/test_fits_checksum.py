"""FITS checksums: written on every HDU, accepted by astropy and fitsio, verified on read.

The ones-complement arithmetic is checked against astropy's own checksums (the
reference implementation of the convention), then our files are opened by astropy
(``checksum=True``, ``verify_checksum``) and fitsio (``verify_checksum``), and damaged
copies are refused by our reader with an error naming the file and the HDU.
"""

from __future__ import annotations

import io
import warnings

import astropy.io.fits
import astropy.units as u
import numpy as np
import pytest

from conftest import FIXTURES
from lsst.images import Box, Image, MaskedImage, MaskPlane, MaskSchema, fits
from lsst.images.fits import _checksum
from lsst.images.fits._headers import find_header_end


def _masked_image(compression: bool = True) -> MaskedImage:
    rng = np.random.default_rng(5)
    image = Image(rng.normal(size=(60, 50)).astype(np.float32), unit=u.nJy, bbox=Box.factory[3:63, -4:46])
    masked = MaskedImage(image, mask_schema=MaskSchema([MaskPlane("BAD", "bad"), MaskPlane("SAT", "sat")]))
    masked.mask.set("SAT", image.array > 1.0)
    return masked


def _write(tmp_path, obj, name="obj.fits", **kwargs):
    path = tmp_path / name
    fits.write(obj, str(path), **kwargs)
    return path


def _hdu_offsets(path) -> dict[str, tuple[int, int, int]]:
    """EXTNAME -> (header start, data start, data size) from astropy's own parse."""
    with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
        return {
            (hdu.name or "PRIMARY"): (
                hdu.fileinfo()["hdrLoc"],
                hdu.fileinfo()["datLoc"],
                hdu.fileinfo()["datSpan"],
            )
            for hdu in hdus
        }


@pytest.mark.parametrize("shape", [(7, 13), (64, 33), (1, 3)])
def test_sums_match_astropy(shape):
    rng = np.random.default_rng(sum(shape))
    hdu = astropy.io.fits.ImageHDU(rng.normal(size=shape).astype(">f4"))
    buffer = io.BytesIO()
    astropy.io.fits.HDUList([astropy.io.fits.PrimaryHDU(), hdu]).writeto(buffer, checksum=True)
    raw = buffer.getvalue()
    start = find_header_end(raw)
    end = find_header_end(raw, start)
    header = raw[start:end]
    stored = astropy.io.fits.Header.fromstring(header.decode())
    data = np.ascontiguousarray(hdu.data).tobytes()
    assert _checksum.data_sum([data]) == int(stored["DATASUM"])
    # Pieces at any alignment add up to the same sum.
    assert _checksum.data_sum([data[:5], data[5:11], b"", data[11:]]) == int(stored["DATASUM"])
    _checksum.verify_header(header, int(stored["DATASUM"]), "x")
    placeholder = header.replace(stored["CHECKSUM"].encode(), b"0" * 16)
    total = _checksum.combine([_checksum.ones_sum(placeholder), int(stored["DATASUM"])])
    assert _checksum.checksum_string(total) == stored["CHECKSUM"]


def test_every_hdu_has_valid_checksums_for_astropy_and_fitsio(tmp_path):
    path = _write(tmp_path, _masked_image())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # astropy warns on a failed verification
        with astropy.io.fits.open(path, checksum=True, disable_image_compression=True) as hdus:
            names = [hdu.name for hdu in hdus]
            assert names == ["PRIMARY", "IMAGE", "MASK", "VARIANCE", "JSON", "INDEX"]
            for hdu in hdus:
                assert "CHECKSUM" in hdu.header and "DATASUM" in hdu.header
                assert hdu.verify_checksum() == 1
                assert hdu.verify_datasum() == 1
    fitsio = pytest.importorskip("fitsio")
    with fitsio.FITS(str(path)) as f:
        for hdu in f:
            hdu.verify_checksum()  # raises on a bad checksum


def test_astropy_and_fitsio_detect_damage_in_our_files(tmp_path):
    path = _write(tmp_path, _masked_image(), compression_options={"image": None})
    start, data, size = _hdu_offsets(path)["IMAGE"]
    raw = bytearray(path.read_bytes())
    raw[data + 100] ^= 0x10
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with astropy.io.fits.open(path, checksum=True) as hdus:
            assert hdus["IMAGE"].verify_datasum() == 0
    assert any("IMAGE" in str(w.message) for w in caught)
    fitsio = pytest.importorskip("fitsio")
    with fitsio.FITS(str(path)) as f, pytest.raises(ValueError, match="checksum"):
        f["IMAGE"].verify_checksum()


def test_checksums_can_be_turned_off(tmp_path):
    path = _write(tmp_path, _masked_image(), checksum=False)
    with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
        assert all("CHECKSUM" not in hdu.header for hdu in hdus)
    assert MaskedImage.read_fits(str(path)).image.array.shape == (60, 50)


def test_4300_layout_carries_checksums(tmp_path):
    path = _write(tmp_path, _masked_image(), layout="4300")
    with astropy.io.fits.open(path, checksum=True, disable_image_compression=True) as hdus:
        assert all(hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1 for hdu in hdus)


def _flip(path, offset, bit=0x01):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= bit
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("hdu", ["IMAGE", "VARIANCE", "JSON", "INDEX"])
def test_flipped_data_byte_is_refused_naming_file_and_hdu(tmp_path, hdu):
    original = _masked_image()
    path = _write(tmp_path, original, compression_options={"image": None, "variance": None})
    _, data, _ = _hdu_offsets(path)[hdu]
    # A low-order mantissa bit of a pixel (IMAGE/VARIANCE): a silent change without checksums.
    _flip(path, data + 43 if hdu in ("IMAGE", "VARIANCE") else data + 2)
    if hdu in ("IMAGE", "VARIANCE"):
        changed = fits.read(MaskedImage, str(path), verify=False).deserialized
        assert not np.array_equal(getattr(changed, hdu.lower()).array, getattr(original, hdu.lower()).array)
    with pytest.raises(fits.InvalidFitsArchiveError, match=rf"obj\.fits.*{hdu}") as info:
        MaskedImage.read_fits(str(path))
    assert isinstance(info.value, _checksum.ChecksumMismatchError) or hdu in ("JSON", "INDEX")


def test_flipped_header_byte_is_refused(tmp_path):
    path = _write(tmp_path, _masked_image())
    start, _, _ = _hdu_offsets(path)["MASK"]
    # Inside the comment of the first card: harmless to parsers, caught by CHECKSUM.
    _flip(path, start + 60, 0x02)
    with pytest.raises(_checksum.ChecksumMismatchError, match=r"obj\.fits: HDU 'MASK': CHECKSUM mismatch"):
        MaskedImage.read_fits(str(path))


def test_cutout_verifies_small_hdus_whole(tmp_path):
    original = _masked_image()
    path = _write(tmp_path, original, compression_options={"image": None})
    _, data, _ = _hdu_offsets(path)["IMAGE"]
    _flip(path, data + 4 * 50 * 59 + 3)  # last row, far from the cut-out
    bbox = Box.factory[3:8, -4:0]
    cut = fits.read(MaskedImage, str(path), bbox=bbox, verify=False).deserialized
    np.testing.assert_array_equal(cut.image.array, original[bbox].image.array)
    with pytest.raises(_checksum.ChecksumMismatchError, match="IMAGE"):
        MaskedImage.read_fits(str(path), bbox=bbox)


def test_cutout_of_large_hdu_reads_only_its_tiles(tmp_path):
    """Above SMALL_DATA a cut-out keeps its cost: it does not read the whole HDU to verify it."""
    image = Image(np.arange(1024 * 1024, dtype=np.float32).reshape(1024, 1024) % 977, unit=u.nJy)
    path = _write(tmp_path, image, compression_options={"image": None})
    with fits.FitsInputArchive.open(str(path)) as archive:
        tree = archive.get_tree(Image._get_archive_tree_type(fits.PointerModel))
        cut = tree.deserialize(archive, bbox=Box.factory[10:20, 10:20])
        assert archive.reader.bytes_read < 200_000
    np.testing.assert_array_equal(cut.array, image.array[10:20, 10:20])


def test_header_edited_by_astropy_still_verifies(tmp_path):
    """astropy updates the checksum cards of an HDU it rewrites: the edit is accepted."""
    path = _write(tmp_path, _masked_image())
    with astropy.io.fits.open(path, mode="update", disable_image_compression=True) as hdus:
        hdus["IMAGE"].header["EXTNAME"] = ("IMAGE", "edited comment")
    with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
        assert hdus["IMAGE"].header.comments["EXTNAME"] == "edited comment"
    back = MaskedImage.read_fits(str(path))
    np.testing.assert_array_equal(back.image.array, _masked_image().image.array)


def test_header_without_both_checksum_cards_is_read_unchecked(tmp_path):
    """A tool that drops both cards leaves an HDU we read unchecked (same-size edit here)."""
    path = _write(tmp_path, _masked_image())
    start, data, _ = _hdu_offsets(path)["IMAGE"]
    raw = bytearray(path.read_bytes())
    header = bytes(raw[start:data])
    for keyword in (b"CHECKSUM=", b"DATASUM ="):
        position = start + header.index(keyword)
        raw[position : position + 80] = b"COMMENT".ljust(80)
    path.write_bytes(bytes(raw))
    back = MaskedImage.read_fits(str(path))
    np.testing.assert_array_equal(back.image.array, _masked_image().image.array)


def test_missing_checksum_card_in_a_checksummed_file_is_refused(tmp_path):
    path = _write(tmp_path, _masked_image())
    start, data, _ = _hdu_offsets(path)["VARIANCE"]
    raw = bytearray(path.read_bytes())
    header = bytes(raw[start:data])
    position = header.index(b"CHECKSUM=")
    raw[start + position : start + position + 8] = b"CHECKSUX"
    path.write_bytes(bytes(raw))
    with pytest.raises(_checksum.ChecksumMismatchError, match="VARIANCE.*no CHECKSUM card"):
        MaskedImage.read_fits(str(path))
    assert fits.read(MaskedImage, str(path), verify=False).deserialized.variance.array.shape == (60, 50)


def test_garbled_datasum_value_is_refused(tmp_path):
    path = _write(tmp_path, _masked_image())
    start, data, _ = _hdu_offsets(path)["IMAGE"]
    raw = bytearray(path.read_bytes())
    position = start + bytes(raw[start:data]).index(b"DATASUM =")
    raw[position + 11] = ord("x")
    path.write_bytes(bytes(raw))
    with pytest.raises(fits.InvalidFitsArchiveError, match="HDU 'IMAGE'.*DATASUM"):
        MaskedImage.read_fits(str(path))


def test_files_without_checksums_read_as_before():
    """Rubin's writer adds no checksum cards: such files are read unchecked, as before."""
    path = FIXTURES / "lsst-images-2100" / "masked_image_f32_default.fits"
    if not path.exists():
        pytest.skip("shared fixtures not found")
    with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
        assert all("CHECKSUM" not in hdu.header for hdu in hdus)
    checked = MaskedImage.read_fits(str(path))
    unchecked = fits.read(MaskedImage, str(path), verify=False).deserialized
    np.testing.assert_array_equal(checked.image.array, unchecked.image.array)
