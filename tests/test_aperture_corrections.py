"""Tests of aperture-correction maps and the legacy field conversions (with afw stand-ins)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest

from lsst.images._geom import Box
from lsst.images.fields import (
    ChebyshevField,
    ProductField,
    field_from_legacy,
    field_from_legacy_photo_calib,
)


class _Box2I:
    """Stand-in for lsst.geom.Box2I (inclusive maxima)."""

    def __init__(self, min_x: int, min_y: int, max_x: int, max_y: int):
        self._v = (min_x, min_y, max_x, max_y)

    def getMinX(self) -> int:
        return self._v[0]

    def getMinY(self) -> int:
        return self._v[1]

    def getMaxX(self) -> int:
        return self._v[2]

    def getMaxY(self) -> int:
        return self._v[3]


class ChebyshevBoundedField:
    """Stand-in with afw's ChebyshevBoundedField interface (class name used for dispatch)."""

    def __init__(self, bbox: _Box2I, coefficients: np.ndarray):
        self._bbox = bbox
        self._coefficients = np.asarray(coefficients, dtype=float)

    def getBBox(self) -> _Box2I:
        return self._bbox

    def getCoefficients(self) -> np.ndarray:
        return self._coefficients


class ProductBoundedField:
    def __init__(self, factors):
        self._factors = factors

    def getFactors(self):
        return self._factors


class _PhotoCalib:
    def __init__(self, mean: float, scaled: ChebyshevBoundedField, constant: bool):
        self._mean, self._scaled, self._constant = mean, scaled, constant

    def getCalibrationMean(self) -> float:
        return self._mean

    def computeScaledCalibration(self) -> ChebyshevBoundedField:
        return self._scaled

    def isConstant(self) -> bool:
        return self._constant


DETECTOR = Box.factory[0:4004, 0:4096]
LEGACY_BOX = _Box2I(0, 0, 4095, 4003)


def test_field_from_legacy_chebyshev_and_product():
    coefficients = np.array([[0.98, 0.001], [0.002, 0.0]])
    field = field_from_legacy(ChebyshevBoundedField(LEGACY_BOX, coefficients))
    assert isinstance(field, ChebyshevField) and field.bounds == DETECTOR
    # Values from the visit_full manifest (same coefficients over the detector box).
    np.testing.assert_array_equal(
        field.evaluate(x=np.array([0.0, 4095.0]), y=np.array([0.0, 4003.0])),
        [0.9770007436411245, 0.9829992563588754],
    )
    product = field_from_legacy(
        ProductBoundedField(
            [ChebyshevBoundedField(LEGACY_BOX, coefficients), ChebyshevBoundedField(LEGACY_BOX, [[2.0]])]
        ),
        unit=u.nJy,
    )
    assert isinstance(product, ProductField) and product.unit == u.nJy
    assert float(product(x=0.0, y=0.0)) == pytest.approx(2 * 0.9770007436411245, rel=1e-15)

    class OtherBoundedField:
        pass

    with pytest.raises(NotImplementedError):
        field_from_legacy(OtherBoundedField())


def test_field_from_legacy_photo_calib():
    unit_field = ChebyshevBoundedField(_Box2I(0, 0, -1, -1), [[1.0]])
    assert field_from_legacy_photo_calib(_PhotoCalib(1.0, unit_field, True), DETECTOR) is None
    constant = field_from_legacy_photo_calib(_PhotoCalib(2.5, unit_field, True), DETECTOR)
    assert isinstance(constant, ChebyshevField)
    assert constant.unit == u.nJy / u.electron and constant.bounds == DETECTOR
    np.testing.assert_array_equal(constant.coefficients, [[2.5]])
    varying = ChebyshevBoundedField(LEGACY_BOX, [[1.0, 0.01], [0.02, 0.0]])
    field = field_from_legacy_photo_calib(_PhotoCalib(1.25, varying, False), DETECTOR, u.adu)
    assert field.unit == u.nJy / u.adu
    np.testing.assert_allclose(field.coefficients, 1.25 * np.array([[1.0, 0.01], [0.02, 0.0]]), rtol=1e-15)


def test_aperture_corrections_from_legacy_and_serialization():
    from lsst.images.aperture_corrections import (
        ApertureCorrectionMapSerializationModel,
        aperture_corrections_from_legacy,
    )

    legacy = {
        "base_PsfFlux_instFlux": ChebyshevBoundedField(LEGACY_BOX, [[0.98, 0.001], [0.002, 0.0]]),
        "base_GaussianFlux_instFlux": ChebyshevBoundedField(LEGACY_BOX, [[1.02]]),
    }
    corrections = aperture_corrections_from_legacy(legacy)
    assert list(corrections) == list(legacy)
    assert float(corrections["base_GaussianFlux_instFlux"](x=10.0, y=20.0)) == 1.02

    class Archive:
        def serialize_direct(self, name, serializer):
            return serializer(self)

    model = ApertureCorrectionMapSerializationModel.serialize(corrections, Archive())
    text = model.model_dump_json()
    assert text.startswith('{"fields":{"base_PsfFlux_instFlux":{"bounds"')
    rebuilt = ApertureCorrectionMapSerializationModel.model_validate_json(text).deserialize(Archive())
    assert list(rebuilt) == list(corrections)
    np.testing.assert_array_equal(
        rebuilt["base_PsfFlux_instFlux"].coefficients, corrections["base_PsfFlux_instFlux"].coefficients
    )
    empty = ApertureCorrectionMapSerializationModel()
    assert empty.model_dump_json() == '{"fields":{}}' and empty.deserialize(Archive()) == {}
