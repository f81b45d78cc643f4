"""The on-disk mask layout (FORMAT.md section 3.4) checked against the reference fixtures.

These tests read the reference files' MASK HDUs directly with astropy, so they
exercise the packing/unpacking logic and header cards of `Mask` independently
of the FITS archive layer.
"""

import hashlib
import json

import astropy.io.fits
import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images import Box, Image, Mask, MaskPlane, MaskSchema
from lsst.images._image import _make_header_updater, fits_unit_string


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()).hexdigest()


def _mask_fixtures():
    cases = []
    for folder in ("lsst-images-2100", "lsst-images-4300"):
        try:
            manifest = load_manifest(folder)
        except BaseException:  # pytest.skip raises outside a test: just list nothing
            return []
        for name, entry in manifest["files"].items():
            if any(key.startswith("MASK") for key in entry.get("decoded_hdus_astropy", {})):
                cases.append((folder, name))
    return cases


def _mask_subtree(tree: dict) -> dict:
    return tree if "planes" in tree else tree["mask"]


def _read_fixture_mask(folder: str, name: str) -> tuple[Mask, dict, astropy.io.fits.HDUList]:
    directory = fixture_dir(folder)
    entry = load_manifest(folder)["files"][name]
    tree = _mask_subtree(json.loads((directory / entry["json_tree_file"]).read_text()))
    planes = [None if p is None else MaskPlane(p["name"], p["description"]) for p in tree["planes"]]
    schema = MaskSchema(planes, dtype=tree["dtype"])
    start = tree.get("start", tree.get("yx0"))
    hdus = astropy.io.fits.open(directory / entry["file"])
    mask_hdus = [hdu for hdu in hdus if hdu.name == "MASK"]
    assert len(mask_hdus) == len(tree["data"])
    mask = Mask(schema=schema, shape=mask_hdus[0].data.shape, start=start)
    for chunk, hdu in zip(schema.split(np.int32), mask_hdus, strict=True):
        mask._set_from_storage_array(chunk, hdu.data)
    return mask, entry, hdus


@pytest.mark.parametrize("folder,name", _mask_fixtures())
def test_unpack_matches_reference_in_memory_mask(folder, name):
    mask, entry, hdus = _read_fixture_mask(folder, name)
    expect = entry["expect"]
    plane = expect["planes"]["mask"]
    assert mask.bbox == Box.factory[slice(*expect["bbox"]["y"]), slice(*expect["bbox"]["x"])]
    assert mask.array.dtype == np.dtype(plane["dtype"])
    assert list(mask.array.shape) == plane["shape3d"]
    assert mask.schema.mask_size == plane["mask_size"]
    for pname, bit in plane["bits"].items():
        assert mask.schema.bit(pname).index == bit["index"]
        assert int(mask.schema.bit(pname).mask) == bit["mask"]
    for pname, count in plane["plane_counts"].items():
        assert int(mask.get(pname).sum()) == count
    for sample in plane["samples"]:
        local = (sample["y"] - mask.bbox.y.start, sample["x"] - mask.bbox.x.start)
        assert list(mask.array[local]) == sample["raw"]
    assert _sha(mask.array) == plane["sha256"]


@pytest.mark.parametrize("folder,name", _mask_fixtures())
def test_pack_matches_reference_hdus(folder, name):
    mask, entry, hdus = _read_fixture_mask(folder, name)
    packed = mask._to_storage_arrays()
    decoded = entry["decoded_hdus_astropy"]
    keys = ["MASK"] + [f"MASK,{i}" for i in range(2, len(packed) + 1)]
    assert [k for k in decoded if k.startswith("MASK")] == keys
    for key, (_, array) in zip(keys, packed, strict=True):
        assert array.dtype == np.int32
        assert _sha(array) == decoded[key]["sha256"]


@pytest.mark.parametrize("folder,name", [c for c in _mask_fixtures() if c[1].startswith("mask_")])
def test_mask_header_cards_match_reference(folder, name):
    mask, entry, hdus = _read_fixture_mask(folder, name)
    expected = entry["header_mask"]
    after_extname = expected[[card[0] for card in expected].index("EXTNAME") + 1 :]
    # 4300 files end with a DATE card, which the archive (not the Mask) writes.
    after_extname = [card for card in after_extname if card[0] != "DATE"]
    chunk = mask.schema.split(np.int32)[0]
    header = astropy.io.fits.Header()
    _make_header_updater(mask, unit=None, update_header=chunk.update_header, add_offset_wcs="A")(header)
    assert [[c.keyword, c.value, c.comment] for c in header.cards] == after_extname


def test_image_header_cards_without_projection():
    header = astropy.io.fits.Header()
    image = Image(0.0, shape=(2, 3), start=(7, -4), unit="nJy")
    _make_header_updater(image, unit=image.unit, update_header=lambda h: None, add_offset_wcs="A")(header)
    assert [(c.keyword, c.value) for c in header.cards] == [
        ("BUNIT", "nJy"),
        ("CTYPE1A", "LINEAR"),
        ("CTYPE2A", "LINEAR"),
        ("CRPIX1A", 1.0),
        ("CRPIX2A", 1.0),
        ("CRVAL1A", -4.0),
        ("CRVAL2A", 7.0),
        ("CUNIT1A", "PIXEL"),
        ("CUNIT2A", "PIXEL"),
    ]
    assert fits_unit_string(image.unit**2) == "nJy2"
    assert fits_unit_string(None) is None
    import astropy.units as u

    assert fits_unit_string(u.electron) is None  # 2100 omits BUNIT when FITS cannot spell the unit
    header = astropy.io.fits.Header()
    _make_header_updater(image, unit=None, update_header=lambda h: None, add_offset_wcs=None)(header)
    assert len(header) == 0


def test_round_trip_many_planes_signed_and_unsigned():
    rng = np.random.default_rng(7)
    for dtype in (np.uint8, np.int8, np.int16, np.uint64):
        planes = [MaskPlane(f"P{i}", "") if i % 7 else None for i in range(75)]
        mask = Mask(schema=MaskSchema(planes, dtype=dtype), shape=(5, 6))
        for name in mask.schema.names:
            mask.set(name, rng.random((5, 6)) < 0.3)
        packed = mask._to_storage_arrays()
        assert [len(chunk) for chunk, _ in packed] == [31, 31, 2]
        assert all((array >= 0).all() for _, array in packed)
        rebuilt = Mask(schema=mask.schema, bbox=mask.bbox)
        for chunk, array in packed:
            rebuilt._set_from_storage_array(chunk, array)
        assert rebuilt == mask
    empty = Mask(schema=MaskSchema([None]), shape=(2, 2))
    ((chunk, array),) = empty._to_storage_arrays()
    assert len(chunk) == 0 and not array.any()


@pytest.mark.parametrize("n_planes", [5, 14, 31, 40])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.uint64])
def test_packed_bits_are_the_named_planes(dtype, n_planes):
    """Bit k of each stored int32 is the k-th named plane (whole words, lanes and generic shifts)."""
    rng = np.random.default_rng(11)
    planes = [MaskPlane(f"P{i}", "") for i in range(n_planes)]
    mask = Mask(schema=MaskSchema(planes, dtype=dtype), shape=(9, 13))
    truth = {name: rng.random((9, 13)) < 0.4 for name in mask.schema.names}
    for name, values in truth.items():
        mask.set(name, values)
    for chunk, packed in mask._to_storage_arrays():
        for k, plane in enumerate(chunk):
            np.testing.assert_array_equal((packed >> k) & 1 == 1, truth[plane.name], err_msg=plane.name)
        rebuilt = Mask(schema=mask.schema, bbox=mask.bbox)
        rebuilt._set_from_storage_array(chunk, packed)
        for plane in chunk:
            np.testing.assert_array_equal(rebuilt.get(plane.name), truth[plane.name])
