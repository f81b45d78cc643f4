"""`FileRangeReader.read_into`: reads into a caller's reusable buffer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lsst.images.fits._io import FileRangeReader, TruncatedFileError


def test_read_into_matches_read_ranges(tmp_path: Path) -> None:
    data = np.random.default_rng(5).integers(0, 256, 100_000, dtype=np.uint8).tobytes()
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    with FileRangeReader(path) as reader:
        buffer = np.zeros(30_000, dtype=np.uint8)
        reader.read_into(12_345, buffer)
        assert buffer.tobytes() == data[12_345:42_345]
        assert (reader.bytes_read, reader.request_count) == (30_000, 1)
        reader.read_into(70_000, memoryview(buffer)[:30_000])  # the last bytes of the file
        assert buffer.tobytes() == data[70_000:]
        with pytest.raises(TruncatedFileError, match="blob.bin"):
            reader.read_into(90_000, buffer)
    with pytest.raises(ValueError, match="closed"):
        reader.read_into(0, buffer)
