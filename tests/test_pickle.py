"""Pickle round trips of images read from files and of their components.

``dask.distributed`` moves results between processes with pickle, so an object read
in a worker (``client.map(VisitImage.read_fits, paths)``) must survive it whole:
pixels, and components that *evaluate* the same afterwards (projections at pixel
positions, PSF kernels, fields, detector transforms), plus the header cards kept for
the next write.  Objects come from Rubin-written reference files (4300 and 2100
layouts) and from an afw-written calexp read by the legacy reader.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from conftest import fixture_dir
from lsst.images import Box, Image, Mask, MaskedImage, VisitImage


def _again(obj: Any) -> Any:
    data = pickle.dumps(obj)
    assert pickle.loads(data) is not obj
    return pickle.loads(data)


def _points(bbox: Box) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions (x, y) spread over ``bbox``, where components are compared."""
    x = np.array([bbox.x.start, bbox.x.start + bbox.x.size / 3, bbox.x.stop - 1], dtype=float)
    y = np.array([bbox.y.start, bbox.y.start + bbox.y.size / 2.5, bbox.y.stop - 1], dtype=float)
    return x, y


def _same_field(a: Any, b: Any, x: np.ndarray, y: np.ndarray) -> None:
    assert type(b) is type(a) and b.bounds == a.bounds and b.unit == a.unit
    np.testing.assert_array_equal(np.asarray(b.evaluate(x=x, y=y)), np.asarray(a.evaluate(x=x, y=y)))


def _same_projection(a: Any, b: Any, x: np.ndarray, y: np.ndarray) -> None:
    if a is None:
        assert b is None
        return
    assert b.pixel_frame == a.pixel_frame
    sky_a, sky_b = a.pixel_to_sky(x=x, y=y), b.pixel_to_sky(x=x, y=y)
    np.testing.assert_array_equal(sky_b.ra.deg, sky_a.ra.deg)
    np.testing.assert_array_equal(sky_b.dec.deg, sky_a.dec.deg)
    back_a, back_b = a.sky_to_pixel(sky_a), b.sky_to_pixel(sky_a)
    np.testing.assert_array_equal(back_b.x, back_a.x)
    np.testing.assert_array_equal(back_b.y, back_a.y)


def _same_psf(a: Any, b: Any, points: list[tuple[float, float]]) -> None:
    assert type(b) is type(a) and b.bounds == a.bounds and b.kernel_bbox == a.kernel_bbox
    for x, y in points:
        kernel_a, kernel_b = a.compute_kernel_image(x=x, y=y), b.compute_kernel_image(x=x, y=y)
        assert kernel_b.bbox == kernel_a.bbox
        np.testing.assert_array_equal(kernel_b.array, kernel_a.array)


def _same_image(a: Image, b: Image) -> None:
    assert type(b) is type(a) and b.bbox == a.bbox and b.unit == a.unit
    assert b.array.dtype == a.array.dtype and not np.shares_memory(a.array, b.array)
    np.testing.assert_array_equal(b.array, a.array)
    assert b.metadata == a.metadata


def _same_masked(a: MaskedImage, b: MaskedImage) -> None:
    _same_image(a.image, b.image)
    _same_image(a.variance, b.variance)
    assert b.mask.schema == a.mask.schema and b.mask == a.mask
    np.testing.assert_array_equal(b.mask.array, a.mask.array)


def _same_opaque(a: Any, b: Any) -> None:
    """The header cards kept for the next write survive (they were read lazily)."""
    opaque = getattr(a, "_opaque_metadata", None)
    if opaque is None:
        assert getattr(b, "_opaque_metadata", None) is None
        return
    assert len(opaque.headers) > 0 and b._opaque_metadata == opaque


def _same_visit(a: VisitImage, b: VisitImage) -> None:
    _same_masked(a, b)
    x, y = _points(a.bbox)
    _same_projection(a.projection, b.projection, x, y)
    ra, dec = b.astropy_wcs.pixel_to_world_values(x - a.bbox.x.start, y - a.bbox.y.start)
    np.testing.assert_array_equal(
        ra, a.astropy_wcs.pixel_to_world_values(x - a.bbox.x.start, y - a.bbox.y.start)[0]
    )
    _same_psf(a.psf, b.psf, list(zip(x.tolist(), y.tolist(), strict=True)))
    if a.photometric_scaling is None:
        assert b.photometric_scaling is None
    else:
        _same_field(a.photometric_scaling, b.photometric_scaling, x, y)
    assert b.detector.frame == a.detector.frame and b.detector.bbox == a.detector.bbox
    assert b.detector.amplifiers == a.detector.amplifiers
    np.testing.assert_array_equal(
        b.detector.to_field_angle.apply_forward(x=x, y=y), a.detector.to_field_angle.apply_forward(x=x, y=y)
    )
    assert b.obs_info == a.obs_info
    assert b.summary_stats == a.summary_stats
    assert b.bounds == a.bounds
    assert b.aperture_corrections.keys() == a.aperture_corrections.keys()
    for name, field in a.aperture_corrections.items():
        _same_field(field, b.aperture_corrections[name], x, y)
    assert list(b.backgrounds) == list(a.backgrounds)
    assert (b.backgrounds.subtracted is None) == (a.backgrounds.subtracted is None)
    for name, background in a.backgrounds.items():
        assert b.backgrounds[name].description == background.description
        _same_field(background.field, b.backgrounds[name].field, x, y)
    _same_opaque(a, b)


@pytest.mark.parametrize("layout", ("lsst-images-4300", "lsst-images-2100"))
def test_visit_image_from_file(layout: str) -> None:
    visit = VisitImage.read_fits(str(fixture_dir(layout) / "visit_full.fits"))
    assert len(visit.backgrounds) and len(visit.aperture_corrections)  # components worth checking
    _same_visit(visit, _again(visit))
    # A cut-out (views into the parent's arrays) pickles as just its own pixels.
    box = Box.factory[1010:1050, 2020:2100]
    cutout = visit[box]
    assert len(pickle.dumps(cutout)) < len(pickle.dumps(visit))
    _same_visit(cutout, _again(cutout))


def test_visit_image_components_on_their_own() -> None:
    visit = VisitImage.read_fits(str(fixture_dir("lsst-images-4300") / "visit_full.fits"))
    x, y = _points(visit.bbox)
    _same_projection(visit.projection, _again(visit.projection), x, y)
    _same_psf(visit.psf, _again(visit.psf), [(2010.0, 1020.0)])
    _same_field(visit.photometric_scaling, _again(visit.photometric_scaling), x, y)
    detector = _again(visit.detector)
    assert detector.frame == visit.detector.frame and detector.amplifiers == visit.detector.amplifiers
    assert _again(visit.obs_info) == visit.obs_info
    assert _again(visit.summary_stats) == visit.summary_stats
    assert _again(visit.bounds) == visit.bounds
    backgrounds = _again(visit.backgrounds)
    for name, background in visit.backgrounds.items():
        _same_field(background.field, backgrounds[name].field, x, y)
    corrections = _again(visit.aperture_corrections)
    for name, field in visit.aperture_corrections.items():
        _same_field(field, corrections[name], x, y)
    view = _again(visit.astropy_wcs)
    np.testing.assert_array_equal(
        view.pixel_to_world_values(3.0, 4.5), visit.astropy_wcs.pixel_to_world_values(3.0, 4.5)
    )
    assert view.array_shape == visit.astropy_wcs.array_shape


def test_legacy_visit_image() -> None:
    """A calexp read from an afw file: SIP projection, afw detector, Chebyshev aperture corrections."""
    visit = VisitImage.read_legacy(str(fixture_dir("legacy") / "obs_base__calexp.fits"), visit=1234)
    assert len(visit.aperture_corrections) > 10
    _same_visit(visit, _again(visit))


@pytest.mark.parametrize(
    ("cls", "layout", "name"),
    [
        (Image, "lsst-images-2100", "image_f32_projection_sip"),
        (Image, "lsst-images-4300", "image_f64_lossy_rice_nodither_zscale"),
        (Mask, "lsst-images-4300", "mask_u8_40planes_2hdus"),
        (MaskedImage, "lsst-images-4300", "masked_image_projection_tiles32"),
        (MaskedImage, "lsst-images-2100", "masked_image_lossy_seeded"),
    ],
)
def test_images_from_files(cls: type, layout: str, name: str) -> None:
    obj = cls.read_fits(str(fixture_dir(layout) / f"{name}.fits"))
    again = _again(obj)
    x, y = _points(obj.bbox)
    if cls is Image:
        _same_image(obj, again)
        _same_projection(obj.projection, again.projection, x, y)
    elif cls is Mask:
        assert again.schema == obj.schema and again.bbox == obj.bbox
        np.testing.assert_array_equal(again.array, obj.array)
        for plane in obj.schema.names:
            np.testing.assert_array_equal(again.get(plane), obj.get(plane))
    else:
        _same_masked(obj, again)
        _same_projection(obj.projection, again.projection, x, y)
    _same_opaque(obj, again)


def test_psf_models() -> None:
    """PSFEx (built in memory) and Piff (from the afw fixture) PSFs evaluate the same after pickling."""
    from lsst.images.psfs import PSFExModel, PSFExWrapper

    t = np.arange(15) - 7
    stamp = np.exp(-0.5 * (t[:, None] ** 2 + t[None, :] ** 2) / 2.0**2)
    components = np.stack([stamp, 0.1 * stamp * t[None, :], 0.05 * stamp * t[:, None]]).astype(np.float32)
    model = PSFExModel(
        average_x=500.0,
        average_y=400.0,
        pixel_step=1.0,
        group=[0, 0],
        degree=[1],
        basis=[],
        coeff=[],
        parameters=components,
        context=np.array([[500.0, 400.0], [100.0, 200.0]]),
    )
    psfex = PSFExWrapper(model, Box.factory[0:800, 0:1000])
    _same_psf(psfex, _again(psfex), [(100.0, 50.0), (700.5, 620.25)])
    pytest.importorskip("piff")
    pytest.importorskip("galsim")
    from test_psfs_piff import _wrapper

    piff = _wrapper()
    _same_psf(piff, _again(piff), [(50.0, 60.0), (150.5, 20.0)])
