"""Spatially varying convolution kernels, such as the PSF-matching kernel of a difference image.

A difference image is made by convolving the template with a kernel that matches
its PSF to the science image's and subtracting.  The kernel varies over the image;
`ImageBasisConvolutionKernel` models it as a linear combination of fixed basis images
whose coefficients are smooth fields (usually Chebyshev polynomials) of position.
"""

from __future__ import annotations

__all__ = (
    "ConvolutionKernel",
    "ConvolutionKernelSerializationModel",
    "ImageBasisConvolutionKernel",
    "ImageBasisConvolutionKernelSerializationModel",
)

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pydantic

from ._geom import Bounds, Box
from .fields import BaseField
from .fields._models import FieldSerializationModel
from .serialization import ArchiveReadError, ArchiveTree, ArrayReferenceModel, InlineArrayModel, InputArchive
from .serialization._units import has_unit

if TYPE_CHECKING:
    from ._image import Image
    from .serialization import OutputArchive


class ConvolutionKernel(ABC):
    """A convolution kernel that may vary over an image."""

    @property
    @abstractmethod
    def bounds(self) -> Bounds:
        """Region of the image where the kernel is valid."""
        raise NotImplementedError()

    @property
    @abstractmethod
    def kernel_bbox(self) -> Box:
        """Box of every image from `compute_kernel_image` (pixel ``(0, 0)`` is the kernel centre)."""
        raise NotImplementedError()

    @abstractmethod
    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        """Return the kernel at image position ``(x, y)`` as an image on `kernel_bbox`."""
        raise NotImplementedError()

    @abstractmethod
    def serialize(self, archive: OutputArchive[Any]) -> ArchiveTree:
        """Store the kernel in an archive and return its model."""
        raise NotImplementedError()


class ImageBasisConvolutionKernel(ConvolutionKernel):
    """A kernel that is a linear combination of fixed basis images with spatially varying weights.

    ``K(x, y) = sum_n spatial[n](x, y) * basis[n]`` -- with no normalization, as the
    PSF-matching kernels of difference imaging are.

    Parameters
    ----------
    basis
        ``(n, h, w)`` basis images (stored read-only, dtype kept).
    spatial
        ``n`` fields without units giving the weight of each basis image.
    center_y, center_x
        Index of the kernel centre within a basis image (default ``(h // 2, w // 2)``),
        so that ``kernel_bbox = Box.from_shape((h, w), start=(-center_y, -center_x))``.

    Raises
    ------
    ValueError
        If ``basis`` is not 3-d or empty, the number of fields differs from the number
        of basis images, or a field has a unit.
    """

    def __init__(
        self,
        basis: np.ndarray,
        spatial: Sequence[BaseField],
        center_y: int | None = None,
        center_x: int | None = None,
    ) -> None:
        basis = np.asarray(basis)
        if basis.ndim != 3:
            raise ValueError(f"Basis array must be 3-d; shape={basis.shape}.")
        if basis.shape[0] == 0:
            raise ValueError("Must have at least one basis function.")
        spatial = tuple(spatial)
        if len(spatial) != basis.shape[0]:
            raise ValueError(
                f"Number of spatial fields ({len(spatial)}) does not match basis array shape ({basis.shape})."
            )
        if any(has_unit(field) for field in spatial):
            raise ValueError("Kernel spatial fields should not have units.")
        if basis.flags.writeable:
            basis = basis.copy()
            basis.flags.writeable = False
        h, w = basis.shape[1:]
        self._basis = basis
        self._spatial = spatial
        self._center_y = h // 2 if center_y is None else int(center_y)
        self._center_x = w // 2 if center_x is None else int(center_x)

    @property
    def basis(self) -> np.ndarray:
        """The read-only ``(n, h, w)`` basis images."""
        return self._basis

    @property
    def spatial(self) -> tuple[BaseField, ...]:
        """The weight field of each basis image."""
        return self._spatial

    @property
    def center_y(self) -> int:
        """Row of the kernel centre within a basis image."""
        return self._center_y

    @property
    def center_x(self) -> int:
        """Column of the kernel centre within a basis image."""
        return self._center_x

    @property
    def bounds(self) -> Bounds:
        """Intersection of the bounds of the spatial fields."""
        bounds = self._spatial[0].bounds
        for field in self._spatial[1:]:
            bounds = bounds.intersection(field.bounds)
        return bounds

    @property
    def kernel_bbox(self) -> Box:
        """The basis images' box, with the kernel centre at ``(0, 0)``."""
        return Box.from_shape(self._basis.shape[1:], start=(-self._center_y, -self._center_x))

    def __len__(self) -> int:
        return self._basis.shape[0]

    def __iter__(self) -> Iterator[tuple[Image, BaseField]]:
        """Iterate over ``(basis image on kernel_bbox, weight field)`` pairs."""
        from ._image import Image

        bbox = self.kernel_bbox
        for image, field in zip(self._basis, self._spatial, strict=True):
            yield Image(image, bbox=bbox), field

    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        """Return ``sum_n spatial[n](x, y) * basis[n]`` on `kernel_bbox` (float64)."""
        from ._image import Image

        weights = np.array([float(np.asarray(field(x=float(x), y=float(y)))) for field in self._spatial])
        array = np.tensordot(weights, self._basis.astype(np.float64, copy=False), axes=1)
        return Image(array, bbox=self.kernel_bbox)

    def serialize(self, archive: OutputArchive[Any]) -> ImageBasisConvolutionKernelSerializationModel:
        """Store the basis (FITS: the ``KERNEL/BASIS`` HDU, one row per tile) and the field models."""
        return ImageBasisConvolutionKernelSerializationModel(
            basis=archive.add_array(self._basis, name="basis"),
            spatial=[
                archive.serialize_direct(f"spatial/{n}", f.serialize) for n, f in enumerate(self._spatial)
            ],
            center_y=self._center_y,
            center_x=self._center_x,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageBasisConvolutionKernel):
            return NotImplemented
        return (
            (self._center_y, self._center_x) == (other._center_y, other._center_x)
            and self._basis.shape == other._basis.shape
            and np.array_equal(self._basis, other._basis, equal_nan=True)
            and all(_same_field(a, b) for a, b in zip(self._spatial, other._spatial, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<ImageBasisConvolutionKernel with {len(self)} basis images over {self.bounds.bbox}>"


def _same_field(a: BaseField, b: BaseField) -> bool:
    """Whether two fields are the same model (same kind, bounds, unit and serialized values)."""
    if type(a) is not type(b) or a.unit != b.unit or a.bounds.bbox != b.bounds.bbox:
        return False
    eq = getattr(type(a), "__eq__", object.__eq__)
    if eq is not object.__eq__:
        return bool(a == b)
    box = a.bounds.bbox
    xs, ys = np.meshgrid(
        np.linspace(box.x.start, box.x.stop - 1, 5), np.linspace(box.y.start, box.y.stop - 1, 5)
    )
    return bool(np.array_equal(np.asarray(a(x=xs, y=ys)), np.asarray(b(x=xs, y=ys)), equal_nan=True))


class ImageBasisConvolutionKernelSerializationModel(ArchiveTree):
    """Serialized `ImageBasisConvolutionKernel`: basis array, field models and centre."""

    basis: ArrayReferenceModel | InlineArrayModel
    spatial: list[FieldSerializationModel]
    center_y: int
    center_x: int
    kernel_type: Literal["IMAGE_BASIS"] = "IMAGE_BASIS"

    @pydantic.model_validator(mode="after")
    def _check(self) -> ImageBasisConvolutionKernelSerializationModel:
        shape = tuple(self.basis.shape)
        if len(shape) != 3 or shape[0] != len(self.spatial) or min(shape) < 1:
            raise ValueError(
                f"kernel basis shape {list(shape)} does not match {len(self.spatial)} spatial fields"
            )
        return self

    def deserialize(self, archive: InputArchive[Any], **kwargs: Any) -> ImageBasisConvolutionKernel:
        """Rebuild the kernel (the basis array is read whole)."""
        basis = np.asarray(archive.get_array(self.basis))
        spatial = [model.deserialize(archive) for model in self.spatial]
        try:
            return ImageBasisConvolutionKernel(basis, spatial, center_y=self.center_y, center_x=self.center_x)
        except ValueError as err:
            raise ArchiveReadError(f"invalid convolution kernel: {err}") from err


#: The serialized form of any `ConvolutionKernel` (only one kind exists).
ConvolutionKernelSerializationModel = ImageBasisConvolutionKernelSerializationModel
