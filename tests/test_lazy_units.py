"""Units read from files stay validated text (`UnitText`) until somebody asks for them.

The laziness is what keeps ``import lsst.images`` and a first read from importing
``astropy.units`` (see ``test_read_imports.py`` for the fresh-process checks); these tests
pin down that nothing else changes: text is still validated, astropy units come out of
every public ``unit`` attribute, comparisons and files are what they were.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import astropy.units as u
import numpy as np
import pydantic
import pytest

import lsst.images as li
from lsst.images._lazy import LazyModule
from lsst.images._transforms import GeneralFrame
from lsst.images.cameras._structs import Orientation, OrientationRecord
from lsst.images.serialization import KNOWN_SPELLINGS, Unit, UnitText
from lsst.images.serialization._units import (
    format_unit,
    parse_unit,
    resolved_unit,
    squared_unit,
    stored_unit,
    units_equal,
)

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "lsstcam_synthetic_visit.fits"


class Holder(pydantic.BaseModel):
    unit: Unit


@pytest.mark.parametrize("text", sorted(KNOWN_SPELLINGS))
def test_known_spellings_are_what_format_unit_writes(text: str) -> None:
    # Accepting these without astropy is only sound if astropy reads each one and
    # writes it back unchanged.
    unit = parse_unit(text)
    assert isinstance(unit, u.UnitBase)
    assert format_unit(unit) == text


def test_text_validates_to_unit_text_in_python_and_json_modes() -> None:
    for holder in (Holder.model_validate({"unit": "nJy"}), Holder.model_validate_json('{"unit": "nJy"}')):
        assert type(holder.unit) is UnitText
        assert holder.unit == u.nJy
        assert holder.unit.to_unit() == u.nJy
        assert isinstance(holder.unit.to_unit(), u.UnitBase)


def test_unknown_but_valid_text_is_parsed_by_astropy_at_validation() -> None:
    holder = Holder.model_validate({"unit": "km / s"})
    assert type(holder.unit) is UnitText
    assert holder.unit.to_unit() == u.km / u.s
    # Written back in the canonical spelling, as a parsed unit would be.
    assert json.loads(holder.model_dump_json())["unit"] == format_unit(u.km / u.s)


@pytest.mark.parametrize("bad", ["not_a_unit", "nJy**", "m / / s"])
def test_unreadable_text_is_refused_at_validation(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="unit"):
        Holder.model_validate({"unit": bad})
    with pytest.raises(pydantic.ValidationError):
        Holder.model_validate_json(json.dumps({"unit": bad}))


@pytest.mark.parametrize("bad", [3, 2.5, None, ["nJy"], {"unit": "nJy"}])
def test_non_text_non_unit_is_refused(bad: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        Holder.model_validate({"unit": bad})


def test_astropy_units_pass_through_and_serialize_as_before() -> None:
    unit = u.nJy / u.electron
    holder = Holder(unit=unit)
    assert holder.unit is unit
    assert json.loads(holder.model_dump_json())["unit"] == "nJy / electron"
    assert json.loads(Holder(unit=UnitText("nJy**2")).model_dump_json())["unit"] == "nJy**2"
    assert Holder(unit=u.nJy**2).model_dump()["unit"] == "nJy**2"


def test_stored_resolved_and_compared_forms() -> None:
    text = UnitText("nJy")
    assert stored_unit(text) is text
    assert stored_unit(None) is None
    # Plain strings from callers are checked and parsed at once, as before.
    assert stored_unit("nJy") == u.nJy and isinstance(stored_unit("nJy"), u.UnitBase)
    with pytest.raises(ValueError):
        stored_unit("not_a_unit")
    assert resolved_unit(text) == u.nJy and isinstance(resolved_unit(text), u.UnitBase)
    assert units_equal(UnitText("nJy**2"), u.nJy**2)
    assert units_equal(UnitText("nJy"), UnitText("nJy"))
    assert not units_equal(UnitText("nJy"), UnitText("adu"))
    assert units_equal(None, None)
    assert not units_equal(None, UnitText("nJy"))


def test_squared_unit_stays_text_for_known_squares() -> None:
    square = squared_unit(UnitText("nJy"))
    assert type(square) is UnitText and square == "nJy**2"
    assert squared_unit(UnitText("nJy / electron")) == (u.nJy / u.electron) ** 2
    assert squared_unit(u.adu) == u.adu**2


def test_image_keeps_text_until_the_unit_is_asked_for() -> None:
    image = li.Image(np.zeros((2, 3), dtype=np.float32), unit=UnitText("nJy"))
    assert type(image._unit) is UnitText
    assert image == li.Image(np.zeros((2, 3), dtype=np.float32), unit=u.nJy)
    assert isinstance(image.unit, u.UnitBase) and image.unit == u.nJy
    assert image.quantity.unit == u.nJy


def test_masked_image_checks_text_variance_units() -> None:
    box = li.Box.factory[0:2, 0:3]
    image = li.Image(np.zeros((2, 3), dtype=np.float32), bbox=box, unit=UnitText("nJy"))
    variance = li.Image(np.ones((2, 3), dtype=np.float32), bbox=box, unit=UnitText("nJy**2"))
    schema = li.MaskSchema([li.MaskPlane("BAD", "bad")])
    masked = li.MaskedImage(image, variance=variance, mask_schema=schema)
    assert masked.variance.unit == u.nJy**2
    assert li.MaskedImage(image, mask_schema=schema).variance.unit == u.nJy**2
    wrong = li.Image(np.ones((2, 3), dtype=np.float32), bbox=box, unit=UnitText("adu"))
    with pytest.raises(ValueError, match="square of the image unit"):
        li.MaskedImage(image, variance=wrong, mask_schema=schema)


def test_frames_hold_astropy_units() -> None:
    frame = GeneralFrame.model_validate({"unit": "mm"})
    assert isinstance(frame.unit, u.UnitBase) and frame.unit == u.mm
    assert frame == GeneralFrame(unit=u.mm)
    assert hash(frame) == hash(GeneralFrame(unit=u.mm))


def test_orientation_record_validates_and_converts() -> None:
    orientation = Orientation(focal_plane_x=1.0, focal_plane_y=2.0, focal_plane_z=0.0, yaw=0.25 * u.rad)
    tree = json.loads(orientation.model_dump_json())
    record = OrientationRecord.model_validate(tree)
    assert json.loads(record.model_dump_json()) == tree
    assert record.to_orientation() == orientation
    assert OrientationRecord.model_validate({"focal_plane_x": 1, "focal_plane_y": 2, "focal_plane_z": 0})
    with pytest.raises(pydantic.ValidationError):
        OrientationRecord.model_validate(tree | {"yaw": {"value": "x", "unit": "rad"}})
    with pytest.raises(pydantic.ValidationError):
        OrientationRecord.model_validate(tree | {"yaw": {"value": 0.1, "unit": "not_a_unit"}})


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample missing")
def test_read_objects_give_astropy_objects_and_round_trip(tmp_path: Path) -> None:
    visit = li.VisitImage.read_fits(SAMPLE)
    assert isinstance(visit.unit, u.UnitBase) and visit.unit == u.nJy
    assert isinstance(visit.variance.unit, u.UnitBase) and visit.variance.unit == u.nJy**2
    scaling = visit.photometric_scaling
    if scaling is not None:
        assert isinstance(scaling.unit, u.UnitBase)
    for correction in visit.aperture_corrections.values():
        assert correction.unit is None or isinstance(correction.unit, u.UnitBase)
    detector = visit.detector
    copied = detector.copy()
    pickled = pickle.loads(pickle.dumps(detector))
    orientation = detector.orientation
    assert isinstance(orientation, Orientation)
    assert isinstance(orientation.yaw, u.Quantity) and orientation.yaw.unit.is_equivalent(u.rad)
    assert copied.orientation == orientation
    assert pickled.orientation == orientation
    out = tmp_path / "again.fits"
    visit.write_fits(out)
    again = li.VisitImage.read_fits(out)
    assert again.unit == u.nJy and again.variance.unit == u.nJy**2
    assert again.detector.orientation == orientation
    assert again.image == visit.image


def test_lazy_module_proxy() -> None:
    proxy = LazyModule("json")
    assert proxy.dumps is json.dumps
    assert "loaded" in repr(proxy)
    with pytest.raises(AttributeError):
        proxy.dumps = None
    with pytest.raises(AttributeError):
        proxy.__wrapped__  # noqa: B018  (introspection must not import)
    with pytest.raises(ModuleNotFoundError):
        LazyModule("no_such_module_here").anything  # noqa: B018


def test_dimensionless_text_is_still_a_unit() -> None:
    # "" spells dimensionless; it must not read as "no unit" in a truth test.
    text = Holder.model_validate({"unit": ""}).unit
    assert type(text) is UnitText and bool(text)
    assert text.to_unit() == u.dimensionless_unscaled
    image = li.Image(np.zeros((1, 1)), unit=text)
    assert image.unit == u.dimensionless_unscaled


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample missing")
def test_planes_read_from_a_file_pickle_and_paste_without_losing_units() -> None:
    visit = li.VisitImage.read_fits(SAMPLE)
    image = visit.image
    assert type(image._unit) is UnitText  # not asked for yet
    again = pickle.loads(pickle.dumps(image))
    assert again == image and again.unit == u.nJy
    # Pasting between planes of the same stored unit copies the values as they are.
    target = li.Image(0.0, bbox=image.bbox, dtype=np.float32, unit=UnitText("nJy"))
    target[image.bbox] = image
    assert np.array_equal(target.array, image.array, equal_nan=True)
    # Another unit converts.
    in_microjansky = li.Image(0.0, bbox=image.bbox, dtype=np.float64, unit=u.uJy)
    in_microjansky[image.bbox] = image
    np.testing.assert_allclose(in_microjansky.array, image.array * 1e-3, rtol=1e-6)


def test_instance_check_without_importing() -> None:
    from lsst.images._lazy import is_instance_if_loaded

    assert is_instance_if_loaded(u.nJy, "astropy.units", "UnitBase")
    assert not is_instance_if_loaded("nJy", "astropy.units", "UnitBase")
    assert not is_instance_if_loaded(1.0, "no_such_module_loaded_here", "Anything")
