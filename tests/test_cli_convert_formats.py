"""``lsst-images convert`` picks the output container from the output file's extension."""

from __future__ import annotations

import numpy as np
import pytest

import lsst.images as li
from conftest import FIXTURES
from lsst.images.cli import main
from lsst.images.cli._formats import check_output, container_for, write_container


def test_container_for() -> None:
    assert container_for("a/b.fits") == "fits"
    assert container_for("B.FITS") == "fits"
    assert container_for("x.json") == "json"
    assert container_for("x.sdf") == "ndf"
    assert container_for("x.h5") == "ndf"
    for bad in ("x.txt", "x", "x.fits.gz"):
        with pytest.raises(ValueError, match="Cannot tell the archive format") as info:
            container_for(bad)
        assert repr(bad) in str(info.value) and "'.sdf', '.h5'" in str(info.value)
    with pytest.raises(ValueError, match="FITS layout; it does not apply to JSON"):
        check_output("x.json", "4300")
    assert check_output("x.fits", "4300") == "fits"


def test_unknown_extension_fails_before_the_input_is_read(tmp_path, capsys) -> None:
    missing = tmp_path / "does-not-exist.fits"
    # A wrong output name is a command-line mistake: exit status 2, like argparse's own errors.
    assert main(["convert", str(missing), str(tmp_path / "out.txt")]) == 2
    err = capsys.readouterr().err
    assert "lsst-images convert: error: Cannot tell the archive format" in err and "out.txt" in err
    assert main(["convert", str(missing), str(tmp_path / "out.sdf"), "--layout", "4300"]) == 2
    assert "does not apply to NDF output" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def _masked_image() -> li.MaskedImage:
    rng = np.random.default_rng(3)
    schema = li.MaskSchema([li.MaskPlane("BAD", "Bad."), li.MaskPlane("CR", "Cosmic ray.")])
    masked = li.MaskedImage(
        li.Image(rng.normal(size=(6, 9)).astype(np.float32), start=(3, 4)), mask_schema=schema
    )
    masked.mask.set("CR", rng.random((6, 9)) < 0.3)
    return masked


@pytest.mark.parametrize(
    ("suffix", "container"), [(".fits", "fits"), (".json", "json"), (".sdf", "ndf"), (".h5", "ndf")]
)
def test_write_container(tmp_path, suffix: str, container: str) -> None:
    import importlib

    if container == "ndf":
        pytest.importorskip("h5py")

    masked = _masked_image()
    path = tmp_path / f"out{suffix}"
    assert write_container(masked, path) == container
    reader = importlib.import_module(f"lsst.images.{container}")
    back = reader.read(li.MaskedImage, str(path)).deserialized
    np.testing.assert_array_equal(back.image.array, masked.image.array)
    np.testing.assert_array_equal(back.mask.get("CR"), masked.mask.get("CR"))
    assert back.bbox == masked.bbox
    if container == "ndf":
        import h5py

        with h5py.File(path) as file:
            assert file.attrs["CLASS"] == b"NDF"


@pytest.mark.parametrize("suffix", [".sdf", ".json"])
def test_convert_legacy_file_to_other_containers(tmp_path, suffix: str) -> None:
    source = FIXTURES / "legacy" / "afw__parent.fits"
    if not source.exists():
        pytest.skip(f"shared fixture {source} not found")
    if suffix == ".sdf":
        pytest.importorskip("h5py")
    from lsst.images import json as images_json
    from lsst.images import ndf
    from lsst.images.legacy import read_masked_image

    out = tmp_path / f"parent{suffix}"
    assert main(["convert", str(source), str(out), "--kind", "masked"]) == 0
    back = (ndf if suffix == ".sdf" else images_json).read(li.MaskedImage, str(out)).deserialized
    original = read_masked_image(source)
    assert back.bbox == original.bbox
    np.testing.assert_array_equal(back.image.array, original.image.array)
    np.testing.assert_array_equal(back.variance.array, original.variance.array)
    assert list(back.mask.schema.names) == list(original.mask.schema.names)
    np.testing.assert_array_equal(back.mask.array, original.mask.array)
