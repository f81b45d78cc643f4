"""Tests of the serialization models, annotated types and dtype helpers."""

from __future__ import annotations

import json
import math
from typing import Any, Generic, TypeVar

import astropy.units as u
import numpy as np
import pydantic
import pytest
from astropy.table import Table
from astropy.time import Time as AstropyTime

from conftest import fixture_dir
from lsst.images.serialization import (
    ArchiveTree,
    ArrayReferenceModel,
    ArrayReferenceQuantityModel,
    ButlerInfo,
    InlineArray,
    InlineArrayModel,
    InlineArrayQuantity,
    InlineArrayQuantityModel,
    InvalidComponentError,
    JsonRef,
    MetadataValue,
    NumberType,
    Quantity,
    QuantityModel,
    ReadResult,
    TableColumnModel,
    TableModel,
    Time,
    TimeModel,
    Unit,
    UnsupportedTableError,
    dump_tree_json,
    is_integer,
)

P = TypeVar("P")


class _Loose(ArchiveTree):
    """Tree accepting any extra fields (kept in file order), to check byte-exact re-dumps."""

    model_config = pydantic.ConfigDict(extra="allow")

    def deserialize(self, archive: Any, **kwargs: Any) -> Any:
        return None


class _ImageTree(ArchiveTree):
    data: ArrayReferenceQuantityModel | ArrayReferenceModel
    start: list[int]

    def deserialize(self, archive: Any, **kwargs: Any) -> Any:
        return None


class _Generic(ArchiveTree, Generic[P]):
    ref: P
    child: _ImageTree | None = None
    value: float = 0.0

    def deserialize(self, archive: Any, **kwargs: Any) -> Any:
        return self.value


# ---------------------------------------------------------------- NumberType


ALL_TYPES = [
    ("bool", np.bool_),
    ("uint8", np.uint8),
    ("uint16", np.uint16),
    ("uint32", np.uint32),
    ("uint64", np.uint64),
    ("int8", np.int8),
    ("int16", np.int16),
    ("int32", np.int32),
    ("int64", np.int64),
    ("float32", np.float32),
    ("float64", np.float64),
]


@pytest.mark.parametrize(("name", "scalar"), ALL_TYPES)
def test_number_type_mapping(name: str, scalar: type) -> None:
    member = NumberType(name)
    assert member.value == name == str(member)
    assert member.to_numpy() is scalar
    assert NumberType.from_numpy(scalar) is member
    # Byte order is not part of the type.
    assert NumberType.from_numpy(np.dtype(scalar).newbyteorder(">")) is member
    assert NumberType.from_numpy_with_shape(np.dtype((scalar, (2, 3)))) == (member, (2, 3))
    assert NumberType.from_numpy_with_shape(scalar) == (member, ())
    integer = name not in ("bool", "float32", "float64")
    assert is_integer(member) is integer
    if integer:
        assert member.require_integer() is member
    else:
        with pytest.raises(TypeError, match="not an integer type"):
            member.require_integer()


def test_number_type_order_and_python_types() -> None:
    assert [m.value for m in NumberType] == [name for name, _ in ALL_TYPES]
    assert NumberType.from_numpy(int) is NumberType.int64
    assert NumberType.from_numpy(float) is NumberType.float64
    assert NumberType.from_numpy(bool) is NumberType.bool


@pytest.mark.parametrize("dtype", ["f2", "c8", "U3", "O", [("a", "f4")]])
def test_number_type_unsupported(dtype: Any) -> None:
    with pytest.raises(ValueError, match="not a valid NumberType"):
        NumberType.from_numpy(dtype)


def test_number_type_subarray_needs_with_shape() -> None:
    with pytest.raises(TypeError, match="not a scalar type"):
        NumberType.from_numpy(np.dtype(("f4", (2,))))


# ---------------------------------------------------------------- units


class _UnitHolder(pydantic.BaseModel):
    unit: Unit
    optional: Unit | None = None


@pytest.mark.parametrize(
    ("unit", "text"),
    [
        (u.nJy, "nJy"),
        (u.nJy**2, "nJy**2"),
        (u.nJy / u.electron, "nJy / electron"),
        (u.electron, "electron"),
        (u.adu, "adu"),
        (u.rad, "rad"),
        (u.m / u.s, "m.s**-1"),
        (u.nJy**-1, "nJy**-1"),
        (u.electron / u.s, "electron / s"),
        (u.pix, "pixel"),
        (u.dimensionless_unscaled, ""),
    ],
)
def test_unit_strings(unit: u.UnitBase, text: str) -> None:
    model = _UnitHolder(unit=unit)
    assert model.model_dump_json() == json.dumps({"unit": text, "optional": None}, separators=(",", ":"))
    assert model.model_dump()["unit"] == text
    back = _UnitHolder.model_validate_json(model.model_dump_json())
    assert back.unit == unit
    assert _UnitHolder(unit=text).unit == unit


def test_unit_rejects_quantities_and_garbage() -> None:
    with pytest.raises(pydantic.ValidationError):
        _UnitHolder(unit=3 * u.m)
    with pytest.raises(pydantic.ValidationError, match="Cannot parse unit"):
        _UnitHolder.model_validate_json('{"unit":"not a unit at all"}')


def test_fixture_unit_strings_roundtrip() -> None:
    """Every unit string in the reference trees parses and is re-spelled identically."""
    seen = set()
    for path in sorted(fixture_dir("lsst-images-2100").glob("*.tree.json")):
        seen.update(_find_units(json.loads(path.read_text())))
    assert {"nJy", "nJy**2", "nJy / electron", "rad"} <= seen
    for text in seen:
        model = _UnitHolder.model_validate({"unit": text})
        assert model.model_dump()["unit"] == text


def _find_units(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "unit" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_find_units(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_find_units(item))
    return found


# ---------------------------------------------------------------- array/quantity/time models


def test_array_reference_models() -> None:
    ref = ArrayReferenceModel(source="fits:IMAGE", shape=[3, 4], datatype="float32")
    assert (
        ref.model_dump_json()
        == '{"source":"fits:IMAGE","shape":[3,4],"datatype":"float32","byteorder":"big"}'
    )
    assert ArrayReferenceModel(source=2, shape=[1], datatype="uint8").model_dump()["source"] == 2
    q = ref.with_units(u.nJy)
    assert isinstance(q, ArrayReferenceQuantityModel)
    assert q.model_dump_json() == (
        '{"value":{"source":"fits:IMAGE","shape":[3,4],"datatype":"float32","byteorder":"big"},"unit":"nJy"}'
    )
    assert ArrayReferenceQuantityModel.model_validate_json(q.model_dump_json()) == q
    with pytest.raises(pydantic.ValidationError):
        ArrayReferenceModel(source="x", shape=[1], datatype="uint8", byteorder="little")


def test_inline_array_models() -> None:
    model = InlineArrayModel(data=[[1, 2, 3], [4, 5, 6]], datatype="int16")
    assert model.shape == (2, 3)
    assert InlineArrayModel(data=[], datatype="uint8").shape == (0,)
    assert InlineArrayModel(data=[[]], datatype="uint8").shape == (1, 0)
    array = model.to_array()
    assert array.dtype == np.int16 and array.shape == (2, 3)
    q = model.with_units(u.adu)
    assert isinstance(q, InlineArrayQuantityModel)
    assert q.model_dump_json() == '{"value":{"data":[[1,2,3],[4,5,6]],"datatype":"int16"},"unit":"adu"}'
    nan = InlineArrayModel.from_array(np.array([np.nan, np.inf, -np.inf, 1.5]))
    assert nan.model_dump_json() == '{"data":[NaN,Infinity,-Infinity,1.5],"datatype":"float64"}'


def test_quantity_model_is_strict() -> None:
    assert QuantityModel(value=0.0, unit=u.rad).model_dump_json() == '{"value":0.0,"unit":"rad"}'
    with pytest.raises(pydantic.ValidationError):
        QuantityModel(value=True, unit=u.rad)
    with pytest.raises(pydantic.ValidationError):
        QuantityModel(value="1.0", unit=u.rad)


class _Annotated(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants")

    q: Quantity
    a: InlineArray
    aq: InlineArrayQuantity
    t: Time


def test_annotated_types_roundtrip() -> None:
    model = _Annotated(
        q=2.5 * u.deg,
        a=np.array([[1, 2], [3, 4]], dtype=np.uint16),
        aq=np.array([1.0, np.nan], dtype=np.float32) * u.nJy,
        t=AstropyTime("2025-05-20T03:04:05.123456789", scale="tai"),
    )
    text = model.model_dump_json()
    assert text == (
        '{"q":{"value":2.5,"unit":"deg"},'
        '"a":{"data":[[1,2],[3,4]],"datatype":"uint16"},'
        '"aq":{"value":{"data":[1.0,NaN],"datatype":"float32"},"unit":"nJy"},'
        '"t":{"value":"2025-05-20 03:04:05.123456789","scale":"tai","format":"iso"}}'
    )
    back = _Annotated.model_validate_json(text)
    assert back.q == 2.5 * u.deg
    assert back.a.dtype == np.uint16
    np.testing.assert_array_equal(back.a, model.a)
    assert back.aq.unit == u.nJy and back.aq.dtype == np.float32
    np.testing.assert_array_equal(back.aq.value, model.aq.value)
    assert back.t.scale == "tai"
    assert abs((back.t - model.t).to_value(u.ns)) < 1
    # Python-mode dumps give the models' dict forms.
    assert model.model_dump()["q"] == {"value": 2.5, "unit": "deg"}


def test_time_scales() -> None:
    class Holder(pydantic.BaseModel):
        t: Time

    utc = Holder(t=AstropyTime(59000.5, format="mjd", scale="utc"))
    assert utc.model_dump()["t"] == {
        "value": "2020-05-31 12:00:00.000000000",
        "scale": "utc",
        "format": "iso",
    }
    tt = Holder(t=AstropyTime(59000.5, format="mjd", scale="tt"))
    dumped = tt.model_dump()["t"]
    assert dumped["scale"] == "tai" and dumped["value"] == "2020-05-31 11:59:27.816000000"
    back = Holder.model_validate(tt.model_dump()).t
    assert abs((back - tt.t).to_value(u.ns)) < 1
    with pytest.raises(pydantic.ValidationError):
        TimeModel(value="2020-01-01", scale="tt")


def test_quantity_annotation_requires_scalar() -> None:
    class Holder(pydantic.BaseModel):
        q: Quantity

    with pytest.raises(pydantic_core_error()):
        Holder(q=np.ones(2) * u.m).model_dump_json()


def pydantic_core_error() -> type[Exception]:
    from pydantic_core import PydanticSerializationError

    return PydanticSerializationError


def test_metadata_values_are_strict() -> None:
    adapter = pydantic.TypeAdapter(dict[str, MetadataValue])
    value = {"a": 1, "b": 1.5, "c": "x", "d": True, "e": None}
    assert adapter.validate_json(adapter.dump_json(value)) == value
    assert type(adapter.validate_python(value)["d"]) is bool
    for bad in ([1], {"x": 1}, b"bytes"):
        with pytest.raises(pydantic.ValidationError):
            adapter.validate_python({"a": bad})


def test_json_ref_alias() -> None:
    ref = JsonRef.model_validate_json('{"$ref":"#/indirect/3"}')
    assert ref.ref == "#/indirect/3"
    assert ref.model_dump_json() == '{"$ref":"#/indirect/3"}'
    assert JsonRef(ref="#/indirect/3") == ref
    assert hash(ref) == hash(JsonRef(ref="#/indirect/3"))


def test_butler_info_roundtrip() -> None:
    info = ButlerInfo(dataset={"id": "abc", "run": "r"})
    assert info.model_dump_json() == '{"dataset":{"id":"abc","run":"r"},"provenance":{}}'
    assert ButlerInfo.model_validate_json(info.model_dump_json()) == info


def test_read_result() -> None:
    result = ReadResult(1, {"a": 1}, None)
    assert result.deserialized == 1 and result.metadata == {"a": 1} and result.butler_info is None
    assert repr(result) == "ReadResult(deserialized=1, metadata={'a': 1}, butler_info=None)"


# ---------------------------------------------------------------- tables


def test_table_column_from_record_dtype_and_array() -> None:
    dtype = np.dtype([("a", "f8"), ("b", "i4", (3,))])
    columns = TableColumnModel.from_record_dtype(dtype)
    assert [c.model_dump_json() for c in columns] == [
        '{"data":{"source":"","shape":[],"datatype":"float64","byteorder":"big"},"name":"a"}',
        '{"data":{"source":"","shape":[3],"datatype":"int32","byteorder":"big"},"name":"b"}',
    ]
    array = np.zeros(2, dtype=dtype)
    array["a"] = [1.0, np.nan]
    array["b"][1] = [1, 2, 3]
    inline = TableColumnModel.from_record_array(array, inline=True)
    assert [c.model_dump_json() for c in inline] == [
        '{"data":{"data":[1.0,NaN],"datatype":"float64"},"name":"a"}',
        '{"data":{"data":[[0,0,0],[1,2,3]],"datatype":"int32"},"name":"b"}',
    ]
    assert TableColumnModel.from_record_array(array) == columns
    with pytest.raises(UnsupportedTableError, match="'s'"):
        TableColumnModel.from_record_dtype([("s", "U4")])
    with pytest.raises(UnsupportedTableError):
        TableColumnModel.from_record_dtype("f4")


def test_table_column_from_table_and_update() -> None:
    table = Table({"x": np.arange(3.0), "y": np.arange(3)}, meta={"k": 1})
    table["x"].unit = u.nJy
    table["x"].description = "the x"
    table["x"].meta["m"] = 2
    inline = TableColumnModel.from_table(table, inline=True)
    assert [c.model_dump_json() for c in inline] == [
        '{"data":{"data":[0.0,1.0,2.0],"datatype":"float64"},"name":"x","description":"the x","unit":"nJy",'
        '"meta":{"m":2}}',
        '{"data":{"data":[0,1,2],"datatype":"int64"},"name":"y"}',
    ]
    ref = TableColumnModel.from_column(table["x"])
    assert ref.data == ArrayReferenceModel(source="", shape=[], datatype="float64")
    fresh = Table({"x": np.arange(3.0)})
    ref.update_table(fresh)
    assert fresh["x"].unit == u.nJy and fresh["x"].description == "the x" and fresh["x"].meta == {"m": 2}
    assert TableModel().model_dump_json() == '{"columns":[]}'
    assert TableModel(columns=inline[1:], meta={"k": 1}).model_dump_json() == (
        '{"columns":[{"data":{"data":[0,1,2],"datatype":"int64"},"name":"y"}],"meta":{"k":1}}'
    )


# ---------------------------------------------------------------- ArchiveTree


def test_archive_tree_omits_empty_fields_and_keeps_order() -> None:
    tree = _ImageTree(
        data=ArrayReferenceModel(source="fits:IMAGE", shape=[2, 2], datatype="uint8"), start=[3, 4]
    )
    assert tree.model_dump_json() == (
        '{"data":{"source":"fits:IMAGE","shape":[2,2],"datatype":"uint8","byteorder":"big"},"start":[3,4]}'
    )
    assert tree.model_dump() == {
        "data": {"source": "fits:IMAGE", "shape": [2, 2], "datatype": NumberType.uint8, "byteorder": "big"},
        "start": [3, 4],
    }
    tree.metadata = {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "flag": False}
    tree.butler_info = ButlerInfo(dataset={"id": 1})
    tree.indirect = [{"v": 1}]
    assert dump_tree_json(tree) == (
        b'{"metadata":{"nan":NaN,"inf":Infinity,"ninf":-Infinity,"flag":false},'
        b'"butler_info":{"dataset":{"id":1},"provenance":{}},"indirect":[{"v":1}],'
        b'"data":{"source":"fits:IMAGE","shape":[2,2],"datatype":"uint8","byteorder":"big"},"start":[3,4]}'
    )
    back = _ImageTree.model_validate_json(dump_tree_json(tree))
    assert math.isnan(back.metadata["nan"]) and back.metadata["inf"] == math.inf
    assert back.butler_info == tree.butler_info and back.indirect == [{"v": 1}]


def test_archive_tree_is_abstract() -> None:
    with pytest.raises(TypeError):
        ArchiveTree()  # type: ignore[abstract]


def test_fixture_trees_redump_byte_exact() -> None:
    """Parsing a reference tree and dumping it again gives the stored bytes (NaN tokens, order, spacing)."""
    folder = fixture_dir("lsst-images-2100")
    paths = sorted(folder.glob("*.tree.json"))
    assert paths
    for path in paths:
        data = path.read_bytes()
        assert dump_tree_json(_Loose.model_validate_json(data)) == data, path.name
    for name in ("image_f32_gzip2_default", "image_u8_nocomp", "image_i64_gzip2", "image_f64_nocomp_negyx0"):
        data = (folder / f"{name}.tree.json").read_bytes()
        assert dump_tree_json(_ImageTree.model_validate_json(data)) == data, name
    assert b"NaN" in (folder / "visit_full.tree.json").read_bytes()


def test_generic_archive_tree() -> None:
    concrete = _Generic[JsonRef]
    tree = concrete(ref=JsonRef(ref="#/indirect/0"), value=math.nan)
    assert tree.model_dump_json() == '{"ref":{"$ref":"#/indirect/0"},"child":null,"value":NaN}'
    back = concrete.model_validate_json(tree.model_dump_json())
    assert back.ref == JsonRef(ref="#/indirect/0")
    with pytest.raises(pydantic.ValidationError):
        concrete.model_validate_json('{"ref":{"row":1}}')


def test_deserialize_component_default() -> None:
    child = _ImageTree(data=ArrayReferenceModel(source="x", shape=[1], datatype="uint8"), start=[0, 0])
    tree = _Generic[int](ref=3, child=child, value=2.0, metadata={"a": 1})
    assert tree.deserialize_component("value", None) == 2.0  # type: ignore[arg-type]
    assert tree.deserialize_component("metadata", None) == {"a": 1}  # type: ignore[arg-type]
    assert tree.deserialize_component("child", None) is None  # _ImageTree.deserialize returns None
    assert _Generic[int](ref=1).deserialize_component("child", None) is None  # type: ignore[arg-type]
    with pytest.raises(InvalidComponentError, match="'nope' is not recognized by"):
        tree.deserialize_component("nope", None)  # type: ignore[arg-type]


def test_annotations_keep_nan_tokens_in_plain_models() -> None:
    """The annotated types serialize through their own models' config, whatever the container's config."""

    class Plain(pydantic.BaseModel):
        a: InlineArray
        q: Quantity

    text = Plain(a=np.array([np.nan, np.inf]), q=-np.inf * u.m).model_dump_json()
    assert text == '{"a":{"data":[NaN,Infinity],"datatype":"float64"},"q":{"value":-Infinity,"unit":"m"}}'


def test_json_schemas_can_be_generated() -> None:
    class Holder(pydantic.BaseModel):
        q: Quantity
        a: InlineArray
        aq: InlineArrayQuantity
        t: Time
        unit: Unit

    for mode in ("validation", "serialization"):
        schema = Holder.model_json_schema(mode=mode)
        assert schema["properties"]["unit"]["type"] == "string"
        for field, title in [
            ("q", "QuantityModel"),
            ("a", "InlineArrayModel"),
            ("aq", "InlineArrayQuantityModel"),
            ("t", "TimeModel"),
        ]:
            node = schema["properties"][field]
            if "$ref" in node:
                node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            assert node["title"] == title
    assert _Generic[JsonRef].model_json_schema()["properties"]["ref"]["$ref"] == "#/$defs/JsonRef"


def test_tree_models_survive_garbage_collection() -> None:
    """Parametrized tree models are built once: a full collection does not make reads rebuild them."""
    import gc
    import weakref

    import lsst.images as li
    from lsst.images.fits import PointerModel

    refs = [weakref.ref(cls._get_archive_tree_type(PointerModel)) for cls in (li.VisitImage, li.MaskedImage)]
    gc.collect()
    assert all(ref() is not None for ref in refs)
