"""Tile engine vs the reference files: every image HDU of every fixture decodes exactly.

For each image HDU (tile-compressed or plain) of the lsst-images 2100/4300 fixtures and
the legacy afw files, `decode_image` must return astropy's decoded array (values, NaNs,
native dtype) -- for the whole image and for regions cutting through edge tiles -- and
the manifest's sha256 of the decoded plane (which pins the lossy planes bit for bit).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES, fixture_dir, load_manifest
from lsst.images.fits._io import open_range_reader
from lsst.images.fits._tiles import decode_image

FOLDERS = ("lsst-images-2100", "lsst-images-4300", "legacy")


def _files() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (FIXTURES / folder).glob("*.fits"))


def _sha(array: np.ndarray) -> str:
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return hashlib.sha256(little.tobytes()).hexdigest()


def _image_hdus(path: Path) -> list[tuple[int, object, int, np.ndarray]]:
    """(index, raw header, data offset, astropy-decoded array) of every 2-D image HDU."""
    from astropy.io import fits

    out = []
    with fits.open(path) as decoded, fits.open(path, disable_image_compression=True) as raw:
        for index, (hdu, raw_hdu) in enumerate(zip(decoded, raw, strict=True)):
            header = raw_hdu.header
            is_image = header.get("ZIMAGE", False) or (
                header.get("NAXIS", 0) == 2 and (index == 0 or header.get("XTENSION") == "IMAGE")
            )
            if not is_image:
                continue
            out.append((index, header.copy(), raw_hdu.fileinfo()["datLoc"], np.array(hdu.data)))
    return out


def _regions(shape: tuple[int, int]) -> list[tuple[slice, slice]]:
    h, w = shape
    return [
        (slice(h // 3, h // 3 + max(1, h // 4)), slice(w // 5, w // 5 + max(1, w // 3))),
        (slice(0, 1), slice(0, 1)),
        (slice(h - 1, h), slice(0, w)),
        (slice(0, h), slice(w - 1, w)),
        (slice(max(0, h - 17), h), slice(max(0, w - 33), w)),  # partial edge tiles
    ]


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_hdus_decode_like_astropy(path: Path) -> None:
    hdus = _image_hdus(path)
    assert hdus or path.parent.name == "legacy"
    with open_range_reader(path) as reader:
        for index, header, offset, expected in hdus:
            got = decode_image(header, reader, offset)
            assert got.dtype == expected.dtype.newbyteorder("="), (index, got.dtype, expected.dtype)
            assert got.dtype.isnative
            np.testing.assert_array_equal(got, expected, err_msg=f"HDU {index}")
            for region in _regions(expected.shape):
                part = decode_image(header, reader, offset, region=region, threads=2)
                np.testing.assert_array_equal(part, expected[region], err_msg=f"HDU {index} {region}")


def _manifest_cases() -> list[tuple[str, str, str, str]]:
    import json

    cases = []
    for folder in ("lsst-images-2100", "lsst-images-4300"):
        path = FIXTURES / folder / "manifest.json"
        if not path.exists():
            continue
        manifest = json.loads(path.read_text())
        for name, entry in manifest["files"].items():
            for key, info in entry.get("decoded_hdus_astropy", {}).items():
                cases.append((folder, name, key, info["sha256"]))
    return cases


@pytest.mark.parametrize("folder,name,key,sha", _manifest_cases(), ids=lambda v: str(v)[:40])
def test_decoded_sha256_matches_manifest(folder: str, name: str, key: str, sha: str) -> None:
    from astropy.io import fits

    extname, _, extver = key.partition(",")
    path = FIXTURES / folder / f"{name}.fits"
    with fits.open(path, disable_image_compression=True) as raw:
        hdu = raw[(extname, int(extver or 1))]
        header, offset = hdu.header.copy(), hdu.fileinfo()["datLoc"]
    with open_range_reader(path) as reader:
        assert _sha(decode_image(header, reader, offset)) == sha


def test_lossy_fixture_error_bound() -> None:
    """Decoded lossy planes stay within max(ZSCALE)/2 of the original (manifest tolerance)."""
    from astropy.io import fits

    manifest = load_manifest("lsst-images-2100")  # skips when the shared fixtures are absent
    entry = manifest["files"]["image_f32_lossy_rice_sd2_q16"]
    plane = entry["expect"]["planes"]["image"]
    path = fixture_dir("lsst-images-2100") / "image_f32_lossy_rice_sd2_q16.fits"
    with fits.open(path, disable_image_compression=True) as raw:
        header, offset = raw[1].header.copy(), raw[1].fileinfo()["datLoc"]
        zscale = np.array(raw[1].data["ZSCALE"])
    assert plane["tolerance_abs"] >= zscale.max() / 2
    with open_range_reader(path) as reader:
        got = decode_image(header, reader, offset)
    assert int(np.isnan(got).sum()) == plane["nan_count"]
    for sample in plane["samples"]:
        assert got[sample["y"], sample["x"]] == np.float32(sample["value"])
