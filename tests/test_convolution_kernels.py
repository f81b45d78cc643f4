"""ImageBasisConvolutionKernel: evaluation, validation and serialization."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

from lsst.images import Box, fits
from lsst.images.convolution_kernels import (
    ConvolutionKernel,
    ConvolutionKernelSerializationModel,
    ImageBasisConvolutionKernel,
    ImageBasisConvolutionKernelSerializationModel,
)
from lsst.images.fields import ChebyshevField

B = Box.factory
FULL = B[0:100, 0:200]


def _kernel(**kwargs) -> ImageBasisConvolutionKernel:
    basis = np.random.default_rng(5).random((2, 5, 7))
    spatial = [
        ChebyshevField(FULL, np.array([[1.0, 0.1], [0.2, 0.0]])),
        ChebyshevField(B[10:100, 0:150], np.array([[0.5]])),
    ]
    return ImageBasisConvolutionKernel(basis, spatial, **kwargs)


def test_evaluation_is_the_weighted_sum_of_the_basis() -> None:
    kernel = _kernel()
    assert isinstance(kernel, ConvolutionKernel) and len(kernel) == 2
    assert kernel.kernel_bbox == B[-2:3, -3:4]
    assert kernel.bounds.bbox == B[10:100, 0:150]
    image = kernel.compute_kernel_image(x=40.0, y=30.0)
    weights = [float(f(x=40.0, y=30.0)) for f in kernel.spatial]
    np.testing.assert_allclose(
        image.array, weights[0] * kernel.basis[0] + weights[1] * kernel.basis[1], rtol=1e-15
    )
    assert image.bbox == kernel.kernel_bbox and image.array.dtype == np.float64
    # Pixel (0, 0) of the image is the centre of the basis images.
    assert image.array[2, 3] == pytest.approx(
        weights[0] * kernel.basis[0, 2, 3] + weights[1] * kernel.basis[1, 2, 3]
    )
    pairs = list(kernel)
    assert [field for _, field in pairs] == list(kernel.spatial)
    np.testing.assert_array_equal(pairs[1][0].array, kernel.basis[1])


def test_off_centre_kernel() -> None:
    kernel = _kernel(center_y=1, center_x=6)
    assert kernel.kernel_bbox == B[-1:4, -6:1]
    image = kernel.compute_kernel_image(x=5.0, y=15.0)
    assert image.bbox == kernel.kernel_bbox


def test_validation() -> None:
    basis = np.ones((2, 3, 3))
    field = ChebyshevField(FULL, np.array([[1.0]]))
    with pytest.raises(ValueError, match="does not match"):
        ImageBasisConvolutionKernel(basis, [field])
    with pytest.raises(ValueError, match="3-d"):
        ImageBasisConvolutionKernel(basis[0], [field])
    with pytest.raises(ValueError, match="at least one"):
        ImageBasisConvolutionKernel(basis[:0], [])
    with pytest.raises(ValueError, match="units"):
        ImageBasisConvolutionKernel(basis, [field, ChebyshevField(FULL, np.array([[1.0]]), unit=u.nJy)])
    kernel = ImageBasisConvolutionKernel(basis, [field, field])
    assert not kernel.basis.flags.writeable
    assert ConvolutionKernelSerializationModel is ImageBasisConvolutionKernelSerializationModel


class _Holder:
    """A minimal object storing a kernel at the archive root (as a DifferenceImage's ``kernel``)."""

    def __init__(self, kernel: ImageBasisConvolutionKernel) -> None:
        self.kernel = kernel

    def serialize(self, archive):
        return archive.serialize_direct("kernel", self.kernel.serialize)


def test_fits_round_trip_of_a_3d_basis(tmp_path: Path) -> None:
    from astropy.io import fits as afits

    kernel = _kernel(center_y=1, center_x=6)
    path = tmp_path / "kernel.fits"
    with fits.FitsOutputArchive.open(str(path)) as archive:
        model = _Holder(kernel).serialize(archive)
        archive.add_tree(model)
    with afits.open(path, disable_image_compression=True) as hdus:
        header = hdus["KERNEL/BASIS"].header
        assert [header[f"ZNAXIS{k}"] for k in (1, 2, 3)] == [7, 5, 2]
        assert [header[f"ZTILE{k}"] for k in (1, 2, 3)] == [7, 1, 1]
    with afits.open(path) as hdus:
        np.testing.assert_array_equal(hdus["KERNEL/BASIS"].data, kernel.basis)
    with fits.FitsInputArchive.open(str(path)) as archive:
        tree = archive.get_tree(ImageBasisConvolutionKernelSerializationModel)
        again = tree.deserialize(archive)
        block = archive.get_array(tree.basis, slices=(slice(1, 2), slice(None), slice(None)))
    assert again == kernel
    np.testing.assert_array_equal(block, kernel.basis[1:2])
    with pytest.raises(ValueError, match="does not match"):
        ImageBasisConvolutionKernelSerializationModel.model_validate(
            {**tree.model_dump(), "basis": {**tree.basis.model_dump(), "shape": [3, 5, 7]}}
        )
