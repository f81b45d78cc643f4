"""Shared pytest configuration: where the reference fixtures live."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

#: Folder with the reference files written by Rubin's libraries (``../shared/fixtures`` beside the checkout).
FIXTURES = Path(os.environ.get("LSST_IMAGES_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures"))


def fixture_dir(name: str) -> Path:
    """Return a fixture folder, skipping the test when the shared fixtures are not present."""
    path = FIXTURES / name
    if not path.is_dir():
        pytest.skip(f"shared fixtures not found at {path}", allow_module_level=True)
    return path


def load_manifest(name: str) -> dict:
    """Return the parsed ``manifest.json`` of a fixture folder."""
    return json.loads((fixture_dir(name) / "manifest.json").read_text())


@pytest.fixture(scope="session")
def fixtures_root() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES
