"""Abstract containers of transforms between known frames."""

from __future__ import annotations

__all__ = ("FrameLookupError", "FrameSet")

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, TypeVar

from ._frames import Frame

if TYPE_CHECKING:
    from ._transform import Transform

I = TypeVar("I", bound=Frame)  # noqa: E741
O = TypeVar("O", bound=Frame)  # noqa: E741


class FrameLookupError(LookupError):
    """Raised when a frame is not part of a `FrameSet`."""


class FrameSet(ABC):
    """A factory of `Transform` objects between the frames it knows.

    Subclasses implement ``frame in frame_set`` and
    ``frame_set[in_frame, out_frame]``; `get` is the forgiving variant.
    """

    @abstractmethod
    def __contains__(self, frame: Frame) -> bool:
        """Whether the frame is known to this set."""
        raise NotImplementedError()

    @abstractmethod
    def __getitem__(self, key: tuple[I, O]) -> Transform[I, O]:
        """Return the transform between two frames (`FrameLookupError` if either is unknown)."""
        raise NotImplementedError()

    def get(self, in_frame: I, out_frame: O) -> Transform[I, O] | None:
        """Return the transform between two frames, or `None` if either is unknown."""
        try:
            return self[in_frame, out_frame]
        except FrameLookupError:
            return None
