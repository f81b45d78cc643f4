"""Small synthetic DP2 products (cell coadds, difference images) for tests.

They exercise the same paths as Rubin's files (missing cells, image boxes that do not
line up with the cells, per-field missing aperture corrections, provenance, kernels,
templates) without needing the shared reference fixtures.
"""

from __future__ import annotations

__all__ = ("make_test_cell_coadd", "make_test_difference_image")

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np

if TYPE_CHECKING:
    from .._difference_image import DifferenceImage
    from ..cells import CellCoadd

COADD_MASK_PLANES = (
    ("NO_DATA", "No input data for this pixel."),
    ("SATURATED", "Saturated on a significant fraction of inputs."),
    ("DETECTED", "Part of a detected source."),
    ("REJECTED", "At least one input was left out for this pixel."),
)


def _gaussian(size: int, sigma: float, dy: float = 0.0, dx: float = 0.0) -> np.ndarray:
    r = size // 2
    yy, xx = np.mgrid[-r : size - r, -r : size - r]
    values = np.exp(-0.5 * ((xx - dx) ** 2 + (yy - dy) ** 2) / sigma**2)
    return values / values.sum()


def _make_detector() -> Any:
    """A one-detector camera: 400x500 pixels of 10 microns at the focal-plane origin (0.1 mrad/mm)."""
    from starlink import Ast

    from .._geom import Box, Interval
    from .._transforms import CameraFrameSet
    from ..cameras import Detector, DetectorAttributes, DetectorType, Orientation

    bbox = Box(Interval(0, 400), Interval(0, 500))
    focal_plane = Ast.Frame(2, "Ident=FOCAL_PLANE,Title=Focal Plane Coordinates,Unit(1)=mm,Unit(2)=mm")
    pixels = Ast.Frame(2, "Ident=DETECTOR_005,Title=Pixel Coordinates,Unit(1)=pix,Unit(2)=pix")
    pixels.set(f"Bottom(1)=0,Top(1)={bbox.x.stop - 1},Bottom(2)=0,Top(2)={bbox.y.stop - 1}")
    field_angle = Ast.Frame(2, "Ident=FIELD_ANGLE,Title=Field Angle Coordinates,Unit(1)=rad,Unit(2)=rad")
    frames = Ast.FrameSet(focal_plane)
    frames.addframe(1, Ast.ZoomMap(2, 1e-4), field_angle)
    frames.addframe(1, Ast.ZoomMap(2, 100.0), pixels)
    frames.Base = 1
    attributes = DetectorAttributes(
        name="R00_S05", id=5, type=DetectorType.SCIENCE, serial="TEST-0005", bbox=bbox,
        orientation=Orientation(focal_plane_x=0.0, focal_plane_y=0.0, focal_plane_z=0.0),
        pixel_size=0.01, physical_type="TEST",
    )  # fmt: skip
    return Detector(attributes, [], CameraFrameSet("TestCam", frames), visit=42)


def _make_obs_info() -> Any:
    from astro_metadata_translator import ObservationInfo

    return ObservationInfo.model_validate(
        {"instrument": "TestCam", "physical_filter": "r_test", "detector_num": 5, "visit_id": 42}
    )


def make_test_cell_coadd(
    seed: int = 1,
    *,
    grid_start: tuple[int, int] = (100, 200),
    cells: tuple[int, int] = (2, 3),
    cell_shape: tuple[int, int] = (20, 30),
    psf_size: int = 9,
    image_box: tuple[int, int, int, int] | None = None,
    missing: Sequence[tuple[int, int]] = (),
    apcorr_extra_missing: tuple[int, int] | None = None,
    n_inputs: int = 3,
    provenance: bool = True,
    extras: bool = True,
    background: bool = False,
) -> CellCoadd:
    """Build a small `CellCoadd` with random but reproducible contents.

    Parameters
    ----------
    seed
        Seed of the random contents.
    grid_start, cells, cell_shape
        Start ``(y, x)`` of the cell grid, number of cells ``(i, j)`` and cell shape.
    psf_size
        Size of the (odd, square) per-cell PSF kernels.
    image_box
        ``(y0, y1, x0, x1)`` of the image; default the whole grid.
    missing
        Cells ``(i, j)`` without data (NaN pixels, ``NO_DATA``, NaN PSF).
    apcorr_extra_missing
        One more cell missing from the second aperture correction only.
    n_inputs
        Number of input observations of the provenance.
    provenance, extras, background
        Whether to attach a patch and provenance; aperture corrections, mask fractions,
        a noise realization and metadata; a Chebyshev background.
    """
    from .._geom import YX, Box, Interval
    from .._image import Image
    from .._mask import MaskPlane, MaskSchema
    from .._polygon import Polygon
    from .._transforms import TractFrame
    from ..cells import (
        CellCoadd,
        CellField,
        CellGrid,
        CellGridBounds,
        CellIJ,
        CellPointSpreadFunction,
        CoaddProvenance,
        PatchDefinition,
    )
    from ..fields import ChebyshevField
    from ._coords import make_random_projection

    rng = np.random.default_rng(seed)
    (gy, gx), (ni, nj), (cy, cx) = grid_start, cells, cell_shape
    grid = CellGrid(bbox=Box(Interval(gy, gy + ni * cy), Interval(gx, gx + nj * cx)), cell_shape=YX(cy, cx))
    absent = frozenset(CellIJ(i, j) for i, j in missing)
    bounds = CellGridBounds(grid=grid, bbox=grid.bbox, missing=absent)
    bbox = grid.bbox if image_box is None else Box(Interval(*image_box[:2]), Interval(*image_box[2:]))
    tract = Box(Interval(0, 4000), Interval(0, 4000))
    projection = make_random_projection(rng, TractFrame(skymap="test_cells", tract=77, bbox=tract), tract)
    values = rng.normal(0.0, 10.0, size=bbox.shape).astype(np.float32)
    variance = rng.uniform(90.0, 110.0, size=bbox.shape).astype(np.float32)
    ys, xs = np.mgrid[bbox.y.start : bbox.y.stop, bbox.x.start : bbox.x.stop]
    cell = grid.index_of(y=ys, x=xs)
    nodata = np.zeros(bbox.shape, dtype=bool)
    for c in absent:
        nodata |= (cell.i == c.i) & (cell.j == c.j)
    values[nodata] = np.nan
    variance[nodata] = np.nan
    psf_array = np.full((ni, nj, psf_size, psf_size), np.nan)
    for i in range(ni):
        for j in range(nj):
            if CellIJ(i, j) not in absent:
                psf_array[i, j] = _gaussian(psf_size, 1.5 + 0.1 * i + 0.05 * j, *rng.uniform(-0.2, 0.2, 2))
    schema = MaskSchema([MaskPlane(n, d) for n, d in COADD_MASK_PLANES])
    kwargs: dict[str, Any] = {}
    if extras:
        a1 = 0.97 + 0.002 * np.arange(ni)[:, None] - 0.001 * np.arange(nj)[None, :]
        a2 = rng.uniform(0.95, 1.05, size=(ni, nj))
        b2 = bounds
        if apcorr_extra_missing is not None:
            b2 = CellGridBounds(grid=grid, bbox=grid.bbox, missing=absent | {CellIJ(*apcorr_extra_missing)})
            a2[apcorr_extra_missing] = np.nan
        for c in absent:
            a1[c.i, c.j] = a2[c.i, c.j] = np.nan
        kwargs["aperture_corrections"] = {
            "psf_flux": CellField(bounds, a1),
            "gaussian_flux": CellField(b2, a2),
        }
        kwargs["mask_fractions"] = {
            "rejected": Image(rng.uniform(0, 0.1, bbox.shape).astype(np.float32), bbox=bbox)
        }
        kwargs["noise_realizations"] = [
            Image(rng.normal(0, 10.0, bbox.shape).astype(np.float32), bbox=bbox, unit=u.nJy)
        ]
        kwargs["metadata"] = {"ORIGIN": "make_test_cell_coadd", "seed": seed}
    if provenance:
        kwargs["patch"] = PatchDefinition(
            id=12, index=YX(1, 2), inner_bbox=grid.bbox.dilated_by(-min(cy, cx) // 4), cells=grid
        )
        inputs = CoaddProvenance.make_empty_input_table(n_inputs)
        for n in range(n_inputs):
            inputs["instrument"][n] = "TestCam"
            inputs["visit"][n] = 1000 + n
            inputs["detector"][n] = 10 + n
            inputs["physical_filter"][n] = "r_test"
            inputs["day_obs"][n] = 20250101 + n
            x0, y0 = gx - 5 + 7 * n, gy - 4 + 5 * n
            inputs["polygon"][n] = Polygon(
                x_vertices=[x0, x0 + 300.0, x0 + 290.0, x0 - 3.0],
                y_vertices=[y0, y0 + 2.0, y0 + 200.0, y0 + 198.0],
            )
        rows = [
            (i, j, n)
            for i in range(ni)
            for j in range(nj)
            if CellIJ(i, j) not in absent
            for n in range(n_inputs)
            if (i + j + n) % 3 != 2
        ]
        contributions = CoaddProvenance.make_empty_contribution_table(len(rows))
        for r, (i, j, n) in enumerate(rows):
            row = {
                "cell_i": i,
                "cell_j": j,
                "instrument": "TestCam",
                "visit": 1000 + n,
                "detector": 10 + n,
                "overlaps_center": n % 2 == 0,
                "overlap_fraction": rng.uniform(0.3, 1),
                "unmasked_fraction": rng.uniform(0.2, 1),
                "weight": rng.uniform(0.5, 2),
                "psf_shape_xx": rng.uniform(3, 5),
                "psf_shape_yy": rng.uniform(3, 5),
                "psf_shape_xy": rng.uniform(-0.2, 0.2),
                "psf_shape_flag": r % 7 == 0,
            }
            for name, value in row.items():
                contributions[name][r] = value
        kwargs["provenance"] = CoaddProvenance(inputs, contributions)
    coadd = CellCoadd(
        Image(values, bbox=bbox, unit=u.nJy),
        variance=Image(variance, bbox=bbox, unit=u.nJy**2),
        mask_schema=schema,
        sky_projection=projection,
        band="r",
        psf=CellPointSpreadFunction(psf_array, bounds),
        **kwargs,
    )
    coadd.mask.set("NO_DATA", nodata)
    coadd.mask.set("DETECTED", values > 15)
    if background:
        coadd.backgrounds.add(
            "residual", ChebyshevField(grid.bbox, np.array([[0.5, 0.02], [-0.01, 0.0]]), unit=u.nJy)
        )
    return coadd


def make_test_difference_image(
    seed: int = 1,
    *,
    shape: tuple[int, int] = (40, 50),
    yx0: tuple[int, int] = (100, 300),
    n_basis: int = 3,
    kernel_size: int = 9,
    kernel_center: tuple[int, int] | None = None,
    n_templates: int = 2,
    kernel: bool = True,
) -> DifferenceImage:
    """Build a small `DifferenceImage` with a Gaussian PSF, a basis kernel and templates.

    Parameters
    ----------
    seed
        Seed of the random contents.
    shape, yx0
        Shape and origin of the image (detector coordinates).
    n_basis, kernel_size, kernel_center
        Number and (square) size of the kernel basis images, and the kernel centre
        ``(y, x)`` within them (default the middle).
    n_templates
        Number of template records (0: no templates).
    kernel
        Whether to attach the convolution kernel.
    """
    from .._difference_image import DifferenceImage, DifferenceImageTemplateInfo
    from .._geom import Box
    from .._image import Image
    from .._mask import MaskPlane, MaskSchema
    from .._polygon import Polygon
    from .._transforms import DetectorFrame
    from ..convolution_kernels import ImageBasisConvolutionKernel
    from ..fields import ChebyshevField
    from ..psfs import GaussianPointSpreadFunction
    from ._coords import make_random_projection

    rng = np.random.default_rng(seed)
    bbox = Box.from_shape(shape, start=yx0)
    detector = _make_detector()
    frame = DetectorFrame(instrument="TestCam", visit=42, detector=detector.id, bbox=detector.bbox)
    projection = make_random_projection(rng, frame, detector.bbox)
    image = Image(rng.normal(0, 30, shape).astype(np.float32), bbox=bbox, unit=u.nJy)
    variance = Image(rng.uniform(800, 1000, shape).astype(np.float32), bbox=bbox, unit=u.nJy**2)
    kwargs: dict[str, Any] = {}
    if kernel:
        cy, cx = kernel_center if kernel_center is not None else (kernel_size // 2, kernel_size // 2)
        basis = np.stack(
            [
                _gaussian(kernel_size, 1.0 + 0.7 * n, cy - kernel_size // 2, cx - kernel_size // 2)
                for n in range(n_basis)
            ]
        )
        spatial = [ChebyshevField(detector.bbox, np.array([[1.0, 0.05], [0.02, 0.0]]))]
        spatial += [ChebyshevField(detector.bbox, rng.normal(0, 0.1, (2, 2))) for _ in range(n_basis - 1)]
        kwargs["kernel"] = ImageBasisConvolutionKernel(basis, spatial, center_y=cy, center_x=cx)
    if n_templates:
        kwargs["templates"] = [
            DifferenceImageTemplateInfo(
                skymap="test_cells",
                tract=77,
                patch=t,
                dataset_id=uuid.UUID(int=int(rng.integers(1, 2**62))),
                dataset_run=f"templates/run{t}",
                bounds=Polygon(
                    x_vertices=[yx0[1] - 0.5, yx0[1] + 20.5, yx0[1] + 20.5, yx0[1] - 0.5],
                    y_vertices=[yx0[0] - 0.5, yx0[0] - 0.5, yx0[0] + 30.5, yx0[0] + 30.5],
                ),
                psf_shape_xx=rng.uniform(3, 5),
                psf_shape_yy=rng.uniform(3, 5),
                psf_shape_xy=rng.uniform(-0.3, 0.3),
                psf_shape_flag=(t == 1),
                instrument="TestCam",
            )  # fmt: skip
            for t in range(n_templates)
        ]
    schema = MaskSchema([MaskPlane("BAD", "Bad pixel."), MaskPlane("DETECTED", "Detected."),
                         MaskPlane("DETECTED_NEGATIVE", "Negative detection.")])  # fmt: skip
    di = DifferenceImage(
        image,
        variance=variance,
        mask_schema=schema,
        sky_projection=projection,
        obs_info=_make_obs_info(),
        psf=GaussianPointSpreadFunction(2.0, bounds=detector.bbox, stamp_size=15),
        detector=detector,
        band="r",
        **kwargs,
    )
    di.mask.set("DETECTED", image.array > 60)
    di.mask.set("DETECTED_NEGATIVE", image.array < -60)
    return di
