"""In-memory behaviour of MaskPlane, MaskPlaneBit, MaskSchema and Mask."""

import astropy.io.fits
import numpy as np
import pytest

from lsst.images import Box, Mask, MaskPlane, MaskPlaneBit, MaskSchema


def _schema():
    return MaskSchema([MaskPlane("BAD", "Bad pixel."), None, MaskPlane("SAT", "Saturated.")])


def _planes(n):
    return [MaskPlane(f"P{i}", f"plane {i}") for i in range(n)]


def test_mask_plane():
    p = MaskPlane("A", "x")
    assert repr(p) == "MaskPlane(name='A', description='x')"
    assert p == MaskPlane("A", "x")
    assert hash(p) == hash(MaskPlane("A", "x"))
    with pytest.raises(AttributeError):
        p.name = "B"  # type: ignore[misc]


def test_mask_plane_read_legacy_pops_cards():
    header = astropy.io.fits.Header()
    header["MP_BAD"] = 0
    header["MP_SAT"] = 1
    header["HIERARCH MP_DETECTED_NEGATIVE"] = 6
    header["OTHER"] = "keep"
    assert MaskPlane.read_legacy(header) == {"BAD": 0, "SAT": 1, "DETECTED_NEGATIVE": 6}
    assert list(header.keys()) == ["OTHER"]


def test_mask_plane_bit_compute():
    assert MaskPlaneBit.compute(9, 8, np.uint8) == MaskPlaneBit(1, np.uint8(2))
    assert MaskPlaneBit.compute(7, 7, np.int8) == MaskPlaneBit(1, np.int8(1))


def test_schema_basics():
    s = _schema()
    assert len(s) == 3
    assert s[1] is None
    assert list(s) == [MaskPlane("BAD", "Bad pixel."), None, MaskPlane("SAT", "Saturated.")]
    assert s.dtype == np.dtype(np.uint8)
    assert s.mask_size == 1
    assert list(s.names) == ["BAD", "SAT"]
    assert "SAT" in s.names
    assert dict(s.descriptions) == {"BAD": "Bad pixel.", "SAT": "Saturated."}
    assert s.bit("SAT") == MaskPlaneBit(0, np.uint8(4))
    with pytest.raises(KeyError):
        s.bit("X")
    np.testing.assert_array_equal(s.bitmask("BAD", "SAT"), [5])
    assert s.bitmask("BAD").dtype == np.uint8
    np.testing.assert_array_equal(s.bitmask(), [0])
    assert MaskSchema([]).mask_size == 1


def test_schema_str_repr():
    s = _schema()
    assert str(s) == "BAD [0@0x1]: Bad pixel.\nSAT [0@0x4]: Saturated."
    assert repr(s) == (
        "MaskSchema([MaskPlane(name='BAD', description='Bad pixel.'), None, "
        "MaskPlane(name='SAT', description='Saturated.')], dtype=dtype('uint8'))"
    )
    namespace = {"MaskSchema": MaskSchema, "MaskPlane": MaskPlane, "dtype": np.dtype}
    assert eval(repr(s), namespace) == s
    s16 = MaskSchema(_planes(10), dtype=np.int16)
    assert eval(repr(s16), namespace) == s16
    assert str(MaskSchema(_planes(10))).splitlines()[8:] == ["P8 [1@0x1]: plane 8", "P9 [1@0x2]: plane 9"]


def test_schema_equality():
    s = _schema()
    assert s == MaskSchema(list(s))
    assert s != MaskSchema(list(s), dtype=np.int8)
    assert s != MaskSchema([p for p in s if p is not None])  # placeholders matter
    with pytest.raises(TypeError):
        hash(s)


def test_bits_per_element():
    assert MaskSchema.bits_per_element(np.uint8) == 8
    assert MaskSchema.bits_per_element(np.int8) == 7
    assert MaskSchema.bits_per_element(np.int16) == 15
    assert MaskSchema.bits_per_element(np.uint32) == 32
    assert MaskSchema.bits_per_element(np.int32) == 31
    assert MaskSchema.bits_per_element(np.int64) == 63
    for bad in (np.float32, bool):
        with pytest.raises(TypeError):
            MaskSchema.bits_per_element(bad)
    with pytest.raises(TypeError):
        MaskSchema([], dtype=np.float32)


@pytest.mark.parametrize(
    "dtype,n,mask_size",
    [
        (np.uint8, 8, 1),
        (np.uint8, 9, 2),
        (np.int8, 7, 1),
        (np.int8, 8, 2),
        (np.int8, 40, 6),
        (np.uint16, 40, 3),
        (np.int32, 31, 1),
        (np.int32, 32, 2),
        (np.uint32, 40, 2),
    ],
)
def test_bit_layout(dtype, n, mask_size):
    s = MaskSchema(_planes(n), dtype=dtype)
    stride = MaskSchema.bits_per_element(dtype)
    assert s.mask_size == mask_size
    for i in range(n):
        bit = s.bit(f"P{i}")
        assert bit.index == i // stride
        assert int(bit.mask) == 1 << (i % stride)
        assert bit.mask.dtype == np.dtype(dtype)


def test_bit_layout_with_placeholders_int8():
    planes = _planes(40)
    s = MaskSchema(planes, dtype=np.int8)
    assert s.bit("P7") == MaskPlaneBit(1, np.int8(1))
    assert s.bit("P39") == MaskPlaneBit(5, np.int8(16))
    np.testing.assert_array_equal(s.bitmask("P0", "P7", "P39"), [1, 1, 0, 0, 0, 16])
    # A placeholder shifts every later plane by one slot.
    s2 = MaskSchema([planes[0], None] + planes[1:8], dtype=np.uint8)
    assert s2.mask_size == 2
    assert s2.bit("P7") == MaskPlaneBit(1, np.uint8(1))


def test_split():
    s = MaskSchema(_planes(40), dtype=np.int8)
    parts = s.split(np.int32)
    assert [len(p) for p in parts] == [31, 9]
    assert all(p.mask_size == 1 and p.dtype == np.int32 for p in parts)
    assert list(parts[1].names) == [f"P{i}" for i in range(31, 40)]
    with_holes = MaskSchema(_planes(9) + [None] * 3 + _planes(12)[9:], dtype=np.uint8)
    parts = with_holes.split(np.uint8)
    assert [len(p) for p in parts] == [8, 4]
    assert all(None not in list(p) for p in parts)
    assert len(MaskSchema([None, None]).split(np.int32)) == 1


def test_update_and_strip_header():
    s = MaskSchema([MaskPlane("A", "first"), MaskPlane("B", "second")], dtype=np.int32)
    header = astropy.io.fits.Header()
    header["KEEP"] = 1
    s.update_header(header)
    assert header["MSKN0000"] == "A"
    assert header["MSKM0000"] == 1
    assert header["MSKD0000"] == "first"
    assert header["MSKN0001"] == "B"
    assert header["MSKM0001"] == 2
    s.strip_header(header)
    assert list(header.keys()) == ["KEEP"]
    with pytest.raises(TypeError):
        MaskSchema(_planes(9)).update_header(header)


def test_mask_construction():
    s = _schema()
    m = Mask(schema=s, shape=(3, 4), start=(1, 2))
    assert m.array.shape == (3, 4, 1)
    assert m.array.dtype == np.uint8
    assert m.bbox == Box.factory[1:4, 2:6]
    assert m.schema is s
    np.testing.assert_array_equal(Mask(3, schema=s, shape=(1, 2)).array, [[[3], [3]]])
    a = np.zeros((3, 4, 1), dtype=np.int64)
    assert Mask(a, schema=s).array.dtype == np.uint8
    a8 = np.zeros((3, 4, 1), dtype=np.uint8)
    assert Mask(a8, schema=s).array is a8
    with pytest.raises(ValueError, match="3-d"):
        Mask(np.zeros((3, 4)), schema=s)
    with pytest.raises(ValueError):
        Mask(np.zeros((3, 4, 1)), schema=s, shape=(3, 5))
    with pytest.raises(ValueError):
        Mask(np.zeros((3, 4, 2)), schema=s)
    with pytest.raises(ValueError):
        Mask(np.zeros((3, 4, 1)), schema=s, bbox=Box.factory[0:3, 0:3])
    with pytest.raises(TypeError):
        Mask(schema=s)


def test_mask_str_repr():
    m = Mask(schema=_schema(), shape=(3, 4), start=(1, 2))
    assert str(m) == "Mask([y=1:4, x=2:6], ['BAD', 'SAT'])"
    assert repr(m) == (
        "Mask(..., bbox=Box(y=Interval(start=1, stop=4), x=Interval(start=2, stop=6)), "
        "schema=MaskSchema([MaskPlane(name='BAD', description='Bad pixel.'), None, "
        "MaskPlane(name='SAT', description='Saturated.')], dtype=dtype('uint8')))"
    )


def test_get_set_clear():
    m = Mask(schema=_schema(), shape=(3, 4), start=(1, 2))
    where = np.zeros((3, 4), dtype=bool)
    where[:, 0] = True
    m.set("SAT", where)
    np.testing.assert_array_equal(m.get("SAT"), where)
    np.testing.assert_array_equal(m.array[..., 0], np.where(where, 4, 0))
    m.set("BAD")
    np.testing.assert_array_equal(m.array[..., 0], np.where(where, 5, 1))
    assert m.get("BAD").all()
    m.set("SAT", where)  # setting twice never clears
    np.testing.assert_array_equal(m.array[..., 0], np.where(where, 5, 1))
    m.clear("BAD", where)
    np.testing.assert_array_equal(m.array[..., 0], np.where(where, 4, 1))
    m.clear("SAT")
    np.testing.assert_array_equal(m.array[..., 0], np.where(where, 0, 1))
    m.set("SAT")
    m.clear(None, where)
    np.testing.assert_array_equal(m.array[..., 0], np.where(where, 0, 5))
    m.clear()
    assert not m.array.any()
    with pytest.raises(KeyError):
        m.set("NOPE")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint32])
def test_many_planes_get_set(dtype):
    planes = _planes(40)
    m = Mask(schema=MaskSchema(planes, dtype=dtype), shape=(2, 3))
    stride = MaskSchema.bits_per_element(dtype)
    assert m.array.shape == (2, 3, -(-40 // stride))
    rng = np.random.default_rng(5)
    truth = {p.name: rng.random((2, 3)) < 0.5 for p in planes}
    for name, where in truth.items():
        m.set(name, where)
    for name, where in truth.items():
        np.testing.assert_array_equal(m.get(name), where)
    assert (m.array >= 0).all()  # sign bit never used for signed dtypes
    m.clear("P39")
    assert not m.get("P39").any()
    np.testing.assert_array_equal(m.get("P38"), truth["P38"])


def test_update_merges_shared_planes_over_overlap():
    a = Mask(schema=MaskSchema([MaskPlane("A", "a"), MaskPlane("B", "b")]), shape=(3, 3))
    b = Mask(schema=MaskSchema([MaskPlane("B", "b"), MaskPlane("C", "c")]), shape=(2, 2), start=(1, 1))
    b.set("B")
    b.set("C")
    a.update(b)
    np.testing.assert_array_equal(a.array[..., 0], [[0, 0, 0], [0, 2, 2], [0, 2, 2]])
    far = Mask(schema=b.schema, shape=(2, 2), start=(10, 1))
    far.set("B")
    a.update(far)  # disjoint: no-op
    np.testing.assert_array_equal(a.array[..., 0], [[0, 0, 0], [0, 2, 2], [0, 2, 2]])


def test_subset_view_copy_equality():
    s = _schema()
    m = Mask(schema=s, shape=(3, 4), start=(1, 2))
    m.metadata["k"] = "v"
    sub = m[Box.factory[2:4, 3:5]]
    assert sub.bbox == Box.factory[2:4, 3:5]
    assert np.shares_memory(sub.array, m.array)
    assert sub.metadata is m.metadata
    sub.set("BAD")
    assert m.get("BAD").sum() == 4
    assert m.local[-1:, -1:].bbox == Box.factory[3:4, 5:6]
    assert m.absolute[3:, 5:].bbox == Box.factory[3:4, 5:6]
    assert m[...] is m
    with pytest.raises(TypeError):
        m[0:1]
    with pytest.raises(IndexError):
        m[Box.factory[0:2, 2:3]]
    c = m.copy()
    assert c == m and not np.shares_memory(c.array, m.array)
    assert c.metadata == m.metadata and c.metadata is not m.metadata
    c.clear()
    assert c != m
    assert m.__eq__(1) is NotImplemented
    with pytest.raises(TypeError):
        hash(m)
    v = m.view(start=(0, 0))
    assert v.bbox == Box.factory[0:3, 0:4] and v.array is m.array
    renamed = MaskSchema([MaskPlane("X", "x"), None, MaskPlane("Y", "y")])
    assert m.view(schema=renamed).get("X").sum() == 4
    with pytest.raises(ValueError):
        m.view(schema=MaskSchema(_planes(9)))
    # Equality ignores metadata but not schema.
    assert Mask(schema=s, shape=(1, 1)) == Mask(schema=s, shape=(1, 1), metadata={"a": 1})
    assert Mask(schema=s, shape=(1, 1)) != Mask(schema=renamed, shape=(1, 1))


def test_setitem():
    s = _schema()
    m = Mask(schema=s, shape=(3, 3))
    other = Mask(schema=s, shape=(2, 2), start=(1, 1))
    other.set("SAT")
    m[Box.factory[1:3, 1:3]] = other
    np.testing.assert_array_equal(m.array[..., 0], [[0, 0, 0], [0, 4, 4], [0, 4, 4]])
    with pytest.raises(ValueError):
        m[Box.factory[1:3, 1:3]] = Mask(schema=MaskSchema([MaskPlane("Z", "")]), shape=(2, 2))


def test_legacy_duck_typed():
    class Point:
        def getX(self):
            return 3

        def getY(self):
            return 4

    class FakeAfwMask:
        def getArray(self):
            return np.array([[1, 2], [4, 5]], dtype=np.int32)

        def getXY0(self):
            return Point()

        def getMaskPlaneDict(self):
            return {"BAD": 0, "SAT": 1, "CR": 2}

    m = Mask.from_legacy(
        FakeAfwMask(), plane_map={"CR": MaskPlane("COSMIC", "c"), "BAD": MaskPlane("BAD", "b")}
    )
    assert m.bbox == Box.factory[4:6, 3:5]
    assert list(m.schema.names) == ["COSMIC", "BAD"]
    np.testing.assert_array_equal(m.get("BAD"), [[True, False], [False, True]])
    np.testing.assert_array_equal(m.get("COSMIC"), [[False, False], [True, True]])
    m2 = Mask.from_legacy(FakeAfwMask())
    assert list(m2.schema.names) == ["BAD", "SAT", "CR"]
    np.testing.assert_array_equal(m2.get("SAT"), [[False, True], [False, False]])
