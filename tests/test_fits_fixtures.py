"""Every reference fixture (2100 and 4300 layouts) reads, matches its manifest, and rewrites losslessly."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import re
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

import lsst.images as li
from conftest import FIXTURES, load_manifest
from lsst.images import fits

VERIFY = FIXTURES.parent / "tools" / "verify_fixtures.py"
LAYOUTS = ("lsst-images-2100", "lsst-images-4300")
ALL_CLASSES = ("Image", "Mask", "MaskedImage", "VisitImage")


def _entries(classes: tuple[str, ...]) -> list:
    params = []
    for layout in LAYOUTS:
        try:
            manifest = load_manifest(layout) if (FIXTURES / layout).is_dir() else None
        except Exception:  # pragma: no cover - skipped below
            manifest = None
        if manifest is None:
            continue
        for name, entry in manifest["files"].items():
            if entry["class"] in classes:
                params.append(pytest.param(layout, name, entry, id=f"{layout[-4:]}-{name}"))
    return params


def sha256(array: np.ndarray) -> str:
    """The manifests' hash convention: in-memory dtype, C order, little-endian."""
    return hashlib.sha256(
        np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    ).hexdigest()


def _planes(obj) -> dict[str, tuple[np.ndarray, u.UnitBase | None]]:
    if isinstance(obj, li.Mask):
        return {"mask": (obj.array, None)}
    if isinstance(obj, li.Image):
        return {"image": (obj.array, obj.unit)}
    return {
        "image": (obj.image.array, obj.image.unit),
        "mask": (obj.mask.array, None),
        "variance": (obj.variance.array, obj.variance.unit),
    }


@functools.cache
def _verifier():
    """The shared fixture checker, imported once (running it in-process saves an interpreter per file)."""
    spec = importlib.util.spec_from_file_location("verify_fixtures", VERIFY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_verifies(path: Path) -> None:
    if not VERIFY.exists():
        return
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = _verifier().main(["--no-manifest", str(path)])
    assert status == 0, buffer.getvalue()


def _primary_cards(obj) -> frozenset[str]:
    """Keywords of the opaque primary cards carried by an object read from FITS."""
    header = obj._opaque_metadata.headers.get(fits.ExtensionKey())
    return frozenset() if header is None else frozenset(header.keys())


def _box(d: dict) -> li.Box:
    return li.Box(li.Interval(*d["y"]), li.Interval(*d["x"]))


def _check_expect(obj, expect: dict, primary_cards: frozenset[str] = frozenset()) -> None:
    assert obj.bbox == _box(expect["bbox"])
    planes = _planes(obj)
    for name, want in expect["planes"].items():
        array, unit = planes[name]
        assert array.dtype == np.dtype(want["dtype"]), name
        assert sha256(array) == want["sha256"], name
        if name != "mask":
            want_unit = want.get("unit")
            assert (unit is None) == (want_unit is None), name
            if want_unit is not None:
                assert unit == u.Unit(want_unit), name
        else:
            schema = obj.schema if isinstance(obj, li.Mask) else obj.mask.schema
            names = [p.name if p is not None else None for p in schema]
            assert names == [p["name"] if p else None for p in want["schema"]]
    if "metadata" in expect:
        # 4300 readers also copy the opaque primary cards into metadata; we keep the 2100
        # semantics (they stay opaque header cards), so those keys are not expected here.
        want = {k: v for k, v in expect["metadata"].items() if k not in primary_cards}
        assert dict(obj.metadata) == want


@pytest.mark.parametrize(("layout", "name", "entry"), _entries(ALL_CLASSES))
def test_fixture_reads_and_matches_manifest(layout: str, name: str, entry: dict) -> None:
    cls = getattr(li, entry["class"])
    path = FIXTURES / layout / entry["file"]
    result = fits.read(cls, str(path))
    obj = result.deserialized
    assert type(obj) is cls
    _check_expect(obj, entry["expect"], _primary_cards(obj))
    assert isinstance(obj._opaque_metadata, fits.FitsOpaqueMetadata)
    headers = obj._opaque_metadata.headers
    assert fits.ExtensionKey() in headers
    # Every card of the data HDUs was written by the library, so nothing is left over.
    for key in ("IMAGE", "MASK", "VARIANCE"):
        if key.lower() in entry["expect"]["planes"]:
            assert len(headers[fits.ExtensionKey(key)]) == 0, key


@pytest.mark.parametrize(("layout", "name", "entry"), _entries(ALL_CLASSES))
def test_fixture_subimage_reads(layout: str, name: str, entry: dict) -> None:
    cls = getattr(li, entry["class"])
    path = str(FIXTURES / layout / entry["file"])
    for case, read in entry["subimage_reads"].items():
        if case.startswith("_"):
            continue
        box = _box(read["bbox"])
        if not read["ok"]:
            with pytest.raises(IndexError):
                fits.read(cls, path, bbox=box)
            continue
        obj = fits.read(cls, path, bbox=box).deserialized
        assert obj.bbox == _box(read["result_bbox"]), case
        planes = _planes(obj)
        for plane, digest in read["sha256"].items():
            assert sha256(planes[plane][0]) == digest, (case, plane)


@pytest.mark.parametrize(("layout", "name", "entry"), _entries(ALL_CLASSES))
def test_fixture_rewrite_is_lossless(tmp_path: Path, layout: str, name: str, entry: dict) -> None:
    cls = getattr(li, entry["class"])
    original = fits.read(cls, str(FIXTURES / layout / entry["file"])).deserialized
    out = tmp_path / "rewrite.fits"
    fits.write(original, str(out))
    again = fits.read(cls, str(out)).deserialized
    _check_expect(again, entry["expect"], _primary_cards(again))
    # Opaque primary cards survive (minus butler cards).
    before = original._opaque_metadata.headers[fits.ExtensionKey()]
    after = again._opaque_metadata.headers[fits.ExtensionKey()]
    assert [(c.keyword, c.value) for c in after.cards] == [
        (c.keyword, c.value) for c in before.cards if not c.keyword.startswith("LSST BUTLER")
    ]
    _assert_verifies(out)
    from astropy.io import fits as afits

    with afits.open(out) as hdus:
        planes = _planes(again)
        if "IMAGE" in hdus:
            np.testing.assert_array_equal(hdus["IMAGE"].data, planes["image"][0])


@pytest.mark.parametrize(("layout", "name", "entry"), _entries(ALL_CLASSES))
def test_fixture_rewrite_4300_layout(tmp_path: Path, layout: str, name: str, entry: dict) -> None:
    cls = getattr(li, entry["class"])
    original = fits.read(cls, str(FIXTURES / layout / entry["file"])).deserialized
    out = tmp_path / "rewrite4300.fits"
    fits.write(original, str(out), layout="4300")
    with fits.FitsInputArchive.open(str(out)) as archive:
        assert archive.layout == "4300"
        tree = archive.get_tree_dict()
        assert tree["schema_url"].endswith("-" + tree["schema_version"])
        assert tree["min_read_version"] == 1
        assert archive.primary_header["DATAMODL"] == tree["schema_url"]
    again = fits.read(cls, str(out)).deserialized
    _check_expect(again, entry["expect"], _primary_cards(again))
    _assert_verifies(out)


def test_fitsio_reads_our_files(tmp_path: Path) -> None:
    fitsio = pytest.importorskip("fitsio")
    manifest = load_manifest("lsst-images-2100")
    entry = manifest["files"]["masked_image_f32_default"]
    obj = fits.read(li.MaskedImage, str(FIXTURES / "lsst-images-2100" / entry["file"])).deserialized
    out = tmp_path / "mi.fits"
    fits.write(obj, str(out))
    np.testing.assert_array_equal(fitsio.read(str(out), ext="IMAGE"), obj.image.array)
    np.testing.assert_array_equal(fitsio.read(str(out), ext="VARIANCE"), obj.variance.array)


@pytest.mark.parametrize(("layout", "name", "entry"), _entries(ALL_CLASSES))
def test_fixture_rewrite_tree_bytes_match_reference(
    tmp_path: Path, layout: str, name: str, entry: dict
) -> None:
    """Rewriting in the file's own layout reproduces the reference JSON tree byte for byte."""
    cls = getattr(li, entry["class"])
    folder = FIXTURES / layout
    original = fits.read(cls, str(folder / entry["file"])).deserialized
    out = tmp_path / "tree.fits"
    fits.write(original, str(out), layout=layout[-4:])
    with fits.FitsInputArchive.open(str(out)) as archive:
        got = archive.get_tree_bytes()
    assert got == (folder / f"{name}.tree.json").read_bytes()


def _verify_errors(path: Path, manifest: Path, entry: str) -> set[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        _verifier().main(["--manifest", str(manifest), "--entry", entry, str(path)])
    errors = {line.strip() for line in buffer.getvalue().splitlines() if "ERROR" in line}
    return {e for e in errors if not _only_checksum_cards_differ(e)}


_CHECKSUM_CARD = re.compile(r",? ?\['(CHECKSUM|DATASUM)', '[^']*'\]")


def _only_checksum_cards_differ(error: str) -> bool:
    """The checker predates checksums: our primary's CHECKSUM/DATASUM cards are no layout error."""
    if "non-structural primary cards" not in error or " != reference " not in error:
        return False
    ours, reference = error.split(": ", 1)[1].split(" != reference ")
    ours = _CHECKSUM_CARD.sub("", ours.replace("non-structural primary cards ", "")).replace("[, ", "[")
    return ours.strip() == reference.strip()


@pytest.mark.parametrize(("layout", "name", "entry"), _entries(ALL_CLASSES))
def test_fixture_rewrite_with_same_compression_passes_manifest(
    tmp_path: Path, layout: str, name: str, entry: dict
) -> None:
    """Rewritten with the file's own compression settings, the file satisfies the reference manifest.

    The checker is run on the reference file too: the only errors tolerated are those
    it also reports for the reference itself.
    """
    if not VERIFY.exists():
        pytest.skip("verify_fixtures.py not available")
    cls = getattr(li, entry["class"])
    folder = FIXTURES / layout
    source = folder / entry["file"]
    original = fits.read(cls, str(source)).deserialized
    with fits.FitsInputArchive.open(str(source)) as archive:
        options = archive.get_compression_options()
    out = tmp_path / entry["file"]
    fits.write(original, str(out), compression_options=options, layout=layout[-4:])
    manifest = folder / "manifest.json"
    assert _verify_errors(out, manifest, name) <= _verify_errors(source, manifest, name)
