"""HDS-on-HDF5 primitives and component names of `lsst.images.ndf`."""

from __future__ import annotations

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from lsst.images.ndf import (  # noqa: E402
    HdsNameShrinker,
    NdfPointerModel,
    archive_path_to_hdf5_path,
    archive_path_to_hdf5_path_components,
)
from lsst.images.ndf._hds import (  # noqa: E402
    create_structure,
    decode_records,
    encode_records,
    hds_type,
    read_chars,
    require_structure,
    structure_class,
    write_chars,
    write_logical,
    write_primitive,
)


@pytest.fixture()
def h5(tmp_path):
    with h5py.File(tmp_path / "t.sdf", "w") as file:
        yield file


@pytest.mark.parametrize(
    ("dtype", "name"),
    [
        (np.uint8, "_UBYTE"),
        (np.int8, "_BYTE"),
        (np.int16, "_WORD"),
        (np.uint16, "_UWORD"),
        (np.int32, "_INTEGER"),
        (np.int64, "_INT64"),
        (np.float32, "_REAL"),
        (np.float64, "_DOUBLE"),
        (np.uint32, "HDF5:uint32"),
        (np.uint64, "HDF5:uint64"),
    ],
)
def test_numeric_primitives_round_trip(h5, dtype, name) -> None:
    values = (np.arange(12).reshape(3, 4) * 3).astype(dtype)
    dataset = write_primitive(h5, "A", values)
    assert hds_type(dataset) == name
    assert dataset.shape == (3, 4)
    np.testing.assert_array_equal(dataset[()], values)


def test_big_endian_arrays_are_stored_native(h5) -> None:
    values = np.arange(6, dtype=">f8").reshape(2, 3)
    dataset = write_primitive(h5, "A", values)
    assert dataset.dtype == np.dtype("=f8")
    assert hds_type(dataset) == "_DOUBLE"
    np.testing.assert_array_equal(dataset[()], values)


@pytest.mark.parametrize("dtype", [np.complex64, np.float16, "U3", object])
def test_types_without_a_stored_form_raise(h5, dtype) -> None:
    with pytest.raises(NotImplementedError, match="cannot be stored"):
        write_primitive(h5, "A", np.zeros(2, dtype=dtype))


def test_logical_is_an_hdf5_bitfield(h5) -> None:
    dataset = write_logical(h5, "BAD_PIXEL", True)
    assert dataset.id.get_type().get_class() == h5py.h5t.BITFIELD
    assert hds_type(dataset) == "_LOGICAL"
    assert dataset.shape == ()
    assert dataset[()] == 1
    flags = write_primitive(h5, "FLAGS", np.array([True, False, True]))
    assert hds_type(flags) == "_LOGICAL"
    np.testing.assert_array_equal(flags[()], [1, 0, 1])


def test_char_arrays_are_padded_and_stripped(h5) -> None:
    dataset = write_chars(h5, "CARDS", ["A = 1", "LONGER = 'text'"], width=20)
    assert dataset.dtype == np.dtype("S20")
    assert hds_type(dataset) == "_CHAR*20"
    assert dataset[0] == b"A = 1".ljust(20)
    assert read_chars(dataset) == ["A = 1", "LONGER = 'text'"]
    scalar = write_chars(h5, "UNITS", "nJy")
    assert scalar.shape == () and hds_type(scalar) == "_CHAR*3"
    assert read_chars(scalar) == ["nJy"]


def test_char_arrays_reject_long_and_non_ascii_text(h5) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        write_chars(h5, "X", ["123456"], width=5)
    with pytest.raises(ValueError, match="ASCII"):
        write_chars(h5, "Y", ["Ångström"])


def test_space_padded_strings_are_read(h5) -> None:
    # Starlink writes SPACEPAD strings; h5py's default is NULLPAD.
    type_id = h5py.h5t.C_S1.copy()
    type_id.set_size(8)
    type_id.set_strpad(h5py.h5t.STR_SPACEPAD)
    dataset = h5.create_dataset("S", shape=(2,), dtype=h5py.Datatype(type_id))
    dataset[...] = np.array([b"ab      ", b"c d     "], dtype="S8")
    assert read_chars(dataset) == ["ab", "c d"]


def test_structures_have_a_class(h5) -> None:
    group = create_structure(h5, "DATA_ARRAY", "ARRAY")
    assert structure_class(group) == "ARRAY"
    assert isinstance(group.attrs["CLASS"], bytes)
    legacy = h5.create_group("OLD")
    legacy.attrs["HDSTYPE"] = np.bytes_(b"EXT")
    assert structure_class(legacy) == "EXT"
    assert structure_class(h5.create_group("NONE")) is None
    deep = require_structure(h5, "/MORE/LSST/BACKGROUNDS", {"/MORE": "EXT", "/MORE/LSST": "LSST"})
    assert deep.name == "/MORE/LSST/BACKGROUNDS"
    assert [structure_class(h5[p]) for p in ("MORE", "MORE/LSST", "MORE/LSST/BACKGROUNDS")] == [
        "EXT",
        "LSST",
        "BACKGROUNDS",
    ]
    write_primitive(h5, "PRIM", np.zeros(2))
    with pytest.raises(ValueError, match="is a primitive"):
        require_structure(h5, "/PRIM/X")


def test_wcs_records() -> None:
    lines = [
        "  Begin FrameSet  ",
        "#  comment",
        "",
        '    Ident = "LSSTCam@2025052000177/DETECTOR_085"',
        "End",
    ]
    records = encode_records(lines)
    assert records == [
        " Begin FrameSet",
        ' Ident = "LSSTCam@2025052000177/',
        '+DETECTOR_085"',
        " End",
    ]
    assert all(len(r) <= 32 and r[0] in " +" for r in records)
    assert decode_records(records) == [
        "Begin FrameSet",
        'Ident = "LSSTCam@2025052000177/DETECTOR_085"',
        "End",
    ]


def test_wcs_records_keep_a_blank_at_a_split() -> None:
    # The blank falls at the end of the first record, which the stored form pads away.
    line = 'Title = "' + "x" * 21 + ' and more"'
    records = encode_records([line])
    assert records[0].endswith(" ")
    stripped = [r.rstrip() for r in records]
    assert decode_records(stripped) == [line]


def test_component_names() -> None:
    assert archive_path_to_hdf5_path("") == "/MORE/LSST/JSON"
    assert archive_path_to_hdf5_path("backgrounds/fields/fine_spline/data") == (
        "/MORE/LSST/BACKGROUNDS/FIELDS/FINE_SPLINE/DATA"
    )
    assert archive_path_to_hdf5_path_components("a//b-c_d/e1") == ["A", "B-C_D", "E1"]
    assert archive_path_to_hdf5_path("x" * 16) == "/MORE/LSST/" + "X" * 16
    with pytest.raises(ValueError, match="longer than 16"):
        archive_path_to_hdf5_path("photometric_scaling/coefficients")


def test_name_shrinker() -> None:
    shrinker = HdsNameShrinker()
    assert shrinker.shrink("short") == "SHORT"
    assert shrinker.shrink("a" * 15) == "A" * 15
    assert shrinker.shrink("aperture_corrections") == "APERTURE_CO_001"
    assert shrinker.shrink("aperture_corrections_two") == "APERTURE_CO_002"
    assert shrinker.shrink("APERTURE_CORRECTIONS") == "APERTURE_CO_001"  # remembered
    assert shrinker.shrink_versioned("aperture_corrections", 1) == "APERTURE_CO_001"
    assert shrinker.shrink_versioned("aperture_corrections", 3) == "APERTURE__003_3"
    assert shrinker.shrink_versioned("mask", 2) == "MASK_2"
    small = HdsNameShrinker(max_length=6)
    names = [small.shrink(f"abcdefgh{i}") for i in range(11)]
    assert names[0] == "AB_001" and names[9] == "AB_00A" and len(set(names)) == 11
    path = archive_path_to_hdf5_path("photometric_scaling/coefficients", shrinker)
    assert path == "/MORE/LSST/PHOTOMETRIC_004/COEFFICIENTS"
    with pytest.raises(ValueError, match="at least 5"):
        HdsNameShrinker(max_length=4)


def test_pointer_model_json() -> None:
    pointer = NdfPointerModel(path="/MORE/LSST/PSF/JSON")
    assert pointer.model_dump_json() == '{"path":"/MORE/LSST/PSF/JSON"}'
    assert NdfPointerModel.model_validate_json(pointer.model_dump_json()) == pointer
