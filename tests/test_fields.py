"""Tests of lsst.images.fields: values by formula, against the visit_full manifest, and algebra."""

from __future__ import annotations

import json

import astropy.units as u
import numpy as np
import pytest
from numpy.polynomial import chebyshev

from conftest import fixture_dir, load_manifest
from lsst.images._geom import Box
from lsst.images.fields import ChebyshevField, ProductField, SplineField, SumField

DETECTOR = Box.factory[0:4004, 0:4096]
PHOTO_COEFFS = [[1.25, 0.01, -0.002], [0.02, 0.003, 0.0], [0.001, 0.0, 0.0]]


def _manifest_values(entry: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.array([p["x"] for p in entry["values"]])
    ys = np.array([p["y"] for p in entry["values"]])
    vs = np.array([p["value"] for p in entry["values"]])
    return xs, ys, vs


def _visit_full_expect() -> dict:
    return load_manifest("lsst-images-2100")["files"]["visit_full"]["expect"]


def _reference_chebyshev(bbox: Box, coefficients, x, y):
    """The documented formula, written out independently of the implementation."""
    u_ = (np.asarray(x, float) - (bbox.x.start + bbox.x.size / 2 - 0.5)) * (2 / bbox.x.size)
    v_ = (np.asarray(y, float) - (bbox.y.start + bbox.y.size / 2 - 0.5)) * (2 / bbox.y.size)
    return chebyshev.chebval2d(v_, u_, np.asarray(coefficients, float))


# --- Chebyshev ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, coefficients",
    [
        (("photometric_scaling",), PHOTO_COEFFS),
        (("aperture_corrections", "base_PsfFlux_instFlux"), [[0.98, 0.001], [0.002, 0.0]]),
        (("aperture_corrections", "base_GaussianFlux_instFlux"), [[1.02]]),
        (("backgrounds", "entries", "standard"), [[812.5, 1.5], [-0.75, 0.0]]),
    ],
)
def test_chebyshev_matches_manifest(path, coefficients):
    entry = _visit_full_expect()
    for key in path:
        entry = entry[key]
    xs, ys, expected = _manifest_values(entry)
    field = ChebyshevField(DETECTOR, np.array(coefficients))
    # The reference values are reproduced bit for bit.
    np.testing.assert_array_equal(field.evaluate(x=xs, y=ys), expected)
    np.testing.assert_array_equal(field(x=xs, y=ys), expected)


def test_chebyshev_corners_map_to_plus_minus_one():
    # T_1(x') = x' so a [[0, 1]] field returns the mapped coordinate itself:
    # the outer pixel edges (start - 0.5, stop - 0.5) map to -1 and +1.
    bbox = Box.factory[10:30, -5:15]
    field = ChebyshevField(bbox, np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(field.evaluate(x=np.array([-5.5, 14.5, 4.5]), y=np.zeros(3)), [-1, 1, 0])
    field_y = ChebyshevField(bbox, np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(field_y.evaluate(x=np.zeros(3), y=np.array([9.5, 29.5, 19.5])), [-1, 1, 0])


def test_chebyshev_orders_and_properties():
    field = ChebyshevField(DETECTOR, np.ones((2, 4)), unit=u.nJy)
    assert (field.y_order, field.x_order, field.order) == (1, 3, 3)
    assert field.unit == u.nJy
    assert field.bounds == DETECTOR
    for bad in (np.array(3.0), np.ones(0), np.ones((0, 2)), np.ones((1, 1, 1))):
        with pytest.raises(ValueError):
            ChebyshevField(DETECTOR, bad)


def test_chebyshev_evaluate_broadcasts_and_quantity():
    field = ChebyshevField(DETECTOR, np.array(PHOTO_COEFFS), unit=u.nJy / u.electron)
    x = np.array([[0.0, 100.0, 2000.0]])
    y = np.array([[5.0], [3000.0]])
    values = field.evaluate(x=x, y=y)
    assert values.shape == (2, 3)
    np.testing.assert_array_equal(
        values, _reference_chebyshev(DETECTOR, PHOTO_COEFFS, *np.broadcast_arrays(x, y))
    )
    q = field.evaluate(x=x, y=y, quantity=True)
    assert isinstance(q, u.Quantity) and q.unit == u.nJy / u.electron
    np.testing.assert_array_equal(q.value, values)
    # Scalars work too.
    assert float(field(x=2048.0, y=2002.0)) == pytest.approx(1.2510074364804995, rel=1e-15)


def test_chebyshev_render_is_bit_identical_to_chebval2d():
    rng = np.random.default_rng(42)
    coefficients = rng.normal(size=(5, 4))
    bounds = Box.factory[-7:53, 3:80]
    field = ChebyshevField(bounds, coefficients, unit=u.adu)
    bbox = Box.factory[-10:40, 0:90]  # partly outside the bounds: evaluation is not clipped
    image = field.render(bbox)
    assert image.bbox == bbox
    assert image.unit == u.adu
    assert image.array.dtype == np.float64
    yy, xx = np.meshgrid(bbox.y.arange, bbox.x.arange, indexing="ij")
    np.testing.assert_array_equal(image.array, _reference_chebyshev(bounds, coefficients, xx, yy))
    # Default bbox is the bounds' bbox; dtype can be chosen.
    default = field.render(dtype=np.float32)
    assert default.bbox == bounds and default.array.dtype == np.float32
    for shape in [(1, 1), (2, 1), (1, 2), (3, 3)]:
        small = ChebyshevField(bounds, rng.normal(size=shape))
        np.testing.assert_array_equal(
            small.render(bbox).array, _reference_chebyshev(bounds, small.coefficients, xx, yy)
        )


def test_chebyshev_multiply_constant_and_operators():
    field = ChebyshevField(DETECTOR, np.array([[1.0, 0.5], [0.25, 0.0]]), unit=u.nJy)
    doubled = field * 2
    assert isinstance(doubled, ChebyshevField)
    np.testing.assert_array_equal(doubled.coefficients, [[2.0, 1.0], [0.5, 0.0]])
    assert doubled.unit == u.nJy
    np.testing.assert_array_equal((2 * field).coefficients, doubled.coefficients)
    np.testing.assert_array_equal((field / 2).coefficients, [[0.5, 0.25], [0.125, 0.0]])
    assert (field * u.s).unit == u.nJy * u.s
    np.testing.assert_array_equal((field * u.s).coefficients, field.coefficients)
    assert (field / u.s).unit == u.nJy / u.s
    scaled = field * (3 * u.s)
    assert scaled.unit == u.nJy * u.s
    np.testing.assert_array_equal(scaled.coefficients, [[3.0, 1.5], [0.75, 0.0]])
    unitless = ChebyshevField(DETECTOR, np.array([[2.0]]))
    assert (unitless * u.nJy).unit == u.nJy
    assert (unitless * 3).unit is None
    # The original is untouched (fields are immutable).
    np.testing.assert_array_equal(field.coefficients, [[1.0, 0.5], [0.25, 0.0]])
    with pytest.raises(TypeError):
        field.multiply_constant("abc")


def _grid_data(coefficients, bounds, x, y):
    yy, xx = np.meshgrid(y, x, indexing="ij")
    return _reference_chebyshev(bounds, coefficients, xx, yy)


def test_chebyshev_fit_recovers_exact_polynomials():
    bounds = Box.factory[0:100, 0:200]
    x = np.linspace(0, 199, 9)
    y = np.linspace(0, 99, 7)
    triangular = np.array([[1.0, 0.2, -0.1], [0.3, 0.05, 0.0], [-0.2, 0.0, 0.0]])
    data = _grid_data(triangular, bounds, x, y)
    fit = ChebyshevField.fit(bounds, data, 2, y=y, x=x)
    np.testing.assert_allclose(fit.coefficients, triangular, atol=1e-12)
    full = np.array([[1.0, 0.2, -0.1, 0.05], [0.3, 0.05, 0.4, -0.3]])
    data = _grid_data(full, bounds, x, y)
    fit = ChebyshevField.fit(bounds, data, y=y, x=x, x_order=3, y_order=1, triangular=False)
    assert fit.coefficients.shape == (2, 4)
    np.testing.assert_allclose(fit.coefficients, full, atol=1e-12)
    # Triangular truncation drops the (1, 3) term: p + q > max order.
    fit = ChebyshevField.fit(bounds, data, y=y, x=x, x_order=3, y_order=1)
    assert fit.coefficients[1, 3] == 0.0


def test_chebyshev_fit_per_point_nan_weights_and_units():
    bounds = Box.factory[0:100, 0:200]
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 199, 200)
    y = rng.uniform(0, 99, 200)
    truth = np.array([[2.0, -0.5], [0.25, 0.0]])
    data = _reference_chebyshev(bounds, truth, x, y)
    corrupted = data.copy()
    corrupted[:10] = np.nan  # ignored
    corrupted[10:20] += 1000.0  # outliers given zero weight
    weight = np.ones_like(data)
    weight[10:20] = 0.0
    fit = ChebyshevField.fit(bounds, corrupted * u.nJy, 1, y=y, x=x, weight=weight)
    np.testing.assert_allclose(fit.coefficients, truth, atol=1e-12)
    assert fit.unit == u.nJy
    assert ChebyshevField.fit(bounds, data, 1, y=y, x=x, unit=u.adu).unit == u.adu
    with pytest.raises(TypeError):
        ChebyshevField.fit(bounds, data * u.nJy, 1, y=y, x=x, unit=u.adu)
    with pytest.raises(TypeError):
        ChebyshevField.fit(bounds, data, y=y, x=x)
    with pytest.raises(TypeError):
        ChebyshevField.fit(bounds, data, 1, y=y, x=x, x_order=2)
    with pytest.raises(TypeError):
        ChebyshevField.fit(bounds, data, y=y, x=x, x_order=2)


def test_chebyshev_fit_weights_scale_residuals():
    # Two inconsistent constant measurements: weights act on residuals (1/sigma), so the
    # weighted mean uses the squared weights.
    bounds = Box.factory[0:10, 0:10]
    fit = ChebyshevField.fit(
        bounds,
        np.array([1.0, 2.0]),
        0,
        y=np.array([1.0, 2.0]),
        x=np.array([1.0, 2.0]),
        weight=np.array([1.0, 2.0]),
    )
    assert fit.coefficients[0, 0] == pytest.approx((1 * 1 + 4 * 2) / 5)


# --- Spline ------------------------------------------------------------------------------------


def _background_tree(version: str) -> dict:
    return json.loads((fixture_dir(version) / "visit_full.tree.json").read_text())["backgrounds"]


def _spline_hdu(name: str) -> np.ndarray:
    from astropy.io import fits

    with fits.open(fixture_dir("lsst-images-2100") / "visit_full.fits") as hdul:
        return np.array(hdul[f"BACKGROUNDS/FIELDS/{name}/DATA"].data, dtype=np.float64)


@pytest.mark.parametrize("name", ["fine_spline", "coarse_spline"])
def test_spline_matches_manifest(name):
    tree = _background_tree("lsst-images-2100")["fields"][name]
    data = _spline_hdu(name.upper())
    y = np.array(tree["y"]["data"])
    x = np.array(tree["x"]["data"])
    field = SplineField(DETECTOR, data, y=y, x=x, unit=u.Unit(tree["unit"]))
    xs, ys, expected = _manifest_values(_visit_full_expect()["backgrounds"]["entries"][name])
    np.testing.assert_allclose(field.evaluate(x=xs, y=ys), expected, rtol=1e-13, atol=0)
    q = field.evaluate(x=xs, y=ys, quantity=True)
    assert q.unit == u.nJy


def test_spline_grid_values_follow_builder_formula():
    # builder_inputs: fine 800 + 0.01y - 0.005x + 1e-6 (y-2000)^2, coarse 5 + 0.001y + 0.002x.
    tree = _background_tree("lsst-images-2100")["fields"]
    fine = tree["fine_spline"]
    yy, xx = np.meshgrid(fine["y"]["data"], fine["x"]["data"], indexing="ij")
    np.testing.assert_allclose(
        _spline_hdu("FINE_SPLINE"), 800 + 0.01 * yy - 0.005 * xx + 1e-6 * (yy - 2000) ** 2, rtol=1e-14
    )
    # The 4300 tree inlines the coarse grid; it must equal the 2100 HDU.
    inline = _background_tree("lsst-images-4300")["fields"]["coarse_spline"]["data"]["data"]
    np.testing.assert_array_equal(np.array(inline), _spline_hdu("COARSE_SPLINE"))


def test_spline_reproduces_linear_functions_everywhere():
    # Akima splines are exact for linear data, including when extrapolating.
    y = np.array([0.0, 10.0, 25.0, 40.0])
    x = np.array([0.0, 7.0, 20.0, 33.0, 50.0])
    yy, xx = np.meshgrid(y, x, indexing="ij")
    field = SplineField(Box.factory[0:41, 0:51], 5 + 0.3 * yy - 0.7 * xx, y=y, x=x)
    px = np.array([-10.0, 0.0, 3.3, 49.0, 70.0])
    py = np.array([-5.0, 1.5, 39.0, 20.0, 60.0])
    np.testing.assert_allclose(field.evaluate(x=px, y=py), 5 + 0.3 * py - 0.7 * px, rtol=1e-13, atol=1e-12)


def test_spline_render_matches_evaluate():
    rng = np.random.default_rng(7)
    y = np.array([0.0, 12.0, 30.0, 41.0])
    x = np.array([0.0, 10.0, 22.0, 35.0, 50.0, 61.0])
    data = rng.normal(size=(4, 6))
    data[1, 2] = np.nan
    field = SplineField(Box.factory[0:42, 0:62], data, y=y, x=x, unit=u.nJy)
    bbox = Box.factory[-3:45, 5:66]
    image = field.render(bbox)
    assert image.bbox == bbox and image.unit == u.nJy
    yy, xx = np.meshgrid(bbox.y.arange, bbox.x.arange, indexing="ij")
    np.testing.assert_array_equal(image.array, field.evaluate(x=xx, y=yy))


def test_spline_missing_values():
    from scipy.interpolate import Akima1DInterpolator

    rng = np.random.default_rng(11)
    y = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    x = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    data = rng.normal(size=(5, 6))
    bounds = Box.factory[0:41, 0:51]
    # A whole missing column is dropped from the x interpolation.
    with_gap = data.copy()
    with_gap[:, 2] = np.nan
    without = SplineField(bounds, np.delete(data, 2, axis=1), y=y, x=np.delete(x, 2))
    px, py = np.array([3.0, 17.0, 44.0]), np.array([5.5, 12.0, 38.0])
    np.testing.assert_array_equal(
        SplineField(bounds, with_gap, y=y, x=x).evaluate(x=px, y=py), without.evaluate(x=px, y=py)
    )
    # A single missing value: that column is interpolated over its finite samples.
    holed = data.copy()
    holed[2, 3] = np.nan
    field = SplineField(bounds, holed, y=y, x=x)
    at_y = 13.0
    column_values = []
    for j in range(6):
        good = np.isfinite(holed[:, j])
        column_values.append(Akima1DInterpolator(y[good], holed[good, j], extrapolate=True)(at_y))
    expected = Akima1DInterpolator(x, np.array(column_values), extrapolate=True)(27.0)
    assert field.evaluate(x=np.array(27.0), y=np.array(at_y)) == pytest.approx(expected, rel=1e-14)
    # A column with a single finite value cannot be interpolated.
    lonely = data.copy()
    lonely[1:, 4] = np.nan
    with pytest.raises(ValueError, match="single finite value"):
        SplineField(bounds, lonely, y=y, x=x).evaluate(x=px, y=py)


def test_spline_validation_and_scaling():
    y = np.array([0.0, 10.0, 20.0])
    x = np.array([0.0, 10.0])
    data = np.arange(6.0).reshape(3, 2)
    bounds = Box.factory[0:21, 0:11]
    with pytest.raises(ValueError):
        SplineField(bounds, data.T, y=y, x=x)
    with pytest.raises(ValueError):
        SplineField(bounds, data, y=y[::-1], x=x)
    field = SplineField(bounds, data, y=y, x=x, unit=u.nJy)
    assert field.data is not None and field.y is not None and field.x is not None
    scaled = field * (2 * u.s)
    assert isinstance(scaled, SplineField) and scaled.unit == u.nJy * u.s
    np.testing.assert_array_equal(scaled.data, 2 * data)
    np.testing.assert_allclose(
        scaled.evaluate(x=np.array([3.0]), y=np.array([7.0])),
        2 * field.evaluate(x=np.array([3.0]), y=np.array([7.0])),
    )


# --- Sum and product ---------------------------------------------------------------------------


def test_sum_field():
    a = ChebyshevField(Box.factory[0:100, 0:200], np.array([[1.0, 0.5], [0.25, 0.0]]), unit=u.nJy)
    b = ChebyshevField(Box.factory[50:150, 0:100], np.array([[2.0]]), unit=u.uJy)
    total = SumField([a, b])
    assert total.unit == u.nJy
    assert total.bounds == Box.factory[50:100, 0:100]
    px, py = np.array([10.0, 60.0]), np.array([55.0, 70.0])
    np.testing.assert_allclose(total.evaluate(x=px, y=py), a.evaluate(x=px, y=py) + 2000.0, rtol=1e-15)
    image = total.render(Box.factory[60:62, 10:13])
    yy, xx = np.meshgrid(np.arange(60, 62), np.arange(10, 13), indexing="ij")
    np.testing.assert_allclose(image.array, a.evaluate(x=xx, y=yy) + 2000.0, rtol=1e-15)
    assert image.unit == u.nJy
    scaled = total * 3
    assert isinstance(scaled, SumField)
    np.testing.assert_allclose(scaled.evaluate(x=px, y=py), 3 * total.evaluate(x=px, y=py), rtol=1e-15)
    assert len(total.operands) == 2 and total.operands[0] is a
    with pytest.raises(u.UnitConversionError):
        SumField([a, ChebyshevField(Box.factory[0:10, 0:10], np.array([[1.0]]))])
    with pytest.raises(u.UnitConversionError):
        SumField([a, ChebyshevField(Box.factory[0:10, 0:10], np.array([[1.0]]), unit=u.s)])
    with pytest.raises(ValueError):
        SumField([])


def test_product_field():
    a = ChebyshevField(Box.factory[0:100, 0:200], np.array([[1.0, 0.5], [0.25, 0.0]]), unit=u.nJy)
    b = ChebyshevField(Box.factory[50:150, 0:100], np.array([[2.0, 0.1]]))
    c = ChebyshevField(Box.factory[0:100, 0:200], np.array([[3.0]]), unit=1 / u.electron)
    product = ProductField([a, b, c])
    assert product.unit == u.nJy / u.electron
    assert ProductField([b]).unit is None
    assert product.bounds == Box.factory[50:100, 0:100]
    px, py = np.array([10.0, 60.0]), np.array([55.0, 70.0])
    expected = a.evaluate(x=px, y=py) * b.evaluate(x=px, y=py) * 3.0
    np.testing.assert_allclose(product.evaluate(x=px, y=py), expected, rtol=1e-15)
    q = product.evaluate(x=px, y=py, quantity=True)
    assert q.unit == u.nJy / u.electron
    image = product.render(Box.factory[60:62, 10:13], dtype=np.float32)
    assert image.array.dtype == np.float32 and image.unit == u.nJy / u.electron
    scaled = product * (2 * u.s)
    assert isinstance(scaled, ProductField)
    assert scaled.unit == u.nJy * u.s / u.electron
    np.testing.assert_allclose(scaled.evaluate(x=px, y=py), 2 * expected, rtol=1e-15)
    # Only the last operand is replaced; the others are shared.
    assert scaled.operands[0] is a and scaled.operands[1] is b
    with pytest.raises(ValueError):
        ProductField([])


def test_spline_evaluate_in_chunks(monkeypatch):
    from lsst.images.fields import _spline

    rng = np.random.default_rng(21)
    y = np.array([0.0, 12.0, 30.0, 41.0])
    x = np.array([0.0, 10.0, 22.0, 35.0, 50.0, 61.0])
    field = SplineField(Box.factory[0:42, 0:62], rng.normal(size=(4, 6)), y=y, x=x)
    px = rng.uniform(-5, 70, 500)
    py = np.round(rng.uniform(-5, 45, 500), 1)  # repeated rows share their x splines
    expected = field.evaluate(x=px, y=py)
    monkeypatch.setattr(_spline, "_CHUNK", 7)
    np.testing.assert_array_equal(field.evaluate(x=px, y=py), expected)
    np.testing.assert_array_equal(field.evaluate(x=px[::-1], y=py[::-1]), expected[::-1])


def test_fields_pickle():
    import pickle

    y = np.array([0.0, 10.0, 20.0])
    x = np.array([0.0, 10.0, 30.0])
    spline = SplineField(Box.factory[0:21, 0:31], np.arange(9.0).reshape(3, 3) ** 1.5, y=y, x=x, unit=u.nJy)
    cheb = ChebyshevField(Box.factory[0:21, 0:31], np.array([[1.0, 2.0]]), unit=u.adu)
    px, py = np.array([1.0, 17.0]), np.array([3.0, 12.0])
    before = spline.evaluate(x=px, y=py)  # builds the cached spline setup
    for field in (spline, cheb, SumField([spline, spline]), ProductField([cheb, spline])):
        copy = pickle.loads(pickle.dumps(field))
        assert type(copy) is type(field) and copy.unit == field.unit
        np.testing.assert_array_equal(copy.evaluate(x=px, y=py), field.evaluate(x=px, y=py))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(spline)).evaluate(x=px, y=py), before)
