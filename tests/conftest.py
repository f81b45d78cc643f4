"""Shared pytest configuration: where the reference fixtures live."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

#: Folder with the reference files written by Rubin's libraries (``../shared/fixtures`` beside the checkout).
FIXTURES = Path(
    os.environ.get("LSST_IMAGES_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures")
)


def fixture_dir(name: str) -> Path:
    """Return a fixture folder, skipping the test when the shared fixtures are not present."""
    path = FIXTURES / name
    if not path.is_dir():
        pytest.skip(f"shared fixtures not found at {path}", allow_module_level=True)
    return path


def load_manifest(name: str) -> dict:
    """Return the parsed ``manifest.json`` of a fixture folder."""
    return json.loads((fixture_dir(name) / "manifest.json").read_text())


def manifest_files(name: str, kinds: tuple[str, ...]) -> list[dict]:
    """Return the manifest entries of a fixture folder whose ``kind`` is one of ``kinds``.

    Meant for test parametrization at collection time: when the fixtures are
    absent it returns an empty list (the tests then collect as skipped) instead
    of skipping the whole module.
    """
    try:
        manifest = load_manifest(name)
    except BaseException:  # pragma: no cover - fixtures missing (pytest's skip is a BaseException)
        return []
    return [f for f in manifest["files"] if f["kind"] in kinds]


@pytest.fixture(scope="session")
def fixtures_root() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture
def deterministic_deflate(monkeypatch):
    """Tile compression through zlib, so that two writes of the same data give the same bytes.

    ISA-L (the ``fast`` extra) does not promise bit-identical deflate streams: under load,
    a tile has come out of it a few bytes longer in one write than in another (both
    streams valid, inflating to the same bytes).  Tests that compare whole files byte for
    byte are about the writer's layout, not the compressor, so they use zlib, which is.
    """
    import zlib

    from lsst.images.fits._tiles import _gzip

    monkeypatch.setattr(_gzip, "_igzip", None)
    monkeypatch.setattr(_gzip, "_stream_lib", zlib)
