"""Remote reads against a misbehaving HTTP server on 127.0.0.1.

The server drops connections, sends short bodies, answers 5xx or ignores ``Range``
for a configurable number of requests.  Reads must retry (bounded, with back-off) and
return the right pixels, or -- when the server never recovers -- fail with a clear
error; a short body is never decoded.
"""

from __future__ import annotations

import http.server
import re
import threading
from pathlib import Path

import numpy as np
import pytest

from lsst.images import Box, Image, fits
from lsst.images.fits._io import HttpRangeReader, RemoteReadError

_RANGE = re.compile(r"bytes=(\d+)-(\d+)$")


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    data = b""
    mode = "ok"
    failures = 0  # how many more ranged GETs misbehave

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.data)))
        self.end_headers()

    def do_GET(self) -> None:
        match = _RANGE.match(self.headers.get("Range", ""))
        start, stop = (int(match.group(1)), int(match.group(2)) + 1) if match else (0, len(self.data))
        cls = type(self)
        bad = cls.failures > 0
        cls.failures -= 1
        if bad and cls.mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if bad and cls.mode == "5xx":
            self.send_error(503)
            return
        body = self.data[start:stop]
        if bad and cls.mode == "ignore-range":
            self.send_response(200)
            body = self.data
        else:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(self.data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if bad and cls.mode == "short":
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path):
    image = Image(np.arange(64 * 48, dtype=np.float32).reshape(64, 48))
    path = tmp_path / "remote.fits"
    fits.write(image, str(path))
    _FlakyHandler.data = Path(path).read_bytes()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/remote.fits", image
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("mode", ["drop", "short", "5xx", "ignore-range"])
def test_transient_failures_are_retried(server, mode, monkeypatch):
    url, image = server
    monkeypatch.setattr(HttpRangeReader, "BACKOFF", 0.001)
    _FlakyHandler.mode, _FlakyHandler.failures = mode, 2
    back = Image.read_fits(url)
    np.testing.assert_array_equal(back.array, image.array)
    _FlakyHandler.failures = 2
    cut = Image.read_fits(url, bbox=Box.factory[10:20, 5:9])
    np.testing.assert_array_equal(cut.array, image.array[10:20, 5:9])


@pytest.mark.parametrize("mode", ["drop", "short", "5xx"])
def test_persistent_failures_end_with_a_clear_error(server, mode, monkeypatch):
    url, _ = server
    monkeypatch.setattr(HttpRangeReader, "BACKOFF", 0.001)
    _FlakyHandler.mode, _FlakyHandler.failures = mode, 10**6
    with pytest.raises(RemoteReadError, match=r"remote\.fits: reading bytes .* failed after 4 attempts"):
        Image.read_fits(url)
    assert _FlakyHandler.failures == 10**6 - HttpRangeReader.ATTEMPTS  # bounded: one range, 4 tries
