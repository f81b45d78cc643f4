"""Region decodes of every fixture HDU through the tile engine and range reader, against astropy.

For each FITS file of the 2100, 4300 and legacy fixture folders, every 2-D image HDU
(tile-compressed BINTABLE or plain IMAGE) is decoded by our engine in full and in
several regions (interior, partial edge tiles, single pixels, last row) and compared
with astropy's own decode of the same HDU; the manifests' decoded sha256 values are
checked too, which pins the lossy (quantized) planes to the reference bit for bit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES
from lsst.images.fits._io import open_range_reader
from lsst.images.fits._tiles import decode_image

FOLDERS = ("lsst-images-2100", "lsst-images-4300", "legacy")


def _fits_files() -> list[Path]:
    files = []
    for folder in FOLDERS:
        path = FIXTURES / folder
        if path.is_dir():
            files += sorted(path.glob("*.fits"))
    return files


def _image_hdus(path: Path) -> list[tuple[int, object, int, tuple[int, int]]]:
    """(index, raw header, data offset, shape) of every 2-D image HDU of ``path``."""
    from astropy.io import fits

    out = []
    with fits.open(path, disable_image_compression=True, lazy_load_hdus=False) as hdus:
        for index, hdu in enumerate(hdus):
            header = hdu.header
            if header.get("ZIMAGE", False):
                if int(header.get("ZNAXIS", 0)) == 2:
                    shape = (int(header["ZNAXIS2"]), int(header["ZNAXIS1"]))
                    out.append((index, header.copy(), hdu.fileinfo()["datLoc"], shape))
            elif header.get("XTENSION", "IMAGE") == "IMAGE" and int(header.get("NAXIS", 0)) == 2:
                shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
                out.append((index, header.copy(), hdu.fileinfo()["datLoc"], shape))
    return out


def _astropy_decode(path: Path, index: int) -> np.ndarray:
    from astropy.io import fits

    with fits.open(path) as hdus:
        data = np.array(hdus[index].data)
    return data.astype(data.dtype.newbyteorder("="))


def _regions(shape: tuple[int, int], header: object) -> list[tuple[slice, slice]]:
    h, w = shape
    ty = int(header.get("ZTILE2", 1)) if header.get("ZIMAGE", False) else 1
    tx = int(header.get("ZTILE1", w)) if header.get("ZIMAGE", False) else w
    regions = [
        (slice(0, h), slice(0, w)),
        (slice(h // 3, max(h // 3 + 1, 2 * h // 3)), slice(w // 4, max(w // 4 + 1, 3 * w // 4))),
        (slice(0, 1), slice(0, 1)),
        (slice(h - 1, h), slice(0, w)),
        (slice(0, h), slice(w - 1, w)),
    ]
    # A region starting and ending inside tiles (partial tiles on every side).
    if h > ty + 2 and w > tx + 2:
        regions.append((slice(ty // 2 + 1, h - 1), slice(tx // 2 + 1, w - 1)))
    return regions


@pytest.mark.parametrize("path", _fits_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_images_decode_like_astropy(path: Path) -> None:
    hdus = _image_hdus(path)
    with open_range_reader(path) as reader:
        for index, header, offset, shape in hdus:
            want = _astropy_decode(path, index)
            assert want.shape == shape
            for region in _regions(shape, header):
                got = decode_image(header, reader, offset, region=region)
                assert got.dtype == want.dtype, (index, got.dtype, want.dtype)
                assert got.dtype.isnative
                np.testing.assert_array_equal(got, want[region], err_msg=f"HDU {index} region {region}")


def _manifest_hashes() -> list[tuple[Path, str, str]]:
    import json

    cases = []
    for folder in ("lsst-images-2100", "lsst-images-4300"):
        manifest_path = FIXTURES / folder / "manifest.json"
        if not manifest_path.is_file():
            continue
        manifest = json.loads(manifest_path.read_text())
        for entry in manifest["files"].values():
            for name, decoded in (entry.get("decoded_hdus_astropy") or {}).items():
                cases.append((FIXTURES / folder / entry["file"], name, decoded["sha256"]))
    return cases


@pytest.mark.parametrize(
    "path,extname,sha256", _manifest_hashes(), ids=lambda v: v.name if isinstance(v, Path) else str(v)[:12]
)
def test_fixture_decoded_sha256(path: Path, extname: str, sha256: str) -> None:
    from astropy.io import fits

    with fits.open(path, disable_image_compression=True) as hdus:
        name, _, ver = extname.partition(",")
        hdu = hdus[(name, int(ver))] if ver else hdus[name]
        header, offset = hdu.header.copy(), hdu.fileinfo()["datLoc"]
    with open_range_reader(path) as reader:
        array = decode_image(header, reader, offset)
    digest = hashlib.sha256(
        np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    ).hexdigest()
    assert digest == sha256


def test_lossy_fixtures_present() -> None:
    """The sha256 test above must cover quantized planes (RICE and GZIP, all dithers)."""
    from astropy.io import fits

    kinds = set()
    for path, extname, _ in _manifest_hashes():
        with fits.open(path, disable_image_compression=True) as hdus:
            name, _, ver = extname.partition(",")
            header = (hdus[(name, int(ver))] if ver else hdus[name]).header
            if header.get("ZIMAGE") and "ZSCALE" in [header.get(f"TTYPE{k}") for k in range(1, 5)]:
                kinds.add((header["ZCMPTYPE"], header.get("ZQUANTIZ", "NO_DITHER")))
    if not kinds:
        pytest.skip("no lossy fixtures available")
    assert {"SUBTRACTIVE_DITHER_2", "NO_DITHER"} <= {k[1] for k in kinds}
    assert {"RICE_1"} <= {k[0] for k in kinds}
