"""lsst.images through Rubin's real data butler (lsst-daf-butler 4300, its shipped configuration).

Every repository here is made by ``Butler.makeRepo`` (SQLite registry, file datastore);
nothing is configured by hand except the dataset types (and, for the recipe and
format tests, the same write-parameter binding that `TemporaryButler` makes).
VisitImage tests run on the 4300 ``visit_full`` fixture when ``../shared`` is present
and always on a small cut-out of it committed in ``tests/data``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import astropy.io.fits
import astropy.units as u
import numpy as np
import pytest

import lsst.images as li
from conftest import FIXTURES
from lsst.images import fits
from lsst.images.tests import TemporaryButler, make_test_formatter

daf_butler = pytest.importorskip("lsst.daf.butler")
from lsst.images.formatters import GenericFormatter  # noqa: E402  (needs the butler)
from lsst.images.formatters._reading import clear_cache  # noqa: E402

DATA = Path(__file__).parent / "data"
VISIT_SOURCES = {
    "small": DATA / "visit_small_4300.fits",
    "visit_full": FIXTURES / "lsst-images-4300" / "visit_full.fits",
}

#: Every component of the 4300 ``VisitImage`` storage class (``components`` aside).
VISIT_COMPONENTS = (
    "image", "mask", "variance", "masked_image", "bbox", "unit", "sky_projection", "bounds", "psf",
    "obs_info", "summary_stats", "aperture_corrections", "detector", "photometric_scaling", "backgrounds",
)  # fmt: skip


@pytest.fixture(params=sorted(VISIT_SOURCES))
def visit(request) -> li.VisitImage:
    path = VISIT_SOURCES[request.param]
    if not path.exists():
        pytest.skip(f"{path} not found")
    return li.VisitImage.read(path)


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _points(box: li.Box) -> tuple[np.ndarray, np.ndarray]:
    return box.x.linspace(3), box.y.linspace(3)


def assert_projections_match(a: li.Projection, b: li.Projection, box: li.Box) -> None:
    x, y = np.meshgrid(*_points(box))
    assert a.pixel_frame == b.pixel_frame
    np.testing.assert_allclose(
        a.pixel_to_sky(x=x, y=y).separation(b.pixel_to_sky(x=x, y=y)).to_value(u.arcsec), 0.0, atol=1e-9
    )


def assert_visits_equal(a: li.VisitImage, b: li.VisitImage) -> None:
    assert a.bbox == b.bbox and a.unit == b.unit and a.band == b.band
    np.testing.assert_array_equal(a.image.array, b.image.array)
    np.testing.assert_array_equal(a.mask.array, b.mask.array)
    np.testing.assert_array_equal(a.variance.array, b.variance.array)
    assert a.mask.schema == b.mask.schema
    assert_projections_match(a.projection, b.projection, a.bbox)
    x, y = a.bbox.x.center, a.bbox.y.center
    np.testing.assert_array_equal(
        a.psf.compute_kernel_image(x=x, y=y).array, b.psf.compute_kernel_image(x=x, y=y).array
    )
    assert a.obs_info == b.obs_info
    assert a.summary_stats == b.summary_stats
    assert a.detector.name == b.detector.name and a.detector.id == b.detector.id
    assert sorted(a.aperture_corrections) == sorted(b.aperture_corrections)
    assert a.metadata == b.metadata


# --- put / get -----------------------------------------------------------------------------------------


def test_put_get_visit_image(visit: li.VisitImage) -> None:
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        got = tb.butler.get(ref)
        assert type(got) is li.VisitImage
        assert_visits_equal(got, visit)
        # The dataset and its (empty) provenance come back as the butler's models.
        assert isinstance(got.butler_dataset, daf_butler.SerializedDatasetRef)
        assert got.butler_dataset.id == ref.id
        assert isinstance(got.butler_provenance, daf_butler.DatasetProvenance)
        # Written in Rubin's 4300 layout, the one the 4300 butler's readers expect.
        header = astropy.io.fits.getheader(tb.butler.getURI(ref).ospath, 0)
        assert header["FMTVER"] == 1 and header["DATAMODL"].endswith("visit_image-1.1.0")


def test_every_visit_image_component(visit: li.VisitImage) -> None:
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        got = {name: tb.butler.get(ref.makeComponentRef(name)) for name in VISIT_COMPONENTS}
    np.testing.assert_array_equal(got["image"].array, visit.image.array)
    np.testing.assert_array_equal(got["mask"].array, visit.mask.array)
    np.testing.assert_array_equal(got["variance"].array, visit.variance.array)
    assert type(got["masked_image"]) is li.MaskedImage
    np.testing.assert_array_equal(got["masked_image"].variance.array, visit.variance.array)
    assert got["bbox"] == visit.bbox and got["unit"] == visit.unit == u.nJy
    assert_projections_match(got["sky_projection"], visit.projection, visit.bbox)
    assert got["bounds"] == visit.bounds
    assert got["psf"].kernel_bbox == visit.psf.kernel_bbox
    assert got["obs_info"] == visit.obs_info
    assert got["summary_stats"] == visit.summary_stats
    for name, field in visit.aperture_corrections.items():
        assert got["aperture_corrections"][name](x=10.0, y=20.0) == field(x=10.0, y=20.0)
    assert got["detector"].name == visit.detector.name
    assert got["photometric_scaling"](x=100.0, y=200.0) == visit.photometric_scaling(x=100.0, y=200.0)
    assert list(got["backgrounds"]) == list(visit.backgrounds)


def test_bbox_parameter_on_the_composite_and_on_image(visit: li.VisitImage) -> None:
    box = li.Box.factory[
        visit.bbox.y.start + 3 : visit.bbox.y.start + 11, visit.bbox.x.start + 5 : visit.bbox.x.start + 9
    ]
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        part = tb.butler.get(ref, parameters={"bbox": box})
        image = tb.butler.get(ref.makeComponentRef("image"), parameters={"bbox": box})
        mask = tb.butler.get(ref.makeComponentRef("mask"), parameters={"bbox": box})
    assert type(part) is li.VisitImage and part.bbox == box
    assert_visits_equal(part, visit[box])
    np.testing.assert_array_equal(image.array, visit.image[box].array)
    np.testing.assert_array_equal(mask.array, visit.mask[box].array)


def test_components_multi_read(visit: li.VisitImage) -> None:
    box = li.Box.factory[
        visit.bbox.y.start : visit.bbox.y.start + 4, visit.bbox.x.start : visit.bbox.x.start + 6
    ]
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        components = ref.makeComponentRef("components")
        some = tb.butler.get(components, parameters={"components": ["image", "psf", "bbox"], "bbox": box})
        everything = tb.butler.get(components)
        with pytest.raises(ValueError, match="not known to any of the requested components"):
            tb.butler.get(components, parameters={"components": ["psf"], "bbox": box})
        with pytest.raises(ValueError, match="nope"):
            tb.butler.get(components, parameters={"components": ["nope"]})
    assert sorted(some) == ["bbox", "image", "psf"]
    assert some["image"].bbox == box and some["bbox"] == visit.bbox  # bbox goes to image only
    assert sorted(everything) == sorted(set(VISIT_COMPONENTS) - {"masked_image"})
    np.testing.assert_array_equal(everything["variance"].array, visit.variance.array)


def test_unknown_parameter_is_rejected(visit: li.VisitImage) -> None:
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        with pytest.raises(KeyError, match="nope"):
            tb.butler.get(ref, parameters={"nope": 1})


def test_put_get_with_instrument_and_detector_data_id(visit: li.VisitImage) -> None:
    with TemporaryButler() as tb:
        butler = tb.butler
        butler.registry.insertDimensionData(
            "instrument",
            {"name": "LSSTCam", "detector_max": 200, "visit_max": 10**13, "exposure_max": 10**13},
        )
        butler.registry.insertDimensionData(
            "detector", {"instrument": "LSSTCam", "id": 85, "full_name": "R21_S11"}
        )
        dataset_type = daf_butler.DatasetType(
            "calexp_v2", ("instrument", "detector"), "VisitImage", universe=butler.dimensions
        )
        butler.registry.registerDatasetType(dataset_type)
        ref = butler.put(visit, "calexp_v2", instrument="LSSTCam", detector=85)
        assert "LSSTCam" in butler.getURI(ref).basename()
        got = butler.get("calexp_v2", instrument="LSSTCam", detector=85)
        assert got.butler_dataset.dataId.dataId == {"instrument": "LSSTCam", "detector": 85}
        psf = butler.get("calexp_v2.psf", instrument="LSSTCam", detector=85)
    assert_visits_equal(got, visit)
    assert psf.kernel_bbox == visit.psf.kernel_bbox


def test_format_json(visit: li.VisitImage) -> None:
    with TemporaryButler(visit_image="VisitImage", format="json") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        uri = tb.butler.getURI(ref)
        assert uri.getExtension() == ".json"
        tree = json.loads(uri.read())
        assert tree["butler_info"]["dataset"]["id"] == str(ref.id)
        assert_visits_equal(tb.butler.get(ref), visit)
        assert tb.butler.get(ref.makeComponentRef("unit")) == visit.unit


def _max_quantization_step(path: str, extname: str) -> float:
    with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
        return float(np.max(hdus[extname].data["ZSCALE"]))


def test_lossy16_recipe(visit: li.VisitImage) -> None:
    with TemporaryButler(visit_image="VisitImage", recipe="lossy16") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        path = tb.butler.getURI(ref).ospath
        got = tb.butler.get(ref)
        with astropy.io.fits.open(path, disable_image_compression=True) as hdus:
            assert hdus["IMAGE"].header["ZCMPTYPE"] == "RICE_1"
            assert hdus["IMAGE"].header["ZQUANTIZ"] == "SUBTRACTIVE_DITHER_2"
            assert hdus["MASK"].header["ZCMPTYPE"] == "GZIP_2"
            seed = hdus["IMAGE"].header["ZDITHER0"]
        steps = {plane: _max_quantization_step(path, plane.upper()) for plane in ("image", "variance")}
    # The dither seed comes from the data ID (empty here), as in Rubin's formatter.
    assert seed == int(hashlib.md5(b"[]").hexdigest(), 16) % 9999 + 1
    np.testing.assert_array_equal(got.mask.array, visit.mask.array)
    for plane in ("image", "variance"):
        error = np.abs(getattr(got, plane).array - getattr(visit, plane).array)
        assert error.max() > 0.0  # really quantized
        assert error.max() <= 0.5 * steps[plane] * (1 + 1e-6)


def test_lossy_writes_are_reproducible(visit: li.VisitImage) -> None:
    arrays = []
    for _ in range(2):
        with TemporaryButler(visit_image="VisitImage", recipe="lossy16") as tb:
            ref = tb.butler.put(visit, tb.visit_image)
            arrays.append(tb.butler.get(ref.makeComponentRef("image")).array)
    np.testing.assert_array_equal(arrays[0], arrays[1])


def test_provenance_cards_and_model() -> None:
    visit = li.VisitImage.read(VISIT_SOURCES["small"])
    with TemporaryButler(first="VisitImage", second="VisitImage", third="VisitImage") as tb:
        first = tb.butler.put(visit, tb.first)
        provenance = daf_butler.DatasetProvenance(quantum_id=uuid.UUID(int=5))
        provenance.add_input(first)
        second = tb.butler.put(tb.butler.get(first), tb.second, provenance=provenance)
        header = astropy.io.fits.getheader(tb.butler.getURI(second).ospath, 0)
        assert header["LSST BUTLER ID"] == str(second.id)
        assert header["LSST BUTLER QUANTUM"] == str(uuid.UUID(int=5))
        assert header["LSST BUTLER INPUT 0 ID"] == str(first.id)
        got = tb.butler.get(second)
        assert got.butler_provenance == provenance
        # Re-putting an object read with provenance cards: the stale cards are gone.
        third = tb.butler.put(got, tb.third)
        header = astropy.io.fits.getheader(tb.butler.getURI(third).ospath, 0)
        assert not [key for key in header if key.startswith("LSST BUTLER")]


# --- the other image types -------------------------------------------------------------------------------


def _masked_image() -> li.MaskedImage:
    visit = li.VisitImage.read(VISIT_SOURCES["small"])
    return li.MaskedImage(visit.image, mask=visit.mask, variance=visit.variance, metadata={"ANSWER": 42})


def test_masked_image_image_mask(tmp_path: Path) -> None:
    masked = _masked_image()
    box = li.Box.factory[1042:1050, 2070:2074]
    with TemporaryButler(masked="MaskedImageV2", image="ImageV2", mask="MaskV2") as tb:
        butler = tb.butler
        refs = {
            "masked": butler.put(masked, tb.masked),
            "image": butler.put(masked.image, tb.image),
            "mask": butler.put(masked.mask, tb.mask),
        }
        got = butler.get(refs["masked"])
        np.testing.assert_array_equal(got.variance.array, masked.variance.array)
        assert got.metadata == masked.metadata and got.projection is not None
        assert butler.get(refs["masked"], parameters={"bbox": box}).bbox == box
        assert butler.get(refs["masked"].makeComponentRef("unit")) == u.nJy
        np.testing.assert_array_equal(
            butler.get(refs["masked"].makeComponentRef("mask"), parameters={"bbox": box}).array,
            masked.mask[box].array,
        )
        multi = butler.get(refs["masked"].makeComponentRef("components"), parameters={"bbox": box})
        assert sorted(multi) == ["bbox", "image", "mask", "sky_projection", "unit", "variance"]
        assert multi["variance"].bbox == box
        assert butler.get(refs["image"]) == masked.image
        assert butler.get(refs["image"], parameters={"bbox": box}) == masked.image[box]
        assert butler.get(refs["image"].makeComponentRef("bbox")) == masked.bbox
        assert butler.get(refs["image"].makeComponentRef("unit")) == u.nJy
        assert butler.get(refs["image"].makeComponentRef("sky_projection")) is not None
        assert butler.get(refs["mask"]) == masked.mask
        assert butler.get(refs["mask"], parameters={"bbox": box}) == masked.mask[box]
        assert butler.get(refs["mask"].makeComponentRef("bbox")) == masked.bbox


def test_color_image() -> None:
    masked = _masked_image()
    rgb = li.ColorImage.from_channels(masked.image, masked.variance.view(unit=None), masked.image)
    box = li.Box.factory[1045:1047, 2080:2090]
    with TemporaryButler(rgb="ColorImage") as tb:
        ref = tb.butler.put(rgb, tb.rgb)
        got = tb.butler.get(ref)
        part = tb.butler.get(ref, parameters={"bbox": box})
        projection = tb.butler.get(ref.makeComponentRef("sky_projection"))
    np.testing.assert_array_equal(got.array, rgb.array)
    np.testing.assert_array_equal(part.array, rgb[box].array)
    assert_projections_match(projection, rgb.projection, rgb.bbox)


# --- what component reads cost -----------------------------------------------------------------------------


class _Counter:
    """Counts tree parses and the arrays decoded by FITS archives (monkeypatched in)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.trees = 0
        self.arrays: list[str] = []
        get_tree, get_array = fits.FitsInputArchive.get_tree, fits.FitsInputArchive.get_array
        get_rows = fits.FitsInputArchive.get_array_rows

        def counting_tree(archive: Any, *args: Any, **kwargs: Any) -> Any:
            self.trees += 1
            return get_tree(archive, *args, **kwargs)

        def counting_array(archive: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            self.arrays.append(model.source)
            return get_array(archive, model, *args, **kwargs)

        def counting_rows(archive: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            self.arrays.append(model.source)
            return get_rows(archive, model, *args, **kwargs)

        monkeypatch.setattr(fits.FitsInputArchive, "get_tree", counting_tree)
        monkeypatch.setattr(fits.FitsInputArchive, "get_array", counting_array)
        monkeypatch.setattr(fits.FitsInputArchive, "get_array_rows", counting_rows)


def test_components_parse_the_tree_once_and_decode_only_what_they_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    visit = li.VisitImage.read(VISIT_SOURCES["small"])
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        counter = _Counter(monkeypatch)
        for name in (
            "psf",
            "bbox",
            "unit",
            "sky_projection",
            "obs_info",
            "summary_stats",
            "detector",
            "bounds",
        ):
            tb.butler.get(ref.makeComponentRef(name))
        assert counter.trees == 1
        assert not [
            source
            for source in counter.arrays
            if source.split(":")[-1].split("[")[0] in ("IMAGE", "MASK", "VARIANCE")
        ]
        tb.butler.get(ref.makeComponentRef("variance"))
        assert counter.trees == 1
        assert [source.upper() for source in counter.arrays if "VARIANCE" in source.upper()]
        assert not [
            source for source in counter.arrays if "IMAGE" in source.upper() or "MASK" in source.upper()
        ]
    # A component taken from the cached tree and modified does not leak into the next read.
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = tb.butler.put(visit, tb.visit_image)
        stats = tb.butler.get(ref.makeComponentRef("summary_stats"))
        stats.psfSigma = -1.0
        assert tb.butler.get(ref.makeComponentRef("summary_stats")).psfSigma == visit.summary_stats.psfSigma


def test_remote_component_and_cutout_reads_use_ranges(tmp_path: Path) -> None:
    from test_fits_http import serve_directory

    visit = li.VisitImage.read(VISIT_SOURCES["small"])
    local = make_test_formatter(GenericFormatter, li.VisitImage, location=str(tmp_path / "visit.fits"))
    local.write_local_file(visit, local.file_descriptor.location.uri)
    primary = astropy.io.fits.getheader(tmp_path / "visit.fits", 0)
    tree_bytes = 2880 + primary["JSONSIZE"] + primary["INDXSIZE"]  # primary header, JSON tree, INDEX
    rng = np.random.default_rng(11)
    big = li.MaskedImage(
        li.Image(rng.normal(size=(600, 400)).astype(np.float32)), mask_schema=visit.mask.schema
    )
    local = make_test_formatter(GenericFormatter, li.MaskedImage, location=str(tmp_path / "big.fits"))
    local.write_local_file(big, local.file_descriptor.location.uri)
    big_size = (tmp_path / "big.fits").stat().st_size
    box = li.Box.factory[300:310, 100:110]
    with serve_directory(tmp_path) as (base_url, handler):
        url = f"{base_url}/visit.fits"
        psf = make_test_formatter(GenericFormatter, li.VisitImage, location=url).read(component="psf")
        assert psf.kernel_bbox == visit.psf.kernel_bbox
        assert handler.bytes_sent <= tree_bytes  # no pixel data fetched
        clear_cache()
        cutout = make_test_formatter(
            GenericFormatter, li.VisitImage, location=url, parameters={"bbox": visit.bbox.local[4:6, 5:15]}
        ).read()
        handler.bytes_sent = 0
        image = make_test_formatter(
            GenericFormatter, li.MaskedImage, location=f"{base_url}/big.fits", parameters={"bbox": box}
        ).read(component="image")
        assert handler.bytes_sent < 0.05 * big_size  # 10 of 600 rows of one plane, not the file
    assert_visits_equal(cutout, visit[visit.bbox.local[4:6, 5:15]])
    np.testing.assert_array_equal(image.array, big.image[box].array)


# --- bad input ---------------------------------------------------------------------------------------------


def _ingest(tb: TemporaryButler, path: Path, dataset_type: str) -> Any:
    ref = getattr(tb, dataset_type)
    tb.butler.ingest(daf_butler.FileDataset(path=str(path), refs=[ref]), transfer="copy")
    return ref


def test_a_file_that_is_not_an_lsst_images_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.fits"
    astropy.io.fits.PrimaryHDU(np.zeros((3, 3), np.float32)).writeto(path)
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = _ingest(tb, path, "visit_image")
        for target in (ref, ref.makeComponentRef("psf")):
            with pytest.raises(Exception, match="not an lsst.images FITS archive") as info:
                tb.butler.get(target)
            assert str(ref.id) in str(info.value) and tb.butler.getURI(ref).ospath in str(info.value)


def test_a_component_the_file_lacks(tmp_path: Path) -> None:
    path = tmp_path / "masked.fits"
    fits.write(_masked_image(), str(path))
    with TemporaryButler(visit_image="VisitImage") as tb:
        ref = _ingest(tb, path, "visit_image")
        with pytest.raises(Exception, match="psf") as info:
            tb.butler.get(ref.makeComponentRef("psf"))
        assert str(ref.id) in str(info.value) and tb.butler.getURI(ref).ospath in str(info.value)


# --- the formatter on its own ------------------------------------------------------------------------


def test_make_test_formatter_round_trip(tmp_path: Path) -> None:
    image = li.Image(np.arange(20, dtype=np.int32).reshape(4, 5), yx0=(7, 9))
    formatter = make_test_formatter(GenericFormatter, li.Image, location=str(tmp_path / "x.json"),
                                    write_parameters={"format": "json"})  # fmt: skip
    assert formatter.get_write_extension() == ".json"
    formatter.write_local_file(image, formatter.file_descriptor.location.uri)
    assert formatter.read() == image
    assert formatter.read(component="bbox") == image.bbox
    part = make_test_formatter(GenericFormatter, li.Image, location=str(tmp_path / "x.json"),
                               parameters={"bbox": li.Box.factory[8:10, 9:11]}).read()  # fmt: skip
    np.testing.assert_array_equal(part.array, [[5, 6], [10, 11]])


def test_write_recipes_are_validated() -> None:
    recipes = GenericFormatter.validate_write_recipes(
        {
            "lossy8": {
                "image": {
                    "algorithm": "RICE_1",
                    "quantization": {"dither": "SUBTRACTIVE_DITHER_1", "level": 8},
                }
            }
        }
    )
    options = recipes["lossy8"]["image"]
    assert isinstance(options, fits.FitsCompressionOptions) and options.quantization.level == 8
    with pytest.raises(ValueError, match="lossy8.*image"):
        GenericFormatter.validate_write_recipes({"lossy8": {"image": {"algorithm": "ZSTD"}}})
    with pytest.raises(ValueError, match="format"):
        make_test_formatter(
            GenericFormatter, li.Image, write_parameters={"format": "png"}
        ).get_write_extension()


# --- the DP2 products ------------------------------------------------------------------------------------

PRODUCTS = FIXTURES / "lsst-images-4300-products"

#: Components of the 4300 storage classes beyond those of MaskedImageV2.
PRODUCT_COMPONENTS = {
    "DifferenceImage": (*VISIT_COMPONENTS, "kernel", "templates"),
    "CellCoadd": (
        "image",
        "mask",
        "variance",
        "bbox",
        "unit",
        "sky_projection",
        "psf",
        "aperture_corrections",
        "provenance",
        "backgrounds",
        "masked_image",
    ),  # fmt: skip
}


def _product(storage_class: str) -> Any:
    from lsst.images import cells

    name = {"DifferenceImage": "difference_image_full.fits", "CellCoadd": "cell_coadd_full.fits"}[
        storage_class
    ]
    if not (PRODUCTS / name).exists():
        pytest.skip(f"{PRODUCTS / name} not found")
    cls = li.DifferenceImage if storage_class == "DifferenceImage" else cells.CellCoadd
    return cls.read(PRODUCTS / name)


@pytest.mark.parametrize("storage_class", sorted(PRODUCT_COMPONENTS))
def test_dp2_products(storage_class: str) -> None:
    original = _product(storage_class)
    box = original.bbox.local[2:9, 3:12]
    with TemporaryButler(product=storage_class) as tb:
        ref = tb.butler.put(original, tb.product)
        header = astropy.io.fits.getheader(tb.butler.getURI(ref).ospath, 0)
        assert header["FMTVER"] == 1  # the 4300 layout
        got = tb.butler.get(ref)
        part = tb.butler.get(ref, parameters={"bbox": box})
        components = {
            name: tb.butler.get(ref.makeComponentRef(name)) for name in PRODUCT_COMPONENTS[storage_class]
        }
        multi = tb.butler.get(
            ref.makeComponentRef("components"), parameters={"components": ["image", "psf"], "bbox": box}
        )
    assert type(got) is type(original)
    for plane in ("image", "mask", "variance"):
        np.testing.assert_array_equal(getattr(got, plane).array, getattr(original, plane).array)
        np.testing.assert_array_equal(getattr(part, plane).array, getattr(original[box], plane).array)
    assert components["bbox"] == original.bbox and components["unit"] == original.unit
    assert type(components["masked_image"]) is li.MaskedImage
    np.testing.assert_array_equal(components["variance"].array, original.variance.array)
    assert multi["image"].bbox == box
    if storage_class == "DifferenceImage":
        assert len(components["templates"]) == len(original.templates)
        x, y = original.bbox.x.center, original.bbox.y.center
        np.testing.assert_array_equal(
            components["kernel"].compute_kernel_image(x=x, y=y).array,
            original.kernel.compute_kernel_image(x=x, y=y).array,
        )
    else:
        assert len(components["provenance"].inputs) == len(original.provenance.inputs)
        assert len(components["provenance"].contributions) == len(original.provenance.contributions)
        assert sorted(components["aperture_corrections"]) == sorted(original.aperture_corrections)


def test_sky_projection_and_transform_as_datasets(visit: li.VisitImage) -> None:
    """The shipped configuration stores SkyProjection and Transform datasets as JSON files."""
    projection = visit.sky_projection
    transform = projection.pixel_to_sky_transform
    with TemporaryButler(projection="SkyProjection", transform="Transform") as tb:
        ref_p = tb.butler.put(projection, tb.projection)
        ref_t = tb.butler.put(transform, tb.transform)
        assert tb.butler.getURI(ref_p).ospath.endswith(".json")
        assert tb.butler.getURI(ref_t).ospath.endswith(".json")
        got_p = tb.butler.get(ref_p)
        got_t = tb.butler.get(ref_t)
    assert isinstance(got_p, li.SkyProjection)
    assert_projections_match(got_p, projection, visit.bbox)
    assert isinstance(got_t, li.Transform)
    x, y = _points(visit.bbox)
    want = transform.apply_forward(x=x, y=y)
    have = got_t.apply_forward(x=x, y=y)
    np.testing.assert_allclose(have.x, want.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(have.y, want.y, rtol=0, atol=1e-12)
