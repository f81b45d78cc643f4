"""Tests of the archive interfaces: NestedOutputArchive naming and the abstract bases."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np
import pytest

from lsst.images.serialization import (
    InlineArrayModel,
    InputArchive,
    NestedOutputArchive,
    OpaqueArchiveMetadata,
    OutputArchive,
    TableModel,
    no_header_updates,
)


class _Recorder(OutputArchive[str]):
    """Output archive that records the names it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def add_array(
        self, array: Any, *, name: str | None = None, update_header: Any = no_header_updates
    ) -> Any:
        self.calls.append(("add_array", name))
        return InlineArrayModel.from_array(np.asarray(array))

    def add_structured_array(
        self,
        array: Any,
        *,
        name: str | None = None,
        units: Any = None,
        descriptions: Any = None,
        update_header: Any = no_header_updates,
    ) -> TableModel:
        self.calls.append(("add_structured_array", (name, units, descriptions)))
        return TableModel()

    def add_table(
        self, table: Any, *, name: str | None = None, update_header: Any = no_header_updates
    ) -> Any:
        self.calls.append(("add_table", name))
        return TableModel()

    def serialize_direct(self, name: str, serializer: Callable[[OutputArchive[str]], Any]) -> Any:
        self.calls.append(("serialize_direct", name))
        return serializer(NestedOutputArchive(name, self))

    def serialize_pointer(
        self, name: str, serializer: Callable[[OutputArchive[str]], Any], key: Hashable
    ) -> Any:
        self.calls.append(("serialize_pointer", (name, key)))
        serializer(NestedOutputArchive(name, self))
        return f"ptr:{name}"

    def serialize_frame_set(
        self, name: str, frame_set: Any, serializer: Callable[[OutputArchive[str]], Any], key: Hashable
    ) -> Any:
        self.calls.append(("serialize_frame_set", (name, frame_set, key)))
        return f"fs:{name}"

    def iter_frame_sets(self) -> Iterator[tuple[Any, str]]:
        return iter([("frame set", "fs:x")])


def test_nested_archive_prefixes_names() -> None:
    parent = _Recorder()
    nested = NestedOutputArchive("root", parent)
    nested.add_array(np.zeros(1))
    nested.add_array(np.zeros(1), name="x")
    nested.add_array(np.zeros(1), name="")
    nested.add_table(None)
    nested.add_table(None, name="t")
    nested.add_structured_array(None, name="sa", units={"a": "m"}, descriptions={"a": "A"})
    assert nested.serialize_direct("d", lambda a: a.add_array(np.zeros(1), name="y")) == InlineArrayModel(
        data=[0.0], datatype="float64"
    )
    assert nested.serialize_pointer("p", lambda a: a.add_array(np.zeros(1)), key=5) == "ptr:root/p"
    assert nested.serialize_frame_set("f", "FS", lambda a: None, key=6) == "fs:root/f"
    assert list(nested.iter_frame_sets()) == [("frame set", "fs:x")]
    NestedOutputArchive("a/b", nested).add_array(np.zeros(1), name="c")
    NestedOutputArchive("", parent).add_array(np.zeros(1), name="c")
    assert parent.calls == [
        ("add_array", "root"),
        ("add_array", "root/x"),
        ("add_array", "root/"),
        ("add_table", "root"),
        ("add_table", "root/t"),
        ("add_structured_array", ("root/sa", {"a": "m"}, {"a": "A"})),
        ("serialize_direct", "root/d"),
        ("add_array", "root/d/y"),
        ("serialize_pointer", ("root/p", 5)),
        ("add_array", "root/p"),
        ("serialize_frame_set", ("root/f", "FS", 6)),
        ("add_array", "root/a/b/c"),
        ("add_array", "/c"),
    ]


def test_abstract_bases_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        OutputArchive()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        InputArchive()  # type: ignore[abstract]


def test_input_archive_default_opaque_metadata() -> None:
    class Minimal(InputArchive[str]):
        def deserialize_pointer(self, pointer: str, model_type: Any, deserializer: Any) -> Any:
            return pointer

        def get_array(self, model: Any, *, slices: Any = ..., strip_header: Any = no_header_updates) -> Any:
            return None

        def get_structured_array(self, model: Any, strip_header: Any = no_header_updates) -> Any:
            return None

        def get_table(self, model: Any, strip_header: Any = no_header_updates) -> Any:
            return None

        def get_frame_set(self, ref: str) -> Any:
            return None

    assert Minimal().get_opaque_metadata() is None


def test_opaque_metadata_protocol_and_no_header_updates() -> None:
    class Carried:
        def copy(self) -> Carried:
            return Carried()

        def subset(self, bbox: Any) -> None:
            return None

    value: OpaqueArchiveMetadata = Carried()
    assert isinstance(value.copy(), Carried) and value.subset(None) is None
    header = {"A": 1}
    assert no_header_updates(header) is None  # type: ignore[arg-type]
    assert header == {"A": 1}
