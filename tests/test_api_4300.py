"""Code written for Rubin's 2100 release and for its 4300 release runs unchanged.

The same checks run twice through the `style` fixture: once spelled the 2100 way
(``projection=``, ``start=``, ``.projection``, ``read_fits``/``write_fits``, no
``band``) and once the 4300 way (``sky_projection=``, ``yx0=``, ``.sky_projection``,
``.yx0``, ``Cls.read``/``obj.write``, ``band=``).  Any warning is an error here: both
spellings are equals, neither is deprecated.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pytest

import lsst.images as li
from conftest import FIXTURES, load_manifest
from lsst.images import serialization

DATA = Path(__file__).parent / "data"
SMALL_VISIT = DATA / "visit_small_4300.fits"  # a 24x32 cut-out of the 4300 visit_full fixture


@pytest.fixture(autouse=True)
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@dataclasses.dataclass(frozen=True)
class Style:
    """How code of one release spells the renamed API."""

    name: str
    projection_kw: str
    start_kw: str
    projection_of: Callable[[Any], Any]
    start_of: Callable[[Any], Any]
    write: Callable[[Any, Path], None]
    read: Callable[..., Any]


STYLES = {
    "2100": Style(
        "2100",
        "projection",
        "start",
        lambda obj: obj.projection,
        lambda obj: obj.bbox.start,
        lambda obj, path: obj.write_fits(str(path)),
        lambda cls, path, **kw: cls.read_fits(str(path), **kw),
    ),
    "4300": Style(
        "4300",
        "sky_projection",
        "yx0",
        lambda obj: obj.sky_projection,
        lambda obj: obj.yx0,
        lambda obj, path: obj.write(path),
        lambda cls, path, **kw: cls.read(path, **kw),
    ),
}


@pytest.fixture(params=sorted(STYLES))
def style(request) -> Style:
    return STYLES[request.param]


@pytest.fixture(scope="module")
def small_visit() -> li.VisitImage:
    return li.VisitImage.read(SMALL_VISIT)


def _projection(visit: li.VisitImage) -> li.Projection:
    return visit.projection


# --- constructors, properties and views --------------------------------------------------------------


def test_image_constructor_and_view(style: Style, small_visit: li.VisitImage) -> None:
    projection = _projection(small_visit)
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = li.Image(array, unit=u.nJy, **{style.start_kw: (5, -2), style.projection_kw: projection})
    assert image.bbox == li.Box.factory[5:8, -2:2]
    assert style.start_of(image) == li.YX(5, -2)
    assert style.projection_of(image) is projection
    moved = image.view(**{style.start_kw: (0, 0), style.projection_kw: None})
    assert moved.bbox == li.Box.factory[0:3, 0:4] and style.projection_of(moved) is None
    assert np.shares_memory(moved.array, image.array)


def test_mask_and_color_image_constructors(style: Style, small_visit: li.VisitImage) -> None:
    projection = _projection(small_visit)
    schema = li.MaskSchema([li.MaskPlane("BAD", "bad")])
    placement = {style.start_kw: (1, 2), style.projection_kw: projection}
    mask = li.Mask(0, schema=schema, shape=(2, 3), **placement)
    assert mask.bbox == li.Box.factory[1:3, 2:5] and style.projection_of(mask) is projection
    assert style.projection_of(mask.view(**{style.projection_kw: None})) is None
    color = li.ColorImage(np.zeros((2, 3, 3)), **{style.start_kw: (4, 4), style.projection_kw: projection})
    assert color.bbox == li.Box.factory[4:6, 4:7] and style.projection_of(color) is projection
    stacked = li.ColorImage.from_channels(color.red, color.green, color.blue, **{style.projection_kw: None})
    assert style.projection_of(stacked) is color.projection  # None -> the red channel's


def test_masked_image_constructor(style: Style, small_visit: li.VisitImage) -> None:
    projection = _projection(small_visit)
    image = li.Image(np.ones((3, 4), np.float32), unit=u.nJy, **{style.start_kw: (10, 20)})
    masked = li.MaskedImage(image, mask_schema=small_visit.mask.schema, **{style.projection_kw: projection})
    for plane in (masked, masked.image, masked.mask, masked.variance):
        assert style.projection_of(plane) is projection
    assert masked.variance.unit == u.nJy**2


def _visit_kwargs(visit: li.VisitImage) -> dict[str, Any]:
    return dict(
        mask=visit.mask,
        variance=visit.variance,
        obs_info=visit.obs_info,
        psf=visit.psf,
        detector=visit.detector,
        summary_stats=visit.summary_stats,
        photometric_scaling=visit.photometric_scaling,
        aperture_corrections=visit.aperture_corrections,
        backgrounds=visit.backgrounds,
    )


def test_visit_image_constructor_band(style: Style, small_visit: li.VisitImage) -> None:
    kwargs = _visit_kwargs(small_visit) | {style.projection_kw: small_visit.projection}
    if style.name == "4300":
        kwargs["band"] = "r"
    visit = li.VisitImage(small_visit.image.view(projection=None), **kwargs)
    assert style.projection_of(visit) is small_visit.projection
    # 2100 code gives no band: it is derived from obs_info.physical_filter ("r_57").
    assert visit.band == "r"
    assert visit.physical_filter == "r_57"
    assert visit[li.Box.factory[1045:1050, 2070:2080]].band == "r"
    assert visit.copy().band == "r"


def test_visit_image_explicit_band_is_kept(small_visit: li.VisitImage, tmp_path: Path) -> None:
    visit = li.VisitImage(small_visit.image, band="i", **_visit_kwargs(small_visit))
    assert visit.band == "i" and visit.physical_filter == "r_57"  # not checked against obs_info
    li.fits.write(visit, str(tmp_path / "v.fits"), layout="4300")
    assert li.VisitImage.read(tmp_path / "v.fits").band == "i"
    with pytest.raises(TypeError, match="band must be a str"):
        li.VisitImage(small_visit.image, band=3, **_visit_kwargs(small_visit))


def test_conflicting_spellings_are_rejected(small_visit: li.VisitImage) -> None:
    with pytest.raises(TypeError, match="'start' and 'yx0'"):
        li.Image(np.zeros((2, 2)), start=(0, 0), yx0=(1, 1))
    with pytest.raises(TypeError, match="'projection' and 'sky_projection'"):
        other = li.Projection.from_fits_wcs(small_visit.fits_wcs, small_visit.projection.pixel_frame)
        li.MaskedImage(
            li.Image(np.zeros((2, 2))),
            mask_schema=li.MaskSchema([]),
            projection=small_visit.projection,
            sky_projection=other,
        )
    # The same value under both names is not ambiguous.
    same = li.Image(np.zeros((2, 2)), start=(3, 3), yx0=(3, 3))
    assert same.yx0 == li.YX(3, 3)


def test_renamed_names_are_the_same_objects() -> None:
    assert li.SkyProjection is li.Projection
    assert li.SkyProjectionAstropyView is li.ProjectionAstropyView
    assert li.SkyProjectionSerializationModel is li.ProjectionSerializationModel
    assert li.cameras.CameraFrameSet is li.CameraFrameSet
    assert li.cameras.CameraFrameSetSerializationModel is li.CameraFrameSetSerializationModel


# --- files: read_fits/write_fits beside read/write ------------------------------------------------------


def test_round_trip(style: Style, small_visit: li.VisitImage, tmp_path: Path) -> None:
    path = tmp_path / "visit.fits"
    style.write(small_visit, path)
    again = style.read(li.VisitImage, path)
    np.testing.assert_array_equal(again.image.array, small_visit.image.array)
    np.testing.assert_array_equal(again.mask.array, small_visit.mask.array)
    assert again.band == "r" and style.start_of(again) == li.YX(1040, 2064)
    box = li.Box.factory[1050:1055, 2070:2075]
    part = style.read(li.VisitImage, path, bbox=box)
    np.testing.assert_array_equal(part.variance.array, small_visit.variance[box].array)


@pytest.mark.parametrize("suffix", [".fits", ".json"])
def test_write_read_by_extension(suffix: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    image = li.Image(rng.normal(size=(5, 7)).astype(np.float32), yx0=(2, 3), unit=u.adu)
    path = tmp_path / f"image{suffix}"
    image.write(path)
    again = li.Image.read(path)
    assert again == image and again.unit == u.adu
    assert serialization.read_archive(path) == image  # class from the tree
    with serialization.open_archive(path) as reader:
        assert reader.info.schema_name == "image"
        assert reader.get_component("bbox") == image.bbox
        assert reader.get_component("unit") == u.adu


def test_unknown_extension_is_a_value_error(tmp_path: Path) -> None:
    image = li.Image(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="extension"):
        image.write(tmp_path / "image.png")
    with pytest.raises(ValueError, match="extension"):
        li.Image.read(tmp_path / "image.txt")


# --- 4300 fixtures through the 4300 entry points -------------------------------------------------------


def _fixture(name: str) -> tuple[Path, dict]:
    manifest = load_manifest("lsst-images-4300")
    entry = manifest["files"][name]
    return FIXTURES / "lsst-images-4300" / entry["file"], entry


def test_visit_fixture_read_archive_and_components() -> None:
    path, entry = _fixture("visit_full")
    expect = entry["expect"]
    visit = serialization.read_archive(path)
    assert isinstance(visit, li.VisitImage)
    assert visit.band == expect["band"]
    assert visit.physical_filter == expect["obs_info"]["physical_filter"]
    assert visit.yx0 == li.YX(expect["bbox"]["y"][0], expect["bbox"]["x"][0])
    for sample in expect["planes"]["image"]["samples"]:
        y, x = sample["y"] - visit.yx0.y, sample["x"] - visit.yx0.x
        assert visit.image.array[y, x] == pytest.approx(sample["value"])
    with serialization.open_archive(path, li.VisitImage) as reader:
        assert reader.info.schema_name == "visit_image" and reader.info.format_version == 1
        assert reader.metadata["answer"] == 42
        assert reader.get_component("unit") == u.nJy
        assert reader.get_component("bbox") == visit.bbox
        assert isinstance(reader.get_component("sky_projection"), li.SkyProjection)
        bounds = reader.get_component("bounds")
        np.testing.assert_allclose(bounds.x_vertices[:-1], expect["bounds"]["x_vertices"][:4])
        masked = reader.get_component("masked_image")
        assert type(masked) is li.MaskedImage
        np.testing.assert_array_equal(masked.mask.array, visit.mask.array)
        with pytest.raises(serialization.InvalidComponentError):
            reader.get_component("no_such_component")


def test_visit_fixture_wrong_class_is_a_type_error() -> None:
    path, _ = _fixture("visit_full")
    with pytest.raises(TypeError, match="visit_image"):
        serialization.read_archive(path, li.Mask)
    # A base class reads the part it knows.
    masked = li.MaskedImage.read(path)
    assert type(masked) is li.MaskedImage and masked.bbox == li.Box.factory[1000:1160, 2000:2192]


@pytest.mark.parametrize("name", ["image_i32_gzip1_yx0", "mask_u8_3planes_yx0", "masked_image_f32_default"])
def test_other_fixtures_by_4300_entry_points(name: str) -> None:
    path, entry = _fixture(name)
    obj = serialization.read_archive(path)
    assert type(obj).__name__ == entry["class"]
    bbox = entry["expect"]["bbox"]
    assert obj.yx0 == li.YX(bbox["y"][0], bbox["x"][0])
    assert getattr(li, entry["class"]).read(path).bbox == obj.bbox


# --- fields, geometry, masks ------------------------------------------------------------------------------


def test_field_call_forms(small_visit: li.VisitImage) -> None:
    field = small_visit.photometric_scaling
    expected = field.evaluate(x=np.array([100.0]), y=np.array([250.0]))[0]
    assert field(x=100.0, y=250.0) == pytest.approx(expected)
    assert isinstance(field(x=100.0, y=250.0), float)
    assert field(li.XY(100.0, 250.0)) == pytest.approx(expected)
    assert field(li.YX(250.0, 100.0)) == pytest.approx(expected)
    assert field(li.XY(100.0, 250.0), quantity=True).unit == field.unit
    with pytest.raises(TypeError):
        field(li.XY(1.0, 2.0), x=1.0, y=2.0)
    with pytest.raises(TypeError):
        field(x=1.0)


def test_box_additions() -> None:
    box = li.Box.factory[1:4, 2:7]
    assert box.area == 15
    assert box.min == li.YX(1, 2) and box.max == li.YX(3, 6) and box.stop == li.YX(4, 7)
    polygon = box.to_polygon()
    assert polygon.area == pytest.approx(15.0)
    assert polygon.bbox == box
    assert polygon.centroid == pytest.approx(li.XY(4.0, 2.0))
    assert box.contains(li.XY(6, 3)) and box.contains(li.YX(3, 6)) and not box.contains(li.YX(5, 2))
    # Pixel squares [i - 0.5, i + 0.5) covering the rectangle.
    assert li.Box.from_float_bounds(x_min=0.2, x_max=3.7, y_min=-0.6, y_max=2.4) == li.Box.factory[-1:3, 0:5]
    assert li.Box.from_float_bounds(x_min=0.0, x_max=0.5, y_min=0.0, y_max=0.0) == li.Box.factory[0:1, 0:1]


def test_box_transform_and_sky_circle(small_visit: li.VisitImage) -> None:
    from astropy.coordinates import Angle

    projection = small_visit.projection
    box = small_visit.bbox
    shifted = box.transform(
        li.Transform.affine(
            projection.pixel_frame, projection.pixel_frame, np.array([[1, 0, 10], [0, 1, -5], [0, 0, 1]])
        )
    )
    assert shifted.bbox == li.Box.factory[1035:1059, 2074:2106]
    center = projection.pixel_to_sky(x=2080.0, y=1052.0)
    radius = Angle(1.0, u.arcsec)
    old_order = li.Box.from_sky_circle(center, radius, projection)  # 2100
    new_order = li.Box.from_sky_circle(projection, center, radius)  # 4300
    assert old_order == new_order and old_order.contains(x=2080, y=1052)
    assert small_visit.bbox_from_sky_circle(center, radius) == old_order.intersection(box)
    far = projection.pixel_to_sky(x=2080.0, y=1200.0)
    assert small_visit.bbox_from_sky_circle(far, radius, clip=False).contains(x=2080, y=1200)


def test_mask_plane_editing() -> None:
    schema = li.MaskSchema([li.MaskPlane("A", "a"), None, li.MaskPlane("B", "b")])
    mask = li.Mask(0, schema=schema, shape=(3, 4))
    mask.set("A", np.eye(3, 4, dtype=bool))
    grown = mask.add_plane("C", "c")
    assert [p.name if p else None for p in grown.schema] == ["A", None, "B", "C"]
    np.testing.assert_array_equal(grown.get("A"), np.eye(3, 4, dtype=bool))
    assert not grown.get("C").any() and "C" not in mask.schema
    with pytest.raises(ValueError, match="already exists"):
        mask.add_plane("A", "again")
    shrunk = grown.add_planes([li.MaskPlane("D", "d")], drop=["A"])
    assert [p.name if p else None for p in shrunk.schema] == [None, "B", "C", "D"]
    with pytest.raises(ValueError, match="do not exist"):
        mask.add_planes([], drop=["Z"])
    other = mask.copy()
    other.array[0, 0, 0] ^= 1  # A cleared at (0, 0)
    other.set("A", np.eye(3, 4, k=1, dtype=bool) & (np.arange(4) == 1))  # A set at (0, 1)
    other.set("B", np.ones((3, 4), bool))
    assert mask.compare(other) == {"A": (1, 1), "B": (0, 12)}
    assert schema.interpret(np.array([5], np.uint8)) == ["A", "B"]
    bit = schema.bit("B")
    assert bit.check(np.array([4], np.uint8)) and not bit.check(np.array([1], np.uint8))
    assert "A" in schema and li.MaskPlane("A", "a") in schema and "Z" not in schema


def test_mask_schema_from_fits_header() -> None:
    import astropy.io.fits

    schema = li.MaskSchema([li.MaskPlane("A", "first"), None, li.MaskPlane("B", "second")])
    header = astropy.io.fits.Header()
    schema.update_header(header)
    assert li.MaskSchema.from_fits_header(header) == schema
