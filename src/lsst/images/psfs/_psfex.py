"""PSFEx PSF models, evaluated from their stored parameters with numpy.

PSFEx describes the PSF as a set of *component* images sampled on a grid
whose step is ``pixel_step`` image pixels.  The PSF at a position is a linear
combination of the components whose weights are the monomials of a
polynomial in normalized *context* variables (here the pixel coordinates):
``t_d = (value_d - offset_d) / scale_d``.  Context dimensions are split into
groups; a monomial is kept when, for every group, the sum of the exponents
of that group's dimensions does not exceed the group's degree.  Monomials
are ordered with the first dimension varying fastest (for one group of
degree 2 in x and y: 1, x, x², y, xy, y²), matching the PSFEx file
convention.  Resampling from the component grid to image pixels uses a
Lanczos-3 kernel, after which images are normalized to unit sum.
"""

from __future__ import annotations

__all__ = ("PSFExModel", "PSFExWrapper")

import itertools
import math
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .._geom import Box
from ._legacy import LegacyPointSpreadFunction
from ._stamps import centered_box

if TYPE_CHECKING:
    from .._geom import Bounds
    from .._image import Image
    from ..serialization import OutputArchive
    from ._models import PSFExSerializationModel

_LANCZOS_ORDER = 3


def _lanczos_weights(offsets: np.ndarray, n_samples: int) -> np.ndarray:
    """Lanczos-3 interpolation weights: shape ``(len(offsets), n_samples)``.

    ``offsets`` are positions in units of the sample grid (0 = first sample).
    """
    distance = offsets[:, np.newaxis] - np.arange(n_samples, dtype=np.float64)[np.newaxis, :]
    weights = np.sinc(distance) * np.sinc(distance / _LANCZOS_ORDER)
    weights[np.abs(distance) >= _LANCZOS_ORDER] = 0.0
    return weights


def polynomial_exponents(group: Sequence[int], degree: Sequence[int]) -> list[tuple[int, ...]]:
    """Exponent tuples of the PSFEx polynomial terms, in storage order.

    Parameters
    ----------
    group
        0-based group index of every context dimension.
    degree
        Maximum total degree of every group.
    """
    n_dim = len(group)
    if n_dim == 0:
        return [()]
    max_degree = max(degree) if len(degree) else 0
    terms = []
    # itertools.product varies the *last* element fastest; reverse so that
    # the first context dimension varies fastest, as PSFEx stores them.
    for reversed_exponents in itertools.product(range(max_degree + 1), repeat=n_dim):
        exponents = tuple(reversed(reversed_exponents))
        totals = [0] * len(degree)
        for dim, power in enumerate(exponents):
            totals[group[dim]] += power
        if all(total <= limit for total, limit in zip(totals, degree, strict=True)):
            terms.append(exponents)
    return terms


class PSFExModel:
    """The parameters of a PSFEx model and their evaluation.

    Parameters
    ----------
    average_x, average_y
        Mean position of the stars used to build the model (kept for
        reference and round trips).
    pixel_step
        Step of the component grid in image pixels.
    group
        0-based group of every context dimension.
    degree
        Polynomial degree of every group.
    basis, coeff
        PSFEx auxiliary polynomial vectors, stored verbatim.
    parameters
        Component images, shape ``(n_components, height, width)``.
    context
        Context normalization, shape ``(2, n_dim)``: offsets, then scales.
    """

    def __init__(
        self,
        *,
        average_x: float,
        average_y: float,
        pixel_step: float,
        group: Sequence[int],
        degree: Sequence[int],
        basis: Sequence[float],
        coeff: Sequence[float],
        parameters: np.ndarray,
        context: np.ndarray,
    ):
        parameters = np.asarray(parameters)
        if parameters.ndim == 2:
            parameters = parameters[np.newaxis, :, :]
        if parameters.ndim != 3:
            raise ValueError(f"PSFEx parameters must be a 3-d component cube; got shape {parameters.shape}.")
        context = (
            np.asarray(context, dtype=np.float64).reshape(2, -1) if np.size(context) else np.zeros((2, 0))
        )
        if not pixel_step > 0:
            raise ValueError(f"PSFEx pixel_step must be positive; got {pixel_step}.")
        self.average_x = float(average_x)
        self.average_y = float(average_y)
        self.pixel_step = float(pixel_step)
        self.group = [int(g) for g in group]
        self.degree = [int(d) for d in degree]
        self.basis = [float(b) for b in basis]
        self.coeff = [float(c) for c in coeff]
        self.parameters = parameters
        self.context = context
        n_dim = context.shape[1]
        if len(self.group) < n_dim:
            raise ValueError(f"PSFEx group has {len(self.group)} entries for {n_dim} context dimensions.")
        if n_dim > 2:
            raise ValueError(f"Only pixel-position contexts are supported; got {n_dim} context dimensions.")
        self.exponents = np.array(polynomial_exponents(self.group[:n_dim], self.degree), dtype=np.int64)
        if len(self.exponents) != parameters.shape[0]:
            raise ValueError(
                f"PSFEx model has {parameters.shape[0]} components but its polynomial has "
                f"{len(self.exponents)} terms."
            )

    @property
    def radius(self) -> int:
        """Half-width in image pixels of the region covered by the component grid."""
        half_samples = (max(self.parameters.shape[1:]) - 1) // 2
        return max(int(math.floor(half_samples * self.pixel_step)), 0)

    def term_values(self, *, x: float, y: float) -> np.ndarray:
        """Values of the polynomial terms (component weights) at a position."""
        n_dim = self.context.shape[1]
        if n_dim == 0:
            return np.ones(1)
        coords = np.array([x, y][:n_dim], dtype=np.float64)
        normalized = (coords - self.context[0]) / self.context[1]
        return np.prod(normalized[np.newaxis, :] ** self.exponents, axis=1)

    def sample_image(self, *, x: float, y: float) -> np.ndarray:
        """PSF on the component grid at a position (not normalized)."""
        weights = self.term_values(x=x, y=y)
        return np.tensordot(weights, self.parameters.astype(np.float64), axes=1)

    def render(self, bbox: Box, *, x: float, y: float, dx: float, dy: float) -> np.ndarray:
        """Resample the PSF at ``(x, y)`` onto ``bbox``, with the star at ``(dx, dy)``; unit sum."""
        samples = self.sample_image(x=x, y=y)
        height, width = samples.shape
        ys = (np.arange(bbox.y.start, bbox.y.stop, dtype=np.float64) - dy) / self.pixel_step + height // 2
        xs = (np.arange(bbox.x.start, bbox.x.stop, dtype=np.float64) - dx) / self.pixel_step + width // 2
        array = _lanczos_weights(ys, height) @ samples @ _lanczos_weights(xs, width).T
        total = array.sum()
        if total == 0 or not np.isfinite(total):
            raise ValueError(f"PSFEx model at ({x}, {y}) has a non-normalizable image (sum {total}).")
        return array / total


class PSFExWrapper(LegacyPointSpreadFunction):
    """A PSFEx PSF, evaluated from its stored parameters.

    Parameters
    ----------
    impl
        A `PSFExModel` (or an afw ``PsfexPsf`` when the legacy stack is
        available; it is then used for evaluation).
    bounds
        Validity region.
    """

    def __init__(self, impl: Any, bounds: Bounds):
        super().__init__(impl, bounds)

    @property
    def model(self) -> PSFExModel | None:
        """The numpy PSFEx model, if this wrapper has one."""
        return self._impl if isinstance(self._impl, PSFExModel) else None

    @cached_property
    def kernel_bbox(self) -> Box:
        if self.model is None:
            return super().kernel_bbox
        return centered_box(x=0.0, y=0.0, radius=self.model.radius)

    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        if self.model is None:
            return super().compute_kernel_image(x=x, y=y)
        from .._image import Image

        bbox = self.kernel_bbox
        return Image(self.model.render(bbox, x=x, y=y, dx=0.0, dy=0.0), bbox=bbox)

    def compute_stellar_bbox(self, *, x: float, y: float) -> Box:
        if self.model is None:
            return super().compute_stellar_bbox(x=x, y=y)
        return centered_box(x=x, y=y, radius=self.model.radius)

    def compute_stellar_image(self, *, x: float, y: float) -> Image:
        if self.model is None:
            return super().compute_stellar_image(x=x, y=y)
        from .._image import Image

        bbox = self.compute_stellar_bbox(x=x, y=y)
        return Image(self.model.render(bbox, x=x, y=y, dx=float(x), dy=float(y)), bbox=bbox)

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[PSFExSerializationModel]:
        """Return the model to parse for a PSFEx PSF stored on its own (any pointer type)."""
        from ._models import PSFExSerializationModel

        return PSFExSerializationModel

    def serialize(self, archive: OutputArchive[Any]) -> PSFExSerializationModel:
        """Write the component images as the ``parameters`` array and return the model."""
        from ._models import PSFExSerializationModel

        model = self.model
        if model is None:
            raise NotImplementedError(
                "Only PSFEx PSFs built from their parameters (PSFExModel) can be serialized without afw."
            )
        parameters = archive.add_array(np.asarray(model.parameters, dtype=np.float32), name="parameters")
        return PSFExSerializationModel(
            average_x=model.average_x,
            average_y=model.average_y,
            pixel_step=model.pixel_step,
            group=list(model.group),
            degree=list(model.degree),
            basis=list(model.basis),
            coeff=list(model.coeff),
            parameters=parameters,
            context=model.context,
            bounds=self._bounds.serialize(),
        )
