"""Plain Starlink NDFs (no lsst.images tree) read as Image/MaskedImage.

No Starlink-written file can be produced here (no Starlink software is installable), so
the files are built with h5py following HDS v5 conventions as Starlink writes them:
space-padded strings, ``_INTEGER`` ORIGINs, a WCS FrameSet with GRID base, PIXEL and
FK5 SKY frames, ``MORE.FITS`` cards and a ``TITLE``.
"""

from __future__ import annotations

import logging

import astropy.io.fits
import astropy.units as u
import astropy.wcs
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from starlink import Ast

h5py = pytest.importorskip("h5py")

import lsst.images as li  # noqa: E402
from lsst.images import ndf  # noqa: E402
from lsst.images.fits import ExtensionKey  # noqa: E402
from lsst.images.ndf._hds import encode_records  # noqa: E402
from lsst.images.serialization import ArchiveReadError  # noqa: E402

ORIGIN = (-4, 11)  # HDS order: x0, y0
SHAPE = (6, 8)  # numpy (rows, cols)
HEADER = {
    "NAXIS": 2,
    "NAXIS1": SHAPE[1],
    "NAXIS2": SHAPE[0],
    "CTYPE1": "RA---TAN",
    "CTYPE2": "DEC--TAN",
    "CRPIX1": 3.5,
    "CRPIX2": 2.5,
    "CRVAL1": 283.396,
    "CRVAL2": 33.029,
    "CD1_1": -2.7e-4,
    "CD1_2": 0.0,
    "CD2_1": 0.0,
    "CD2_2": 2.7e-4,
    "RADESYS": "FK5",
    "EQUINOX": 2000.0,
}


def _chars(parent, name: str, lines, width: int, scalar: bool = False) -> None:
    """A Starlink-style (space-padded) _CHAR primitive."""
    type_id = h5py.h5t.C_S1.copy()
    type_id.set_size(width)
    type_id.set_strpad(h5py.h5t.STR_SPACEPAD)
    values = np.array([line.ljust(width).encode() for line in lines], dtype=f"S{width}")
    dataset = parent.create_dataset(name, shape=() if scalar else values.shape, dtype=h5py.Datatype(type_id))
    dataset[...] = values[0] if scalar else values


def _group(parent, name: str, hds_type: str, attribute: str = "CLASS"):
    group = parent.create_group(name)
    group.attrs[attribute] = np.bytes_(hds_type.encode())
    return group


def _frame_set() -> Ast.FrameSet:
    channel = Ast.FitsChan()
    for card in astropy.io.fits.Header(HEADER).cards:
        channel.putfits(card.image, False)
    channel.clear("Card")
    frame_set = channel.read()
    sky = frame_set.Current
    shift = Ast.ShiftMap([ORIGIN[0] - 1.5, ORIGIN[1] - 1.5])
    frame_set.addframe(Ast.BASE, shift, Ast.Frame(2, "Domain=PIXEL"))
    frame_set.Current = sky
    return frame_set


def _wcs_records(frame_set: Ast.FrameSet) -> list[str]:
    lines: list[str] = []

    class Sink:
        def astsink(self, line: str) -> None:
            lines.append(line)

    channel = Ast.Channel(None, Sink())
    channel.Full = -1
    channel.write(frame_set)
    return encode_records(lines)


def _pixels() -> np.ndarray:
    return (np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) * 3 - 20).astype(np.int16)


def make_starlink_ndf(
    path,
    *,
    simple: bool = False,
    variance: bool = True,
    quality: str | None = "structure",
    wcs: bool = True,
    attribute: str = "CLASS",
    data=None,
) -> None:
    with h5py.File(path, "w") as file:
        file.attrs[attribute] = np.bytes_(b"NDF")
        file.attrs["HDS_ROOT_NAME"] = np.bytes_(b"M57")
        data = _pixels() if data is None else data
        if simple:
            file.create_dataset("DATA_ARRAY", data=data)
        else:
            array = _group(file, "DATA_ARRAY", "ARRAY", attribute)
            array.create_dataset("DATA", data=data)
            array.create_dataset("ORIGIN", data=np.array(ORIGIN, dtype=np.int32))
        _chars(file, "TITLE", ["Ring nebula"], 11, scalar=True)
        _chars(file, "UNITS", ["count"], 5, scalar=True)
        if variance:
            array = _group(file, "VARIANCE", "ARRAY", attribute)
            array.create_dataset("DATA", data=np.full(SHAPE, 2.5, np.float32))
            array.create_dataset("ORIGIN", data=np.array(ORIGIN, dtype=np.int32))
        bits = (np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) % 6).astype(np.uint8)
        if quality == "structure":
            structure = _group(file, "QUALITY", "QUALITY", attribute)
            structure.create_dataset("BADBITS", data=np.uint8(0b101))
            array = _group(structure, "QUALITY", "ARRAY", attribute)
            array.create_dataset("DATA", data=bits)
            array.create_dataset("ORIGIN", data=np.array(ORIGIN, dtype=np.int32))
        elif quality == "bare":
            file.create_dataset("QUALITY", data=bits)
        if wcs:
            structure = _group(file, "WCS", "WCS", attribute)
            _chars(structure, "DATA", _wcs_records(_frame_set()), 32)
        more = _group(file, "MORE", "EXT", attribute)
        _chars(more, "FITS", ["OBJECT  = 'M57     '", "TELESCOP= 'JCMT    '"], 80)


@pytest.fixture()
def starlink_file(tmp_path):
    path = tmp_path / "m57.sdf"
    make_starlink_ndf(path)
    return path


def test_read_as_image(starlink_file) -> None:
    image = ndf.read(li.Image, starlink_file).deserialized
    assert image.bbox == li.Box.factory[11:17, -4:4]
    np.testing.assert_array_equal(image.array, _pixels())
    assert image.unit == u.ct
    header = image._opaque_metadata.headers[ExtensionKey()]
    assert header["OBJECT"] == "M57" and header["TELESCOP"] == "JCMT"
    assert image.projection.pixel_frame == li.GeneralFrame(unit=u.pix)
    # Lsst pixel (x0 + i, y0 + j) is FITS pixel (i + 1, j + 1) of the header the WCS came from.
    i, j = np.array([0.0, 7.0, 3.25]), np.array([0.0, 5.0, 1.5])
    expected = astropy.wcs.WCS(astropy.io.fits.Header(HEADER)).pixel_to_world(i, j).icrs
    got = image.projection.pixel_to_sky(x=ORIGIN[0] + i, y=ORIGIN[1] + j)
    assert isinstance(got, SkyCoord)
    np.testing.assert_allclose(got.ra.deg, expected.ra.deg, rtol=0, atol=1e-8)
    np.testing.assert_allclose(got.dec.deg, expected.dec.deg, rtol=0, atol=1e-8)
    assert ndf.read_starlink(li.Image, starlink_file).bbox == image.bbox


def test_read_as_masked_image(starlink_file) -> None:
    masked = ndf.read(li.MaskedImage, starlink_file).deserialized
    np.testing.assert_array_equal(masked.image.array, _pixels())
    np.testing.assert_array_equal(masked.variance.array, np.full(SHAPE, 2.5, np.float32))
    assert masked.variance.unit == u.ct**2
    names = [plane.name for plane in masked.mask.schema]
    assert names == [f"MASK{i}" for i in range(8)]
    descriptions = [plane.description for plane in masked.mask.schema]
    assert descriptions[0] == "NDF QUALITY bit 0. Selected by BADBITS."
    assert descriptions[1] == "NDF QUALITY bit 1."
    assert descriptions[2] == "NDF QUALITY bit 2. Selected by BADBITS."
    bits = np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) % 6
    for bit in range(8):
        np.testing.assert_array_equal(masked.mask.get(f"MASK{bit}"), (bits & (1 << bit)) != 0)
    assert masked.mask.projection is masked.projection


def test_simple_ndf_with_bare_quality_and_legacy_type_attribute(tmp_path) -> None:
    path = tmp_path / "simple.sdf"
    make_starlink_ndf(path, simple=True, quality="bare", variance=False, wcs=False, attribute="HDSTYPE")
    masked = ndf.read(li.MaskedImage, path).deserialized
    assert masked.bbox == li.Box.from_shape(SHAPE, start=(1, 1))  # NDF's default origin
    assert masked.projection is None
    assert masked.variance.array.dtype == np.int16 and (masked.variance.array == 1).all()
    np.testing.assert_array_equal(masked.mask.get("MASK2"), (np.arange(48).reshape(SHAPE) % 6 & 4) != 0)


def test_defaults_without_quality(tmp_path) -> None:
    path = tmp_path / "data_only.sdf"
    make_starlink_ndf(path, variance=False, quality=None, wcs=False)
    masked = ndf.read(li.MaskedImage, path).deserialized
    assert [p.name for p in masked.mask.schema] == ["BAD"]
    assert masked.mask.array.dtype == np.uint8 and masked.mask.array.shape == (*SHAPE, 1)
    assert not masked.mask.array.any()
    assert masked.variance.array.dtype == np.int16 and (masked.variance.array == 1).all()


def test_bad_values_become_nan(tmp_path) -> None:
    data = np.arange(48, dtype=np.float32).reshape(SHAPE)
    data[2, 3] = np.finfo(np.float32).min  # VAL__BADR
    path = tmp_path / "bad.sdf"
    make_starlink_ndf(path, data=data, wcs=False)
    image = ndf.read(li.Image, path).deserialized
    assert np.isnan(image.array[2, 3]) and np.isnan(image.array).sum() == 1
    assert image.array.dtype == np.float32


def test_unusable_wcs_is_dropped_with_a_warning(tmp_path, caplog) -> None:
    path = tmp_path / "badwcs.sdf"
    make_starlink_ndf(path, wcs=False)
    with h5py.File(path, "r+") as file:
        _chars(_group(file, "WCS", "WCS"), "DATA", [" Begin FrameSet", " Nonsense = ("], 32)
    with caplog.at_level(logging.WARNING, logger="lsst.images.ndf._starlink"):
        image = ndf.read(li.Image, path).deserialized
    assert image.projection is None
    assert "badwcs.sdf" in caplog.text and "WCS" in caplog.text


def test_plain_ndf_refusals(starlink_file, tmp_path) -> None:
    with pytest.raises(ArchiveReadError, match=r"m57\.sdf.*not a Mask"):
        ndf.read(li.Mask, starlink_file)
    with pytest.raises(ArchiveReadError, match=r"m57\.sdf.*need an lsst.images tree"):
        ndf.read(li.Image, starlink_file, bbox=li.Box.factory[11:12, 0:1])
    empty = tmp_path / "empty.sdf"
    with h5py.File(empty, "w") as file:
        file.attrs["CLASS"] = np.bytes_(b"NDF")
    with pytest.raises(ArchiveReadError, match=r"empty\.sdf.*without a DATA_ARRAY"):
        ndf.read(li.Image, empty)
    ours = tmp_path / "ours.sdf"
    ndf.write(li.Image(np.zeros((2, 2))), ours)
    with pytest.raises(ArchiveReadError, match=r"ours\.sdf.*has an lsst.images JSON tree"):
        ndf.read_starlink(li.Image, ours)
    cube = tmp_path / "cube.sdf"
    make_starlink_ndf(cube, simple=True, variance=False, quality=None, wcs=False, data=np.zeros((2, 3, 4)))
    with pytest.raises(ArchiveReadError, match=r"cube\.sdf.*only 2-d NDFs"):
        ndf.read(li.Image, cube)
