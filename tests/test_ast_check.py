"""AST native text is checked before starlink-pyast reads it (damaged dumps can crash AST).

The fuzz runner found two same-length edits of a projection's FrameSet in a file's JSON
tree (``Frm1`` -> ``Frm7``: a segfault inside AST; ``Frm3`` -> ``Frm4``: AST's error
status left set, failing an unrelated later call).  Both must be refused with a clear
error, and nothing AST writes itself may be refused.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lsst.images import Box, DetectorFrame, Image, fits
from lsst.images._transforms._ast_check import check_ast_text
from lsst.images._transforms._ast_utils import ast_from_text, ast_to_text
from lsst.images.tests import make_random_projection


@pytest.fixture(scope="module")
def frame_set_text() -> str:
    frame = DetectorFrame(instrument="X", visit=1, detector=2, bbox=Box.factory[0:200, 0:300])
    projection = make_random_projection(np.random.default_rng(5), frame, Box.factory[0:200, 0:300])
    return projection.show(comments=True)


def test_text_ast_wrote_is_accepted(frame_set_text):
    check_ast_text(frame_set_text.splitlines())
    # ...with and without AST's comments, and after a round trip through AST.
    obj = ast_from_text(frame_set_text)
    check_ast_text(ast_to_text(obj, comments=False).splitlines())


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("Frm1 =", "Frm7 =", r"frame items \[2, 3, 4, 7\]"),
        ("Frm3 =", "Frm2 =", "duplicate item Frm2"),
        ("Nframe = 4", "Nframe = 9", "Nframe = 9 has frame items"),
        ("Currnt = 2", "Currnt = 8", "Currnt = 8 is not a frame"),
        ("Lnk3 = 1", "Lnk3 = 5", "Lnk3 = 5 is not another node"),
        ("End FrameSet", "End FrameSex", "End FrameSex closes FrameSet"),
        ("Begin SkyFrame", "Begin SkyFrame\n Begin Frame", "is not the value of an item"),
        ('Domain = "GRID"', 'Domain = "GRID', "unterminated string"),
        ("Nframe = 4", "Nframe = 4x", "neither a number nor a quoted string"),
        ("Nframe = 4", "Nframe 4", "not an AST item"),
    ],
)
def test_damaged_text_is_refused(frame_set_text, old, new, message):
    assert old in frame_set_text, old
    with pytest.raises(ValueError, match=message):
        check_ast_text(frame_set_text.replace(old, new, 1).splitlines())
    with pytest.raises(ValueError, match="invalid AST text"):
        ast_from_text(frame_set_text.replace(old, new, 1))


def test_unclosed_and_deep_text_is_refused(frame_set_text):
    lines = frame_set_text.splitlines()
    with pytest.raises(ValueError, match="never closed"):
        check_ast_text(lines[:-1])
    deep = ["Begin CmpMap"] + [" MapA =", "Begin CmpMap"] * 200 + ["End CmpMap"] * 201
    with pytest.raises(ValueError, match="nested deeper"):
        check_ast_text(deep)


@pytest.mark.parametrize("old,new", [(b"Frm1 =", b"Frm7 ="), (b"Frm3 =", b"Frm4 =")])
def test_file_with_damaged_frame_set_is_refused_in_a_fresh_process(tmp_path, frame_set_text, old, new):
    # A fresh interpreter: a crash inside AST would show as a signal, not kill pytest.
    frame = DetectorFrame(instrument="X", visit=1, detector=2, bbox=Box.factory[0:200, 0:300])
    projection = make_random_projection(np.random.default_rng(5), frame, Box.factory[0:200, 0:300])
    image = Image(np.arange(200 * 300, dtype=np.float32).reshape(200, 300), projection=projection)
    path = tmp_path / "image.fits"
    fits.write(image, str(path), checksum=False)  # as Rubin writes: no checksum to catch the edit
    data = path.read_bytes()
    assert old in data
    good = tmp_path / "good.fits"
    good.write_bytes(data)
    path.write_bytes(data.replace(old, new, 1))
    script = textwrap.dedent(
        f"""
        from lsst.images import Image
        from lsst.images.serialization import ArchiveReadError
        try:
            Image.read_fits({str(path)!r})
        except ArchiveReadError as err:
            assert {str(path)!r} in str(err), err
            print("refused:", err)
        # AST is left in a clean state: an undamaged projection still reads and works.
        good = Image.read_fits({str(good)!r})
        print("good:", good.projection.pixel_to_sky(x=10.0, y=20.0).ra.deg)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "invalid AST text" in done.stdout
    expected = projection.pixel_to_sky(x=10.0, y=20.0).ra.deg
    assert float(done.stdout.split("good:")[1]) == pytest.approx(expected, abs=1e-12)
