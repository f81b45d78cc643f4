"""Round trips of every image type through NDF files (`lsst.images.ndf`, `RoundtripNdf`)."""

from __future__ import annotations

import unittest
from pathlib import Path

import astropy.table
import astropy.units as u
import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import lsst.images as li  # noqa: E402
import ndf_crosscheck  # noqa: E402
from conftest import FIXTURES  # noqa: E402
from lsst.images import fits, ndf  # noqa: E402
from lsst.images.serialization import ButlerInfo, NestedOutputArchive  # noqa: E402
from lsst.images.tests import RoundtripNdf, assert_masks_equal, assert_projections_equal  # noqa: E402

DATA = Path(__file__).parent / "data" / "ndf"


class NdfRoundtripTestCase(unittest.TestCase):
    def _check_summary(self, original, result) -> None:
        self.assertEqual(ndf_crosscheck.summarize(result), ndf_crosscheck.summarize(original))

    def test_image(self) -> None:
        image = ndf_crosscheck.build("image")
        with RoundtripNdf(self, image) as rt:
            self._check_summary(image, rt.result)
            np.testing.assert_array_equal(rt.result.array, image.array)  # NaN included
            self.assertEqual(rt.result.unit, u.nJy)
            assert_projections_equal(self, rt.result.projection, image.projection)
            self.assertEqual(rt.result.metadata, image.metadata)
            box = li.Box.factory[12:15, 30:36]
            np.testing.assert_array_equal(rt.get(bbox=box).array, image[box].array)
            with self.assertRaises(unittest.SkipTest):
                rt.get(component="image")
            file = rt.inspect()
            self.assertEqual(file.attrs["HDS_ROOT_NAME"], b"image")
            self.assertEqual(file["UNITS"][()], b"nJy")
            np.testing.assert_array_equal(file["DATA_ARRAY/ORIGIN"][()], [20, 10])
            self.assertIn(b'"source":"ndf:/DATA_ARRAY/DATA"', file["MORE/LSST/JSON"][0])
        self.assertFalse(file.id.valid)  # inspect() handles are closed on exit
        self.assertFalse(Path(rt.filename).exists())
        np.testing.assert_array_equal(rt.result.array, image.array)

    def test_image_without_projection_or_unit(self) -> None:
        image = li.Image(np.arange(12, dtype=np.int16).reshape(3, 4), start=(-5, 7))
        with RoundtripNdf(self, image) as rt:
            self._check_summary(image, rt.result)
            self.assertIsNone(rt.result.projection)
            self.assertNotIn("WCS", rt.inspect())
            self.assertNotIn("UNITS", rt.inspect())

    def test_every_pixel_type(self) -> None:
        # The reference cannot write int8, the unsigned types above uint8 or non-native byte order.
        for dtype in ("u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", ">f8", ">i2", ">u2"):
            with self.subTest(dtype=dtype):
                values = (np.arange(20).reshape(4, 5) * 3 + 1).astype(dtype)
                if np.dtype(dtype).kind == "u":
                    values[0, 0] = np.iinfo(dtype).max
                image = li.Image(values, start=(2, 3))
                with RoundtripNdf(self, image) as rt:
                    self.assertEqual(rt.result.array.dtype, np.dtype(dtype).newbyteorder("="))
                    np.testing.assert_array_equal(rt.result.array, values)

    def test_masks(self) -> None:
        for planes, dtype, element_bytes in (
            (3, np.uint8, 1),
            (12, np.uint8, 2),
            (40, np.uint8, 5),
            (20, np.uint16, 4),
        ):
            with self.subTest(planes=planes, dtype=dtype):
                schema = li.MaskSchema(
                    [li.MaskPlane(f"M{i}", f"Plane {i}.") for i in range(planes)], dtype=dtype
                )
                mask = li.Mask(schema=schema, start=(4, -6), shape=(6, 7))
                yy, xx = np.mgrid[0:6, 0:7]
                for i in range(planes):
                    mask.set(f"M{i}", (yy * 7 + xx + i) % 5 == 0)
                with RoundtripNdf(self, mask) as rt:
                    assert_masks_equal(self, rt.result, mask)
                    file = rt.inspect()
                    self.assertNotIn("DATA_ARRAY", file)
                    data = file["MORE/LSST/MASK/DATA_ARRAY/DATA"]
                    self.assertEqual(data.shape, (mask.array.shape[2], 6, 7))
                    self.assertEqual(data.dtype, np.dtype(dtype))
                    self.assertEqual(data.shape[0] * data.dtype.itemsize, element_bytes)
                    np.testing.assert_array_equal(file["MORE/LSST/MASK/DATA_ARRAY/ORIGIN"][()], [-6, 4, 0])
                    quality = file["QUALITY/QUALITY/DATA"][()]
                    if planes <= 8:
                        np.testing.assert_array_equal(quality, mask.array[:, :, 0])
                    else:
                        np.testing.assert_array_equal(quality, np.any(mask.array != 0, axis=-1))
                    np.testing.assert_array_equal(file["QUALITY/QUALITY/ORIGIN"][()], [-6, 4])
                    self.assertEqual(file["QUALITY/QUALITY/ORIGIN"].dtype, np.int32)
                    self.assertEqual(file["QUALITY/BADBITS"][()], 255)
                self.assertEqual(rt.result.schema.dtype, np.dtype(dtype))

    def test_masked_image(self) -> None:
        masked = ndf_crosscheck.build("masked_image")
        with RoundtripNdf(self, masked) as rt:
            self._check_summary(masked, rt.result)
            self.assertIs(rt.result.mask.projection, rt.result.projection)
            self.assertEqual(rt.result.variance.unit, u.nJy**2)
            box = li.Box.factory[11:14, 21:30]
            part = rt.get(bbox=box)
            self._check_summary(masked[box], part)
            file = rt.inspect()
            self.assertEqual(file.attrs["HDS_ROOT_NAME"], b"MaskedImage")
            self.assertEqual(file["MORE/LSST/MASK/DATA_ARRAY/DATA"].shape, (2, 12, 16))
            self.assertEqual(file["VARIANCE"].attrs["CLASS"], b"ARRAY")
            self.assertEqual(file["MORE/LSST/MASK"].attrs["CLASS"], b"NDF")

    def test_color_image(self) -> None:
        color = ndf_crosscheck.build("color_image")
        with RoundtripNdf(self, color) as rt:
            self._check_summary(color, rt.result)
            file = rt.inspect()
            self.assertEqual(file.attrs["CLASS"], b"EXT")
            self.assertNotIn("MORE", file)
            self.assertIn("JSON", file["LSST"])
            for index, name in enumerate(("RED", "GREEN", "BLUE")):
                np.testing.assert_array_equal(file[f"{name}/DATA_ARRAY/DATA"][()], color.array[:, :, index])
                np.testing.assert_array_equal(file[f"{name}/DATA_ARRAY/ORIGIN"][()], [20, 10])
                self.assertIn("WCS", file[name])

    def test_visit_image_from_committed_file(self) -> None:
        visit = ndf.read(li.VisitImage, DATA / "visit.sdf").deserialized
        with RoundtripNdf(self, visit) as rt:
            self._check_summary(visit, rt.result)
            self._check_visit_components(visit, rt.result)

    def _check_visit_components(self, visit, result) -> None:
        self.assertEqual(result.psf, visit.psf)
        self.assertEqual(result.obs_info, visit.obs_info)
        self.assertEqual(result.detector.amplifiers, visit.detector.amplifiers)
        self.assertEqual(result.bounds, visit.bounds)
        self.assertEqual(result.summary_stats.model_dump_json(), visit.summary_stats.model_dump_json())
        self.assertEqual(sorted(result.aperture_corrections), sorted(visit.aperture_corrections))
        self.assertEqual(list(result.backgrounds), list(visit.backgrounds))
        self.assertEqual(result.backgrounds.subtracted.name, visit.backgrounds.subtracted.name)
        np.testing.assert_array_equal(
            result.photometric_scaling.render(result.bbox).array,
            visit.photometric_scaling.render(visit.bbox).array,
        )
        self.assertIs(result.mask.projection, result.projection)

    def test_full_visit_image_fixture(self) -> None:
        path = FIXTURES / ndf_crosscheck.VISIT_FIXTURE
        if not path.exists():
            self.skipTest(f"shared fixture {path} not found")
        visit = fits.read(li.VisitImage, path).deserialized
        with RoundtripNdf(self, visit) as rt:
            self._check_summary(visit, rt.result)
            self._check_visit_components(visit, rt.result)
            file = rt.inspect()
            spline = file["MORE/LSST/BACKGROUNDS/FIELDS/FINE_SPLINE/DATA/DATA_ARRAY"]
            np.testing.assert_array_equal(spline["ORIGIN"][()], [0, 0])
            self.assertEqual(file["MORE/LSST/BACKGROUNDS/FIELDS"].attrs["CLASS"], b"FIELDS")
            cards = [c.rstrip() for c in file["MORE/FITS"][()].astype(str)]
            self.assertIn("OBSERVER= 'fixture '", cards)
            # The cards come back as opaque metadata and go to the primary header of a FITS write.
            again = Path(rt.filename).with_suffix(".fits")
            fits.write(rt.result, str(again))
            import astropy.io.fits

            self.assertEqual(astropy.io.fits.getheader(again)["OBSERVER"], "fixture")


def test_metadata_and_butler_info(tmp_path) -> None:
    image = li.Image(np.ones((2, 3), np.float32), metadata={"a": 1})
    info = ButlerInfo(dataset={"id": "1234", "run": "r"}, provenance={"quantum_id": "q"})
    tree = ndf.write(image, tmp_path / "i.sdf", metadata={"extra": "x"}, butler_info=info)
    assert tree.metadata == {"a": 1, "extra": "x"}
    assert image.metadata == {"a": 1}
    result = ndf.read(li.Image, tmp_path / "i.sdf")
    assert result.metadata == {"a": 1, "extra": "x"}
    assert result.butler_info == info
    assert result.deserialized.metadata == {"a": 1, "extra": "x"}


def test_write_to_memory_and_replace(tmp_path) -> None:
    image = li.Image(np.arange(6, dtype=np.float64).reshape(2, 3))
    tree = ndf.write(image)
    assert tree.data.source == "ndf:/DATA_ARRAY/DATA"
    path = tmp_path / "i.sdf"
    path.write_bytes(b"old contents")
    ndf.write(image, path)
    np.testing.assert_array_equal(ndf.read(li.Image, path).deserialized.array, image.array)


def test_failed_write_leaves_the_old_file(tmp_path) -> None:
    class Broken:
        def serialize(self, archive):
            archive.add_array(np.zeros(3), name="partial")
            raise RuntimeError("serialization failed")

    path = tmp_path / "keep.sdf"
    path.write_bytes(b"keep me")
    with pytest.raises(RuntimeError, match="serialization failed"):
        ndf.write(Broken(), path)
    assert path.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.sdf"]


def test_compression_options(tmp_path) -> None:
    image = li.Image(np.zeros((64, 64), np.float32))
    ndf.write(image, tmp_path / "z.sdf", compression_options={"compression": "gzip", "shuffle": True})
    with h5py.File(tmp_path / "z.sdf") as file:
        assert file["DATA_ARRAY/DATA"].compression == "gzip"
        assert file["DATA_ARRAY/ORIGIN"].compression is None
    np.testing.assert_array_equal(ndf.read(li.Image, tmp_path / "z.sdf").deserialized.array, image.array)
    with pytest.raises(ValueError, match="Unknown NDF compression options"):
        ndf.write(image, tmp_path / "y.sdf", compression_options={"level": 3})


def test_mask_wcs_puts_grid_origin_on_the_first_pixel(tmp_path) -> None:
    """The 3-d mask WCS maps GRID (1, 1, 1) to PIXEL (x0, y0, 0) and the sky of pixel (x0, y0)."""
    from starlink import Ast

    from lsst.images.ndf._wcs import read_wcs

    masked = ndf_crosscheck.build("masked_image")
    ndf.write(masked, tmp_path / "m.sdf")
    with h5py.File(tmp_path / "m.sdf") as file:
        image_wcs = read_wcs(file)
        mask_wcs = read_wcs(file["MORE/LSST/MASK"])
    x0, y0 = masked.bbox.x.start, masked.bbox.y.start
    assert mask_wcs.getframe(Ast.BASE).Domain == "GRID"
    pixel = mask_wcs.getmapping(Ast.BASE, 2).tran([[1.0], [1.0], [1.0]])
    np.testing.assert_allclose(pixel.ravel(), [x0, y0, 0.0])
    sky3 = mask_wcs.getmapping(Ast.BASE, Ast.CURRENT).tran([[1.0], [1.0], [1.0]]).ravel()
    sky2 = image_wcs.getmapping(Ast.BASE, Ast.CURRENT).tran([[1.0], [1.0]]).ravel()
    np.testing.assert_allclose(sky3[:2], sky2, rtol=0, atol=1e-15)
    expected = masked.projection.pixel_to_sky(x=np.array([float(x0)]), y=np.array([float(y0)]))
    np.testing.assert_allclose(np.degrees(sky2), [expected.ra.deg[0], expected.dec.deg[0]], atol=1e-12)
    assert image_wcs.getframe(Ast.BASE).Domain == "GRID"
    assert image_wcs.getframe(1).Ident == "lsst_cells_v2@9813"


def test_archive_pointers_tables_and_repeated_names(tmp_path) -> None:
    from lsst.images.ndf import NdfInputArchive, NdfOutputArchive, NdfPointerModel

    image = li.Image(np.arange(6, dtype=np.float32).reshape(2, 3), start=(1, 2))
    records = np.array([(1.5, 2), (2.5, 3), (3.5, 4)], dtype=[("x", "f8"), ("n", "i4")])
    with NdfOutputArchive.open(tmp_path / "a.sdf") as archive:
        pointer = archive.serialize_pointer("thing/sub", image.serialize, key="k")
        assert archive.serialize_pointer("thing/sub", image.serialize, key="k") is pointer
        other = archive.serialize_pointer("thing/sub", image.serialize, key="other")
        first = archive.add_array(np.zeros(3, np.int16), name="some/arr")
        second = archive.add_array(np.ones(3, np.int16), name="some/arr")
        table = archive.add_structured_array(records, name="table", units={"x": u.m})
        single = archive.add_structured_array(records[["x"]], name="one")
        inline = archive.add_table(astropy.table.Table(records), name="tab")
        archive.add_tree(image.serialize(NestedOutputArchive("image", archive)))
    assert pointer == NdfPointerModel(path="/MORE/LSST/THING/SUB/JSON")
    assert other.path == "/MORE/LSST/THING/SUB_2/JSON"
    assert first.source == "ndf:/MORE/LSST/SOME/ARR/DATA_ARRAY/DATA"
    assert second.source == "ndf:/MORE/LSST/SOME/ARR_2/DATA_ARRAY/DATA"
    assert [c.data.source for c in table.columns] == [
        "ndf:/MORE/LSST/TABLE/X/DATA_ARRAY/DATA",
        "ndf:/MORE/LSST/TABLE/N/DATA_ARRAY/DATA",
    ]
    assert [c.data.shape for c in table.columns] == [[], []]
    assert single.columns[0].data.source == "ndf:/MORE/LSST/ONE/DATA_ARRAY/DATA"
    assert inline.columns[0].data.data == [1.5, 2.5, 3.5]
    with NdfInputArchive.open(tmp_path / "a.sdf") as archive:
        model_type = li.Image._get_archive_tree_type(NdfPointerModel)
        got = archive.deserialize_pointer(pointer, model_type, lambda m, a: m.deserialize(a))
        assert archive.deserialize_pointer(pointer, model_type, lambda m, a: 1 / 0) is got
        np.testing.assert_array_equal(got.array, image.array)
        assert got.bbox == image.bbox
        np.testing.assert_array_equal(archive.get_array(first), [0, 0, 0])
        np.testing.assert_array_equal(archive.get_array(second), [1, 1, 1])
        np.testing.assert_array_equal(archive.get_structured_array(table), records)
        read_table = archive.get_table(table)
        assert read_table["x"].unit == u.m
        np.testing.assert_array_equal(read_table["n"], records["n"])
        np.testing.assert_array_equal(archive.get_table(inline)["x"], records["x"])
        assert archive.get_frame_set(pointer) is got


@pytest.mark.parametrize("kind", ["image", "mask", "masked_image", "color_image"])
def test_generic_entry_points(tmp_path, kind: str) -> None:
    """``write_archive``/``read_archive``/``open_archive`` (4300 API) pick NDF from the extension."""
    from lsst.images.serialization import open_archive, read_archive, write_archive

    obj = ndf_crosscheck.build(kind)
    for suffix in (".sdf", ".h5"):
        path = tmp_path / f"obj{suffix}"
        write_archive(obj, path)
        with h5py.File(path) as file:
            assert "JSON" in file["LSST" if kind == "color_image" else "MORE/LSST"]
        back = read_archive(path)  # the class comes from the tree
        assert type(back) is type(obj)
        assert ndf_crosscheck.summarize(back) == ndf_crosscheck.summarize(obj)
        with open(path, "rb") as stream:
            assert ndf_crosscheck.summarize(read_archive(stream)) == ndf_crosscheck.summarize(obj)
    if kind == "masked_image":
        with open_archive(tmp_path / "obj.sdf") as reader:
            assert reader.info.schema_name == "masked_image"
            mask = reader.get_component("mask")
            assert isinstance(mask, li.Mask)
            assert_masks_equal(unittest.TestCase(), mask, obj.mask)
