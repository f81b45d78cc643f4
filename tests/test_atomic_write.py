"""Crash-safe writes, proven with real processes.

Writers run in subprocesses that are killed with SIGKILL at random moments, or limited
with ``RLIMIT_FSIZE`` (a full disk); readers in another process read a file while it
is being replaced.  In every case the destination holds either the old file or the
complete new one, and no temporary file is left in the folder.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lsst.images import Image, fits, json
from lsst.images._atomic import atomic_output, remove_stale_temporaries

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX process control")

#: Writes generation ``n`` of a test image (pixel values n + index) to argv[1], forever
#: or once; prints "wrote n" after each completed write.
_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from lsst.images import Image, fits, json

    path, start, count, kind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    base = np.arange(512 * 512, dtype=np.float32).reshape(512, 512)
    for n in range(start, start + count):
        image = Image(base + n)
        if kind == "fits":
            fits.write(image, path, compression_options={"image": None})
        else:
            json.write(image, path)
        print("wrote", n, flush=True)
    """
)


def _generation(path: Path, kind: str) -> int:
    """Which generation the file at ``path`` holds (it must be complete and valid)."""
    if kind == "fits":
        image = Image.read_fits(str(path))
    else:
        image = json.read(Image, str(path)).deserialized
    n = float(image.array[0, 0])
    expected = np.arange(512 * 512, dtype=np.float32).reshape(512, 512) + n
    np.testing.assert_array_equal(image.array, expected)
    return int(n)


def _spawn(path: Path, start: int, count: int, kind: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(start), str(count), kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _strays(folder: Path, keep: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != keep)


@pytest.mark.parametrize("kind", ["fits", "json"])
def test_sigkill_leaves_old_or_new_file_and_no_temporary(tmp_path, kind):
    path = tmp_path / f"target.{kind}"
    first = _spawn(path, 0, 1, kind)
    assert first.wait(60) == 0, first.stderr.read()
    rng = random.Random(20240514)
    generation = 0
    for _ in range(5):
        writer = _spawn(path, generation + 1, 1000, kind)
        # Let it start (imports take a while), then kill it somewhere inside a write.
        assert writer.stdout.readline().startswith("wrote"), writer.stderr.read()
        time.sleep(rng.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
        writer.stdout.close()
        writer.stderr.close()
        found = _generation(path, kind)  # complete and valid, old or new
        assert found > generation
        generation = found
        assert _strays(tmp_path, path) == []


def test_full_disk_raises_oserror_and_keeps_old_file(tmp_path):
    path = tmp_path / "target.fits"
    fits.write(Image(np.zeros((4, 4), np.float32)), str(path))
    before = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, sys
        import numpy as np
        from lsst.images import Image, fits
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        try:
            fits.write(Image(np.ones((512, 512), np.float64)), {str(path)!r},
                       compression_options={{"image": None}})
        except OSError as err:
            print("OSError", err)
            sys.exit(3)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "File too large" in result.stdout and str(path) in result.stdout
    assert "previous file is unchanged" in result.stdout
    assert path.read_bytes() == before
    assert _strays(tmp_path, path) == []


def test_concurrent_readers_always_see_a_complete_file(tmp_path):
    path = tmp_path / "target.fits"
    first = _spawn(path, 0, 1, "fits")
    assert first.wait(60) == 0
    writer = _spawn(path, 1, 25, "fits")
    seen = set()
    reads = 0
    try:
        while writer.poll() is None or reads == 0:
            seen.add(_generation(path, "fits"))
            reads += 1
    finally:
        writer.wait(120)
    assert writer.returncode == 0, writer.stderr.read()
    assert reads > 3 and len(seen) > 1
    assert _strays(tmp_path, path) == []


def test_failed_write_keeps_old_file_in_process(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_output(path) as stream:
        stream.write(b"new but unfinished")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert _strays(tmp_path, path) == []
    with atomic_output(path) as stream:
        stream.write(b"new")
    assert path.read_bytes() == b"new"


def test_new_file_gets_default_permissions(tmp_path):
    path = tmp_path / "perm.bin"
    with atomic_output(path) as stream:
        stream.write(b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_stale_named_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".out.bin.{pid}-abcd1234.tmp"
    stale.write_bytes(b"partial")
    live = tmp_path / f".out.bin.{os.getpid()}-abcd1234.tmp"
    live.write_bytes(b"in progress")
    other = tmp_path / ".other.bin.1-abcd.tmp"
    other.write_bytes(b"not ours")
    assert remove_stale_temporaries(str(tmp_path), "out.bin") == [str(stale)]
    assert live.exists() and other.exists() and not stale.exists()
