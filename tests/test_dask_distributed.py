"""`lsst.images.dask` on a real ``dask.distributed.LocalCluster`` of worker processes.

The graphs are pickled to two worker processes, which open the files themselves
(local paths, and URLs of an HTTP server this test runs on 127.0.0.1); every result is
compared exactly with ``read_fits``.  The server counts what it sends, so the remote
test also checks that the cluster fetches little more than the tiles it needs and
that each process parses a file's headers and index once, however many chunks it reads.
"""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lsst.images import Box, MaskedImage
from lsst.images.fits import FitsCompressionOptions, FitsDitherAlgorithm, FitsQuantizationOptions
from lsst.images.tests import make_random_masked_image
from test_fits_http import RangeHTTPRequestHandler, _tile_bytes

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
ld = pytest.importorskip("lsst.images.dask")

BBOX = Box.factory[-20:364, 1000:1384]  # 384 x 384
N_FILES = 4


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """Two worker processes with one thread each (the graph must pickle to reach them)."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Masked images with the same bbox: row tiles, 2-d tiles, and a lossy (dithered) variance."""
    tmp = tmp_path_factory.mktemp("dask-cluster")
    lossy = FitsCompressionOptions(
        tile_shape=(32, 384),
        quantization=FitsQuantizationOptions(dither=FitsDitherAlgorithm.SUBTRACTIVE_DITHER_2, level=16.0),
    )
    paths = []
    for i in range(N_FILES):
        masked = make_random_masked_image(np.random.default_rng(100 + i), BBOX)
        path = tmp / f"visit{i}.fits"
        tiles = FitsCompressionOptions(tile_shape=(64, 96)) if i % 2 else FitsCompressionOptions.DEFAULT
        masked.write_fits(
            str(path), image_compression=tiles, variance_compression=lossy, compression_seed=7 + i
        )
        paths.append(path)
    return paths


def _plane(masked: MaskedImage, plane: str) -> np.ndarray:
    return masked.mask.get(plane[5:]) if plane.startswith("mask:") else getattr(masked, plane).array


def test_planes_and_slices(client: distributed.Client, files: list[Path]) -> None:
    path = files[1]
    full = MaskedImage.read_fits(str(path))
    box = Box.factory[10:200, 1100:1383]
    cutout = MaskedImage.read_fits(str(path), bbox=box)
    local = box.slice_within(BBOX)
    planes = ("image", "variance", "mask", "mask:CR")
    arrays = [ld.from_fits(path, p, chunks=(64, 96) + ((-1,) if p == "mask" else ())) for p in planes]
    assert all(a.npartitions > 1 for a in arrays)
    wanted = arrays + [a[local.y, local.x] for a in arrays]
    results = client.gather(client.compute(wanted))
    for got, plane in zip(results[: len(planes)], planes, strict=True):
        np.testing.assert_array_equal(got, _plane(full, plane))
    for got, plane in zip(results[len(planes) :], planes, strict=True):
        np.testing.assert_array_equal(got, _plane(cutout, plane))


def test_stack_median_and_variance_of_a_sub_box(client: distributed.Client, files: list[Path]) -> None:
    stacked = ld.stack(files, "image", chunks=(96, 384))
    median = client.compute(da.median(stacked, axis=0)).result()
    images = np.stack([MaskedImage.read_fits(str(p)).image.array for p in files])
    np.testing.assert_array_equal(median, np.median(images, axis=0))
    box = Box.factory[100:180, 1200:1300]
    variance = client.compute(ld.from_fits(files[3], "variance", bbox=box)).result()
    np.testing.assert_array_equal(variance, MaskedImage.read_fits(str(files[3]), bbox=box).variance.array)
    # A per-file reduction of the lossy variance planes of that box, on the cluster.
    means = client.compute(ld.stack(files, "variance", bbox=box).max(axis=(1, 2))).result()
    expected = [MaskedImage.read_fits(str(p), bbox=box).variance.array.max() for p in files]
    np.testing.assert_array_equal(means, expected)


def test_workers_read_files_themselves(client: distributed.Client, files: list[Path]) -> None:
    """Tasks run in the worker processes, each of which keeps its own parsed files."""
    ld.clear_cache()
    client.run(ld.clear_cache)
    array = ld.stack(files, "mask:SAT", chunks=(48, 384))
    result = client.compute(array).result()
    np.testing.assert_array_equal(
        result, np.stack([MaskedImage.read_fits(str(p)).mask.get("SAT") for p in files])
    )
    cached = client.run(lambda: sorted(location for location, _ in ld._files._CACHE))
    assert len(cached) == 2
    assert set().union(*cached.values()) == {str(p) for p in files}


class _CountingHandler(RangeHTTPRequestHandler):
    """Range server that also records the ``Range`` header of every GET."""

    ranges: list[str | None] = []

    def do_GET(self) -> None:
        type(self).ranges.append(self.headers.get("Range"))
        super().do_GET()


@pytest.fixture
def server(files: list[Path]) -> Iterator[tuple[str, type[_CountingHandler]]]:
    handler = type("Handler", (_CountingHandler,), {"bytes_sent": 0, "requests": 0, "ranges": []})
    directory = str(files[0].parent)

    def factory(*args, **kwargs):
        return handler(*args, directory=directory, **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("box", (None, Box.factory[60:330, 1000:1384]), ids=("whole", "band"))
def test_remote_stack_fetches_only_its_tiles(
    client: distributed.Client,
    files: list[Path],
    server: tuple[str, type[_CountingHandler]],
    box: Box | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, handler = server
    ld.clear_cache()
    client.run(ld.clear_cache)
    urls = [f"{url}/{p.name}" for p in files]
    # Default chunks (on tile boundaries, so no tile is fetched twice), made small.
    band = 64 * 384 * 4
    monkeypatch.setattr(ld._stack, "MIN_BAND_BYTES", band)
    monkeypatch.setattr(ld._stack, "STACK_CHUNK_BYTES", N_FILES * band)
    stacked = ld.stack(urls, "image", bbox=box)
    assert stacked.chunks[0] == (N_FILES,) and len(stacked.chunks[1]) >= 5
    median = client.compute(da.median(stacked, axis=0)).result()
    local = np.stack([MaskedImage.read_fits(str(p), bbox=box).image.array for p in files])
    np.testing.assert_array_equal(median, np.median(local, axis=0))
    region = (slice(None), slice(None)) if box is None else box.slice_within(BBOX)
    ys, xs = (slice(*r.indices(n)[:2]) for r, n in zip(region, BBOX.shape, strict=True))
    needed = sum(_tile_bytes(p, "IMAGE", ys, xs) for p in files)
    assert handler.bytes_sent <= 1.3 * needed, (handler.bytes_sent, needed)
    # Headers and index are parsed once per process and file (this one and two workers),
    # although every file is read by many chunk tasks.
    primary = [r for r in handler.ranges if r is not None and r.startswith("bytes=0-")]
    assert len(primary) <= 3 * N_FILES


def test_readme_example_runs(tmp_path: Path) -> None:
    """The README's dask example runs as written (it starts its own cluster)."""
    import re
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Many files: dask") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    (tmp_path / "example.py").write_text(code.group(1))
    result = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "(1024, 1024) (200, 200)"
    assert len(list(tmp_path.glob("visit*.fits"))) == 8
