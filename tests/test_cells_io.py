"""CellCoadd construction, cut-outs and files (both layouts, FITS and JSON), on synthetic coadds."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits as afits

from lsst.images import BoundsError, Box, Image, fits
from lsst.images.cells import CellCoadd, CellField, CellGridBounds, CellIJ, CellPointSpreadFunction
from lsst.images.fits import FitsCompressionOptions
from lsst.images.serialization import ArchiveReadError
from lsst.images.tests import make_test_cell_coadd

B = Box.factory
#: 3x4 cells of 20x30 from (100, 200); the image box cuts through the outer cells.
UNALIGNED = dict(
    cells=(3, 4), image_box=(107, 151, 213, 305), missing=[(0, 0), (1, 2)], apcorr_extra_missing=(2, 3)
)


def assert_same_coadd(a: CellCoadd, b: CellCoadd) -> None:
    assert a.bbox == b.bbox and a.band == b.band and a.unit == b.unit
    for plane in ("image", "variance"):
        np.testing.assert_array_equal(getattr(a, plane).array, getattr(b, plane).array)
    np.testing.assert_array_equal(a.mask.array, b.mask.array)
    assert list(a.mask.schema) == list(b.mask.schema)
    assert a.psf == b.psf
    assert a.aperture_corrections == b.aperture_corrections
    assert sorted(a.mask_fractions) == sorted(b.mask_fractions)
    for name, image in a.mask_fractions.items():
        np.testing.assert_array_equal(image.array, b.mask_fractions[name].array)
    assert len(a.noise_realizations) == len(b.noise_realizations)
    for x, y in zip(a.noise_realizations, b.noise_realizations, strict=True):
        np.testing.assert_array_equal(x.array, y.array)
        assert x.unit == y.unit
    assert a._patch == b._patch
    assert a._provenance == b._provenance
    assert sorted(a.backgrounds) == sorted(b.backgrounds)
    assert dict(a.metadata) == dict(b.metadata)
    xs, ys = np.array([a.bbox.x.start, a.bbox.x.stop - 1.0]), np.array([a.bbox.y.start, a.bbox.y.stop - 1.0])
    np.testing.assert_allclose(
        a.sky_projection.pixel_to_sky(x=xs, y=ys).ra.deg, b.sky_projection.pixel_to_sky(x=xs, y=ys).ra.deg
    )


@pytest.fixture(scope="module")
def coadd() -> CellCoadd:
    return make_test_cell_coadd(7, **UNALIGNED, background=True)


def test_construction(coadd: CellCoadd) -> None:
    # The PSF covers the whole grid; the coadd keeps the cells its (unaligned) box overlaps.
    assert coadd.bounds.bbox == B[100:160, 200:320]
    assert coadd.bounds.missing == {CellIJ(0, 0), CellIJ(1, 2)}
    assert coadd.grid.cell_shape == (20, 30)
    assert (coadd.skymap, coadd.tract, coadd.band, coadd.unit) == ("test_cells", 77, "r", u.nJy)
    assert coadd.sky_projection is coadd.projection is coadd.image.projection
    assert str(coadd) == "CellCoadd([y=107:151, x=213:305], tract=77)"
    # The missing cells' pixels are NaN and flagged NO_DATA.
    cell = coadd.bbox.intersection(coadd.grid.bbox_of(CellIJ(1, 2)))
    assert np.isnan(coadd[cell].image.array).all() and coadd[cell].mask.get("NO_DATA").all()


def test_constructor_checks(coadd: CellCoadd) -> None:
    image, psf, schema = coadd.image, coadd.psf, coadd.mask.schema
    with pytest.raises(TypeError, match="units"):
        CellCoadd(
            Image(image.array, bbox=image.bbox), mask_schema=schema, projection=coadd.projection, psf=psf
        )
    with pytest.raises(TypeError, match="projection"):
        CellCoadd(image.view(projection=None), mask_schema=schema, psf=psf)
    with pytest.raises(TypeError, match="patch"):
        CellCoadd(image, mask_schema=schema, psf=psf, provenance=coadd.provenance)
    with pytest.raises(TypeError, match="CellPointSpreadFunction"):
        CellCoadd(image, mask_schema=schema, psf=object())
    other = make_test_cell_coadd(1).psf.bounds
    with pytest.raises(ValueError, match="grid"):
        CellCoadd(
            image, mask_schema=schema, psf=psf, aperture_corrections={"a": CellField(other, np.ones((2, 3)))}
        )
    with pytest.raises(ValueError, match="bbox"):
        CellCoadd(image, mask_schema=schema, psf=psf, mask_fractions={"x": image[B[110:120, 220:230]]})
    bare = CellCoadd(image, mask_schema=schema, projection=coadd.projection, psf=psf)
    assert bare.band is None and bare.aperture_corrections == {} and bare.noise_realizations == []
    with pytest.raises(AttributeError, match="patch"):
        _ = bare.patch
    with pytest.raises(AttributeError, match="provenance"):
        _ = bare.provenance


def test_cutout_at_missing_cell_edge(coadd: CellCoadd) -> None:
    """A box over a present cell (1, 1) and the missing one (1, 2) next to it."""
    box = B[125:135, 250:270]
    cut = coadd[box]
    assert cut.bbox == box and np.shares_memory(cut.image.array, coadd.image.array)
    assert cut.bounds == CellGridBounds(
        grid=coadd.grid, bbox=B[120:140, 230:290], missing=frozenset({CellIJ(1, 2)})
    )
    assert cut.psf.array.shape[:2] == (1, 2)
    np.testing.assert_array_equal(cut.psf[CellIJ(1, 1)].array, coadd.psf[CellIJ(1, 1)].array)
    with pytest.raises(BoundsError) as info:
        cut.psf.compute_kernel_image(x=265.0, y=130.0)
    assert "x=265.0, y=130.0" in info.value.__notes__[0]
    assert {(int(i), int(j)) for i, j in cut.provenance.contributions["cell_i", "cell_j"]} == {(1, 1)}
    for name, field in cut.aperture_corrections.items():
        assert field.bounds.bbox == cut.bounds.bbox, name
        assert field.value_in_cell(CellIJ(1, 1)) == coadd.aperture_corrections[name].value_in_cell(
            CellIJ(1, 1)
        )
    assert np.isnan(cut.image.array[:, 10:]).all() and not np.isnan(cut.image.array[:, :10]).any()
    assert cut.mask_fractions["rejected"].bbox == box and cut.noise_realizations[0].bbox == box


def test_cutout_wholly_in_missing_cells(coadd: CellCoadd, tmp_path: Path) -> None:
    """A clear result, not a crash: NaN pixels, every cell missing, no provenance."""
    path = tmp_path / "coadd.fits"
    coadd.write(str(path))
    box = B[108:112, 214:220]  # inside missing cell (0, 0)
    for cut in (coadd[box], CellCoadd.read_fits(str(path), bbox=box), CellCoadd.read(str(path), bbox=box)):
        assert cut.bbox == box
        assert np.isnan(cut.image.array).all() and cut.mask.get("NO_DATA").all()
        assert cut.bounds.missing == {CellIJ(0, 0)} and not list(cut.bounds.cell_indices())
        with pytest.raises(AttributeError):
            _ = cut.provenance
        with pytest.raises(BoundsError, match="missing"):
            cut.psf.compute_kernel_image(x=215, y=110)
        assert all(field.bounds.missing == {CellIJ(0, 0)} for field in cut.aperture_corrections.values())


@pytest.mark.parametrize("layout", ["4300", "2100"])
def test_fits_round_trip(coadd: CellCoadd, tmp_path: Path, layout: str) -> None:
    path = tmp_path / "coadd.fits"
    coadd.write(str(path), layout=layout)
    again = CellCoadd.read_fits(str(path))
    expected = coadd
    if layout == "2100":  # no unmasked_fraction column in 2100 (its reader refuses one)
        expected = coadd.copy()
        expected._provenance = coadd.provenance.for_layout("2100")
    assert_same_coadd(again, expected)
    with afits.open(path, disable_image_compression=True) as hdus:
        names = [h.name for h in hdus]
        assert names[:6] == [
            "PRIMARY",
            "IMAGE",
            "MASK",
            "VARIANCE",
            "MASK_FRACTIONS/REJECTED",
            "NOISE_REALIZATIONS/0",
        ]
        assert names[6:10] == [
            "PSF",
            "APERTURE_CORRECTIONS/TABLE",
            "PROVENANCE/INPUTS",
            "PROVENANCE/CONTRIBUTIONS",
        ]
        header = hdus["IMAGE"].header
        tile = (header["ZTILE2"], header["ZTILE1"])
        assert tile == ((20, 30) if layout == "4300" else (1, 92))
        psf = hdus["PSF"].header
        assert [psf[f"ZTILE{k}"] for k in (1, 2, 3, 4)] == [9, 1, 1, 1]
        assert (hdus[0].header.get("DATAMODL") is not None) == (layout == "4300")
    with afits.open(path) as hdus:
        np.testing.assert_array_equal(hdus["PSF"].data, coadd.psf.array)  # astropy decodes our 4-d HDU


def test_cutout_reads_only_the_cells_it_needs(tmp_path: Path) -> None:
    coadd = make_test_cell_coadd(3, cells=(4, 4), cell_shape=(64, 64), psf_size=21, extras=False)
    path = tmp_path / "big.fits"
    coadd.write(str(path))
    box = B[170:180, 330:340]  # inside cell (1, 2)
    # (Checksums off: data parts under 1 MiB are otherwise read whole to verify them.)
    read = {}
    for name, bbox in (("cutout", box), ("full", None)):
        with fits.FitsInputArchive.open(str(path), verify=False) as archive:
            tree = archive.get_tree(CellCoadd._get_archive_tree_type(fits.PointerModel))
            before = archive.reader.bytes_read
            tree.deserialize(archive, bbox=bbox, provenance=False)  # (provenance tables are read whole)
            read[name] = archive.reader.bytes_read - before
    cut = CellCoadd.read_fits(str(path), bbox=box)
    assert cut.bounds.bbox == coadd.grid.bbox_of(CellIJ(1, 2))
    assert cut.psf == coadd.psf[box]
    np.testing.assert_array_equal(cut.image.array, coadd.image.array[box.slice_within(coadd.bbox)])
    # One cell of 16: the tiles (and PSF rows) of that cell, plus the headers and tables.
    assert read["cutout"] < read["full"] / 8, read


def test_compression_options_per_layout(coadd: CellCoadd, tmp_path: Path) -> None:
    options = {
        "image": FitsCompressionOptions.LOSSY,
        "variance": FitsCompressionOptions.LOSSY,
        "mask_fractions": None,
    }
    for layout in ("4300", "2100"):
        path = tmp_path / f"lossy{layout}.fits"
        coadd.write(str(path), layout=layout, compression_options=options, compression_seed=17)
        with afits.open(path, disable_image_compression=True) as hdus:
            noise = hdus["NOISE_REALIZATIONS/0"].header
            if layout == "4300":
                # The image options apply to the noise too; seeds go plane by plane.
                assert [hdus[n].header["ZDITHER0"] for n in ("IMAGE", "VARIANCE")] + [noise["ZDITHER0"]] == [
                    17,
                    18,
                    19,
                ]
                assert noise["ZCMPTYPE"] == "RICE_1" and (noise["ZTILE2"], noise["ZTILE1"]) == (20, 30)
                assert "ZIMAGE" not in hdus["MASK_FRACTIONS/REJECTED"].header
            else:
                assert noise["ZCMPTYPE"] == "GZIP_2" and "ZDITHER0" not in noise
                assert hdus["MASK_FRACTIONS/REJECTED"].header["ZCMPTYPE"] == "GZIP_2"
        again = CellCoadd.read_fits(str(path))
        finite = np.isfinite(coadd.image.array)
        assert np.array_equal(np.isnan(again.image.array), ~finite)
        assert np.abs(again.image.array[finite] - coadd.image.array[finite]).max() < 1.0


def test_json_round_trip(coadd: CellCoadd, tmp_path: Path) -> None:
    path = tmp_path / "coadd.json"
    coadd.write(str(path))
    again = CellCoadd.read(str(path))
    assert_same_coadd(again, coadd)
    cut = CellCoadd.read(str(path), bbox=B[125:135, 250:270])
    assert cut.bounds == coadd[B[125:135, 250:270]].bounds


def test_read_options_and_components(coadd: CellCoadd, tmp_path: Path) -> None:
    path = tmp_path / "coadd.fits"
    coadd.write(str(path))
    with pytest.raises(AttributeError):
        _ = CellCoadd.read_fits(str(path), provenance=False).provenance
    with pytest.raises(IndexError):
        CellCoadd.read_fits(str(path), bbox=B[100:110, 213:220])
    with fits.FitsInputArchive.open(str(path)) as archive:
        tree = archive.get_tree(CellCoadd._get_archive_tree_type(fits.PointerModel))
        assert tree.deserialize_component("bounds", archive) == coadd.bounds
        assert (
            tree.deserialize_component("psf", archive, bbox=B[125:135, 250:270])
            == coadd.psf[B[125:135, 250:270]]
        )
        assert tree.deserialize_component("provenance", archive) == coadd.provenance
        assert tree.deserialize_component("band", archive) == "r"
        assert tree.deserialize_component("patch", archive) == coadd.patch
        assert tree.deserialize_component("aperture_corrections", archive) == coadd.aperture_corrections
        with pytest.raises(ArchiveReadError):
            tree.deserialize_component("kernel", archive)
        with pytest.raises(ArchiveReadError):
            tree.deserialize(archive, nonsense=1)


def test_copy_and_backgrounds(coadd: CellCoadd) -> None:
    copy = coadd.copy()
    assert_same_coadd(copy, coadd)
    assert not np.shares_memory(copy.image.array, coadd.image.array)
    assert copy.provenance.contributions is not coadd.provenance.contributions
    original = copy.image.array.copy()
    background = copy.backgrounds["residual"].field.render(copy.bbox).array
    copy.apply_background("residual")
    assert copy.backgrounds.subtracted.name == "residual"
    np.testing.assert_allclose(copy.image.array, original - background, rtol=1e-6, atol=1e-5)
    copy.apply_background(None)
    np.testing.assert_allclose(copy.image.array, original, rtol=1e-6, atol=1e-5)
    assert copy.backgrounds.subtracted is None
    with pytest.raises(KeyError):
        copy.apply_background("nonsense")
    np.testing.assert_array_equal(coadd.image.array[np.isfinite(original)], original[np.isfinite(original)])


def test_psf_model_rejects_bad_shapes() -> None:
    from lsst.images.cells import CellPointSpreadFunctionSerializationModel

    bounds = make_test_cell_coadd(1).bounds
    good = {"array": {"source": "fits:PSF", "shape": [2, 3, 9, 9], "datatype": "float64"}, "bounds": bounds}
    assert CellPointSpreadFunctionSerializationModel.model_validate(good).bounds == bounds
    for shape in ([2, 2, 9, 9], [2, 3, 9], [2, 3, 0, 9]):
        with pytest.raises(ValueError):
            CellPointSpreadFunctionSerializationModel.model_validate(
                {**good, "array": {**good["array"], "shape": shape}}
            )
    assert isinstance(CellPointSpreadFunction(np.zeros((2, 3, 3, 3)), bounds).kernel_bbox, Box)
