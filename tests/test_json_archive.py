"""Tests of the pure-JSON archive (`lsst.images.json`) and `RoundtripJson`."""

from __future__ import annotations

import json as pyjson
import math
import os
import unittest
from pathlib import Path
from typing import Any, Generic, TypeVar

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from lsst.images import Image
from lsst.images import json as images_json
from lsst.images.json import JsonInputArchive, JsonOutputArchive
from lsst.images.serialization import (
    ArchiveReadError,
    ArchiveTree,
    ArrayReferenceModel,
    ButlerInfo,
    InlineArrayModel,
    InputArchive,
    InvalidParameterError,
    JsonRef,
    OutputArchive,
    Quantity,
    TableModel,
    dump_tree_json,
)
from lsst.images.tests import RoundtripJson

P = TypeVar("P")


class _Leaf:
    """A shared component: stored once, referenced by pointer."""

    def __init__(self, values: np.ndarray):
        self.values = values


class _LeafTree(ArchiveTree):
    values: InlineArrayModel | ArrayReferenceModel

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> _Leaf:
        return _Leaf(archive.get_array(self.values))


class _FrameSetStandIn:
    """Anything can be registered as a frame set; the archive only keeps it."""

    def __init__(self, label: str):
        self.label = label


class _FrameSetTree(ArchiveTree):
    label: str

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> _FrameSetStandIn:
        return _FrameSetStandIn(self.label)


class _ToyTree(ArchiveTree, Generic[P]):
    array: InlineArrayModel | ArrayReferenceModel
    table: TableModel
    records: TableModel
    first: P
    second: P
    frames: P
    direct: _LeafTree
    scale: Quantity

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> _Toy:
        unknown = set(kwargs) - {"rows"}
        if unknown:
            raise InvalidParameterError(f"Unsupported read parameters {sorted(unknown)}.")
        slices = (kwargs["rows"], slice(None)) if "rows" in kwargs else ...
        frames = archive.deserialize_pointer(self.frames, _FrameSetTree, _FrameSetTree.deserialize)
        assert archive.get_frame_set(self.frames) is frames
        return _Toy(
            array=archive.get_array(self.array, slices=slices),
            table=archive.get_table(self.table),
            records=archive.get_structured_array(self.records),
            first=archive.deserialize_pointer(self.first, _LeafTree, _LeafTree.deserialize),
            second=archive.deserialize_pointer(self.second, _LeafTree, _LeafTree.deserialize),
            frames=frames,
            direct=self.direct.deserialize(archive),
            scale=self.scale,
            metadata=dict(self.metadata),
        )


class _Toy:
    _archive_default_name = "toy"

    def __init__(
        self,
        array: np.ndarray,
        table: Table,
        records: np.ndarray,
        first: _Leaf,
        second: _Leaf,
        frames: _FrameSetStandIn,
        direct: _Leaf,
        scale: u.Quantity,
        metadata: dict[str, Any] | None = None,
    ):
        self.array = array
        self.table = table
        self.records = records
        self.first = first
        self.second = second
        self.frames = frames
        self.direct = direct
        self.scale = scale
        self.metadata = metadata or {}

    def serialize(self, archive: OutputArchive[Any]) -> _ToyTree[Any]:
        def leaf(obj: _Leaf) -> Any:
            return lambda a: _LeafTree(values=a.add_array(obj.values, name="values"))

        return _ToyTree(
            array=archive.add_array(self.array, name="array"),
            table=archive.add_table(self.table, name="table"),
            records=archive.add_structured_array(
                self.records, name="records", units={"a": u.m}, descriptions={"a": "first field"}
            ),
            first=archive.serialize_pointer("first", leaf(self.first), key=id(self.first)),
            second=archive.serialize_pointer("second", leaf(self.second), key=id(self.second)),
            frames=archive.serialize_frame_set(
                "frames", self.frames, lambda a: _FrameSetTree(label=self.frames.label), key=id(self.frames)
            ),
            direct=archive.serialize_direct("direct", leaf(self.direct)),
            scale=self.scale,
            metadata=self.metadata,
        )

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[_ToyTree[Any]]:
        return _ToyTree[pointer_type]  # type: ignore[valid-type]


def _make_toy(shared: bool = True) -> _Toy:
    table = Table(
        {"x": np.array([1.0, np.nan, 3.0]), "n": np.array([1, 2, 3], dtype=np.int16)}, meta={"k": "v"}
    )
    table["x"].unit = u.nJy
    table["x"].description = "flux"
    records = np.zeros(2, dtype=[("a", "f4"), ("b", "u1", (2,))])
    records["a"] = [0.5, -np.inf]
    records["b"] = [[1, 2], [3, 4]]
    leaf = _Leaf(np.arange(4, dtype=np.int32))
    return _Toy(
        array=np.arange(12, dtype=np.float32).reshape(3, 4),
        table=table,
        records=records,
        first=leaf,
        second=leaf if shared else _Leaf(np.ones(2, dtype=np.uint64)),
        frames=_FrameSetStandIn("pixels->sky"),
        direct=_Leaf(np.array([True, False])),
        scale=0.2 * u.arcsec,
        metadata={"answer": 42, "nan": math.nan},
    )


def _check_toy(test: _Toy, ref: _Toy) -> None:
    np.testing.assert_array_equal(test.array, ref.array)
    assert test.array.dtype == ref.array.dtype
    assert test.table.colnames == ref.table.colnames
    np.testing.assert_array_equal(test.table["x"], ref.table["x"])
    assert test.table["n"].dtype == np.int16
    assert test.table["x"].unit == u.nJy and test.table["x"].description == "flux"
    assert test.table.meta == {"k": "v"}
    assert test.records.dtype == ref.records.dtype
    np.testing.assert_array_equal(test.records, ref.records)
    np.testing.assert_array_equal(test.first.values, ref.first.values)
    np.testing.assert_array_equal(test.second.values, ref.second.values)
    assert test.frames.label == ref.frames.label
    np.testing.assert_array_equal(test.direct.values, ref.direct.values)
    assert test.scale == ref.scale


def test_output_archive_layout() -> None:
    toy = _make_toy(shared=False)
    archive = JsonOutputArchive()
    tree = archive.finish(toy.serialize(archive))
    assert [ref.ref for _, ref in archive.iter_frame_sets()] == ["#/indirect/2"]
    assert archive.iter_frame_sets().__next__()[0] is toy.frames
    doc = pyjson.loads(dump_tree_json(tree))
    assert list(doc) == [
        "metadata",
        "indirect",
        "array",
        "table",
        "records",
        "first",
        "second",
        "frames",
        "direct",
        "scale",
    ]
    assert doc["first"] == {"$ref": "#/indirect/0"}
    assert doc["second"] == {"$ref": "#/indirect/1"}
    assert doc["indirect"] == [
        {"values": {"data": [0, 1, 2, 3], "datatype": "int32"}},
        {"values": {"data": [1, 1], "datatype": "uint64"}},
        {"label": "pixels->sky"},
    ]
    assert doc["array"] == {"data": np.arange(12.0).reshape(3, 4).tolist(), "datatype": "float32"}
    assert doc["records"]["columns"][0] == {
        "data": {"data": [0.5, -math.inf], "datatype": "float32"},
        "name": "a",
        "description": "first field",
        "unit": "m",
    }
    assert doc["table"]["meta"] == {"k": "v"}
    assert doc["scale"] == {"value": 0.2, "unit": "arcsec"}
    assert b'"nan":NaN' in dump_tree_json(tree) and b"-Infinity" in dump_tree_json(tree)


def test_pointers_are_shared_by_key() -> None:
    toy = _make_toy(shared=True)
    tree = images_json.write(toy)
    assert tree.first == tree.second == JsonRef(ref="#/indirect/0")
    assert len(tree.indirect) == 2
    result = images_json.read(_Toy, tree)
    assert result.deserialized.first is result.deserialized.second  # cached per pointer
    _check_toy(result.deserialized, toy)


def test_nested_pointer_slots_keep_parent_first() -> None:
    archive = JsonOutputArchive()

    def outer(a: OutputArchive[JsonRef]) -> Any:
        inner = a.serialize_pointer("inner", lambda b: _FrameSetTree(label="inner"), key="inner")
        return _FrameSetTree(label=f"outer->{inner.ref}")

    ref = archive.serialize_pointer("outer", outer, key="outer")
    assert ref.ref == "#/indirect/0"
    tree = archive.finish(_FrameSetTree(label="top"))
    assert [entry.label for entry in tree.indirect] == ["outer->#/indirect/1", "inner"]


def test_write_read_file_roundtrip(tmp_path: Path) -> None:
    toy = _make_toy(shared=False)
    path = tmp_path / "toy.json"
    info = ButlerInfo(dataset={"id": "1234", "run": "test"})
    tree = images_json.write(toy, path, metadata={"extra": "yes"}, butler_info=info)
    assert toy.metadata == {"answer": 42, "nan": toy.metadata["nan"]}  # the object's dict is untouched
    data = path.read_bytes()
    assert data == dump_tree_json(tree)
    assert data.startswith(b'{"metadata":{"answer":42,"nan":NaN,"extra":"yes"},"butler_info":')
    result = images_json.read(_Toy, str(path))
    _check_toy(result.deserialized, toy)
    assert result.metadata["extra"] == "yes" and result.metadata["answer"] == 42
    assert math.isnan(result.metadata["nan"])
    assert result.butler_info == info
    # Read options are forwarded to the tree's deserialize.
    sub = images_json.read(_Toy, path, rows=slice(1, 3)).deserialized
    np.testing.assert_array_equal(sub.array, toy.array[1:3])
    with pytest.raises(InvalidParameterError):
        images_json.read(_Toy, path, bbox=None)


def test_file_uri(tmp_path: Path) -> None:
    toy = _make_toy()
    uri = (tmp_path / "uri.json").as_uri()
    images_json.write(toy, uri)
    assert (tmp_path / "uri.json").exists()
    _check_toy(images_json.read(_Toy, uri).deserialized, toy)


def test_atomic_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.json"
    path.write_bytes(b"previous contents")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("simulated failure")

    from lsst.images import _atomic

    monkeypatch.setattr(_atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated failure"):
        images_json.write(_make_toy(), path)
    assert path.read_bytes() == b"previous contents"
    assert os.listdir(tmp_path) == ["out.json"]  # the temporary file was removed


def test_unserializable_tree_leaves_no_file(tmp_path: Path) -> None:
    toy = _make_toy()
    toy.metadata = {"bad": object()}  # rejected when the tree is built
    path = tmp_path / "never.json"
    with pytest.raises(ValueError):
        images_json.write(toy, path)
    assert not path.exists() and os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b'{"array": [1, 2', "not a valid _ToyTree"),
        (b'{"metadata": {}}', "not a valid _ToyTree"),
        (b"[1, 2, 3]", "not a valid _ToyTree"),
    ],
)
def test_corrupted_files(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ArchiveReadError, match=match) as info:
        images_json.read(_Toy, path)
    assert "bad.json" in str(info.value)


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    images_json.write(_make_toy(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveReadError, match="full.json"):
        images_json.read(_Toy, path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        images_json.read(_Toy, tmp_path / "missing.json")


def test_bad_references() -> None:
    tree = images_json.write(_make_toy(shared=False))
    bad = tree.model_copy(update={"second": JsonRef(ref="#/indirect/7")})
    with pytest.raises(ArchiveReadError, match="#/indirect/7"):
        images_json.read(_Toy, bad)
    bad = tree.model_copy(update={"second": JsonRef(ref="#/elsewhere/0")})
    with pytest.raises(ArchiveReadError, match="elsewhere"):
        images_json.read(_Toy, bad)
    # A pointer whose target has the wrong structure.
    raw = pyjson.loads(dump_tree_json(tree))
    raw["indirect"][1] = {"unexpected": 1}
    parsed = _ToyTree[JsonRef].model_validate(raw)
    with pytest.raises(ArchiveReadError, match="Invalid JSON subtree at '#/indirect/1'"):
        images_json.read(_Toy, parsed)


def test_input_archive_errors() -> None:
    archive = JsonInputArchive()
    with pytest.raises(ArchiveReadError, match="external array source 'fits:IMAGE'"):
        archive.get_array(ArrayReferenceModel(source="fits:IMAGE", shape=[2], datatype="uint8"))
    with pytest.raises(ArchiveReadError, match="before it was read"):
        archive.get_frame_set(JsonRef(ref="#/indirect/0"))
    with pytest.raises(ArchiveReadError, match="not stored inline"):
        archive.get_table(
            TableModel.model_validate(
                {"columns": [{"data": {"source": "", "shape": [], "datatype": "uint8"}, "name": "a"}]}
            )
        )
    with pytest.raises(ArchiveReadError, match="malformed"):
        archive.get_array(InlineArrayModel(data=[[1, 2, 3], [4]], datatype="int16"))
    model = InlineArrayModel(data=[[1, 2, 3], [4, 5, 6]], datatype="int16")
    np.testing.assert_array_equal(archive.get_array(model, slices=(slice(1, 2), slice(0, 2))), [[4, 5]])
    assert archive.get_opaque_metadata() is None


class RoundtripJsonTestCase(unittest.TestCase):
    def test_toy(self) -> None:
        toy = _make_toy()
        with RoundtripJson(self, toy) as roundtrip:
            _check_toy(roundtrip.result, toy)
            doc = roundtrip.inspect()
            assert doc["metadata"]["answer"] == 42 and math.isnan(doc["metadata"]["nan"])
            assert roundtrip.filename.endswith(".json") and os.path.exists(roundtrip.filename)
            assert isinstance(roundtrip.serialized, _ToyTree)
            sub = roundtrip.get(rows=slice(0, 1))
            np.testing.assert_array_equal(sub.array, toy.array[:1])
            with pytest.raises(unittest.SkipTest):
                roundtrip.get("array")
            name = roundtrip.filename
        assert not os.path.exists(name)
        _check_toy(roundtrip.result, toy)

    def test_image_metadata_injection(self) -> None:
        image = Image(np.arange(12, dtype=np.float32).reshape(3, 4), unit=u.nJy)
        image.metadata["own"] = 1
        with RoundtripJson(self, image) as roundtrip:
            doc = roundtrip.inspect()
            assert doc["metadata"]["roundtrip_test_3"] == "three"
            assert doc["data"]["unit"] == "nJy"
            assert roundtrip.serialized.metadata == {"own": 1}
        assert roundtrip.result.metadata == {"own": 1}
        np.testing.assert_array_equal(roundtrip.result.array, image.array)
        assert roundtrip.result.unit == u.nJy and roundtrip.result.bbox == image.bbox
        assert image.metadata == {"own": 1}


def test_pointer_to_union_of_models() -> None:
    archive = JsonInputArchive([{"label": "a"}, {"values": {"data": [1], "datatype": "uint8"}}])
    kinds = _LeafTree | _FrameSetTree
    first = archive.deserialize_pointer(JsonRef(ref="#/indirect/0"), kinds, lambda m, a: m)
    second = archive.deserialize_pointer(JsonRef(ref="#/indirect/1"), kinds, lambda m, a: m)
    assert isinstance(first, _FrameSetTree) and first.label == "a"
    assert isinstance(second, _LeafTree)
    # Cached: the deserializer is not called again for the same pointer.
    assert archive.deserialize_pointer(JsonRef(ref="#/indirect/0"), kinds, lambda m, a: None) is first


class _PlainArchive:
    """An archive offering only the plain (specified) interface: no band-by-band methods."""

    _MISSING = ("get_array_rows", "add_array_rows")

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in self._MISSING:
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_masks_round_trip_through_an_archive_without_band_methods() -> None:
    from lsst.images import Mask, MaskPlane, MaskSchema

    rng = np.random.default_rng(3)
    mask = Mask(schema=MaskSchema([MaskPlane(f"P{i}", "") for i in range(40)]), shape=(6, 7))
    for name in mask.schema.names:
        mask.set(name, rng.random((6, 7)) < 0.3)
    out = JsonOutputArchive()
    tree = out.finish(mask.serialize(_PlainArchive(out)))
    doc = pyjson.loads(dump_tree_json(tree))
    model = type(tree).model_validate(doc)
    again = model.deserialize(_PlainArchive(JsonInputArchive(doc)))
    assert again == mask
