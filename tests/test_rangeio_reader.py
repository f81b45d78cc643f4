"""Byte-range readers (`lsst.images.fits._io`) and the tile engine's region reads.

Checks range coalescing, every kind of target (path, ``file://``, bytes, ResourcePath,
HTTP with ``Range`` requests), clear errors for truncated files, and that sub-image
decodes fetch at most 1.3x the bytes of the tiles (and descriptor rows) they need.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lsst.images.fits._io import (
    BytesRangeReader,
    FileRangeReader,
    HttpRangeReader,
    TruncatedFileError,
    coalesce_ranges,
    open_range_reader,
)
from lsst.images.fits._tiles import TileCompression, decode_image, encode_image
from lsst.images.fits._tiles._table import TableLayout

DATA = bytes(range(256)) * 64  # 16 KiB


def test_coalesce_ranges() -> None:
    merged, placement = coalesce_ranges([(100, 10), (0, 10), (12, 5), (5000, 1)], gap=8)
    assert merged == [(0, 17), (100, 10), (5000, 1)]
    assert placement == [(1, 0, 10), (0, 0, 10), (0, 12, 17), (2, 0, 1)]
    merged, _ = coalesce_ranges([(0, 10), (0, 4), (2, 20)], gap=0)
    assert merged == [(0, 22)]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return path


def _check_reader(reader: Any) -> None:
    ranges = [(300, 7), (0, 3), (305, 10), (len(DATA) - 2, 2), (9000, 0)]
    assert reader.read_ranges(ranges) == [DATA[o : o + n] for o, n in ranges]
    assert reader.size == len(DATA)
    # (300, 7) and (305, 10) overlap: one read of 15 bytes; empty ranges cost nothing.
    assert reader.request_count == 3 and reader.bytes_read == 20


def test_targets(data_file: Path) -> None:
    from lsst.resources import ResourcePath

    for target, kind in (
        (data_file, FileRangeReader),
        (str(data_file), FileRangeReader),
        (data_file.as_uri(), FileRangeReader),
        (ResourcePath(data_file), FileRangeReader),
        (DATA, BytesRangeReader),
        (memoryview(DATA), BytesRangeReader),
    ):
        with open_range_reader(target) as reader:
            assert isinstance(reader, kind), target
            _check_reader(reader)
            assert open_range_reader(reader) is reader


def test_nearby_ranges_are_one_read(data_file: Path) -> None:
    with open_range_reader(data_file) as reader:
        reader.read_ranges([(0, 1000), (1010, 1000), (2020, 1000)])
        assert reader.request_count == 1 and reader.bytes_read == 3020
        reader.read_ranges([(0, 10), (10000, 10)])  # a big gap is not read through
        assert reader.request_count == 3 and reader.bytes_read == 3040


def test_missing_and_truncated(tmp_path: Path, data_file: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_range_reader(tmp_path / "nope.fits")
    with open_range_reader(data_file) as reader:
        with pytest.raises(TruncatedFileError, match=re.escape(str(data_file))):
            reader.read_ranges([(len(DATA) - 5, 10)])
        with pytest.raises(ValueError, match="invalid byte range"):
            reader.read_ranges([(-1, 2)])
    with pytest.raises(TypeError):
        open_range_reader(3.5)


# ---------------------------------------------------------------------------- HTTP


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range ``Range: bytes=a-b`` support."""

    def log_message(self, *args: Any) -> None:  # silence
        pass

    def do_GET(self) -> None:
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if match is None:
            return super().do_GET()
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, stop = int(match.group(1)), int(match.group(2)) + 1
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data[start:stop])))
        self.end_headers()
        self.wfile.write(data[start:stop])


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    handler = lambda *args, **kwargs: _RangeHandler(*args, directory=str(tmp_path), **kwargs)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_http_reader(http_root: tuple[str, Path]) -> None:
    url, root = http_root
    (root / "data.bin").write_bytes(DATA)
    with open_range_reader(f"{url}/data.bin") as reader:
        assert isinstance(reader, HttpRangeReader)
        _check_reader(reader)
    with pytest.raises(FileNotFoundError):
        open_range_reader(f"{url}/missing.bin")


# ---------------------------------------------------------------------------- region budgets


def _write(path: Path, array: np.ndarray, compression: TileCompression) -> tuple[Any, int]:
    from astropy.io import fits

    encoded = encode_image(array, compression)
    header = fits.Header()
    for card in encoded.cards + encoded.trailing_cards:
        header.append(card, end=True)
    head = fits.PrimaryHDU().header.tostring().encode() + header.tostring().encode()
    path.write_bytes(head + bytes(encoded.data))
    return header, len(head)


def _needed_bytes(header: Any, path: Path, offset: int, tiles: np.ndarray) -> int:
    layout = TableLayout(header)
    with open_range_reader(path) as reader:
        rows = layout.parse_rows(tiles, reader.read_ranges(layout.row_ranges(tiles, offset)))
    return int(rows.columns["COMPRESSED_DATA"][:, 0].sum()) + len(tiles) * layout.row_bytes


@pytest.mark.parametrize(
    "tile,region",
    [
        (None, (slice(300, 500), slice(100, 300))),
        (None, (slice(0, 1), slice(0, 1))),
        ((64, 64), (slice(300, 500), slice(100, 300))),
        ((64, 64), (slice(1000, 1024), slice(1000, 1024))),
        ((32, 32), (slice(100, 101), slice(0, 1024))),
    ],
)
def test_region_reads_fetch_only_needed_tiles(tmp_path: Path, tile: Any, region: Any) -> None:
    from lsst.images.fits._tiles._geometry import TileGrid

    rng = np.random.default_rng(0)
    array = rng.normal(0, 10, (1024, 1024)).astype(np.float32)
    path = tmp_path / "big.fits"
    header, offset = _write(path, array, TileCompression("GZIP_2", tile))
    grid = TileGrid(array.shape, tile or (1, 1024))
    needed = _needed_bytes(header, path, offset, grid.tiles_for(region))
    with open_range_reader(path) as reader:
        got = decode_image(header, reader, offset, region=region)
        np.testing.assert_array_equal(got, array[region])
        assert reader.bytes_read <= 1.3 * needed, (reader.bytes_read, needed)


def test_http_cutout_budget(http_root: tuple[str, Path]) -> None:
    url, root = http_root
    rng = np.random.default_rng(1)
    array = rng.normal(0, 10, (512, 512)).astype(np.float32)
    header, offset = _write(root / "img.fits", array, TileCompression("GZIP_2", None))
    region = (slice(200, 260), slice(10, 90))
    needed = _needed_bytes(header, root / "img.fits", offset, np.arange(200, 260))
    with open_range_reader(f"{url}/img.fits") as reader:
        np.testing.assert_array_equal(decode_image(header, reader, offset, region=region), array[region])
        assert reader.bytes_read <= 1.3 * needed
        assert reader.request_count == 2  # descriptor rows, then all tile bytes


def test_truncated_heap_names_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    array = rng.normal(0, 10, (200, 300)).astype(np.float32)
    path = tmp_path / "cut.fits"
    header, offset = _write(path, array, TileCompression("GZIP_2", None))
    data = path.read_bytes()
    path.write_bytes(data[: offset + (len(data) - offset) // 2])
    with open_range_reader(path) as reader:
        with pytest.raises(TruncatedFileError, match=re.escape(str(path))):
            decode_image(header, reader, offset)
        # The first rows are still readable.
        np.testing.assert_array_equal(
            decode_image(header, reader, offset, region=(slice(0, 5), slice(0, 300))), array[:5]
        )


def test_corrupted_tile_is_an_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    array = rng.normal(0, 10, (50, 60)).astype(np.float32)
    path = tmp_path / "bad.fits"
    header, offset = _write(path, array, TileCompression("GZIP_2", None))
    data = bytearray(path.read_bytes())
    heap = offset + TableLayout(header).heap_offset
    data[heap + 20 : heap + 40] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with open_range_reader(path) as reader, pytest.raises(ValueError, match="corrupt|inflates"):
        decode_image(header, reader, offset)


def test_plain_image_region_reads(tmp_path: Path) -> None:
    from astropy.io import fits

    array = np.arange(400 * 300, dtype=">u2").reshape(400, 300)
    path = tmp_path / "plain.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(array)]).writeto(path)
    with fits.open(path) as hdus:
        header, offset = hdus[1].header.copy(), hdus[1].fileinfo()["datLoc"]
    with open_range_reader(path) as reader:
        full = decode_image(header, reader, offset)
        assert full.dtype == np.dtype("u2") and full.dtype.isnative
        np.testing.assert_array_equal(full, array)
        before = reader.bytes_read
        part = decode_image(header, reader, offset, region=(slice(10, 20), slice(5, 8)))
        np.testing.assert_array_equal(part, array[10:20, 5:8])
        assert reader.bytes_read - before == 10 * 300 * 2


def test_resource_reader_uses_ranged_open() -> None:
    """Non-local, non-HTTP resources (S3, ...) are read through their seekable ``open``."""
    import io

    from lsst.images.fits._io import ResourceRangeReader

    class FakeResource:
        opened = 0

        def size(self) -> int:
            return len(DATA)

        def open(self, mode: str) -> io.BytesIO:
            FakeResource.opened += 1
            return io.BytesIO(DATA)

        def __str__(self) -> str:
            return "s3://bucket/data.bin"

    reader = ResourceRangeReader(FakeResource())
    assert reader.name == "s3://bucket/data.bin"
    _check_reader(reader)
    assert FakeResource.opened == 3
    with pytest.raises(TruncatedFileError, match="s3://bucket/data.bin"):
        reader.read_ranges([(len(DATA), 1)])
