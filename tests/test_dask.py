"""`lsst.images.dask` with dask's local scheduler: values against read_fits, laziness, errors, graphs.

Every comparison is against ``read_fits`` (whole file or ``bbox=``), which the dask
chunks must reproduce exactly, lossy (quantized, dithered) planes included.  The
distributed cluster and remote files are covered by ``test_dask_distributed.py``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import fixture_dir
from lsst.images import Box, Image, Mask, MaskedImage, VisitImage
from lsst.images.fits import FitsCompressionOptions, FitsDitherAlgorithm, FitsQuantizationOptions
from lsst.images.serialization import ArchiveReadError
from lsst.images.tests import make_random_masked_image

da = pytest.importorskip("dask.array")
ld = pytest.importorskip("lsst.images.dask")
from lsst.images.dask._plane import default_chunks, open_plane  # noqa: E402
from lsst.images.dask._stack import default_stack_chunks  # noqa: E402

BBOX = Box.factory[100:292, -50:110]  # 192 x 160, a non-zero (and negative) start
TILES = FitsCompressionOptions(tile_shape=(32, 48))
LOSSY = FitsCompressionOptions(
    tile_shape=(16, 160),
    quantization=FitsQuantizationOptions(dither=FitsDitherAlgorithm.SUBTRACTIVE_DITHER_2, level=8.0, seed=42),
)


def _write(path: Path, seed: int, **options: object) -> Path:
    masked = make_random_masked_image(np.random.default_rng(seed), BBOX)
    masked.write_fits(str(path), **options)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Masked images stored three ways: row tiles, 2-d tiles (lossy variance), uncompressed."""
    tmp = tmp_path_factory.mktemp("dask")
    return {
        "rows": _write(tmp / "rows.fits", 1),
        "tiles": _write(tmp / "tiles.fits", 2, image_compression=TILES, variance_compression=LOSSY),
        "plain": _write(
            tmp / "plain.fits", 3, image_compression=None, mask_compression=None, variance_compression=None
        ),
    }


def _expected(masked: MaskedImage, plane: str) -> np.ndarray:
    if plane.startswith("mask:"):
        return masked.mask.get(plane[5:])
    return getattr(masked, plane).array


PLANES = ("image", "variance", "mask", "mask:SAT")


@pytest.mark.parametrize("layout", ("rows", "tiles", "plain"))
@pytest.mark.parametrize("plane", PLANES)
def test_full_plane_and_cutouts_equal_read_fits(files: dict[str, Path], layout: str, plane: str) -> None:
    path = files[layout]
    array = ld.from_fits(path, plane, chunks=(40, 64) if plane != "mask" else (40, 64, -1))
    full = MaskedImage.read_fits(str(path))
    expected = _expected(full, plane)
    assert array.shape == expected.shape and array.dtype == expected.dtype
    assert len(array.chunks[0]) > 1 and len(array.chunks[1]) > 1
    np.testing.assert_array_equal(array.compute(), expected)
    for box in (Box.factory[130:170, 0:90], Box.factory[100:101, -50:110], Box.factory[250:292, 100:110]):
        local = box.slice_within(BBOX)
        cutout = MaskedImage.read_fits(str(path), bbox=box)
        np.testing.assert_array_equal(array[local.y, local.x].compute(), _expected(cutout, plane))
        # The same box through bbox=: chunk edges then start at the box.
        np.testing.assert_array_equal(ld.from_fits(path, plane, bbox=box).compute(), _expected(cutout, plane))


def test_numpy_indexing(files: dict[str, Path]) -> None:
    """Integers, negative indices, steps (also negative), ``...`` and arrays index as numpy does."""
    array = ld.from_fits(files["tiles"], "variance", chunks=(50, 70))
    mask = ld.from_fits(files["tiles"], "mask", chunks=(50, 70, 1))
    full = MaskedImage.read_fits(str(files["tiles"]))
    for index in (
        (5, slice(None)),
        (slice(None), -1),
        (slice(10, 150, 7), slice(None, None, -3)),
        (slice(None, None, -1), 17),
        (Ellipsis, slice(3, 9)),
        (slice(60, 40), slice(None)),  # empty
        ([3, 77, 2, -1], slice(5, 20)),
        (slice(100, 120), np.arange(160) % 3 == 0),
    ):
        np.testing.assert_array_equal(array[index].compute(), full.variance.array[index])
    for index in ((slice(0, 20), 3, 0), (Ellipsis, 0), (7, slice(None), slice(None)), (-1, -2, -1)):
        np.testing.assert_array_equal(mask[index].compute(), full.mask.array[index])
    # The plane itself (what dask slices) follows numpy too, several arrays included.
    plane = open_plane(files["tiles"], "variance")
    for index in (
        (slice(-3, None), slice(None, None, 40)),
        (np.array([[1, 2], [150, 3]]), np.array([0, -1])),
        (np.array([], dtype=int), slice(None)),
        (4, [9, 8, 7]),
    ):
        np.testing.assert_array_equal(plane[index], full.variance.array[index])
    with pytest.raises(IndexError):
        plane[BBOX.shape.y, 0]
    with pytest.raises(IndexError):
        plane[[0, 500]]
    for bad in (None, 1.5, (slice(None), "x")):
        with pytest.raises(TypeError, match="only integers, slices"):
            plane[bad]


def test_stack_indexing(files: dict[str, Path]) -> None:
    paths = [files["rows"], files["tiles"], files["plain"]]
    source = ld.FitsStack([open_plane(p, "mask") for p in paths])
    expected = np.stack([MaskedImage.read_fits(str(p)).mask.array for p in paths])
    assert source.shape == expected.shape and len(source) == 3
    for index in (
        1,
        (slice(None), 5),
        (slice(None, None, -2), slice(10, 20), -3, 0),
        ([2, 0], 7, slice(None)),
        (slice(1, 1),),
        (Ellipsis, 0),
    ):
        np.testing.assert_array_equal(source[index], expected[index])
    with pytest.raises(TypeError, match="one axis at a time"):
        source[[0, 1], :, [3, 4]]


def test_default_chunks_follow_tiles(files: dict[str, Path]) -> None:
    rows = ld.from_fits(files["rows"], "image")
    assert rows.chunks == ((192,), (160,))  # a small plane is one chunk
    plane = open_plane(files["tiles"], "image")
    assert plane.tile_shape == (32, 48)
    # Bands of whole rows while a row of tiles fits the target...
    assert default_chunks(plane, target=160 * 4 * 70) == ((64, 64, 64), (160,))
    # ...otherwise blocks of whole 32 x 48 tiles.
    target = 2 * 32 * 48 * 4
    assert default_chunks(plane, target=target) == ((64, 64, 64), (48, 48, 48, 16))
    # A box starting mid-tile: the first chunk ends on the next tile boundary.
    inner = ld.FitsPlane(
        plane.location, plane.signature, "image", Box.factory[110:292, -40:110], plane.dtype, None,
        plane.tile_shape, plane.stored_bbox,
    )  # fmt: skip
    assert default_chunks(inner, target=target) == ((54, 64, 64), (38, 48, 48, 16))
    # Row tiles give bands of whole rows; mask planes count all their bytes.
    band = default_chunks(open_plane(files["rows"], "mask"), target=160 * 50)
    assert band == ((50, 50, 50, 42), (160,), (1,))
    # A stack's chunk is a band of every file (so a median along the stack needs no rechunk)...
    stacked = ld.stack(list(files.values()))
    assert stacked.chunks == ((3,), (192,), (160,))
    assert not any("rechunk" in layer for layer in da.median(stacked, axis=0).dask.layers)
    # ...until the stack is too deep for one chunk of STACK_CHUNK_BYTES.
    assert default_stack_chunks(open_plane(files["rows"]), 200) == ((32,) * 6 + (8,), (192,), (160,))


def test_stack_and_median(files: dict[str, Path]) -> None:
    paths = [files["rows"], files["tiles"], files["plain"]]
    stacked = ld.stack(paths, "image", chunks=(64, 160))
    assert stacked.shape == (3, 192, 160)
    images = np.stack([MaskedImage.read_fits(str(p)).image.array for p in paths])
    np.testing.assert_array_equal(stacked.compute(), images)
    np.testing.assert_array_equal(da.median(stacked, axis=0).compute(), np.median(images, axis=0))
    box = Box.factory[150:200, 0:40]
    sub = ld.stack(paths, "variance", bbox=box)
    cutouts = np.stack([MaskedImage.read_fits(str(p), bbox=box).variance.array for p in paths])
    np.testing.assert_array_equal(sub.compute(), cutouts)


def test_stack_requires_matching_files(files: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "shifted.fits"
    make_random_masked_image(np.random.default_rng(4), Box.factory[100:292, -40:120]).write_fits(str(other))
    with pytest.raises(ValueError, match=f"{other}: its image plane has bbox .* pass bbox="):
        ld.stack([files["rows"], other])
    common = Box.factory[100:292, -40:110]
    stacked = ld.stack([files["rows"], other], bbox=common)
    np.testing.assert_array_equal(
        stacked[1].compute(), MaskedImage.read_fits(str(other), bbox=common).image.array
    )
    with pytest.raises(ValueError, match=f"{other}: bbox .* is not inside"):
        ld.stack([files["rows"], other], bbox=BBOX)
    image64 = tmp_path / "f64.fits"
    Image(np.zeros(tuple(BBOX.shape)), bbox=BBOX).write_fits(str(image64))
    with pytest.raises(ValueError, match=f"{image64}: its image plane is float64"):
        ld.stack([files["rows"], image64])
    with pytest.raises(ValueError, match="at least one file"):
        ld.stack([])


def test_errors_name_the_file(files: dict[str, Path], tmp_path: Path) -> None:
    image_only = tmp_path / "image.fits"
    Image(np.ones((4, 5), np.float32)).write_fits(str(image_only))
    with pytest.raises(ValueError, match=f"{image_only}: has no 'variance' plane .*Image"):
        ld.from_fits(image_only, "variance")
    with pytest.raises(ValueError, match=f"{files['rows']}: the mask has no plane 'NOPE' .*BAD, CR, SAT"):
        ld.from_fits(files["rows"], "mask:NOPE")
    with pytest.raises(ValueError, match="not inside"):
        ld.from_fits(files["rows"], bbox=Box.factory[0:10, 0:10])
    for bad in ("pixels", "image:BAD", "mask:"):
        with pytest.raises(ValueError, match="plane must be one of"):
            ld.from_fits(files["rows"], bad)
    plain = tmp_path / "plain_astropy.fits"
    from astropy.io import fits as afits

    afits.PrimaryHDU(np.zeros((3, 3))).writeto(plain)
    with pytest.raises(ArchiveReadError, match=f"{plain}: not an lsst.images FITS archive"):
        ld.from_fits(plain)
    with pytest.raises(FileNotFoundError):
        ld.from_fits(tmp_path / "missing.fits")


def test_rewritten_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "changing.fits", 5)
    array = ld.from_fits(path)
    _write(path, 6, image_compression=None)
    with pytest.raises(ArchiveReadError, match="changed after the dask array was built"):
        array.compute()


def test_corrupted_tile_is_reported(tmp_path: Path) -> None:
    """Chunks keep the checks of a cut-out: a damaged tile fails its task, naming the file."""
    from astropy.io import fits as afits

    path = _write(tmp_path / "damaged.fits", 9)
    expected = MaskedImage.read_fits(str(path)).image.array
    with afits.open(path, disable_image_compression=True) as hdus:
        heap = hdus.fileinfo(1)["datLoc"] + hdus[1].header["NAXIS1"] * hdus[1].header["NAXIS2"]
    data = bytearray(path.read_bytes())
    data[heap + 100] ^= 0xFF  # inside the first row tile's compressed bytes
    path.write_bytes(bytes(data))
    array = ld.from_fits(path, chunks=(10, 160))
    np.testing.assert_array_equal(array[50:].compute(), expected[50:])  # other tiles still read
    with pytest.raises(ArchiveReadError, match=f"{path}"):
        array[:10].compute()
    with pytest.raises(ArchiveReadError, match="DATASUM mismatch"):  # (read_fits checks the whole HDU)
        MaskedImage.read_fits(str(path), bbox=Box.factory[150:160, 0:10])


def test_building_reads_no_pixels(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Building arrays fetches headers and the index only: no byte of any pixel HDU's data."""
    from astropy.io import fits as afits

    from lsst.images.fits._io import FileRangeReader

    reads: list[tuple[str, int, int]] = []
    original = FileRangeReader._read_block

    def recording(self: FileRangeReader, offset: int, length: int) -> bytes:
        reads.append((self.name, offset, length))
        return original(self, offset, length)

    monkeypatch.setattr(FileRangeReader, "_read_block", recording)
    ld.clear_cache()
    arrays = [ld.from_fits(path, plane) for path in files.values() for plane in PLANES]
    arrays.append(ld.stack(list(files.values()), "variance"))
    assert reads
    for path in files.values():
        with afits.open(path, disable_image_compression=True) as hdus:
            pixels = [
                (info["datLoc"], info["datLoc"] + info["datSpan"])
                for i, hdu in enumerate(hdus)
                if hdu.name in ("IMAGE", "MASK", "VARIANCE")
                for info in [hdus.fileinfo(i)]
            ]
        assert len(pixels) == 3
        of_file = [(offset, length) for name, offset, length in reads if name == str(path)]
        assert of_file
        for offset, length in of_file:
            assert all(offset + length <= start or offset >= stop for start, stop in pixels)
    # Computing, by contrast, does read the data.
    reads.clear()
    arrays[0].compute()
    assert sum(length for _, _, length in reads) > BBOX.shape.y * BBOX.shape.x


def test_graph_pickles_small(files: dict[str, Path]) -> None:
    array = ld.stack([files["rows"], files["tiles"]], "image", chunks=(1, 16, 160))
    n_chunks = array.npartitions
    assert n_chunks == 24
    graph = pickle.dumps(dict(array.__dask_graph__()))
    # No pixels, no open files: a few hundred bytes per task (the pixels would be 245 KB).
    assert len(graph) < 400 * n_chunks
    plane = open_plane(files["rows"], "image")
    again = pickle.loads(pickle.dumps(plane))
    assert len(pickle.dumps(plane)) < 1000
    assert again.location == os.path.abspath(files["rows"]) and again.shape == plane.shape
    np.testing.assert_array_equal(again[3:5, 7:9], plane[3:5, 7:9])


def test_relative_paths_and_resource_paths(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from lsst.resources import ResourcePath

    expected = MaskedImage.read_fits(str(files["rows"])).image.array
    monkeypatch.chdir(files["rows"].parent)
    relative = ld.from_fits("rows.fits")
    monkeypatch.chdir("/")
    np.testing.assert_array_equal(relative.compute(), expected)
    for target in (ResourcePath(files["rows"]), f"file://{files['rows']}"):
        np.testing.assert_array_equal(ld.from_fits(target).compute(), expected)


def test_image_and_mask_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    masked = make_random_masked_image(rng, BBOX)
    masked.image.write_fits(str(tmp_path / "image.fits"))
    masked.mask.write_fits(str(tmp_path / "mask.fits"))
    np.testing.assert_array_equal(ld.from_fits(tmp_path / "image.fits").compute(), masked.image.array)
    np.testing.assert_array_equal(ld.from_fits(tmp_path / "mask.fits", "mask").compute(), masked.mask.array)
    box = Box.factory[120:140, 0:30]
    np.testing.assert_array_equal(
        ld.from_fits(tmp_path / "mask.fits", "mask:CR", bbox=box).compute(),
        Mask.read_fits(str(tmp_path / "mask.fits"), bbox=box).get("CR"),
    )


@pytest.mark.parametrize("name", ("visit_full", "visit_lossy_seeded", "visit_tiles64_gzip1", "visit_nocomp"))
def test_reference_visit_images(name: str) -> None:
    """Files written by Rubin's library (4300 layout, lossy and tiled variants)."""
    path = fixture_dir("lsst-images-4300") / f"{name}.fits"
    full = VisitImage.read_fits(str(path))
    (y0, y1), (x0, x1) = (full.bbox.y.start, full.bbox.y.stop), (full.bbox.x.start, full.bbox.x.stop)
    box = Box.factory[y0 + 5 : y1 - 3, x0 + 9 : x1]
    cutout = VisitImage.read_fits(str(path), bbox=box)
    for plane in ("image", "variance", "mask"):
        array = ld.from_fits(path, plane, chunks=(40, 50) + ((-1,) if plane == "mask" else ()))
        np.testing.assert_array_equal(array.compute(), _expected(full, plane))
        np.testing.assert_array_equal(ld.from_fits(path, plane, bbox=box).compute(), _expected(cutout, plane))


def test_importing_needs_no_dask() -> None:
    """``import lsst.images`` and ``lsst.images.dask`` import no dask; calls without it name the extra."""
    code = (
        "import sys, lsst.images, lsst.images.dask as ld\n"
        "assert 'dask' not in sys.modules, 'dask imported'\n"
        "sys.modules['dask'] = sys.modules['dask.array'] = None\n"
        "try:\n"
        "    ld.from_fits('x.fits')\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'lsst-images-py[dask]'" in result.stdout
