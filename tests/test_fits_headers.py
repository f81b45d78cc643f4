"""Header helpers of the FITS archive: offset WCS, card stripping, opaque metadata bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits as afits

from lsst.images import fits
from lsst.images.fits._headers import read_offset_wcs, strip_structural_cards
from lsst.images.serialization import ArchiveReadError


def _legacy_primary() -> afits.Header:
    header = afits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = 8
    header["NAXIS"] = 0
    header["EXTEND"] = True
    header["PLATFORM"] = "lsstcam"
    header["HIERARCH LSST ISR UNITS"] = "electron"
    header["HIERARCH LSST BUTLER RUN"] = "u/someone/run"
    header["AR_HDU"] = 5
    header["PSF_ID"] = 3
    header["CRVAL1"] = 10.0
    header["CTYPE1"] = "RA---TAN"
    header["A_ORDER"] = 2
    header["LTV1"] = -4.0
    return header


def test_offset_wcs_roundtrip() -> None:
    header = afits.Header()
    fits.add_offset_wcs(header, x=-3, y=12)
    assert header["CRVAL1A"] == -3.0 and header["CRVAL2A"] == 12.0 and header["CTYPE2A"] == "LINEAR"
    assert read_offset_wcs(header) == (12, -3)
    fits.strip_wcs_cards(header)
    assert len(header) == 0
    assert read_offset_wcs(header) is None


def test_strip_helpers() -> None:
    header = _legacy_primary()
    fits.strip_wcs_cards(header)
    assert "CRVAL1" not in header and "A_ORDER" not in header and "LTV1" not in header
    fits.strip_butler_cards(header)
    assert "LSST BUTLER RUN" not in header
    fits.strip_legacy_exposure_cards(header)
    assert "AR_HDU" not in header and "PSF_ID" not in header
    strip_structural_cards(header)
    assert list(header.keys()) == ["PLATFORM", "LSST ISR UNITS"]


def test_opaque_metadata_bookkeeping() -> None:
    opaque = fits.FitsOpaqueMetadata()
    opaque.extract_legacy_primary_header(_legacy_primary())
    assert list(opaque.headers[fits.ExtensionKey()].keys()) == ["PLATFORM", "LSST ISR UNITS"]
    assert str(opaque.get_instrumental_unit()) == "electron"
    image = afits.Header()
    image["EXTNAME"] = "IMAGE"
    image["KEEP"] = 1
    opaque.add_header(image, name="IMAGE")
    opaque.add_header(afits.Header([("OTHER", 2)]), name="IMAGE")  # first one wins
    assert list(opaque.headers[fits.ExtensionKey("IMAGE")].keys()) == ["KEEP"]
    raw = afits.BinTableHDU.from_columns(
        [afits.Column("COMPRESSED_DATA", "1PB()", array=[np.zeros(3, np.uint8)])]
    )
    opaque.precompressed["IMAGE"] = fits.PrecompressedImage.from_bintable(raw)
    copied = opaque.copy()
    assert copied.precompressed == {} and copied.headers.keys() == opaque.headers.keys()
    assert opaque.subset(None).precompressed == {}
    assert copied != opaque and copied == opaque.subset(None)
    with pytest.raises(TypeError):
        hash(opaque)


def test_extension_keys() -> None:
    key = fits.ExtensionKey.from_str("fits:mask,2")
    assert key == fits.ExtensionKey("MASK", 2) and str(key) == "fits:MASK,2"
    assert str(fits.ExtensionKey("IMAGE")) == "fits:IMAGE"
    assert fits.ExtensionKey.from_str("fits:PSF/PIFF/TABLE[3]") == fits.ExtensionKey("PSF/PIFF/TABLE")
    with pytest.raises(ArchiveReadError):
        fits.ExtensionKey.from_str("IMAGE")
    with pytest.raises(ValueError):
        fits.ExtensionKey("bad name").check()
    row = np.array([(b"MASK", 3)], dtype=[("EXTNAME", "S8"), ("EXTVER", ">i4")])[0]
    assert fits.ExtensionKey.from_index_row(row) == fits.ExtensionKey("MASK", 3)


def test_compression_options_models() -> None:
    lossy = fits.FitsCompressionOptions.model_validate(
        {"algorithm": "RICE_1", "quantization": {"dither": "SUBTRACTIVE_DITHER_2", "level": 16}}
    )
    assert lossy == fits.FitsCompressionOptions.LOSSY and hash(lossy) == hash(
        fits.FitsCompressionOptions.LOSSY
    )
    assert fits.FitsCompressionOptions.DEFAULT.algorithm == fits.FitsCompressionAlgorithm.GZIP_2
    assert [d.to_astropy_quantize_method() for d in fits.FitsDitherAlgorithm] == [-1, 1, 2]
    with pytest.raises(ValueError):
        fits.FitsCompressionOptions(tile_shape=(0, 4))
    with pytest.raises(ValueError):
        fits.FitsQuantizationOptions(dither="NO_DITHER", level=4.0, seed=20000)
    hdu = fits.FitsCompressionOptions(tile_shape=(4, 8)).make_hdu(np.ones((8, 16), np.float32), "IMAGE")
    assert isinstance(hdu, afits.CompImageHDU) and hdu.name == "IMAGE"


def _awkward_header():
    from astropy.io import fits

    header = fits.Header()
    header["XTENSION"] = "BINTABLE"
    header["ZIMAGE"] = True
    header["ZCMPTYPE"] = "GZIP_2  "
    header["ZBITPIX"] = -32
    header["ZVAL1"] = 0.0
    header["BZERO"] = 32768
    header["NEGINT"] = -7
    header["BIGREAL"] = 1.5e300
    header["QUOTED"] = "it's 'quoted'"
    header["EMPTY"] = ""
    header["FLAG"] = False
    header["LONGSTR"] = "x" * 150 + " the end"  # CONTINUE cards
    header["HIERARCH LSST ISR UNITS"] = "electron"
    header["COMMENT"] = "a comment"
    header["HISTORY"] = "a history entry"
    header["EXTNAME"] = "IMAGE"
    header["TFORM1"] = "1PB(791)"
    header.append(("UNDEF", None, "no value"), end=True)
    header.append(("DEXP", 1.0, ""), end=True)
    text = header.tostring().replace("DEXP    =                  1.0", "DEXP    =                1.0D2")
    return text.encode("ascii")


def test_header_values_agree_with_astropy() -> None:
    from astropy.io import fits

    from lsst.images.fits._headers import header_values

    data = _awkward_header()
    parsed = fits.Header.fromstring(data.decode())
    values = header_values(data)
    for key in ("XTENSION", "ZIMAGE", "ZCMPTYPE", "ZBITPIX", "ZVAL1", "BZERO", "NEGINT", "BIGREAL", "QUOTED",
                "EMPTY", "FLAG", "EXTNAME", "TFORM1", "DEXP"):  # fmt: skip
        assert values[key] == parsed[key] and type(values[key]) is type(parsed[key]), key
    assert values["UNDEF"] is None
    assert "COMMENT" not in values and "HISTORY" not in values


def test_header_without_structural_cards_equals_parse_then_strip() -> None:
    from astropy.io import fits

    from lsst.images.fits._headers import header_without_structural_cards, strip_structural_cards

    data = _awkward_header()
    expected = fits.Header.fromstring(data.decode())
    strip_structural_cards(expected)
    got = header_without_structural_cards(data)
    assert got.tostring() == expected.tostring()
    assert got["LONGSTR"] == "x" * 150 + " the end"
    assert "ZIMAGE" not in got and "EXTNAME" not in got and got["HIERARCH LSST ISR UNITS"] == "electron"


def test_remove_cards_keeps_order_and_duplicates_of_others() -> None:
    from astropy.io import fits

    from lsst.images.fits._headers import remove_cards

    header = fits.Header([("A", 1), ("B", 2), ("COMMENT", "c1"), ("A", 3), ("C", 4), ("COMMENT", "c2")])
    remove_cards(header, {"A"}.__contains__)
    assert list(header.keys()) == ["B", "COMMENT", "C", "COMMENT"]
    assert list(header["COMMENT"]) == ["c1", "c2"]


def test_header_map_builds_deferred_headers_once_and_on_demand() -> None:
    from lsst.images.fits._opaque import ExtensionKey, FitsOpaqueMetadata, HeaderMap

    calls: list[str] = []

    def build(name: str) -> afits.Header:
        calls.append(name)
        return afits.Header([("ORIGIN", name)])

    headers = HeaderMap()
    headers.defer(ExtensionKey("IMAGE"), lambda: build("image"))
    headers.defer(ExtensionKey("IMAGE"), lambda: build("ignored"))  # first one wins
    headers[ExtensionKey("MASK")] = afits.Header([("ORIGIN", "mask")])
    meta = FitsOpaqueMetadata(headers)
    copied, sub = meta.copy(), meta.subset(None)
    assert ExtensionKey("IMAGE") in meta.headers and len(meta.headers) == 2 and calls == []
    assert sub.headers[ExtensionKey("IMAGE")]["ORIGIN"] == "image" and calls == ["image"]
    assert copied.headers[ExtensionKey("IMAGE")]["ORIGIN"] == "image"
    assert meta.headers[ExtensionKey("IMAGE")]["ORIGIN"] == "image"
    assert calls == ["image", "image"]  # the subset and the original each built their own once
    copied.headers[ExtensionKey("IMAGE")]["ORIGIN"] = "changed"
    assert meta.headers[ExtensionKey("IMAGE")]["ORIGIN"] == "image"  # copies are independent
    assert list(meta.headers) == [ExtensionKey("IMAGE"), ExtensionKey("MASK")]


def test_read_defers_opaque_headers_until_needed(tmp_path) -> None:
    """Reading does not parse leftover cards; writing the object again still carries them."""
    import lsst.images as li
    from lsst.images.fits._opaque import _Deferred

    image = li.Image(np.arange(12.0).reshape(3, 4), unit=None)
    path = tmp_path / "image.fits"
    fits.write(image, path)
    with afits.open(path, mode="update", disable_image_compression=True) as hdus:
        hdus[1].header["OBSERVER"] = "someone"
    read = fits.read(li.Image, path).deserialized
    items = read._opaque_metadata.headers._items
    assert any(isinstance(value, _Deferred) for value in items.values())
    again = tmp_path / "again.fits"
    fits.write(read, again)
    with afits.open(again, disable_image_compression=True) as hdus:
        assert hdus[1].header["OBSERVER"] == "someone"
