"""Serialization of Image, Mask and MaskedImage through an in-memory archive.

The archive double below stores arrays in a dict under FITS-like sources
(``fits:EXTNAME[,EXTVER]``), so the trees our types produce can be compared
byte for byte with the reference fixtures' JSON trees, and the header
callbacks can be inspected.  It is deliberately independent of the real FITS
and JSON archives.
"""

from __future__ import annotations

import json
import unittest
from collections.abc import Callable
from typing import Any

import astropy.io.fits
import astropy.units as u
import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images import (
    Box,
    Image,
    ImageSerializationModel,
    Mask,
    MaskedImage,
    MaskedImageSerializationModel,
    MaskPlane,
    MaskSchema,
    MaskSerializationModel,
)
from lsst.images._image import _make_header_stripper
from lsst.images.serialization import (
    ArrayReferenceModel,
    InputArchive,
    InvalidParameterError,
    NestedOutputArchive,
    NumberType,
    OutputArchive,
    dump_tree_json,
    no_header_updates,
)
from lsst.images.tests import assert_images_equal, assert_masked_images_equal, assert_masks_equal

_TC = unittest.TestCase()

# ---------------------------------------------------------------------------
# Archive doubles


class MemoryOutputArchive(OutputArchive[Any]):
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.headers: dict[str, astropy.io.fits.Header] = {}
        self._versions: dict[str, int] = {}

    def add_array(self, array, *, name=None, update_header=no_header_updates):
        assert name is not None, "arrays must be stored under a path"
        extname = name.upper()
        ver = self._versions.get(extname, 0) + 1
        self._versions[extname] = ver
        source = f"fits:{extname}" + (f",{ver}" if ver > 1 else "")
        header = astropy.io.fits.Header()
        update_header(header)
        self.arrays[source] = np.array(array, copy=True)
        self.headers[source] = header
        return ArrayReferenceModel(
            source=source, shape=list(array.shape), datatype=NumberType.from_numpy(array.dtype)
        )

    def add_structured_array(self, *args, **kwargs):
        raise NotImplementedError()

    def add_table(self, *args, **kwargs):
        raise NotImplementedError()

    def serialize_direct(self, name, serializer):
        return serializer(NestedOutputArchive(name, self))

    def serialize_pointer(self, name, serializer, key):
        raise NotImplementedError()

    def serialize_frame_set(self, name, frame_set, serializer, key):
        raise NotImplementedError()

    def iter_frame_sets(self):
        return iter(())


class MemoryInputArchive(InputArchive[Any]):
    def __init__(self, output: MemoryOutputArchive) -> None:
        self.output = output
        self.requests: list[tuple[str, Any]] = []
        self.stripped: dict[str, astropy.io.fits.Header] = {}

    def get_array(self, model, *, slices=..., strip_header=no_header_updates):
        header = self.output.headers[model.source].copy()
        strip_header(header)
        self.stripped[model.source] = header
        self.requests.append((model.source, slices))
        return self.output.arrays[model.source][slices].copy()

    def deserialize_pointer(self, pointer, model_type, deserializer):
        raise NotImplementedError()

    def get_structured_array(self, model, strip_header=no_header_updates):
        raise NotImplementedError()

    def get_table(self, model, strip_header=no_header_updates):
        raise NotImplementedError()

    def get_frame_set(self, ref):
        raise NotImplementedError()


def _write(obj: Any) -> tuple[MemoryOutputArchive, Any]:
    """Serialize like ``fits.write`` does: top-level Image/Mask under their default name."""
    archive = MemoryOutputArchive()
    name = getattr(obj, "_archive_default_name", None)
    tree = obj.serialize(NestedOutputArchive(name, archive) if name else archive)
    return archive, tree


def _reparse(obj_type: type, tree: Any) -> Any:
    """Round-trip a tree through JSON text with the model class the readers would use."""
    model_type = obj_type._get_archive_tree_type(Any)
    return model_type.model_validate_json(dump_tree_json(tree))


# ---------------------------------------------------------------------------
# Trees identical to the reference fixtures


def _tree_bytes(name: str) -> bytes:
    directory = fixture_dir("lsst-images-2100")
    return (directory / f"{name}.tree.json").read_bytes()


FIXTURE_METADATA = {
    "ORIGIN": "lsst.images fixture",
    "answer": 42,
    "pi": 3.14159,
    "flag": True,
    "nothing": None,
}


def test_image_tree_matches_reference_fixture():
    image = Image(0.0, shape=(64, 80), dtype=np.float32, unit=u.nJy, metadata=dict(FIXTURE_METADATA))
    _, tree = _write(image)
    assert isinstance(tree, ImageSerializationModel)
    assert dump_tree_json(tree) == _tree_bytes("image_f32_gzip2_default")
    image = Image(0, shape=(64, 80), start=(100, 200), dtype=np.int32, unit=u.adu)
    assert dump_tree_json(_write(image)[1]) == _tree_bytes("image_i32_gzip1_yx0")


def test_mask_trees_match_reference_fixtures():
    schema = MaskSchema([MaskPlane("A", "First."), None, MaskPlane("C", "Third (bit 2 in memory).")])
    _, tree = _write(Mask(schema=schema, shape=(20, 30)))
    assert isinstance(tree, MaskSerializationModel)
    assert dump_tree_json(tree) == _tree_bytes("mask_u8_nocomp_placeholder")
    planes = [None if i in (5, 33) else MaskPlane(f"P{i:02d}", f"Plane number {i}.") for i in range(42)]
    archive, tree = _write(Mask(schema=MaskSchema(planes), shape=(24, 32)))
    assert dump_tree_json(tree) == _tree_bytes("mask_u8_40planes_2hdus")
    assert list(archive.arrays) == ["fits:MASK", "fits:MASK,2"]
    assert archive.headers["fits:MASK,2"]["MSKN0008"] == "P41"
    schema16 = MaskSchema([MaskPlane(f"Q{i}", f"Plane {i}.") for i in range(20)], dtype=np.uint16)
    assert dump_tree_json(_write(Mask(schema=schema16, shape=(16, 24)))[1]) == _tree_bytes(
        "mask_u16_20planes_gzip1"
    )


def test_masked_image_tree_matches_reference_fixture():
    entry = load_manifest("lsst-images-2100")["files"]["masked_image_f32_default"]
    schema_json = entry["expect"]["planes"]["mask"]["schema"]
    schema = MaskSchema([MaskPlane(p["name"], p["description"]) for p in schema_json])
    image = Image(0.0, shape=(64, 80), start=(10, 20), dtype=np.float32, unit=u.nJy)
    masked = MaskedImage(image, mask_schema=schema)
    archive, tree = _write(masked)
    assert isinstance(tree, MaskedImageSerializationModel)
    assert dump_tree_json(tree) == _tree_bytes("masked_image_f32_default")
    assert list(archive.arrays) == ["fits:IMAGE", "fits:MASK", "fits:VARIANCE"]
    assert archive.headers["fits:VARIANCE"]["BUNIT"] == "nJy2"
    assert archive.headers["fits:MASK"]["MSKN0005"] == "DETECTED"
    assert "BUNIT" not in archive.headers["fits:MASK"]


# ---------------------------------------------------------------------------
# Round trips


def _masked_image() -> MaskedImage:
    rng = np.random.default_rng(11)
    planes = [MaskPlane(f"P{i}", f"plane {i}") if i % 9 else None for i in range(40)]
    schema = MaskSchema(planes, dtype=np.int16)
    image = Image(rng.normal(size=(6, 7)).astype(np.float32), start=(-3, 12), unit=u.nJy)
    masked = MaskedImage(image, mask_schema=schema, metadata={"k": "v", "n": 3})
    for name in schema.names:
        masked.mask.set(name, rng.random((6, 7)) < 0.3)
    masked.variance.array[...] = rng.uniform(1, 2, size=(6, 7))
    return masked


def test_image_round_trip_and_subset():
    image = Image(np.arange(42.0).reshape(6, 7), start=(5, -2), unit=u.Jy, metadata={"a": 1})
    archive, tree = _write(image)
    parsed = _reparse(Image, tree)
    assert parsed.bbox == image.bbox
    reader = MemoryInputArchive(archive)
    back = parsed.deserialize(reader)
    assert_images_equal(_TC, back, image)
    assert back.metadata == {"a": 1}
    sub_box = Box.factory[6:8, 0:3]
    sub = parsed.deserialize(reader, bbox=sub_box)
    assert_images_equal(_TC, sub, image[sub_box].copy())
    assert reader.requests[-1] == ("fits:IMAGE", (slice(1, 3), slice(2, 5)))
    assert parsed.deserialize_component("bbox", reader) == image.bbox
    assert parsed.deserialize_component("projection", reader) is None
    with pytest.raises(IndexError):
        parsed.deserialize(reader, bbox=Box.factory[0:8, 0:3])
    with pytest.raises(InvalidParameterError):
        parsed.deserialize(reader, nonsense=True)


def test_image_without_unit_has_plain_reference():
    image = Image(np.zeros((2, 2), dtype=np.int16))
    archive, tree = _write(image)
    assert isinstance(tree.data, ArrayReferenceModel)
    assert "BUNIT" not in archive.headers["fits:IMAGE"]
    back = _reparse(Image, tree).deserialize(MemoryInputArchive(archive))
    assert back.unit is None and back.array.dtype == np.int16


def test_header_cards_are_stripped_on_read():
    image = Image(np.zeros((2, 2)), start=(1, 1), unit=u.nJy)
    archive, tree = _write(image)
    header = archive.headers["fits:IMAGE"]
    header["EXTRA"] = "kept"
    reader = MemoryInputArchive(archive)
    seen: list[str] = []
    tree.deserialize(reader, strip_header=lambda h: seen.extend(h.keys()))
    assert list(reader.stripped["fits:IMAGE"].keys()) == ["EXTRA"]
    assert seen == ["EXTRA"]  # the caller's stripper runs after ours


def test_mask_round_trip_many_planes_and_subset():
    masked = _masked_image()
    mask = masked.mask
    archive, tree = _write(mask)
    assert [len(h) for h in archive.headers.values()]  # headers written
    assert list(archive.arrays) == ["fits:MASK", "fits:MASK,2"]
    parsed = _reparse(Mask, tree)
    reader = MemoryInputArchive(archive)
    back = parsed.deserialize(reader)
    assert_masks_equal(_TC, back, mask)
    for header in reader.stripped.values():
        assert len(header) == 0
    box = Box.factory[-2:1, 13:16]
    assert_masks_equal(_TC, parsed.deserialize(reader, bbox=box), mask[box].copy())
    assert parsed.schema == mask.schema


def test_masked_image_round_trip_and_components():
    masked = _masked_image()
    archive, tree = _write(masked)
    assert list(archive.arrays) == ["fits:IMAGE", "fits:MASK", "fits:MASK,2", "fits:VARIANCE"]
    parsed = _reparse(MaskedImage, tree)
    assert parsed.bbox == masked.bbox
    reader = MemoryInputArchive(archive)
    back = parsed.deserialize(reader)
    assert_masked_images_equal(_TC, back, masked)
    assert back.variance.unit == u.nJy**2
    box = Box.factory[0:3, 14:19]
    assert_masked_images_equal(_TC, parsed.deserialize(reader, bbox=box), masked[box].copy())
    variance = parsed.deserialize_component("variance", reader, bbox=box)
    assert_images_equal(_TC, variance, masked.variance[box].copy())
    assert parsed.deserialize_component("bbox", reader) == masked.bbox
    assert parsed.deserialize_component("projection", reader) is None


@pytest.mark.parametrize(
    "name,key",
    [
        ("image_f32_with_projection", "header_image"),
        ("image_f32_projection_sip", "header_image"),
        ("mask_u8_3planes_yx0", "header_mask"),
    ],
)
def test_stripper_removes_everything_the_reference_writes(name, key):
    entry = load_manifest("lsst-images-2100")["files"][name]
    cards = entry[key]
    after = cards[[c[0] for c in cards].index("EXTNAME") + 1 :]
    header = astropy.io.fits.Header([tuple(c) for c in after])
    header["OPAQUE"] = ("kept", "not written by the library")

    def strip_masks(h: astropy.io.fits.Header) -> None:
        MaskSchema([MaskPlane("BAD", ""), MaskPlane("SAT", ""), MaskPlane("CR", "")]).strip_header(h)

    strip: Callable[[astropy.io.fits.Header], None] = (
        strip_masks if key == "header_mask" else no_header_updates
    )
    _make_header_stripper(strip)(header)
    assert list(header.keys()) == ["OPAQUE"]


def test_json_tree_field_order():
    masked = _masked_image()
    _, tree = _write(masked)
    data = json.loads(dump_tree_json(tree))
    assert list(data) == ["metadata", "image", "mask", "variance"]
    assert list(data["mask"]) == ["data", "start", "planes", "dtype"]
    assert data["mask"]["dtype"] == "int16"
    assert data["image"]["start"] == [-3, 12]


# ---------------------------------------------------------------------------
# With a projection (needs the transforms layer)


def _fixture_projection(sip: bool):
    import astropy.wcs

    from lsst.images import DetectorFrame, Projection

    inputs = load_manifest("lsst-images-2100")["builder_inputs"]
    cards = dict(inputs["tan_wcs_cards"])
    if sip:
        cards.update(inputs["tan_sip_extra_cards"])
        cards["CTYPE1"] += "-SIP"
        cards["CTYPE2"] += "-SIP"
    wcs = astropy.wcs.WCS(astropy.io.fits.Header(cards))
    frame = DetectorFrame(
        instrument="LSSTCam", visit=2025052000177, detector=85, bbox=Box.factory[0:4004, 0:4096]
    )
    return Projection.from_fits_wcs(wcs, frame)


def _cards_after_extname(cards: list) -> list:
    return cards[[c[0] for c in cards].index("EXTNAME") + 1 :]


@pytest.mark.parametrize(
    "name,sip,shape,start",
    [
        ("image_f32_with_projection", False, (50, 60), (2000, 1000)),
        ("image_f32_projection_sip", True, (40, 56), (300, 700)),
    ],
)
def test_image_with_projection_matches_reference(name, sip, shape, start):
    entry = load_manifest("lsst-images-2100")["files"][name]
    image = Image(
        0.0, shape=shape, start=start, dtype=np.float32, unit=u.nJy, projection=_fixture_projection(sip)
    )
    archive, tree = _write(image)
    header = archive.headers["fits:IMAGE"]
    expected = _cards_after_extname(entry["header_image"])
    assert [c.keyword for c in header.cards] == [c[0] for c in expected]
    for card, (key, value, comment) in zip(header.cards, expected, strict=True):
        assert card.comment == comment, key
        if isinstance(value, float):
            assert card.value == pytest.approx(value, rel=1e-12, abs=1e-15), key
        else:
            assert card.value == value, key
    assert dump_tree_json(tree) == _tree_bytes(name)
    back = _reparse(Image, tree).deserialize(MemoryInputArchive(archive))
    assert back.projection is not None
    for point in entry["expect"]["projection"]["points"][:5]:
        sky = back.projection.pixel_to_sky(x=point["x"], y=point["y"])
        assert sky.ra.deg == pytest.approx(point["ra_deg"], abs=1e-9)
        assert sky.dec.deg == pytest.approx(point["dec_deg"], abs=1e-9)
    # The cached FITS WCS of the image is in local (array) coordinates.
    assert image.fits_wcs.wcs.crpix[0] == pytest.approx(2048.5 - start[1])
    assert image.fits_wcs.wcs.crpix[1] == pytest.approx(2002.5 - start[0])


def test_masked_image_with_projection_stores_it_once():
    projection = _fixture_projection(False)
    entry = load_manifest("lsst-images-2100")["files"]["masked_image_projection_tiles32"]
    schema = MaskSchema(
        [MaskPlane(p["name"], p["description"]) for p in entry["expect"]["planes"]["mask"]["schema"]]
    )
    image = Image(
        0.0, shape=(128, 128), start=(1500, 2500), dtype=np.float32, unit=u.nJy, projection=projection
    )
    masked = MaskedImage(image, mask_schema=schema)
    archive, tree = _write(masked)
    assert dump_tree_json(tree) == _tree_bytes("masked_image_projection_tiles32")
    for source in ("fits:IMAGE", "fits:MASK", "fits:VARIANCE"):
        assert archive.headers[source]["CTYPE1"] == "RA---TAN"
        assert archive.headers[source]["CRVAL1A"] == 2500.0
    back = _reparse(MaskedImage, tree).deserialize(MemoryInputArchive(archive))
    assert back.projection is not None
    assert back.image.projection is back.projection
    assert back.mask.projection is back.projection
    assert back.variance.projection is back.projection


# ---------------------------------------------------------------------------
# Through the public JSON round-trip helper


@pytest.mark.parametrize("kind", ["image", "mask", "masked_image"])
def test_json_round_trip_helper(kind):
    from lsst.images.tests import RoundtripJson

    masked = _masked_image()
    original = {"image": masked.image, "mask": masked.mask, "masked_image": masked}[kind]
    with RoundtripJson(_TC, original) as roundtrip:
        result = roundtrip.result
        box = Box.factory[-1:2, 12:15]
        part = roundtrip.get(bbox=box)
    if kind == "image":
        assert_images_equal(_TC, result, original)
        assert_images_equal(_TC, part, original[box].copy())
    elif kind == "mask":
        assert_masks_equal(_TC, result, original)
        assert_masks_equal(_TC, part, original[box].copy())
    else:
        assert_masked_images_equal(_TC, result, original)
        assert_masked_images_equal(_TC, part, original[box].copy())
