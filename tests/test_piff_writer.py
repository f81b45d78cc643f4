"""The archive-backed Piff writer: metadata normalisation and deferred archive use (BEHAVIOUR.md §1.3).

Values Piff writes (numpy scalars, tuples) must become plain JSON values so that
``model_dump_json`` emits no pydantic warning; the writer touches the archive
only in ``serialize``, and only for tables and nested writers.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from lsst.images.psfs._models import PiffObjectModel
from lsst.images.psfs._piff import _ArchivePiffWriter


class _RecordingArchive:
    """The two archive methods the writer uses; records names (nested ones prefixed, as real archives do)."""

    def __init__(self, prefix: str = "", names: list[str] | None = None):
        self.prefix = prefix
        self.names = [] if names is None else names

    def add_structured_array(self, array, *, name=None, **kwargs):
        from lsst.images.serialization import TableModel

        self.names.append(f"{self.prefix}{name}")
        return TableModel(meta={"name": f"{self.prefix}{name}", "rows": len(array)})

    def serialize_direct(self, name, serializer):
        return serializer(_RecordingArchive(f"{self.prefix}{name}/", self.names))


def test_constructor_and_names() -> None:
    writer = _ArchivePiffWriter()
    assert (writer.structs, writer.tables, writer.wcs_models, writer.writers) == ({}, {}, {}, {})
    assert writer.get_full_name("x") == "/x"
    assert _ArchivePiffWriter("base").get_full_name("y") == "base/y"


def test_struct_values_are_normalised() -> None:
    writer = _ArchivePiffWriter()
    writer.write_struct(
        "s",
        {
            "int": np.int64(3),
            "float": np.float32(1.5),
            "bool": np.bool_(True),
            "str": np.str_("x"),
            "tuple": (np.float64(0.25), (1, np.int16(2))),
            "list": [np.int32(2)],
            "none": None,
            "plain_bool": True,
            "plain_str": "text",
        },
    )
    struct = writer.structs["s"]
    assert struct == {
        "int": 3,
        "float": 1.5,
        "bool": True,
        "str": "x",
        "tuple": [0.25, [1, 2]],
        "list": [2],
        "none": None,
        "plain_bool": True,
        "plain_str": "text",
    }
    assert type(struct["int"]) is int and type(struct["float"]) is float
    assert type(struct["bool"]) is bool and type(struct["str"]) is str
    assert type(struct["tuple"][1]) is list and type(struct["tuple"][1][1]) is int


def test_nested_dicts_are_normalised_too() -> None:
    # Deliberate difference: the reference leaves nested dicts alone, and its JSON dump then fails.
    writer = _ArchivePiffWriter()
    writer.write_struct("s", {"inner": {"n": np.int64(1), "t": (1, 2)}})
    assert writer.structs["s"] == {"inner": {"n": 1, "t": [1, 2]}}
    assert type(writer.structs["s"]["inner"]["n"]) is int
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert json.loads(writer.serialize(None).model_dump_json()) == {
            "structs": {"s": {"inner": {"n": 1, "t": [1, 2]}}}
        }


def test_serialize_without_archive_and_empty_fields() -> None:
    assert _ArchivePiffWriter().serialize(None).model_dump_json() == "{}"
    writer = _ArchivePiffWriter()
    writer.write_struct("s", {"a": np.int64(3), "b": (1, (2, 3))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = writer.serialize(None)
        assert isinstance(model, PiffObjectModel)
        assert model.model_dump_json() == '{"structs":{"s":{"a":3,"b":[1,[2,3]]}}}'


def test_tables_and_nested_writers_use_the_archive() -> None:
    writer = _ArchivePiffWriter()
    table = np.zeros(2, dtype=[("a", "f8")])
    writer.write_table("t", table)
    assert writer.tables["t"][0] is table and writer.tables["t"][1] == {}
    writer.write_table("t2", table, {"x": (np.int64(1),), "y": np.float64(np.inf)})
    assert writer.tables["t2"][1] == {"x": [1], "y": np.inf}
    with writer.nested("child") as child:
        assert writer.writers == {}  # stored on exit
        assert child.get_full_name("q") == "/child/q"
        child.write_struct("q", {"z": np.int8(1)})
        child.write_table("stars", table)
    assert writer.writers == {"child": child}
    with pytest.raises(TypeError, match="archive"):
        writer.serialize(None)
    archive = _RecordingArchive()
    model = writer.serialize(archive)
    assert archive.names == ["t", "t2", "child/stars"]
    assert model.tables["t"].table.meta == {"name": "t", "rows": 2}
    assert model.tables["t2"].metadata == {"x": [1], "y": np.inf}
    assert model.objects["child"].structs == {"q": {"z": 1}}
    assert model.objects["child"].tables["stars"].table.meta["name"] == "child/stars"
    # Infinities are written as JSON constants (ser_json_inf_nan="constants").
    assert '"y":Infinity' in model.model_dump_json()


def test_wcs_maps() -> None:
    pytest.importorskip("galsim")
    import galsim

    writer = _ArchivePiffWriter()
    writer.write_wcs_map("wcs", {0: galsim.PixelScale(0.2)}, None)
    assert writer.wcs_models["wcs"].scale == 0.2
    assert writer.wcs_models["wcs"].wcs_type == "pixel_scale"
    for wcs_map, pointing in (
        ({0: galsim.PixelScale(0.2)}, galsim.CelestialCoord(0 * galsim.degrees, 0 * galsim.degrees)),
        ({1: galsim.PixelScale(0.2)}, None),
        ({0: galsim.JacobianWCS(0.2, 0.0, 0.0, 0.2)}, None),
    ):
        with pytest.raises(NotImplementedError):
            writer.write_wcs_map("bad", wcs_map, pointing)
