"""Bad NDF files are refused with an `ArchiveReadError` that names the file; the extra is optional."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import lsst.images as li  # noqa: E402
from lsst.images import ndf  # noqa: E402
from lsst.images.ndf import InvalidNdfArchiveError  # noqa: E402
from lsst.images.serialization import ArchiveReadError  # noqa: E402


@pytest.fixture()
def image_file(tmp_path) -> Path:
    path = tmp_path / "image.sdf"
    ndf.write(li.Image(np.arange(12, dtype=np.int16).reshape(3, 4), start=(2, 5)), path)
    return path


def _replace_json(path: Path, edit) -> None:
    with h5py.File(path, "r+") as file:
        tree = json.loads(bytes(file["MORE/LSST/JSON"][0]))
        text = edit(tree)
        data = text if isinstance(text, bytes) else json.dumps(text).encode()
        del file["MORE/LSST/JSON"]
        file["MORE/LSST"].create_dataset("JSON", data=np.array([data], dtype=f"S{len(data)}"))


def test_not_hdf5(tmp_path) -> None:
    for name, content in (("text.sdf", b"SIMPLE  =                    T" + b" " * 50), ("empty.sdf", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InvalidNdfArchiveError, match=rf"{name}: not an NDF \(HDF5/HDS\) file"):
            ndf.read(li.Image, path)
    assert issubclass(InvalidNdfArchiveError, ArchiveReadError)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.sdf"):
        ndf.read(li.Image, tmp_path / "missing.sdf")


def test_truncated_file(image_file) -> None:
    data = image_file.read_bytes()
    image_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveReadError, match="image.sdf"):
        ndf.read(li.Image, image_file)


def test_invalid_json(image_file) -> None:
    _replace_json(image_file, lambda tree: b'{"data": [1, 2')
    with pytest.raises(ArchiveReadError, match=r"image\.sdf: the JSON at '/MORE/LSST/JSON' is not a valid"):
        ndf.read(li.Image, image_file)


def test_tree_of_another_type(image_file) -> None:
    with pytest.raises(ArchiveReadError, match=r"image\.sdf: .*not a valid MaskSerializationModel"):
        ndf.read(li.Mask, image_file)


def test_reference_to_a_missing_dataset(image_file) -> None:
    with h5py.File(image_file, "r+") as file:
        del file["DATA_ARRAY/DATA"]
    with pytest.raises(
        ArchiveReadError, match=r"image\.sdf: array source 'ndf:/DATA_ARRAY/DATA' does not name"
    ):
        ndf.read(li.Image, image_file)


def test_reference_to_a_structure(image_file) -> None:
    _replace_json(image_file, lambda tree: {**tree, "data": {**tree["data"], "source": "ndf:/MORE"}})
    with pytest.raises(ArchiveReadError, match="does not name a dataset"):
        ndf.read(li.Image, image_file)


def test_foreign_source(image_file) -> None:
    _replace_json(image_file, lambda tree: {**tree, "data": {**tree["data"], "source": "fits:IMAGE"}})
    with pytest.raises(ArchiveReadError, match=r"image\.sdf: array source 'fits:IMAGE' is not an 'ndf:'"):
        ndf.read(li.Image, image_file)


def test_stored_type_disagrees_with_the_tree(image_file) -> None:
    with h5py.File(image_file, "r+") as file:
        del file["DATA_ARRAY/DATA"]
        file["DATA_ARRAY"].create_dataset("DATA", data=np.full((3, 4), 0.5))
    with pytest.raises(
        ArchiveReadError, match=r"image\.sdf: /DATA_ARRAY/DATA holds float64 values but the tree says int16"
    ):
        ndf.read(li.Image, image_file)


def test_widened_storage_is_accepted(image_file) -> None:
    with h5py.File(image_file, "r+") as file:
        del file["DATA_ARRAY/DATA"]
        file["DATA_ARRAY"].create_dataset("DATA", data=np.arange(12, dtype=np.int8).reshape(3, 4))
    image = ndf.read(li.Image, image_file).deserialized
    assert image.array.dtype == np.int16
    np.testing.assert_array_equal(image.array, np.arange(12).reshape(3, 4))


def test_stored_shape_disagrees_with_the_tree(image_file) -> None:
    with h5py.File(image_file, "r+") as file:
        del file["DATA_ARRAY/DATA"]
        file["DATA_ARRAY"].create_dataset("DATA", data=np.zeros((4, 4), np.int16))
    with pytest.raises(
        ArchiveReadError, match=r"image\.sdf: /DATA_ARRAY/DATA has shape \(4, 4\) but the tree says \(3, 4\)"
    ):
        ndf.read(li.Image, image_file)


def test_pointer_to_nowhere(image_file) -> None:
    from lsst.images.ndf import NdfInputArchive, NdfPointerModel

    with NdfInputArchive.open(image_file) as archive:
        with pytest.raises(
            ArchiveReadError, match=r"image\.sdf: no JSON character array at '/MORE/LSST/PSF/JSON'"
        ):
            archive.deserialize_pointer(NdfPointerModel(path="/MORE/LSST/PSF/JSON"), li.Image, lambda m, a: m)
        with pytest.raises(ArchiveReadError, match="referenced before it was read"):
            archive.get_frame_set(NdfPointerModel(path="/MORE/LSST/PSF/JSON"))


def test_writer_refusals(tmp_path) -> None:
    from lsst.images.ndf import NdfOutputArchive

    with NdfOutputArchive.open(None) as archive:
        with pytest.raises(ValueError, match="need a name"):
            archive.add_array(np.zeros(2))
        with pytest.raises(NotImplementedError, match="complex64 cannot be stored"):
            archive.add_array(np.zeros(2, np.complex64), name="c")


def test_module_needs_the_extra_and_import_stays_light() -> None:
    code = (
        "import sys\n"
        "import lsst.images, lsst.images.tests\n"
        "assert 'h5py' not in sys.modules, 'h5py imported by lsst.images'\n"
        "sys.modules['h5py'] = None\n"
        "try:\n"
        "    import lsst.images.ndf\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'lsst-images-py[ndf]'" in done.stdout
