"""Remote sub-image reads over HTTP from a local range-capable server.

The server counts the bytes it sends, so the test can check that a cut-out fetches
little more than the compressed tiles it needs (≤ 1.3× their size, FORMAT.md §10).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lsst.images import fits
from lsst.images.serialization import ArrayReferenceModel

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class RangeHTTPRequestHandler(http.server.SimpleHTTPRequestHandler):
    """`SimpleHTTPRequestHandler` that honours single ``Range: bytes=a-b`` requests."""

    bytes_sent = 0
    requests = 0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence the server
        pass

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        header = self.headers.get("Range")
        type(self).requests += 1
        if header is None:
            start, stop = 0, size
            self.send_response(200)
        else:
            match = _RANGE.match(header.strip())
            if match is None:
                self.send_error(416, "only single byte ranges are supported")
                return
            start = int(match.group(1))
            stop = min(size, int(match.group(2)) + 1) if match.group(2) else size
            if start >= size:
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
        self.send_header("Content-Type", "application/fits")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(stop - start))
        self.end_headers()
        with open(path, "rb") as stream:
            stream.seek(start)
            self.wfile.write(stream.read(stop - start))
        type(self).bytes_sent += stop - start

    def do_HEAD(self) -> None:
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/fits")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(os.path.getsize(path)))
        self.end_headers()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, type[RangeHTTPRequestHandler]]]:
    with serve_directory(tmp_path) as served:
        yield served


@contextlib.contextmanager
def serve_directory(folder: Path) -> Iterator[tuple[str, type[RangeHTTPRequestHandler]]]:
    """Serve ``folder`` on 127.0.0.1 with a range-capable, byte-counting handler (also used elsewhere)."""
    handler = type("Handler", (RangeHTTPRequestHandler,), {"bytes_sent": 0, "requests": 0})

    def factory(*args, **kwargs):
        return handler(*args, directory=str(folder), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def _tile_bytes(path: Path, name: str, ys: slice, xs: slice) -> int:
    """Compressed bytes of the tiles of HDU ``name`` that intersect ``[ys, xs]``."""
    from astropy.io import fits as afits

    with afits.open(path, disable_image_compression=True) as hdus:
        header = hdus[name].header
        sizes = np.array([len(row) for row in hdus[name].data["COMPRESSED_DATA"]])
    ty, tx = header["ZTILE2"], header["ZTILE1"]
    ntx = -(-header["ZNAXIS1"] // tx)
    total = 0
    for j in range(ys.start // ty, (ys.stop - 1) // ty + 1):
        for i in range(xs.start // tx, (xs.stop - 1) // tx + 1):
            total += int(sizes[j * ntx + i])
    return total


def test_http_cutout_reads_only_needed_tiles(tmp_path: Path, server) -> None:
    url, handler = server
    rng = np.random.default_rng(11)
    image = rng.normal(1000.0, 30.0, size=(1024, 1024)).astype(np.float32)
    path = tmp_path / "big.fits"
    options = {"image": fits.FitsCompressionOptions(tile_shape=(128, 128))}
    with fits.FitsOutputArchive.open(str(path), compression_options=options) as archive:
        ref = archive.add_array(image, name="image")
        archive.add_tree({"image": ref.model_dump(mode="json")})
    ys, xs = slice(300, 500), slice(600, 800)
    needed = _tile_bytes(path, "IMAGE", ys, xs)

    handler.bytes_sent = 0
    with fits.FitsInputArchive.open(f"{url}/big.fits") as archive:
        ref = ArrayReferenceModel.model_validate(archive.get_tree_dict()["image"])
        cut = archive.get_array(ref, slices=(ys, xs))
    np.testing.assert_array_equal(cut, image[ys, xs])
    assert handler.bytes_sent <= 1.3 * needed, (handler.bytes_sent, needed)
    assert handler.bytes_sent < path.stat().st_size / 4


def test_http_full_read_matches(tmp_path: Path, server) -> None:
    url, _ = server
    rng = np.random.default_rng(12)
    arrays = {
        "image": rng.normal(0, 1, (64, 70)).astype(np.float32),
        "mask": rng.integers(0, 9, (64, 70)).astype(np.int32),
    }
    path = tmp_path / "small.fits"
    with fits.FitsOutputArchive.open(str(path)) as archive:
        refs = {k: archive.add_array(v, name=k).model_dump(mode="json") for k, v in arrays.items()}
        archive.add_tree(refs)
    with fits.FitsInputArchive.open(f"{url}/small.fits") as archive:
        tree = archive.get_tree_dict()
        for name, want in arrays.items():
            np.testing.assert_array_equal(
                archive.get_array(ArrayReferenceModel.model_validate(tree[name])), want
            )


def test_http_missing_file(server) -> None:
    url, _ = server
    with pytest.raises((FileNotFoundError, fits.InvalidFitsArchiveError, OSError)):
        with fits.FitsInputArchive.open(f"{url}/absent.fits"):
            pass


def test_http_visit_image_cutout_loads_planes_concurrently(tmp_path: Path, server) -> None:
    """A VisitImage cut-out over HTTP equals the local one, and its arrays are fetched at once.

    Requests are held for a while; the read-ahead keeps several in flight together
    (reading the arrays one after the other would never have more than one).
    """
    import threading
    import time

    import lsst.images as li
    from conftest import fixture_dir
    from lsst.images.fits import _io

    source = fixture_dir("lsst-images-2100") / "visit_full.fits"
    local_path = tmp_path / "visit.fits"
    local_path.write_bytes(source.read_bytes())
    url, _ = server
    box = li.Box(li.Interval(1020, 1090), li.Interval(2050, 2130))
    expected = li.VisitImage.read_fits(str(local_path), bbox=box)

    original = _io.HttpRangeReader._read_block
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def held(self, offset, length):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.05)
            return original(self, offset, length)
        finally:
            with lock:
                state["now"] -= 1

    _io.HttpRangeReader._read_block = held
    try:
        got = li.VisitImage.read_fits(f"{url}/visit.fits", bbox=box)
    finally:
        _io.HttpRangeReader._read_block = original
    np.testing.assert_array_equal(got.image.array, expected.image.array)
    np.testing.assert_array_equal(got.variance.array, expected.variance.array)
    assert got.mask == expected.mask and got.bbox == box
    assert state["most"] >= 3, state


def test_http_full_read_fetches_each_plane_in_one_request(tmp_path: Path, server) -> None:
    """Remote readers fetch a plane's tiles together, not one request per ~1 MiB chunk."""
    url, handler = server
    rng = np.random.default_rng(13)
    image = rng.normal(0.0, 30.0, size=(2048, 1024)).astype(np.float32)  # 8 MiB: several chunks
    path = tmp_path / "rows.fits"
    with fits.FitsOutputArchive.open(str(path)) as archive:
        ref = archive.add_array(image, name="image")
        archive.add_tree({"image": ref.model_dump(mode="json")})
    handler.requests = 0
    with fits.FitsInputArchive.open(f"{url}/rows.fits") as archive:
        ref = ArrayReferenceModel.model_validate(archive.get_tree_dict()["image"])
        np.testing.assert_array_equal(archive.get_array(ref), image)
    # primary header, JSON + INDEX, the HDU's header, its tile table, its tiles (+ the size probe)
    assert handler.requests <= 6, handler.requests
