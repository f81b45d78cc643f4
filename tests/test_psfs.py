"""Tests of lsst.images.psfs: Gaussian PSF values against the visit_full manifest, PSFEx evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_manifest
from lsst.images._geom import Box
from lsst.images.psfs import GaussianPointSpreadFunction, PointSpreadFunction, PSFExModel, PSFExWrapper

DETECTOR = Box.factory[0:4004, 0:4096]


def _centroid(image) -> tuple[float, float]:
    a = image.array
    yy, xx = np.meshgrid(image.bbox.y.arange, image.bbox.x.arange, indexing="ij")
    return float((a * xx).sum() / a.sum()), float((a * yy).sum() / a.sum())


def _psf_expect() -> dict:
    return load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]["psf"]


def _bbox(d: dict) -> Box:
    return Box.factory[d["y"][0] : d["y"][1], d["x"][0] : d["x"][1]]


def test_gaussian_kernel_matches_manifest():
    expect = _psf_expect()
    psf = GaussianPointSpreadFunction(expect["sigma"], DETECTOR, 25)
    kernel = expect["kernel"]
    image = psf.compute_kernel_image(x=kernel["at"]["x"], y=kernel["at"]["y"])
    assert image.bbox == _bbox(kernel["bbox"]) == psf.kernel_bbox
    assert image.array.sum() == pytest.approx(kernel["sum"], abs=1e-15)
    assert image.array.max() == pytest.approx(kernel["max"], rel=1e-15)
    cx, cy = _centroid(image)
    assert cx == pytest.approx(0.0, abs=1e-14) and cy == pytest.approx(0.0, abs=1e-14)
    # Peak value of a sampled unit-sum Gaussian: 1 / (sum of exp(-t^2/2s^2))^2.
    t = np.arange(-12, 13)
    assert image.array[12, 12] == pytest.approx(1 / np.exp(-0.5 * t**2 / 4.0).sum() ** 2, rel=1e-14)
    # The model is spatially constant.
    np.testing.assert_array_equal(psf.compute_kernel_image(x=3.0, y=4000.0).array, image.array)


def test_gaussian_stellar_image_matches_manifest():
    expect = _psf_expect()
    psf = GaussianPointSpreadFunction(expect["sigma"], DETECTOR, 25)
    stellar = expect["stellar"]
    x, y = stellar["at"]["x"], stellar["at"]["y"]
    image = psf.compute_stellar_image(x=x, y=y)
    assert image.bbox == _bbox(stellar["bbox"]) == psf.compute_stellar_bbox(x=x, y=y)
    assert image.array.sum() == pytest.approx(stellar["sum"], abs=1e-15)
    assert image.array.max() == pytest.approx(stellar["max"], rel=1e-14)
    cx, cy = _centroid(image)
    assert cx == pytest.approx(stellar["centroid_x"], abs=1e-8)
    assert cy == pytest.approx(stellar["centroid_y"], abs=1e-8)
    assert image.unit is None


def test_gaussian_stellar_bbox_rounds_half_up():
    psf = GaussianPointSpreadFunction(1.5, DETECTOR, 5)
    assert psf.compute_stellar_bbox(x=10.5, y=-3.5) == Box.factory[-5:0, 9:14]
    assert psf.compute_stellar_bbox(x=10.49, y=-3.51) == Box.factory[-6:-1, 8:13]
    assert psf.compute_stellar_bbox(x=-0.5, y=0.0) == Box.factory[-2:3, -2:3]
    assert psf.compute_stellar_bbox(x=-0.6, y=0.0) == Box.factory[-2:3, -3:2]


def test_gaussian_stellar_values_are_sampled_profile():
    psf = GaussianPointSpreadFunction(1.5, DETECTOR, 7)
    x, y = 3.2, 1.7
    image = psf.compute_stellar_image(x=x, y=y)
    yy, xx = np.meshgrid(image.bbox.y.arange, image.bbox.x.arange, indexing="ij")
    profile = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2))
    np.testing.assert_allclose(image.array, profile / profile.sum(), rtol=1e-14)


def test_gaussian_validation_equality_repr():
    for sigma in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError):
            GaussianPointSpreadFunction(sigma, DETECTOR, 25)
    for size in (24, 0, -3):
        with pytest.raises(ValueError):
            GaussianPointSpreadFunction(2.0, DETECTOR, size)
    psf = GaussianPointSpreadFunction(2.0, DETECTOR, 25)
    assert psf == GaussianPointSpreadFunction(2.0, DETECTOR, 25)
    assert psf != GaussianPointSpreadFunction(2.0, DETECTOR, 27)
    assert psf != GaussianPointSpreadFunction(2.5, DETECTOR, 25)
    assert psf != GaussianPointSpreadFunction(2.0, Box.factory[0:10, 0:10], 25)
    assert psf != 3
    with pytest.raises(TypeError):
        hash(psf)
    assert repr(psf) == (
        "GaussianPointSpreadFunction(2.0, stamp_size=25, "
        "bounds=Box(y=Interval(start=0, stop=4004), x=Interval(start=0, stop=4096)))"
    )
    assert isinstance(psf, PointSpreadFunction)
    assert psf.bounds == DETECTOR and psf.sigma == 2.0 and psf.stamp_size == 25


# --- PSFEx ---------------------------------------------------------------------------------------


def _gaussian_stamp(size: int, sigma: float) -> np.ndarray:
    t = np.arange(size) - size // 2
    g = np.exp(-0.5 * t**2 / sigma**2)
    return np.outer(g, g)


def _psfex(components: np.ndarray, *, degree: int, pixel_step: float = 1.0) -> PSFExWrapper:
    model = PSFExModel(
        average_x=500.0,
        average_y=400.0,
        pixel_step=pixel_step,
        group=[0, 0],
        degree=[degree],
        basis=[],
        coeff=[],
        parameters=components,
        context=np.array([[500.0, 400.0], [100.0, 200.0]]),
    )
    return PSFExWrapper(model, DETECTOR)


def test_psfex_constant_model_reproduces_component():
    stamp = _gaussian_stamp(21, 2.0)
    psf = _psfex(stamp[np.newaxis].astype(np.float32), degree=0)
    kernel = psf.compute_kernel_image(x=123.0, y=456.0)
    assert kernel.bbox == psf.kernel_bbox == Box.factory[-10:11, -10:11]
    # Lanczos resampling at integer offsets is the identity.
    np.testing.assert_allclose(kernel.array, stamp / stamp.sum(), rtol=1e-6, atol=1e-12)
    stellar = psf.compute_stellar_image(x=100.0, y=200.0)
    assert stellar.bbox == Box.factory[190:211, 90:111]
    np.testing.assert_allclose(stellar.array, stamp / stamp.sum(), rtol=1e-6, atol=1e-12)
    # A sub-pixel shift is a Lanczos-3 interpolation of the component: close to the
    # sampled Gaussian at the shifted position (to interpolation accuracy).
    shifted = psf.compute_stellar_image(x=100.3, y=199.8)
    yy, xx = np.meshgrid(shifted.bbox.y.arange, shifted.bbox.x.arange, indexing="ij")
    exact = np.exp(-((xx - 100.3) ** 2 + (yy - 199.8) ** 2) / (2 * 2.0**2))
    np.testing.assert_allclose(shifted.array, exact / exact.sum(), atol=5e-3 * shifted.array.max())
    assert np.unravel_index(shifted.array.argmax(), shifted.array.shape) == (10, 10)
    assert shifted.array.sum() == pytest.approx(1.0, abs=1e-12)


def test_psfex_polynomial_terms_follow_position():
    # Degree 1 in (x, y): terms 1, x', y' with x' = (x - 500) / 100, y' = (y - 400) / 200.
    base = _gaussian_stamp(15, 1.5)
    wide = _gaussian_stamp(15, 3.0)
    narrow = _gaussian_stamp(15, 1.0)
    components = np.stack([base, wide - base, narrow - base])
    psf = _psfex(components, degree=1)
    at_average = psf.compute_kernel_image(x=500.0, y=400.0).array
    np.testing.assert_allclose(at_average, base / base.sum(), rtol=1e-12, atol=1e-15)
    # x' = 1, y' = 0 → base + (wide - base) = wide.
    np.testing.assert_allclose(
        psf.compute_kernel_image(x=600.0, y=400.0).array, wide / wide.sum(), rtol=1e-12, atol=1e-15
    )
    # x' = 0, y' = 1 → narrow.
    np.testing.assert_allclose(
        psf.compute_kernel_image(x=500.0, y=600.0).array, narrow / narrow.sum(), rtol=1e-12, atol=1e-15
    )


def test_psfex_term_ordering_and_oversampling():
    from lsst.images.psfs._psfex import polynomial_exponents

    assert polynomial_exponents([0, 0], [2]) == [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (0, 2)]
    assert polynomial_exponents([0, 1], [1, 2]) == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    # A component sampled every half pixel covers half as many image pixels.
    stamp = _gaussian_stamp(41, 4.0)  # sigma of 4 samples = 2 image pixels
    psf = _psfex(stamp[np.newaxis], degree=0, pixel_step=0.5)
    kernel = psf.compute_kernel_image(x=0.0, y=0.0)
    assert kernel.bbox == Box.factory[-10:11, -10:11]
    t = np.arange(-10, 11)
    g = np.exp(-0.5 * t**2 / 2.0**2)
    np.testing.assert_allclose(kernel.array, np.outer(g, g) / np.outer(g, g).sum(), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError):
        _psfex(np.stack([stamp, stamp]), degree=0)


def test_psfex_serialization_round_trip():
    from lsst.images.psfs import PSFExSerializationModel

    stamp = _gaussian_stamp(15, 1.5)
    components = np.stack([stamp, _gaussian_stamp(15, 2.0) - stamp, _gaussian_stamp(15, 1.0) - stamp])
    psf = _psfex(components.astype(np.float32), degree=1)
    stored: dict[str, np.ndarray] = {}

    class Archive:
        def add_array(self, array, *, name=None, **kwargs):
            from lsst.images.serialization import ArrayReferenceModel

            stored[name] = array
            return ArrayReferenceModel(
                source=f"fits:PSF/{name.upper()}", shape=list(array.shape), datatype="float32"
            )

        def get_array(self, model, **kwargs):
            return stored[model.source.split("/")[-1].lower()]

    model = psf.serialize(Archive())
    text = model.model_dump_json()
    # The default group [0, 0] is omitted; the component cube goes to a "parameters" array.
    assert '"group"' not in text and '"source":"fits:PSF/PARAMETERS"' in text
    assert text.startswith('{"average_x":500.0,"average_y":400.0,"pixel_step":1.0,"degree":[1]')
    assert stored["parameters"].dtype == np.float32 and stored["parameters"].shape == (3, 15, 15)
    rebuilt = PSFExSerializationModel.model_validate_json(text).deserialize(Archive())
    assert isinstance(rebuilt, PSFExWrapper) and rebuilt.bounds == DETECTOR
    for x, y in ((500.0, 400.0), (620.0, 350.0)):
        np.testing.assert_array_equal(
            rebuilt.compute_stellar_image(x=x, y=y).array, psf.compute_stellar_image(x=x, y=y).array
        )
