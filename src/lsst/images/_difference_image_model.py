"""`DifferenceImageSerializationModel`: the JSON-tree form of a `DifferenceImage`.

A visit-image tree plus ``band``, ``kernel`` and ``templates`` (both ``null`` when
absent).  Like the visit-image model it is imported on first use, so that ``import
lsst.images`` stays fast.
"""

from __future__ import annotations

__all__ = ("DifferenceImageSerializationModel",)

from typing import Any, Generic

from ._difference_image import DifferenceImage, DifferenceImageTemplateInfo
from ._geom import Box
from ._visit_image_model import VisitImageSerializationModel
from .convolution_kernels import ImageBasisConvolutionKernelSerializationModel
from .serialization import ArchiveReadError, InputArchive, InvalidParameterError
from .serialization._archive import P


class DifferenceImageSerializationModel(VisitImageSerializationModel[P], Generic[P]):
    """Serialized form of a `DifferenceImage` (the JSON tree of a difference-image file)."""

    band: str | None = None
    kernel: ImageBasisConvolutionKernelSerializationModel | None = None
    templates: list[DifferenceImageTemplateInfo] | None = None

    def deserialize(
        self, archive: InputArchive[Any], *, bbox: Box | None = None, **kwargs: Any
    ) -> DifferenceImage:
        """Rebuild the `DifferenceImage`, optionally just the cut-out ``bbox`` (kernel, templates whole)."""
        if kwargs:
            raise InvalidParameterError(
                f"Unrecognized parameters for reading a DifferenceImage: {sorted(kwargs)}."
            )
        visit = super().deserialize(archive, bbox=bbox)
        kernel = self.kernel.deserialize(archive) if self.kernel is not None else None
        try:
            result = DifferenceImage(
                visit.image,
                mask=visit.mask,
                variance=visit.variance,
                kernel=kernel,
                templates=self.templates,
                metadata=visit.metadata,
                **(visit._components() | {"band": self.band or visit.band}),
            )
        except TypeError as err:
            raise ArchiveReadError(f"the stored difference image is incomplete: {err}") from err
        return result

    def deserialize_component(self, component: str, archive: InputArchive[Any], **kwargs: Any) -> Any:
        """Read one component; ``kernel``, ``templates`` and ``band`` are added to the visit-image ones."""
        match component:
            case "kernel":
                return self.kernel.deserialize(archive) if self.kernel is not None else None
            case "templates":
                return self.templates
            case "band":
                return self.band
        return super().deserialize_component(component, archive, **kwargs)
