"""`JsonOutputArchive`: builds a pure-JSON tree with inline arrays."""

from __future__ import annotations

__all__ = ("JsonOutputArchive",)

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..serialization import (
    ArchiveTree,
    InlineArrayModel,
    JsonRef,
    NestedOutputArchive,
    OutputArchive,
    TableColumnModel,
    TableModel,
    no_header_updates,
)

if TYPE_CHECKING:
    import astropy.io.fits
    import astropy.table
    import astropy.units
    import numpy as np

    from .._transforms import FrameSet

T = TypeVar("T")
TreeT = TypeVar("TreeT", bound=ArchiveTree)

_SCALARS = (int, float, str, bool, type(None))


def inline_table_model(table: astropy.table.Table) -> TableModel:
    """Describe an astropy table with its column values embedded in the model.

    Only scalar table metadata is kept: it is what every archive format can represent.
    """
    meta = {str(k): v for k, v in table.meta.items() if isinstance(v, _SCALARS)}
    return TableModel(columns=TableColumnModel.from_table(table, inline=True), meta=meta)


class JsonOutputArchive(OutputArchive[JsonRef]):
    """Output archive that keeps everything in one JSON document.

    Arrays and tables are embedded as nested lists.  Out-of-line subtrees
    (`serialize_pointer`, `serialize_frame_set`) are appended to a list that
    `finish` stores as the top-level tree's ``indirect`` field, and are
    referenced as ``{"$ref": "#/indirect/N"}``; each ``key`` is stored once.
    Names are accepted for interface compatibility but do not affect the output.
    """

    def __init__(self) -> None:
        self._indirect: list[Any] = []
        self._pointers: dict[Hashable, JsonRef] = {}
        self._frame_sets: list[tuple[FrameSet, JsonRef]] = []

    def add_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> InlineArrayModel:
        return InlineArrayModel.from_array(array)

    def add_structured_array(
        self,
        array: np.ndarray,
        *,
        name: str | None = None,
        units: Mapping[str, astropy.units.UnitBase] | None = None,
        descriptions: Mapping[str, str] | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        columns = TableColumnModel.from_record_array(array, inline=True)
        for column in columns:
            if units and column.name in units:
                column.unit = units[column.name]
            if descriptions and column.name in descriptions:
                column.description = descriptions[column.name]
        return TableModel(columns=columns)

    def add_table(
        self,
        table: astropy.table.Table,
        *,
        name: str | None = None,
        update_header: Callable[[astropy.io.fits.Header], None] = no_header_updates,
    ) -> TableModel:
        return inline_table_model(table)

    def serialize_direct(self, name: str, serializer: Callable[[OutputArchive[JsonRef]], T]) -> T:
        return serializer(NestedOutputArchive(name, self))

    def serialize_pointer(
        self, name: str, serializer: Callable[[OutputArchive[JsonRef]], T], key: Hashable
    ) -> JsonRef:
        if (ref := self._pointers.get(key)) is not None:
            return ref
        # Reserve the slot first so a parent precedes the subtrees it points to.
        index = len(self._indirect)
        self._indirect.append(None)
        ref = JsonRef(ref=f"#/indirect/{index}")
        self._pointers[key] = ref
        self._indirect[index] = serializer(NestedOutputArchive(name, self))
        return ref

    def serialize_frame_set(
        self,
        name: str,
        frame_set: FrameSet,
        serializer: Callable[[OutputArchive[JsonRef]], T],
        key: Hashable,
    ) -> JsonRef:
        known = key in self._pointers
        ref = self.serialize_pointer(name, serializer, key)
        if not known:
            self._frame_sets.append((frame_set, ref))
        return ref

    def iter_frame_sets(self) -> Iterator[tuple[FrameSet, JsonRef]]:
        return iter(list(self._frame_sets))

    def finish(self, tree: TreeT) -> TreeT:
        """Store the accumulated out-of-line subtrees as ``tree.indirect`` and return ``tree``."""
        if self._indirect:
            tree.indirect = list(self._indirect)
        return tree
