"""Image, Mask and MaskedImage through real FITS files: reference fixtures and round trips.

Every Image/Mask/MaskedImage fixture written by the reference library
(2100 and 4300 layouts) is read with ``read_fits``/``fits.read`` and compared
with the decoded values recorded in the fixture manifests (bbox, dtype, unit,
SHA-256 of every plane, sample pixels, metadata, mask schema and sub-image
reads).  Round trips then check our own writer with each compression setting.
"""

from __future__ import annotations

import hashlib
import json

import astropy.io.fits
import astropy.units as u
import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images import Box, Image, Mask, MaskedImage, MaskPlane, MaskSchema, fits
from lsst.images.tests import assert_images_equal, assert_masked_images_equal, assert_masks_equal

CLASSES = {"Image": Image, "Mask": Mask, "MaskedImage": MaskedImage}


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()).hexdigest()


def _box(d: dict) -> Box:
    return Box.factory[slice(*d["y"]), slice(*d["x"])]


def _cases() -> list[tuple[str, str]]:
    cases = []
    for folder in ("lsst-images-2100", "lsst-images-4300"):
        try:
            manifest = load_manifest(folder)
        except BaseException:  # fixtures absent: the tests using them skip
            return []
        cases.extend((folder, name) for name, entry in manifest["files"].items() if entry["class"] in CLASSES)
    return cases


def _planes(obj) -> dict:
    if isinstance(obj, MaskedImage):
        return {"image": obj.image, "mask": obj.mask, "variance": obj.variance}
    return {"mask" if isinstance(obj, Mask) else "image": obj}


def _check_plane(plane, expect: dict) -> None:
    assert _sha(plane.array) == expect["sha256"]
    assert plane.array.dtype == np.dtype(expect["dtype"])
    if isinstance(plane, Mask):
        assert list(plane.array.shape) == expect["shape3d"]
        schema = [None if p is None else MaskPlane(p["name"], p["description"]) for p in expect["schema"]]
        assert list(plane.schema) == schema
        for name, count in expect["plane_counts"].items():
            assert int(plane.get(name).sum()) == count
        return
    unit = expect.get("unit")
    assert plane.unit == (None if unit is None else u.Unit(unit))
    assert int(np.isnan(plane.array).sum()) == expect.get("nan_count", 0)
    for sample in expect["samples"]:
        value = plane.array[sample["y"] - plane.bbox.y.start, sample["x"] - plane.bbox.x.start]
        if isinstance(sample["value"], str):
            assert np.isnan(value)
        else:
            assert value == sample["value"]


@pytest.mark.parametrize("folder,name", _cases())
def test_read_reference_fixture(folder, name):
    entry = load_manifest(folder)["files"][name]
    cls = CLASSES[entry["class"]]
    path = fixture_dir(folder) / entry["file"]
    obj = cls.read_fits(str(path))
    assert type(obj) is cls
    expect = entry["expect"]
    assert obj.bbox == _box(expect["bbox"])
    for plane_name, plane in _planes(obj).items():
        assert plane.bbox == obj.bbox
        _check_plane(plane, expect["planes"][plane_name])
    if "metadata" in expect and folder.endswith("2100"):
        assert obj.metadata == expect["metadata"]
    assert (obj.projection is None) == (expect.get("projection") is None)
    if isinstance(obj, MaskedImage):
        assert obj.variance.unit == (None if obj.unit is None else obj.unit**2)
        assert obj.mask.projection is obj.projection and obj.variance.projection is obj.projection


@pytest.mark.parametrize("folder,name", _cases())
def test_subimage_reads_of_reference_fixture(folder, name):
    entry = load_manifest(folder)["files"][name]
    cls = CLASSES[entry["class"]]
    path = str(fixture_dir(folder) / entry["file"])
    for label, read in entry["subimage_reads"].items():
        if label.startswith("_"):
            continue
        bbox = _box(read["bbox"])
        if not read["ok"]:
            with pytest.raises(IndexError):
                cls.read_fits(path, bbox=bbox)
            continue
        obj = cls.read_fits(path, bbox=bbox)
        assert obj.bbox == _box(read["result_bbox"]), label
        for plane_name, plane in _planes(obj).items():
            assert _sha(plane.array) == read["sha256"][plane_name], (label, plane_name)


def _random_masked_image(dtype=np.float32, unit=u.nJy, start=(3, -7)) -> MaskedImage:
    rng = np.random.default_rng(99)
    planes = [MaskPlane(f"P{i}", f"Plane {i}.") if i % 11 else None for i in range(36)]
    image = Image(rng.normal(0, 5, size=(30, 41)).astype(dtype), start=start, unit=unit)
    masked = MaskedImage(image, mask_schema=MaskSchema(planes), metadata={"KEY": "value", "n": 2, "f": 0.5})
    for name in masked.mask.schema.names:
        masked.mask.set(name, rng.random((30, 41)) < 0.2)
    masked.variance.array[...] = rng.uniform(1, 3, size=(30, 41))
    return masked


@pytest.mark.parametrize("compressed", [True, False])
def test_masked_image_round_trip(tmp_path, compressed):
    import unittest

    tc = unittest.TestCase()
    masked = _random_masked_image()
    path = str(tmp_path / "mi.fits")
    if compressed:
        masked.write_fits(path)
    else:
        masked.write_fits(path, image_compression=None, mask_compression=None, variance_compression=None)
    back = MaskedImage.read_fits(path)
    assert_masked_images_equal(tc, back, masked)
    box = Box.factory[10:20, -3:30]
    assert_masked_images_equal(tc, MaskedImage.read_fits(path, bbox=box), masked[box].copy())
    with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
        names = [(hdu.name, hdu.ver) for hdu in hdus]
        assert names[:5] == [("PRIMARY", 1), ("IMAGE", 1), ("MASK", 1), ("MASK", 2), ("VARIANCE", 1)]
        assert hdus["MASK", 2].header["MSKN0000"] == "P35"  # slots 0, 11, 22, 33 are placeholders
        assert hdus["VARIANCE"].header["BUNIT"] == "nJy2"
        assert hdus["IMAGE"].header["CRVAL2A"] == 3.0
    # Opaque header cards written by someone else survive a read/write cycle.
    # The edit must keep the header's size (HDU offsets are absolute): it drops a card the
    # writer regenerates.  astropy updates the checksum cards, so the file still verifies.
    with astropy.io.fits.open(path, mode="update", disable_image_compression=True) as hdus:
        del hdus["IMAGE"].header["CUNIT2A"]
        hdus["IMAGE"].header["HISTORY"] = "added outside lsst.images"
    again = MaskedImage.read_fits(path)
    path2 = str(tmp_path / "mi2.fits")
    again.write_fits(path2)
    with astropy.io.fits.open(path2) as hdus:
        assert "added outside lsst.images" in str(hdus["IMAGE"].header["HISTORY"])


def test_image_and_mask_round_trip(tmp_path):
    import unittest

    tc = unittest.TestCase()
    masked = _random_masked_image(dtype=np.float64, unit=None)
    image_path, mask_path = str(tmp_path / "i.fits"), str(tmp_path / "m.fits")
    masked.image.write_fits(image_path)
    masked.mask.write_fits(mask_path, compression=None)
    assert_images_equal(tc, Image.read_fits(image_path), masked.image)
    assert_masks_equal(tc, Mask.read_fits(mask_path), masked.mask)
    with astropy.io.fits.open(image_path) as hdus:
        assert "BUNIT" not in hdus["IMAGE"].header
        tree = json.loads(bytes(hdus["JSON"].data[0][0]).decode())
        assert tree["data"]["source"] == "fits:IMAGE"
    with pytest.raises(IndexError):
        Image.read_fits(image_path, bbox=Box.factory[0:5, 0:5])


def test_fits_write_returns_tree_identical_to_reference(tmp_path):
    schema = MaskSchema([MaskPlane("A", "First."), None, MaskPlane("C", "Third (bit 2 in memory).")])
    mask = Mask(schema=schema, shape=(20, 30))
    path = tmp_path / "mask.fits"
    tree = fits.write(mask, str(path))
    reference = fixture_dir("lsst-images-2100") / "mask_u8_nocomp_placeholder.tree.json"
    assert tree.model_dump_json().encode() == reference.read_bytes()


def test_cards_we_write_are_stripped_on_read(tmp_path):
    """After a read, the per-HDU opaque headers hold nothing the library wrote itself."""
    from lsst.images.fits import ExtensionKey
    from test_image_serialization import _fixture_projection

    masked = _random_masked_image()
    masked = MaskedImage(
        masked.image.view(projection=_fixture_projection(True)), mask=masked.mask, variance=masked.variance
    )
    path = str(tmp_path / "sip.fits")
    masked.write_fits(path)
    with astropy.io.fits.open(path) as hdus:
        assert hdus["IMAGE"].header["CTYPE1"] == "RA---TAN-SIP"
        assert "A_ORDER" in hdus["MASK", 2].header
    back = MaskedImage.read_fits(path)
    for key in (
        ExtensionKey("IMAGE"),
        ExtensionKey("MASK"),
        ExtensionKey("MASK", 2),
        ExtensionKey("VARIANCE"),
    ):
        assert len(back._opaque_metadata.headers[key]) == 0, key
    assert back.mask.projection is back.projection is back.variance.projection
