"""In-memory behaviour of lsst.images.ColorImage."""

import numpy as np
import pytest

from lsst.images import Box, ColorImage, Image


def test_channels_are_views():
    a = np.zeros((3, 4, 3), np.uint8)
    c = ColorImage(a, start=(1, 1))
    assert c.array is a
    assert c.bbox == Box.factory[1:4, 1:5]
    for i, channel in enumerate([c.red, c.green, c.blue]):
        assert isinstance(channel, Image)
        assert channel.bbox == c.bbox
        assert np.shares_memory(channel.array, a)
        channel.array[0, 0] = 10 + i
    np.testing.assert_array_equal(a[0, 0], [10, 11, 12])
    assert str(c) == "ColorImage([y=1:4, x=1:5], uint8)"
    assert repr(c) == (
        "ColorImage(..., bbox=Box(y=Interval(start=1, stop=4), x=Interval(start=1, stop=5)), "
        "dtype=dtype('uint8'))"
    )


def test_errors():
    with pytest.raises(ValueError):
        ColorImage(np.zeros((3, 4)))
    with pytest.raises(ValueError):
        ColorImage(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError):
        ColorImage(np.zeros((3, 4, 3)), bbox=Box.factory[0:3, 0:3])


def test_from_channels_copies():
    r = Image(1, shape=(2, 2), start=(3, 4))
    g = Image(2, shape=(2, 2), start=(3, 4))
    b = Image(3, shape=(2, 2), start=(3, 4))
    c = ColorImage.from_channels(r, g, b, metadata={"x": 1})
    np.testing.assert_array_equal(c.array[0, 0], [1, 2, 3])
    assert c.bbox == r.bbox
    assert c.metadata == {"x": 1}
    assert not np.shares_memory(c.array, r.array)
    with pytest.raises(ValueError):
        ColorImage.from_channels(r, g, Image(3, shape=(2, 3)))


def test_subset_copy_setitem():
    c = ColorImage(np.arange(36, dtype=np.float32).reshape(3, 4, 3), start=(1, 1))
    sub = c[Box.factory[2:3, 2:4]]
    assert sub.array.shape == (1, 2, 3)
    assert np.shares_memory(sub.array, c.array)
    assert sub.metadata is c.metadata
    assert c.local[-1:, :1].bbox == Box.factory[3:4, 1:2]
    assert c[...] is c
    cp = c.copy()
    assert not np.shares_memory(cp.array, c.array)
    np.testing.assert_array_equal(cp.array, c.array)
    c[Box.factory[1:2, 1:2]] = ColorImage(np.full((1, 1, 3), -1, np.float32))
    np.testing.assert_array_equal(c.array[0, 0], [-1, -1, -1])
    with pytest.raises(TypeError):
        c[0:1]


def test_channels_keep_their_own_metadata():
    c = ColorImage(np.zeros((2, 3, 3), np.uint8), metadata={"x": 1})
    assert c.red is c.red
    assert c.red.metadata == {} and c.red.metadata is not c.metadata
    sub = c[Box.factory[0:1, 0:2]]
    assert sub.metadata is c.metadata
    assert np.shares_memory(sub.green.array, c.array)


def test_serialization_tree_and_round_trip():
    from lsst.images.serialization import dump_tree_json
    from test_image_serialization import MemoryInputArchive, _reparse, _write

    array = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    c = ColorImage(array, start=(1, 2), metadata={"x": 1})
    archive, tree = _write(c)
    ref = '{"source":"fits:%s","shape":[2,3],"datatype":"uint8","byteorder":"big"}'
    expected = (
        '{"metadata":{"x":1},'
        + ",".join(f'"{n}":{{"data":{ref % n.upper()},"start":[1,2]}}' for n in ("red", "green", "blue"))
        + "}"
    )
    assert dump_tree_json(tree).decode() == expected
    assert archive.headers["fits:GREEN"]["CRVAL1A"] == 2.0
    back = _reparse(ColorImage, tree).deserialize(MemoryInputArchive(archive))
    np.testing.assert_array_equal(back.array, array)
    assert back.bbox == c.bbox and back.metadata == {"x": 1}
    part = _reparse(ColorImage, tree).deserialize(MemoryInputArchive(archive), bbox=Box.factory[2:3, 3:5])
    np.testing.assert_array_equal(part.array, array[1:2, 1:3])
