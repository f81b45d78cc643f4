"""Range readers: local files, URLs, buffers and HTTP servers; coalescing and errors."""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsst.images.fits._io import RangeReader, TruncatedFileError, open_range_reader

_PAYLOAD = bytes(range(256)) * 400  # 102 400 bytes


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(_PAYLOAD)
    return path


def _check_reader(reader: RangeReader) -> None:
    assert reader.size == len(_PAYLOAD)
    ranges = [(5000, 10), (0, 3), (100, 50), (120, 10), (len(_PAYLOAD) - 7, 7), (9, 0)]
    got = reader.read_ranges(ranges)
    assert got == [_PAYLOAD[o : o + n] for o, n in ranges]
    assert reader.bytes_read >= sum(n for _, n in ranges) - 10  # overlap of (100,50)/(120,10)
    assert reader.request_count >= 1


def test_local_path_str_pathlike_and_file_url(data_file: Path) -> None:
    for target in (str(data_file), data_file, data_file.as_uri()):
        with open_range_reader(target) as reader:
            _check_reader(reader)
            assert reader.name == str(data_file)


def test_bytes_and_memoryview() -> None:
    for target in (_PAYLOAD, bytearray(_PAYLOAD), memoryview(_PAYLOAD)):
        with open_range_reader(target) as reader:
            _check_reader(reader)


def test_resource_path_local(data_file: Path) -> None:
    from lsst.resources import ResourcePath

    with open_range_reader(ResourcePath(str(data_file))) as reader:
        _check_reader(reader)


def test_existing_reader_is_returned_unchanged(data_file: Path) -> None:
    with open_range_reader(data_file) as reader:
        assert open_range_reader(reader) is reader


def test_past_end_names_the_file(data_file: Path) -> None:
    with open_range_reader(data_file) as reader:
        with pytest.raises(TruncatedFileError, match="data.bin.*truncated"):
            reader.read_ranges([(len(_PAYLOAD) - 5, 10)])
        with pytest.raises(ValueError, match="data.bin"):
            reader.read_ranges([(-1, 10)])
    assert issubclass(TruncatedFileError, OSError)


def test_file_shrinking_after_open_is_a_short_read(data_file: Path) -> None:
    with open_range_reader(data_file) as reader:
        os.truncate(data_file, 1000)
        with pytest.raises(TruncatedFileError, match="short read"):
            reader.read_ranges([(500, 5000)])


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError):
        open_range_reader("/nonexistent/dir/file.fits")


def test_threads_share_a_reader(data_file: Path) -> None:
    errors: list[Exception] = []
    with open_range_reader(data_file) as reader:

        def work(k: int) -> None:
            try:
                for i in range(50):
                    offset = (k * 997 + i * 131) % (len(_PAYLOAD) - 100)
                    assert reader.read_ranges([(offset, 100)]) == [_PAYLOAD[offset : offset + 100]]
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert reader.request_count == 200
    assert not errors


# ---------------------------------------------------------------------- HTTP


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves one directory; honours single ``Range`` requests unless ``ignore_range``."""

    ignore_range = False
    allow_head = True
    sent = 0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:
        if not type(self).allow_head:
            self.send_error(405)
            return
        super().do_HEAD()

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = Path(path).read_bytes()
        match = re.match(r"bytes=(\d+)-(\d+)$", self.headers.get("Range", ""))
        if match and not type(self).ignore_range:
            start, stop = int(match.group(1)), min(len(data), int(match.group(2)) + 1)
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(data)}")
        else:
            start, stop = 0, len(data)
            self.send_response(200)
        self.send_header("Content-Length", str(stop - start))
        self.end_headers()
        self.wfile.write(data[start:stop])
        type(self).sent += stop - start


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, type[_Handler]]]:
    (tmp_path / "data.bin").write_bytes(_PAYLOAD)
    handler = type("Handler", (_Handler,), {"sent": 0})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=str(tmp_path), **k)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_http_ranges(http_server: tuple[str, type[_Handler]]) -> None:
    url, handler = http_server
    with open_range_reader(f"{url}/data.bin") as reader:
        _check_reader(reader)
        assert handler.sent <= 8192 * 2  # only the ranges (plus small coalescing gaps)
        reader.read_ranges([(10, 5), (30000, 5), (60000, 5)])  # three concurrent requests
        assert reader.request_count >= 4


def test_http_resource_path(http_server: tuple[str, type[_Handler]]) -> None:
    pytest.importorskip("requests")  # lsst.resources needs it for http(s) URIs
    from lsst.resources import ResourcePath

    url, _ = http_server
    with open_range_reader(ResourcePath(f"{url}/data.bin")) as reader:
        _check_reader(reader)


def test_http_without_head_or_ranges(http_server: tuple[str, type[_Handler]]) -> None:
    url, handler = http_server
    handler.allow_head = False
    handler.ignore_range = True
    with open_range_reader(f"{url}/data.bin") as reader:
        _check_reader(reader)


def test_http_missing_and_past_end(http_server: tuple[str, type[_Handler]]) -> None:
    url, _ = http_server
    with pytest.raises(FileNotFoundError, match="absent.bin"):
        open_range_reader(f"{url}/absent.bin")
    with open_range_reader(f"{url}/data.bin") as reader:
        with pytest.raises(TruncatedFileError, match="data.bin"):
            reader.read_ranges([(len(_PAYLOAD), 1)])
