"""Container-level tests of the FITS archive: byte layout, index, opaque cards, errors, atomicity.

These tests drive `FitsOutputArchive` / `FitsInputArchive` directly with plain arrays and
dict trees, so they check the container independently of the image classes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

from lsst.images import fits
from lsst.images.fits._headers import add_offset_wcs
from lsst.images.fits._options import SeedSequence
from lsst.images.serialization import ArrayReferenceModel

VERIFY = Path(__file__).resolve().parents[2] / "shared" / "tools" / "verify_fixtures.py"


def _write(path: Path, arrays: dict[str, np.ndarray], *, layout: str = "2100", **kwargs) -> dict:
    """Write arrays under their names plus a dict tree referencing them; return the tree."""
    tree: dict = {"metadata": {"who": "test"}}
    with fits.FitsOutputArchive.open(
        str(path), layout=layout, data_model="https://images.lsst.io/schemas/image-1.0.0", **kwargs
    ) as archive:
        for name, array in arrays.items():

            def update(header, array=array):
                add_offset_wcs(header, x=0, y=0)

            ref = archive.add_array(array, name=name, update_header=update)
            tree.setdefault("refs", []).append(ref.model_dump(mode="json"))
        if layout == "4300":
            tree = {"schema_version": "1.0.0", "min_read_version": 1, **tree}
            tree["schema_url"] = "https://images.lsst.io/schemas/image-1.0.0"
        archive.add_tree(tree)
    return tree


def _read_all(path: Path) -> list[np.ndarray]:
    with fits.FitsInputArchive.open(str(path)) as archive:
        tree = archive.get_tree_dict()
        return [archive.get_array(ArrayReferenceModel.model_validate(r)) for r in tree["refs"]]


def _verify(path: Path) -> subprocess.CompletedProcess:
    if not VERIFY.exists():
        pytest.skip("verify_fixtures.py not available")
    return subprocess.run(
        [sys.executable, str(VERIFY), "--no-manifest", str(path)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {
        "image": rng.normal(100, 10, size=(40, 50)).astype(np.float32),
        "mask": rng.integers(0, 2**20, size=(40, 50)).astype(np.int32),
        "variance": rng.uniform(1, 2, size=(40, 50)),
    }


def test_layout_and_locators(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = tmp_path / "a.fits"
    _write(path, arrays)
    data = path.read_bytes()
    assert len(data) % 2880 == 0
    with afits.open(path, disable_image_compression=True) as hdus:
        names = [h.name for h in hdus]
        assert names == ["PRIMARY", "IMAGE", "MASK", "VARIANCE", "JSON", "INDEX"]
        primary = hdus[0].header
        assert list(primary.keys())[:8] == [
            "SIMPLE", "BITPIX", "NAXIS", "EXTEND", "INDXADDR", "INDXSIZE", "JSONADDR", "JSONSIZE",
        ]  # fmt: skip
        assert primary["INDXADDR"] == primary["JSONADDR"] + primary["JSONSIZE"]
        assert primary["INDXADDR"] + primary["INDXSIZE"] == len(data)
        index = hdus["INDEX"].data
        assert [r.strip() for r in index["EXTNAME"]] == ["", "IMAGE", "MASK", "VARIANCE", "JSON"]
        assert list(index["XTENSION"]) == ["IMAGE", "BINTABLE", "BINTABLE", "BINTABLE", "BINTABLE"]
        assert list(index["ZIMAGE"]) == [False, True, True, True, False]
        for row, hdu in zip(index, hdus, strict=False):
            info = hdu.fileinfo()
            assert row["HDRADDR"] == info["hdrLoc"]
            assert row["DATADDR"] == info["datLoc"]
        assert hdus["IMAGE"].header["ZCMPTYPE"] == "GZIP_2"
        assert hdus["IMAGE"].header["ZTILE2"] == 1
        # Every HDU carries the FITS checksum cards (DATASUM over the compressed table).
        assert all(hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1 for hdu in hdus)
    assert _verify(path).returncode == 0, _verify(path).stdout


def test_roundtrip_exact_and_readable_by_astropy_and_fitsio(tmp_path: Path, arrays) -> None:
    path = tmp_path / "b.fits"
    _write(path, arrays)
    for got, want in zip(_read_all(path), arrays.values(), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with afits.open(path) as hdus:
        np.testing.assert_array_equal(hdus["IMAGE"].data, arrays["image"])
        np.testing.assert_array_equal(hdus["MASK"].data, arrays["mask"])
    if importlib.util.find_spec("fitsio") is not None:
        import fitsio

        np.testing.assert_array_equal(fitsio.read(str(path), ext="VARIANCE"), arrays["variance"])
        np.testing.assert_array_equal(fitsio.read(str(path), ext="IMAGE"), arrays["image"])


@pytest.mark.parametrize(
    "options",
    [
        None,
        fits.FitsCompressionOptions(algorithm="GZIP_1"),
        fits.FitsCompressionOptions(algorithm="GZIP_2", tile_shape=(16, 32)),
        fits.FitsCompressionOptions(algorithm="RICE_1", tile_shape=(8, 50)),
    ],
)
def test_compression_options_lossless(tmp_path: Path, options) -> None:
    rng = np.random.default_rng(1)
    arrays = {
        "image": rng.integers(-1000, 1000, size=(33, 50)).astype(np.int32),
        "other": rng.integers(0, 60000, size=(33, 50)).astype(np.uint16),
    }
    path = tmp_path / "c.fits"
    _write(path, arrays, compression_options={"image": options, "other": options})
    for got, want in zip(_read_all(path), arrays.values(), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with afits.open(path, disable_image_compression=True) as hdus:
        header = hdus["IMAGE"].header
        if options is None:
            assert header["XTENSION"] == "IMAGE"
        else:
            assert header["ZCMPTYPE"] == options.algorithm.value
            if options.tile_shape is not None:
                assert (header["ZTILE2"], header["ZTILE1"]) == options.tile_shape
    assert _verify(path).returncode == 0


def test_sub_array_reads_and_out_of_bounds(tmp_path: Path, arrays) -> None:
    path = tmp_path / "d.fits"
    _write(path, arrays, compression_options={"image": fits.FitsCompressionOptions(tile_shape=(8, 8))})
    with fits.FitsInputArchive.open(str(path)) as archive:
        ref = ArrayReferenceModel.model_validate(archive.get_tree_dict()["refs"][0])
        got = archive.get_array(ref, slices=(slice(3, 20), slice(7, 9)))
        np.testing.assert_array_equal(got, arrays["image"][3:20, 7:9])
        with pytest.raises(IndexError):
            archive.get_array(ref, slices=(slice(30, 45), slice(0, 5)))
        with pytest.raises(IndexError):
            archive.get_array(ref, slices=(slice(-1, 5), slice(0, 5)))


def test_extver_for_repeated_names(tmp_path: Path) -> None:
    path = tmp_path / "e.fits"
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    tree: dict = {}
    with fits.FitsOutputArchive.open(str(path)) as archive:
        refs = [archive.add_array(a + i, name="mask").source for i in range(3)]
        tree["refs"] = refs
        archive.add_tree(tree)
    assert refs == ["fits:MASK", "fits:MASK,2", "fits:MASK,3"]
    with afits.open(path) as hdus:
        assert "EXTVER" not in hdus[1].header
        assert hdus[2].header["EXTVER"] == 2
        assert hdus[3].header["EXTVER"] == 3
        np.testing.assert_array_equal(hdus[("MASK", 3)].data, a + 2)


def test_bad_names_and_dtypes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="EXTNAME"):
        with fits.FitsOutputArchive.open(str(tmp_path / "f.fits")) as archive:
            archive.add_array(np.zeros((2, 2), np.float32), name="bad name.x")
    with pytest.raises(TypeError, match="boolean"):
        with fits.FitsOutputArchive.open(str(tmp_path / "f.fits")) as archive:
            archive.add_array(np.zeros((2, 2), bool), name="flags")
    assert not list(tmp_path.iterdir())


def test_seed_rules() -> None:
    lossy = fits.FitsCompressionOptions.LOSSY
    seeds = SeedSequence(9999)
    assert [seeds.resolve(lossy, "a") for _ in range(3)] == [9999, 10000, 1]
    explicit = lossy.model_copy(update={"quantization": lossy.quantization.model_copy(update={"seed": 17})})
    assert seeds.resolve(explicit, "b") == 17
    assert seeds.resolve(lossy, "c") == 2  # the explicit seed did not consume one
    assert SeedSequence(None).resolve(fits.FitsCompressionOptions.DEFAULT, "d") is None
    with pytest.raises(ValueError, match="seed"):
        SeedSequence(None).resolve(lossy, "image")


def test_lossy_write_seeds_in_headers(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    arrays = {"image": rng.normal(0, 5, (32, 40)).astype(np.float32), "variance": rng.normal(9, 1, (32, 40))}
    path = tmp_path / "g.fits"
    lossy = fits.FitsCompressionOptions.LOSSY
    _write(path, arrays, compression_options={"image": lossy, "variance": lossy}, compression_seed=4321)
    with afits.open(path, disable_image_compression=True) as hdus:
        assert hdus["IMAGE"].header["ZDITHER0"] == 4321
        assert hdus["VARIANCE"].header["ZDITHER0"] == 4322
        assert hdus["IMAGE"].header["ZQUANTIZ"] == "SUBTRACTIVE_DITHER_2"
    got = _read_all(path)
    assert np.max(np.abs(got[0] - arrays["image"])) < 1.0
    with pytest.raises(ValueError, match="seed"):
        _write(tmp_path / "h.fits", arrays, compression_options={"image": lossy})
    assert not (tmp_path / "h.fits").exists()


def test_opaque_cards_roundtrip(tmp_path: Path, arrays) -> None:
    from astropy.io.fits import Header

    opaque = fits.FitsOpaqueMetadata()
    primary = Header()
    primary["PLATFORM"] = "lsstcam"
    primary["HIERARCH LSST ISR UNITS"] = "electron"
    primary["HIERARCH LSST BUTLER ID"] = "dropme"
    opaque.headers[fits.ExtensionKey()] = primary
    image = Header()
    image["MYCARD"] = (7, "kept")
    opaque.headers[fits.ExtensionKey("IMAGE")] = image
    path = tmp_path / "i.fits"
    _write(path, arrays, opaque_metadata=opaque)
    with afits.open(path) as hdus:
        assert hdus[0].header["PLATFORM"] == "lsstcam"
        assert hdus[0].header["LSST ISR UNITS"] == "electron"
        assert "LSST BUTLER ID" not in hdus[0].header
        assert hdus["IMAGE"].header["MYCARD"] == 7
    with fits.FitsInputArchive.open(str(path)) as archive:
        for ref in archive.get_tree_dict()["refs"]:
            archive.get_array(ArrayReferenceModel.model_validate(ref))
        got = archive.get_opaque_metadata()
    assert list(got.headers[fits.ExtensionKey()].keys()) == ["PLATFORM", "LSST ISR UNITS"]
    image_cards = got.headers[fits.ExtensionKey("IMAGE")]
    assert image_cards["MYCARD"] == 7
    assert "ZCMPTYPE" not in image_cards and "EXTNAME" not in image_cards
    assert got.get_instrumental_unit().to_string() == "electron"


def test_4300_layout_cards(tmp_path: Path, arrays) -> None:
    path = tmp_path / "j.fits"
    _write(path, arrays, layout="4300")
    with afits.open(path) as hdus:
        primary = hdus[0].header
        assert list(primary.keys())[4] == "FMTVER"
        assert primary["DATAMODL"] == "https://images.lsst.io/schemas/image-1.0.0"
        assert "DATE" in primary
        assert list(hdus["IMAGE"].header.keys())[-1] == "DATE"
    with fits.FitsInputArchive.open(str(path)) as archive:
        assert archive.layout == "4300"
    for got, want in zip(_read_all(path), arrays.values(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_atomic_write_on_failure(tmp_path: Path, arrays) -> None:
    path = tmp_path / "k.fits"

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with fits.FitsOutputArchive.open(str(path)) as archive:
            archive.add_array(arrays["image"], name="image")
            raise Boom()
    assert not path.exists()
    assert not list(tmp_path.iterdir())
    # An existing file is left untouched by a failed rewrite.
    _write(path, arrays)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="before its tree"):
        with fits.FitsOutputArchive.open(str(path)) as archive:
            archive.add_array(arrays["image"], name="image")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.fits"]


def test_deterministic_bytes(tmp_path: Path, arrays, deterministic_deflate) -> None:
    _write(tmp_path / "l1.fits", arrays)
    _write(tmp_path / "l2.fits", arrays)
    assert (tmp_path / "l1.fits").read_bytes() == (tmp_path / "l2.fits").read_bytes()


# ---------------------------------------------------------------------- corrupt files


@pytest.fixture
def good_file(tmp_path: Path, arrays) -> Path:
    path = tmp_path / "good.fits"
    _write(path, arrays)
    return path


def _expect_invalid(path: Path, match: str) -> None:
    with pytest.raises(fits.InvalidFitsArchiveError, match=match) as info:
        _read_all(path)
    assert path.name in str(info.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.fits"
    path.write_bytes(b"")
    _expect_invalid(path, "empty")


def test_truncated_file(tmp_path: Path, good_file: Path) -> None:
    data = good_file.read_bytes()
    for cut in (100, 2880, len(data) // 2, len(data) - 2880):
        path = tmp_path / f"trunc{cut}.fits"
        path.write_bytes(data[:cut])
        _expect_invalid(path, "truncated")


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "plain.fits"
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.zeros((3, 3)))]).writeto(path)
    _expect_invalid(path, "not an lsst.images FITS archive")
    text = tmp_path / "text.fits"
    text.write_bytes(b"hello world" * 400)
    _expect_invalid(text, "not a FITS file")


def test_bad_json(tmp_path: Path, good_file: Path) -> None:
    data = bytearray(good_file.read_bytes())
    with afits.open(good_file) as hdus:
        json_addr = hdus[0].header["JSONADDR"]
    heap = data.index(b'{"metadata"', json_addr)
    data[heap] = ord("[")
    data[heap + 1 : heap + 5] = b"!!!!"
    path = tmp_path / "badjson.fits"
    path.write_bytes(bytes(data))
    _expect_invalid(path, "JSON")


def test_wrong_offsets(tmp_path: Path, good_file: Path) -> None:
    with afits.open(good_file) as hdus:
        header = hdus[0].header.copy()
    data = good_file.read_bytes()
    for key, delta in (("JSONADDR", 2880), ("INDXADDR", -2880), ("INDXSIZE", 10 * 2880)):
        patched = header.copy()
        patched[key] = header[key] + delta
        raw = patched.tostring(padding=True).encode()
        path = tmp_path / f"off_{key}.fits"
        path.write_bytes(raw + data[len(raw) :])
        _expect_invalid(path, "locator|truncated|HDU")


def test_corrupt_tiles(tmp_path: Path, good_file: Path) -> None:
    data = bytearray(good_file.read_bytes())
    with afits.open(good_file, disable_image_compression=True) as hdus:
        start = hdus["IMAGE"].fileinfo()["datLoc"]
        nrows = hdus["IMAGE"].header["NAXIS2"]
    heap = start + 8 * nrows
    data[heap : heap + 400] = bytes(range(200)) * 2
    path = tmp_path / "tiles.fits"
    path.write_bytes(bytes(data))
    _expect_invalid(path, "IMAGE")


def test_missing_hdu(tmp_path: Path) -> None:
    path = tmp_path / "missing.fits"
    with fits.FitsOutputArchive.open(str(path)) as archive:
        archive.add_array(np.zeros((4, 4), np.float32), name="image")
        archive.add_tree({"refs": [{"source": "fits:NOPE", "shape": [4, 4], "datatype": "float32"}]})
    _expect_invalid(path, "NOPE")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _read_all(tmp_path / "nope.fits")


def test_no_temp_files_left(tmp_path: Path, arrays) -> None:
    _write(tmp_path / "m.fits", arrays)
    assert [p.name for p in tmp_path.iterdir()] == ["m.fits"]
    assert os.stat(tmp_path / "m.fits").st_mode & 0o444


def test_tables_roundtrip(tmp_path: Path) -> None:
    import astropy.units as u

    from lsst.images.serialization import TableModel

    array = np.zeros(5, dtype=[("a", ">f8"), ("b", ">i4", (3,))])
    array["a"] = np.arange(5)
    array["b"] = 7
    path = tmp_path / "t.fits"
    with fits.FitsOutputArchive.open(str(path)) as archive:
        model = archive.add_structured_array(
            array, name="psf/piff/table", units={"a": u.m}, descriptions={"a": "alpha"}
        )
        archive.add_tree({"table": model.model_dump(mode="json")})
    assert [c.data.source for c in model.columns] == ["fits:PSF/PIFF/TABLE[1]", "fits:PSF/PIFF/TABLE[2]"]
    with fits.FitsInputArchive.open(str(path)) as archive:
        model = TableModel.model_validate(archive.get_tree_dict()["table"])
        table = archive.get_table(model)
        assert table["a"].unit == u.m and table["a"].description == "alpha"
        np.testing.assert_array_equal(archive.get_structured_array(model)["b"], array["b"])
    assert _verify(path).returncode == 0


def test_hdu_list_and_stream_constructors(tmp_path: Path, arrays) -> None:
    """The reference-style constructors: an HDUList to fill, a binary stream to read."""
    hdus = afits.HDUList()
    archive = fits.FitsOutputArchive(hdus)
    ref = archive.add_array(arrays["image"], name="image")
    archive.add_tree({"image": ref.model_dump(mode="json")})
    assert [h.name for h in hdus] == ["PRIMARY", "IMAGE", "JSON", "INDEX"]
    np.testing.assert_array_equal(hdus["IMAGE"].data, arrays["image"])
    path = tmp_path / "n.fits"
    _write(path, arrays)
    with open(path, "rb") as stream:
        reader = fits.FitsInputArchive(stream)
        got = reader.get_array(ArrayReferenceModel.model_validate(reader.get_tree_dict()["refs"][1]))
    np.testing.assert_array_equal(got, arrays["mask"])


def test_precompressed_hdu_written_verbatim(tmp_path: Path) -> None:
    """Compressed pixels kept in the opaque metadata are re-emitted without re-quantizing."""
    import lsst.images as li

    source = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "lsst-images-2100"
    source = source / "image_f32_lossy_rice_sd2_q16.fits"
    if not source.exists():
        pytest.skip("fixtures not available")
    original = fits.read(li.Image, str(source)).deserialized
    with afits.open(source, disable_image_compression=True) as hdus:
        raw_hdu = hdus["IMAGE"]
        precompressed = fits.PrecompressedImage.from_bintable(raw_hdu)
        raw_tiles = [bytes(t) for t in raw_hdu.data["COMPRESSED_DATA"]]
    original._opaque_metadata.precompressed["IMAGE"] = precompressed
    out = tmp_path / "pre.fits"
    fits.write(original, str(out))
    with afits.open(out, disable_image_compression=True) as hdus:
        header = hdus["IMAGE"].header
        assert header["ZCMPTYPE"] == "RICE_1" and header["ZDITHER0"] == 1234
        assert [bytes(t) for t in hdus["IMAGE"].data["COMPRESSED_DATA"]] == raw_tiles
        assert header["BUNIT"] == "nJy" and header["CTYPE1A"] == "LINEAR"
    again = fits.read(li.Image, str(out)).deserialized
    np.testing.assert_array_equal(again.array, original.array)
    assert _verify(out).returncode == 0


def test_pointer_rows(tmp_path: Path) -> None:
    """Out-of-line subtrees go to JSON rows 1..k, are shared per key and resolved once."""
    import pydantic

    class Leaf(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(ser_json_inf_nan="constants")

        value: float
        ref: ArrayReferenceModel

    path = tmp_path / "p.fits"
    with fits.FitsOutputArchive.open(str(path)) as archive:

        def make(nested) -> Leaf:
            return Leaf(value=float("nan"), ref=nested.add_array(np.ones((2, 3), np.float32), name="data"))

        first = archive.serialize_pointer("shared", make, key="k")
        second = archive.serialize_pointer("shared", make, key="k")
        other = archive.serialize_pointer("other", lambda a: Leaf(value=2.0, ref=first.column.data), key="j")
        archive.add_tree({"a": first.model_dump(mode="json"), "b": other.model_dump(mode="json")})
    assert first == second and first.row == 1 and other.row == 2
    calls = []
    with fits.FitsInputArchive.open(str(path)) as archive:
        tree = archive.get_tree_dict()
        pointer = fits.PointerModel.model_validate(tree["a"])

        def build(model: Leaf, a) -> np.ndarray:
            calls.append(model.value)
            return a.get_array(model.ref)

        got = archive.deserialize_pointer(pointer, Leaf, build)
        again = archive.deserialize_pointer(pointer, Leaf, build)
    assert got is again and len(calls) == 1 and np.isnan(calls[0])
    np.testing.assert_array_equal(got, np.ones((2, 3), np.float32))
    with afits.open(path) as hdus:
        assert hdus["JSON"].header["NAXIS2"] == 3
        assert hdus[1].name == "SHARED/DATA"
    assert _verify(path).returncode == 0


class _RemoteLikeReader:
    """A duck-typed range reader (as for HTTP or S3): read-ahead applies to it."""

    def __init__(self, data: bytes) -> None:
        from lsst.images.fits._io import BytesRangeReader

        self._inner = BytesRangeReader(data, name="remote.fits")
        self.name, self.size = self._inner.name, self._inner.size
        self.threads: set[str] = set()

    def read_ranges(self, ranges):
        import threading

        self.threads.add(threading.current_thread().name)
        return self._inner.read_ranges(ranges)


def test_announced_arrays_are_read_ahead_and_equal_plain_reads(tmp_path: Path, arrays) -> None:
    path = tmp_path / "a.fits"
    tree = _write(path, arrays)
    refs = [ArrayReferenceModel.model_validate(r) for r in tree["refs"]]
    cut = (slice(3, 17), slice(5, 40))
    reader = _RemoteLikeReader(path.read_bytes())
    archive = fits.FitsInputArchive(reader)
    archive.prefetch_arrays([(refs[0], cut), (refs[1], ...), (refs[2], cut)])
    assert len(archive._prefetched) == 3
    np.testing.assert_array_equal(archive.get_array(refs[0], slices=cut), arrays["image"][cut])
    np.testing.assert_array_equal(archive.get_array(refs[1]), arrays["mask"])
    rows = np.zeros_like(arrays["variance"][cut])
    archive.get_array_rows(refs[2], lambda a, b, block: rows.__setitem__(slice(a, b), block), slices=cut)
    np.testing.assert_array_equal(rows, arrays["variance"][cut])
    assert not archive._prefetched  # every announced array was taken
    assert any(name.startswith("lsst-images-read") for name in reader.threads)
    # A request that was not announced (other slices) is read as usual.
    np.testing.assert_array_equal(
        archive.get_array(refs[0], slices=(slice(0, 2), slice(0, 3))), arrays["image"][:2, :3]
    )
    archive._stop_prefetching()


def test_read_ahead_errors_surface_at_the_request(tmp_path: Path, arrays) -> None:
    path = tmp_path / "a.fits"
    tree = _write(path, arrays)
    refs = [ArrayReferenceModel.model_validate(r) for r in tree["refs"]]
    data = bytearray(path.read_bytes())
    with afits.open(path, disable_image_compression=True) as hdus:
        start = hdus[1]._data_offset + hdus[1].header["NAXIS1"] * hdus[1].header["NAXIS2"]
    data[start : start + 64] = b"\xff" * 64  # corrupt the first tiles of IMAGE
    archive = fits.FitsInputArchive(_RemoteLikeReader(bytes(data)))
    archive.prefetch_arrays([(refs[0], ...)])
    with pytest.raises(fits.InvalidFitsArchiveError, match="remote.fits"):
        archive.get_array(refs[0])
    archive._stop_prefetching()


def test_local_files_are_not_read_ahead(tmp_path: Path, arrays) -> None:
    path = tmp_path / "a.fits"
    tree = _write(path, arrays)
    with fits.FitsInputArchive.open(str(path)) as archive:
        archive.prefetch_arrays([(ArrayReferenceModel.model_validate(tree["refs"][0]), ...)])
        assert not archive._prefetched


def test_concurrent_reads_share_the_worker_pool(tmp_path: Path) -> None:
    """Several threads reading (full and cut-outs) at once all get the right pixels."""
    import concurrent.futures

    rng = np.random.default_rng(21)
    arrays = {
        "image": rng.normal(0, 30, (300, 257)).astype(np.float32),
        "mask": rng.integers(0, 9, (300, 257)),
    }
    path = tmp_path / "a.fits"
    tree = _write(path, arrays)
    refs = [ArrayReferenceModel.model_validate(r) for r in tree["refs"]]
    regions = [
        ...,
        (slice(10, 200), slice(5, 250)),
        (slice(299, 300), slice(0, 1)),
        (slice(0, 300), slice(100, 101)),
    ]

    def work(i: int) -> bool:
        slices = regions[i % len(regions)]
        with fits.FitsInputArchive.open(str(path), threads=2) as archive:
            got = [archive.get_array(ref, slices=slices) for ref in refs]
        want = [a if slices is ... else a[slices] for a in arrays.values()]
        return all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        assert all(pool.map(work, range(24)))
