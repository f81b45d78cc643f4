"""`DeferredObservationInfo`: a visit's ``obs_info`` kept as read until somebody asks for it."""

from __future__ import annotations

__all__ = ("DeferredObservationInfo",)

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .serialization import ArchiveReadError

if TYPE_CHECKING:
    from astro_metadata_translator import ObservationInfo


class DeferredObservationInfo:
    """The ``obs_info`` of a visit image read from a file, validated on first use.

    Building an `~astro_metadata_translator.ObservationInfo` needs
    ``astro_metadata_translator`` (and with it astropy.coordinates and astropy.time),
    whose import costs a few hundred milliseconds and tens of megabytes: a read that
    only wants pixels should not pay for it.  The stored mapping is kept, so an object
    written again without its ``obs_info`` being looked at stores exactly what it read.
    """

    __slots__ = ("_raw", "_value")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = dict(raw)
        self._value: ObservationInfo | None = None

    @property
    def raw(self) -> dict[str, Any]:
        """The stored mapping (as read)."""
        return self._raw

    @property
    def resolved(self) -> ObservationInfo | None:
        """The `ObservationInfo` if it has been built already, else None."""
        return self._value

    def resolve(self) -> ObservationInfo:
        """Build (once) and return the `ObservationInfo`."""
        if self._value is None:
            import pydantic
            from astro_metadata_translator import ObservationInfo

            try:
                self._value = ObservationInfo.model_validate(self._raw)
            except (pydantic.ValidationError, KeyError, TypeError, ValueError) as err:
                raise ArchiveReadError(f"The stored obs_info is not a valid ObservationInfo: {err}") from err
        return self._value

    def __repr__(self) -> str:
        return f"DeferredObservationInfo({len(self._raw)} keys, resolved={self._value is not None})"
