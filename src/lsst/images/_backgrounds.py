"""Named background models attached to a visit image."""

from __future__ import annotations

__all__ = ("Background", "BackgroundMap", "BackgroundMapSerializationModel")

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pydantic

from .fields import Field, FieldSerializationModel
from .serialization import ArchiveTree, InputArchive

if TYPE_CHECKING:
    from .serialization import OutputArchive


@dataclasses.dataclass(frozen=True)
class Background:
    """A named background field with a free-text description.

    Parameters
    ----------
    name
        Key of the background in its `BackgroundMap`.
    field
        The background model (any field; usually in the image's unit).
    description
        Free text explaining what the background is.
    """

    name: str
    field: Field
    description: str = ""


class BackgroundMap(Mapping[str, Background]):
    """Read-only mapping of background name to `Background`, remembering which one was subtracted.

    Parameters
    ----------
    backgrounds
        Initial `Background` objects (names must be unique).
    subtracted
        Name of the background that has been subtracted from the image
        pixels, if any.

    Raises
    ------
    KeyError
        If ``subtracted`` is not one of the backgrounds, or a name repeats.

    Notes
    -----
    The map is only read-only through the `Mapping` interface: `add` grows
    it in place, so that code building a visit image can attach backgrounds
    one by one.  `copy` is shallow (backgrounds themselves are immutable).
    """

    def _repr_html_(self) -> str:
        """Notebook display: a summary table (and a small thumbnail where there are pixels)."""
        from .display._html import repr_html

        return repr_html(self)

    def __init__(self, backgrounds: Iterable[Background] = (), subtracted: str | None = None):
        self._backgrounds: dict[str, Background] = {}
        for background in backgrounds:
            if background.name in self._backgrounds:
                raise KeyError(f"Duplicate background name {background.name!r}.")
            self._backgrounds[background.name] = background
        if subtracted is not None and subtracted not in self._backgrounds:
            raise KeyError(f"Subtracted background {subtracted!r} not present in map.")
        self._subtracted = subtracted

    def add(self, name: str, field: Field, description: str = "", *, is_subtracted: bool = False) -> None:
        """Add a new named background.

        Parameters
        ----------
        name
            Name of the new background (must not exist yet).
        field
            The background model.
        description
            Free-text description.
        is_subtracted
            Mark this background as the one subtracted from the image.

        Raises
        ------
        KeyError
            If a background with this name exists.
        """
        if name in self._backgrounds:
            raise KeyError(f"A background with name {name!r} already exists.")
        self._backgrounds[name] = Background(name, field, description)
        if is_subtracted:
            self._subtracted = name

    def copy(self) -> BackgroundMap:
        """Return a shallow copy (same `Background` objects, same subtracted name)."""
        return BackgroundMap(self._backgrounds.values(), subtracted=self._subtracted)

    @property
    def subtracted(self) -> Background | None:
        """The background marked as subtracted from the image, or `None`."""
        return self._backgrounds[self._subtracted] if self._subtracted is not None else None

    def __getitem__(self, key: str) -> Background:
        return self._backgrounds[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._backgrounds)

    def __len__(self) -> int:
        return len(self._backgrounds)

    def __eq__(self, other: object) -> bool:
        # Like any Mapping, equal to a dict with the same items; two maps must
        # also agree on which background was subtracted.
        if isinstance(other, BackgroundMap) and self._subtracted != other._subtracted:
            return False
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BackgroundMap({list(self._backgrounds.values())!r}, subtracted={self._subtracted!r})"

    def serialize(self, archive: OutputArchive[Any]) -> BackgroundMapSerializationModel:
        """Serialize each field under ``fields/<name>`` with its description and the subtracted name."""
        return BackgroundMapSerializationModel(
            fields={
                name: archive.serialize_direct(f"fields/{name}", background.field.serialize)
                for name, background in self._backgrounds.items()
            },
            descriptions={name: background.description for name, background in self._backgrounds.items()},
            subtracted=self._subtracted,
        )


class BackgroundMapSerializationModel(ArchiveTree):
    """Serialized `BackgroundMap`: field models, descriptions and the subtracted name."""

    fields: dict[str, FieldSerializationModel] = pydantic.Field(default_factory=dict)
    descriptions: dict[str, str] = pydantic.Field(default_factory=dict)
    subtracted: str | None = None

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> BackgroundMap:
        """Rebuild the `BackgroundMap`."""
        return BackgroundMap(
            (
                Background(name, model.deserialize(archive), self.descriptions.get(name, ""))
                for name, model in self.fields.items()
            ),
            subtracted=self.subtracted,
        )
