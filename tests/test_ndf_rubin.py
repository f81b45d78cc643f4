"""NDF files cross the library boundary: Rubin's lsst-images 30.2026.2100 reads ours and we read its.

Two levels:

* ``tests/data/ndf/*.sdf`` were written by the reference wheel (``make_files.py``); we
  read them and must reproduce the summaries the *reference* recorded.  No Rubin
  interpreter needed, so CI runs these.
* With the reference interpreter installed (``LSST_IMAGES_RUBIN_2100_PYTHON``, default
  ``/work/venvs/rubin-2100/bin/python``, with h5py), each object is written by one
  library and read by the other in a subprocess, and the summaries must agree; the
  files must also be identical, HDF5 object by object, except for the mask WCS bug fix.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import lsst.images as li  # noqa: E402
import ndf_crosscheck  # noqa: E402
from conftest import FIXTURES  # noqa: E402
from lsst.images import ndf  # noqa: E402

DATA = Path(__file__).parent / "data" / "ndf"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
RUBIN_PYTHON = Path(os.environ.get("LSST_IMAGES_RUBIN_2100_PYTHON", "/work/venvs/rubin-2100/bin/python"))
SCRIPT = Path(ndf_crosscheck.__file__)
CLASSES = {
    "image": "Image",
    "image_i16": "Image",
    "mask": "Mask",
    "masked_image": "MaskedImage",
    "color_image": "ColorImage",
    "visit": "VisitImage",
}


def _assert_same_summary(ours: dict, theirs: dict) -> None:
    """Summaries must be equal; sky positions to 1e-10 degrees (AST may differ in the last bits)."""
    ours, theirs = dict(ours), dict(theirs)
    sky_ours, sky_theirs = ours.pop("sky"), theirs.pop("sky")
    assert ours == theirs
    assert (sky_ours is None) == (sky_theirs is None)
    if sky_ours is not None:
        np.testing.assert_allclose(sky_ours, sky_theirs, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_read_files_written_by_rubin(name: str) -> None:
    entry = MANIFEST["files"][name]
    result = ndf.read(getattr(li, entry["class"]), DATA / name)
    assert type(result.deserialized).__name__ == entry["class"]
    _assert_same_summary(ndf_crosscheck.summarize(result.deserialized), entry["summary"])
    assert result.metadata == entry["summary"]["metadata"]


def test_rubin_files_are_what_we_write(tmp_path) -> None:
    """Rewriting a Rubin file gives the same HDF5 objects (its mask WCS aside, which we fix)."""
    for name, entry in MANIFEST["files"].items():
        obj = ndf.read(getattr(li, entry["class"]), DATA / name).deserialized
        ndf.write(obj, tmp_path / name)
        assert _differences(DATA / name, tmp_path / name) <= {"MORE/LSST/MASK/WCS/DATA"}, name


def test_sub_image_of_a_rubin_file() -> None:
    box = li.Box.factory[12:15, 22:27]
    full = ndf.read(li.MaskedImage, DATA / "masked_image.sdf").deserialized
    part = ndf.read(li.MaskedImage, DATA / "masked_image.sdf", bbox=box).deserialized
    assert ndf_crosscheck.summarize(part) == ndf_crosscheck.summarize(full[box])


def _differences(a: Path, b: Path) -> set[str]:
    """Paths of the HDF5 objects that differ (attributes, types, shapes or bytes) between two files."""

    def walk(path: Path) -> dict:
        entries: dict = {}
        with h5py.File(path) as file:

            def visit(name: str, node) -> None:
                attrs = {k: bytes(v) for k, v in node.attrs.items()}
                if isinstance(node, h5py.Dataset):
                    entries[name] = (
                        attrs,
                        node.dtype.str,
                        node.shape,
                        node.id.get_type().get_class(),
                        node[()].tobytes(),
                    )
                else:
                    entries[name] = (attrs,)

            file.visititems(visit)
            entries["/"] = ({k: bytes(v) for k, v in file.attrs.items()},)
        return entries

    first, second = walk(a), walk(b)
    return {k for k in first.keys() | second.keys() if first.get(k) != second.get(k)}


# ---------------------------------------------------------------------------------------- live wheel


def _rubin_available() -> bool:
    if not RUBIN_PYTHON.exists():
        return False
    check = subprocess.run([str(RUBIN_PYTHON), "-c", "import h5py, lsst.images.ndf"], capture_output=True)
    return check.returncode == 0


needs_rubin = pytest.mark.skipif(
    not _rubin_available(), reason=f"Rubin's 2100 interpreter with h5py not found at {RUBIN_PYTHON}"
)


def _kinds() -> list[str]:
    kinds = list(ndf_crosscheck.KINDS)
    if (FIXTURES / ndf_crosscheck.VISIT_FIXTURE).exists():
        kinds.append("visit")
    return kinds


#: Images of types the reference cannot write (big-endian, uint16, int8).
UNWRITABLE = {"f8_big": ">f8", "u2": "u2", "i1": "i1"}


def _unwritable_image(dtype: str) -> li.Image:
    return li.Image((np.arange(12).reshape(3, 4) * 5).astype(dtype), start=(1, -2))


@pytest.fixture(scope="module")
def exchange(tmp_path_factory) -> dict:
    """Files we wrote and files the reference wrote, with the reference's summaries.

    One reference interpreter run serves every test (starting it costs seconds).
    """
    folder = tmp_path_factory.mktemp("rubin-exchange")
    commands, keys = [], []
    for kind in _kinds():
        ndf.write(ndf_crosscheck.build(kind, str(FIXTURES)), folder / f"ours_{kind}.sdf")
        commands.append(["read", CLASSES[kind], str(folder / f"ours_{kind}.sdf")])
        commands.append(["write", kind, str(folder / f"theirs_{kind}.sdf"), str(FIXTURES)])
        keys += [("read", kind), ("write", kind)]
    for key, dtype in UNWRITABLE.items():
        ndf.write(_unwritable_image(dtype), folder / f"ours_{key}.sdf")
        commands.append(["read", "Image", str(folder / f"ours_{key}.sdf")])
        keys.append(("read", key))
    (folder / "commands.json").write_text(json.dumps(commands))
    # The script must import the wheel's lsst.images, never this checkout's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(
        [str(RUBIN_PYTHON), str(SCRIPT), "batch", str(folder / "commands.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = dict(zip(keys, json.loads(done.stdout), strict=True))
    return {"folder": folder, "results": results}


def _summary(exchange: dict, key: tuple[str, str]) -> dict:
    result = exchange["results"][key]
    assert "error" not in result, result.get("error")
    return result["summary"]


@needs_rubin
@pytest.mark.parametrize("kind", _kinds())
def test_rubin_reads_our_files(kind: str, exchange: dict) -> None:
    obj = ndf_crosscheck.build(kind, str(FIXTURES))
    _assert_same_summary(ndf_crosscheck.summarize(obj), _summary(exchange, ("read", kind)))


@needs_rubin
@pytest.mark.parametrize("kind", _kinds())
def test_we_read_rubin_files(kind: str, exchange: dict) -> None:
    theirs = exchange["folder"] / f"theirs_{kind}.sdf"
    result = ndf.read(getattr(li, CLASSES[kind]), theirs).deserialized
    _assert_same_summary(ndf_crosscheck.summarize(result), _summary(exchange, ("write", kind)))
    expected = {"MORE/LSST/MASK/WCS/DATA"} if kind in ("masked_image", "visit") else set()
    assert _differences(theirs, exchange["folder"] / f"ours_{kind}.sdf") == expected


@needs_rubin
@pytest.mark.parametrize("key", sorted(UNWRITABLE))
def test_rubin_reads_types_it_cannot_write(key: str, exchange: dict) -> None:
    image = _unwritable_image(UNWRITABLE[key])
    native = li.Image(image.array.astype(image.array.dtype.newbyteorder("=")), bbox=image.bbox)
    assert _summary(exchange, ("read", key)) == ndf_crosscheck.summarize(native)
