"""Run small scripts under Rubin's released lsst-images (a black box) to compare behaviours.

The reference interpreter is found through ``LSST_IMAGES_RUBIN_2100_PYTHON``
(default ``/work/venvs/rubin-2100/bin/python``); tests that need it skip when it
is absent, as on CI.  Scripts print one JSON document on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

RUBIN_2100_PYTHON = Path(os.environ.get("LSST_IMAGES_RUBIN_2100_PYTHON", "/work/venvs/rubin-2100/bin/python"))

#: Prepended to scripts that import the reference's ``lsst.images.tests``: that module imports
#: ``lsst.daf.butler`` unconditionally (a packaging bug), so an inert stand-in module is registered
#: first -- after ``lsst.images`` itself has been imported, so that it cannot change what the
#: reference does elsewhere.  Only the butler-free helpers are used.
IMPORT_REFERENCE_TESTS = textwrap.dedent(
    """
    import sys, types
    import lsst.images
    class _Inert:
        def __init__(self, *args, **kwargs):
            pass
        def __class_getitem__(cls, item):
            return cls
    _butler = types.ModuleType("lsst.daf.butler")
    _butler.__getattr__ = lambda name: type(name, (_Inert,), {})
    sys.modules.setdefault("lsst.daf", types.ModuleType("lsst.daf"))
    sys.modules["lsst.daf.butler"] = _butler
    import lsst.images.tests as reference_tests
    """
)


def run_reference_2100(script: str, *, cwd: Path | None = None, timeout: float = 300) -> Any:
    """Run ``script`` with the 2100 wheel's interpreter and return the JSON it prints.

    Skips the calling test when the interpreter is not installed.
    """
    if not RUBIN_2100_PYTHON.exists():
        pytest.skip(f"Rubin's 2100 interpreter not found at {RUBIN_2100_PYTHON}")
    result = subprocess.run(
        [str(RUBIN_2100_PYTHON), "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    if result.returncode != 0:
        raise AssertionError(f"The reference script failed:\n{result.stderr}")
    return json.loads(result.stdout)


RUBIN_4300_PYTHON = Path(os.environ.get("LSST_IMAGES_RUBIN_4300_PYTHON", "/work/venvs/rubin-4300/bin/python"))


def run_reference_4300(script: str, *, cwd: Path | None = None, timeout: float = 300) -> Any:
    """As `run_reference_2100`, with the 4300 wheel (``LSST_IMAGES_RUBIN_4300_PYTHON``)."""
    if not RUBIN_4300_PYTHON.exists():
        pytest.skip(f"Rubin's 4300 interpreter not found at {RUBIN_4300_PYTHON}")
    result = subprocess.run(
        [str(RUBIN_4300_PYTHON), "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    if result.returncode != 0:
        raise AssertionError(f"The reference script failed:\n{result.stderr}")
    return json.loads(result.stdout)
