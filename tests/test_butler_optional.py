"""The butler stays optional: nothing imports it unasked, and its absence gives clear errors or skips."""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Makes ``import lsst.daf.butler`` fail in a child process, as on a machine without the extra.
_NO_BUTLER = "import sys; sys.modules['lsst.daf.butler'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_import_lsst_images_does_not_import_the_butler() -> None:
    result = _run(
        """
        import sys
        import lsst.images, lsst.images.tests
        lsst.images.Image.read  # the 4300 entry points do not need it either
        print(sorted(m for m in sys.modules if m.startswith("lsst.daf")))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_formatters_without_the_butler_name_the_extra() -> None:
    result = _run(_NO_BUTLER + "import lsst.images.formatters\n")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "'butler' extra" in result.stderr


def test_butler_helpers_skip_without_the_butler() -> None:
    result = _run(
        _NO_BUTLER
        + textwrap.dedent(
            """
            import unittest
            import lsst.images
            from lsst.images.tests import TemporaryButler, make_test_formatter
            for call in (lambda: TemporaryButler(v="VisitImage").__enter__(),
                         lambda: make_test_formatter(object, lsst.images.Image)):
                try:
                    call()
                except unittest.SkipTest as err:
                    print("skip:", err)
            """
        )
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("skip:") == 2 and "butler" in result.stdout
