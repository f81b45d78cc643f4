"""Pydantic models of the serialized (JSON tree) forms of transforms, projections and camera frame sets.

Layout (FORMAT.md §9.1): a transform is ``{"frames": [...], "bounds": [...],
"mappings": [...]}`` with one more frame (and bounds entry) than mappings, so
a chain of composed transforms keeps its intermediate frames.  Each mapping
entry is either ``{"ast": "<AST native text>"}`` or an archive pointer to a
stored frame set that contains both neighbouring frames.
"""

from __future__ import annotations

__all__ = (
    "CameraFrameSetSerializationModel",
    "MappingSerializationModel",
    "ProjectionSerializationModel",
    "TransformSerializationModel",
)

from typing import TYPE_CHECKING, Any, Generic

import pydantic
from starlink import Ast

from .._polygon import SerializableBounds
from ..serialization import ArchiveTree, InputArchive, OutputArchive
from ..serialization._archive import P  # one shared TypeVar: ``Model[P]`` is ``Model`` itself
from ..serialization._pointers import pointer_field
from . import _ast_utils
from ._frames import SerializableFrame
from ._transform import Transform

if TYPE_CHECKING:
    from ._camera_frame_set import CameraFrameSet
    from ._projection import Projection


class MappingSerializationModel(pydantic.BaseModel):
    """One mapping stored inline as AST native text (with AST's comments)."""

    ast: str


#: A transform's mapping entry: inline AST text, or a pointer (of the reading archive's
#: pointer type, see `pointer_field`) to a stored frame set holding both neighbouring frames.
MappingEntry = pointer_field(MappingSerializationModel)


def _serialize_bounds(bounds: Any) -> Any:
    return None if bounds is None else bounds.serialize()


def _deserialize_bounds(bounds: Any) -> Any:
    return None if bounds is None else bounds.deserialize()


def serialize_transform(
    transform: Transform[Any, Any], archive: OutputArchive[Any], *, use_frame_sets: bool = False
) -> TransformSerializationModel[Any]:
    """Build the serialized form of a transform (see `Transform.serialize`)."""
    # An identity decomposes into no parts but is still written as one (UnitMap) mapping.
    parts = transform.decompose() or [transform]
    frames: list[Any] = [transform.in_frame.serialize()]
    bounds: list[Any] = [_serialize_bounds(transform.in_bounds)]
    mappings: list[Any] = []
    frame_sets = list(archive.iter_frame_sets()) if use_frame_sets and parts else []
    for n, part in enumerate(parts):
        frames.append(part.out_frame.serialize())
        out_bounds = transform.out_bounds if n == len(parts) - 1 else part.out_bounds
        bounds.append(_serialize_bounds(out_bounds))
        pointer = None
        for frame_set, frame_set_pointer in frame_sets:
            if part.in_frame in frame_set and part.out_frame in frame_set:
                pointer = frame_set_pointer
                break
        if pointer is not None:
            mappings.append(pointer)
        else:
            mappings.append(MappingSerializationModel(ast=_ast_utils.ast_to_text(part._ast, comments=True)))
    return TransformSerializationModel(frames=frames, bounds=bounds, mappings=mappings)


class TransformSerializationModel(ArchiveTree, Generic[P]):
    """Serialized `Transform`: chains of frames, bounds and mappings (inline AST text or pointers)."""

    frames: list[SerializableFrame] = pydantic.Field(default_factory=list)
    bounds: list[SerializableBounds | None] = pydantic.Field(default_factory=list)
    mappings: list[MappingEntry] = pydantic.Field(default_factory=list)

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> Transform[Any, Any]:
        """Rebuild the transform, resolving frame-set pointers through the archive."""
        if len(self.frames) != len(self.mappings) + 1 or len(self.bounds) != len(self.frames):
            raise ValueError(
                f"A serialized transform needs one more frame ({len(self.frames)}) than mappings "
                f"({len(self.mappings)}) and one bounds entry per frame ({len(self.bounds)})."
            )
        frames = [frame.deserialize() for frame in self.frames]
        bounds = [_deserialize_bounds(b) for b in self.bounds]
        if not self.mappings:
            return Transform(frames[0], frames[0], Ast.UnitMap(2), bounds[0], bounds[0])
        parts = []
        for n, entry in enumerate(self.mappings):
            text = entry.ast if isinstance(entry, MappingSerializationModel) else None
            if text is None and isinstance(entry, dict) and "ast" in entry:
                text = entry["ast"]
            if text is not None:
                mapping = _ast_utils.ast_from_text(text)
            else:
                mapping = archive.get_frame_set(entry)[frames[n], frames[n + 1]]._ast
            parts.append(Transform(frames[n], frames[n + 1], mapping, bounds[n], bounds[n + 1]))
        result = parts[0]
        for part in parts[1:]:
            result = result.then(part)
        return result


class ProjectionSerializationModel(ArchiveTree, Generic[P]):
    """Serialized `Projection`: the pixel → sky transform and an optional FITS approximation."""

    pixel_to_sky: TransformSerializationModel[P]
    fits_approximation: TransformSerializationModel[P] | None = pydantic.Field(
        default=None, exclude_if=lambda value: value is None
    )

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> Projection[Any]:
        """Rebuild the Projection."""
        from ._projection import Projection

        return Projection(
            self.pixel_to_sky.deserialize(archive),
            None if self.fits_approximation is None else self.fits_approximation.deserialize(archive),
        )


class CameraFrameSetSerializationModel(ArchiveTree):
    """Serialized `CameraFrameSet`: instrument name and the AST FrameSet text."""

    instrument: str
    ast: str

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> CameraFrameSet:
        """Parse the AST text back into a CameraFrameSet."""
        from ._camera_frame_set import CameraFrameSet

        return CameraFrameSet(self.instrument, _ast_utils.ast_from_text(self.ast))
