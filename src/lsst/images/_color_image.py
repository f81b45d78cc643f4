"""`ColorImage`: an RGB image on the absolute pixel grid."""

from __future__ import annotations

__all__ = ("ColorImage",)

from collections.abc import Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Generic

import numpy as np
import pydantic

from ._aliases import either
from ._generalized_image import ArrayImage
from ._geom import Box
from ._image import Image, ImageSerializationModel, _resolve_shape_and_bbox
from ._transforms._models import ProjectionSerializationModel
from .serialization import ArchiveTree, InputArchive, InvalidParameterError, OutputArchive, parametrized
from .serialization._archive import P  # one shared TypeVar: ``Model[P]`` is ``Model`` itself
from .utils import is_none

if TYPE_CHECKING:
    from ._transforms import Projection
    from .serialization import MetadataValue


class ColorImage(ArrayImage):
    """An RGB image backed by a ``(y, x, 3)`` array.

    Parameters
    ----------
    array
        ``(y, x, 3)`` array holding red, green and blue channels (not copied).
    bbox
        Bounding box; must match the first two array dimensions.
    start
        ``(y, x)`` origin when no ``bbox`` is given.
    projection
        Optional pixel-to-sky projection.
    metadata
        Initial metadata dictionary.
    yx0, sky_projection
        The 4300 spellings of ``start`` and ``projection``.

    Raises
    ------
    ValueError
        If the array is not ``(y, x, 3)`` or the placement arguments disagree.
    """

    def __init__(
        self,
        array: np.ndarray,
        /,
        *,
        bbox: Box | None = None,
        start: Sequence[int] | None = None,
        projection: Projection[Any] | None = None,
        metadata: dict[str, MetadataValue] | None = None,
        yx0: Sequence[int] | None = None,
        sky_projection: Projection[Any] | None = None,
    ):
        super().__init__(metadata)
        start = either("start", start, "yx0", yx0)
        projection = either("projection", projection, "sky_projection", sky_projection)
        array = np.asarray(array)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"ColorImage array must have shape (y, x, 3); got {array.shape}.")
        self._array = array
        self._bbox = _resolve_shape_and_bbox(
            array.shape[:2], bbox=bbox, start=start, shape=None, what="color array"
        )
        self._projection = projection
        self._channels: tuple[Image, Image, Image] | None = None

    @classmethod
    def _from_parts(cls, array: np.ndarray, bbox: Box, projection: Projection[Any] | None) -> ColorImage:
        result = cls.__new__(cls)
        result._array = array
        result._bbox = bbox
        result._projection = projection
        result._channels = None
        return result

    @staticmethod
    def from_channels(
        r: Image,
        g: Image,
        b: Image,
        *,
        projection: Projection[Any] | None = None,
        metadata: dict[str, MetadataValue] | None = None,
        sky_projection: Projection[Any] | None = None,
    ) -> ColorImage:
        """Stack three same-bbox images into a new `ColorImage` (copying the pixels).

        The projection (``projection=`` or its 4300 spelling ``sky_projection=``)
        defaults to the red channel's.
        """
        projection = either("projection", projection, "sky_projection", sky_projection)
        if not (r.bbox == g.bbox == b.bbox):
            raise ValueError(f"Channel bboxes do not agree: {r.bbox}, {g.bbox}, {b.bbox}.")
        array = np.stack([r.array, g.array, b.array], axis=-1)
        return ColorImage(
            array,
            bbox=r.bbox,
            projection=projection if projection is not None else r.projection,
            metadata=metadata,
        )

    @property
    def array(self) -> np.ndarray:
        """The ``(y, x, 3)`` array."""
        return self._array

    def _channel(self, index: int) -> Image:
        # Channel views are built once so that they keep their own (initially
        # empty) metadata, like any other Image.
        if self._channels is None:
            self._channels = tuple(  # type: ignore[assignment]
                Image(self._array[..., i], bbox=self._bbox, projection=self._projection) for i in range(3)
            )
        assert self._channels is not None
        return self._channels[index]

    @property
    def red(self) -> Image:
        """Image view of channel 0 (shares memory and projection)."""
        return self._channel(0)

    @property
    def green(self) -> Image:
        """Image view of channel 1."""
        return self._channel(1)

    @property
    def blue(self) -> Image:
        """Image view of channel 2."""
        return self._channel(2)

    def _with_array(self, array: np.ndarray, bbox: Box) -> ColorImage:
        return ColorImage._from_parts(array, bbox, self._projection)

    def __setitem__(self, bbox: Box | EllipsisType, value: ColorImage) -> None:
        target = self[bbox]
        if not isinstance(value, ColorImage):
            raise TypeError(f"Only ColorImage objects can be assigned; got {type(value).__name__}.")
        if tuple(value.bbox.shape) != tuple(target.bbox.shape):
            raise ValueError(f"Cannot assign a color image with bbox {value.bbox} into {target.bbox}.")
        target._array[...] = value._array

    # -- serialization -----------------------------------------------------

    def serialize(self, archive: OutputArchive[Any]) -> ColorImageSerializationModel[Any]:
        """Store the three channels (``red``, ``green``, ``blue``) and the projection once."""
        channels = {}
        for name, channel in (("red", self.red), ("green", self.green), ("blue", self.blue)):
            channels[name] = archive.serialize_direct(
                name, lambda a, channel=channel: channel.serialize(a, save_projection=False)
            )
        projection = None
        if self._projection is not None:
            projection = archive.serialize_direct("projection", self._projection.serialize)
        return ColorImageSerializationModel(metadata=dict(self.metadata), projection=projection, **channels)

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[ColorImageSerializationModel[Any]]:
        """Return the model class to parse for a ColorImage stored with ``pointer_type`` pointers."""
        return parametrized(ColorImageSerializationModel, pointer_type)

    def __str__(self) -> str:
        return f"ColorImage({self._bbox}, {self._array.dtype})"

    def __repr__(self) -> str:
        return f"ColorImage(..., bbox={self._bbox!r}, dtype={self._array.dtype!r})"


class ColorImageSerializationModel(ArchiveTree, Generic[P]):
    """Serialized form of a `ColorImage`: one image model per channel plus the projection."""

    red: ImageSerializationModel[P]
    green: ImageSerializationModel[P]
    blue: ImageSerializationModel[P]
    projection: ProjectionSerializationModel[P] | None = pydantic.Field(default=None, exclude_if=is_none)

    @property
    def bbox(self) -> Box:
        """Bounding box of the stored channels."""
        return self.red.bbox

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, **kwargs: Any
    ) -> ColorImage:
        """Read the channels back (optionally only ``bbox``) and restack them."""
        if kwargs:
            raise InvalidParameterError(
                f"Unrecognized parameters for reading a ColorImage: {sorted(kwargs)}."
            )
        channels = [getattr(self, name).deserialize(archive, bbox=bbox) for name in ("red", "green", "blue")]
        projection = self.projection.deserialize(archive) if self.projection is not None else None
        return ColorImage.from_channels(*channels, projection=projection, metadata=dict(self.metadata))

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read one component: ``bbox`` and ``projection`` (4300: ``sky_projection``) need no pixels."""
        match component:
            case "bbox":
                return self.bbox
            case "projection" | "sky_projection":
                return self.projection.deserialize(archive) if self.projection is not None else None
        return super().deserialize_component(component, archive, **kwargs)
