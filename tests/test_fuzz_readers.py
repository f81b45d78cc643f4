"""Damaged files never crash, hang or silently change the pixels of files we wrote.

A few hundred hypothesis cases (deterministic: ``derandomize=True``) mutate small files
written here -- Image, Mask and MaskedImage, compressed (GZIP_2, RICE_1) and not, with
checksums (ours) and without (as Rubin's writer makes them) -- and read them in full
and as a cut-out.  Every failure must be an `ArchiveReadError` naming the file; reads
of checksummed files must never return other pixels.  The regression tests below are
crashes and hangs the on-demand runner (``benchmarks/fuzz_readers.py``) found.
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

from conftest import FIXTURES
from lsst.images import Box, Image, Mask, MaskedImage, MaskPlane, MaskSchema, fits
from lsst.images.fits import FitsCompressionAlgorithm, FitsCompressionOptions
from lsst.images.serialization import ArchiveReadError
from lsst.images.tests._fuzzing import read_outcome
from lsst.images.tests._mutations import MUTATORS, hdu_spans, mutate

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_RICE = FitsCompressionOptions(algorithm=FitsCompressionAlgorithm.RICE_1)


def _objects() -> dict[str, tuple[type, object, dict]]:
    rng = np.random.default_rng(11)
    image = Image(rng.normal(size=(24, 30)).astype(np.float32), unit=u.nJy, bbox=Box.factory[5:29, -3:27])
    ints = Image(rng.integers(-500, 500, size=(20, 17)).astype(np.int32))
    schema = MaskSchema([MaskPlane("BAD", "bad"), MaskPlane("SAT", "saturated")])
    mask = Mask(schema=schema, bbox=Box.factory[0:16, 0:19])
    mask.set("SAT", rng.random((16, 19)) > 0.7)
    masked = MaskedImage(image, mask_schema=schema)
    masked.mask.set("BAD", image.array > 1)
    return {
        "image-gzip": (Image, image, {}),
        "image-nocomp": (Image, image, {"compression_options": {"image": None}}),
        "ints-rice": (Image, ints, {"compression_options": {"image": _RICE}}),
        "mask": (Mask, mask, {}),
        "masked": (MaskedImage, masked, {"compression_options": {"variance": None}}),
        "masked-unchecked": (MaskedImage, masked, {"checksum": False}),
    }


@functools.cache
def _sources(folder: str) -> dict[str, tuple[type, bytes, list, object, object]]:
    """name -> (class, file bytes, HDU spans, full read, cut-out read) of the undamaged files."""
    out = {}
    for name, (cls, obj, kwargs) in _objects().items():
        path = Path(folder) / f"{name}.fits"
        fits.write(obj, str(path), **kwargs)
        raw = path.read_bytes()
        reads = (cls.read_fits(str(path)), cls.read_fits(str(path), bbox=_cut(obj)))
        out[name] = (cls, raw, hdu_spans(raw), *reads)
    return out


def _cut(obj) -> Box:
    b = obj.bbox
    return Box.factory[b.y.start + 3 : b.y.start + 9, b.x.start + 2 : b.x.start + 7]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return _sources(str(tmp_path_factory.mktemp("fuzz-sources")))


@hypothesis.settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
@hypothesis.given(
    name=st.sampled_from(sorted(_objects())),
    kind=st.sampled_from(sorted(MUTATORS)),
    seed=st.integers(0, 2**31),
)
def test_damaged_files_are_refused_or_read_correctly(sources, tmp_path_factory, name, kind, seed):
    cls, raw, spans, full, cut = sources[name]
    _, data = mutate(raw, seed, kind, spans)
    path = str(tmp_path_factory.getbasetemp() / f"mutant-{name}.fits")
    read = cls.read_fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcomes = [
            read_outcome(data, path, lambda p, bbox=None: read(p, bbox=bbox), full),
            read_outcome(data, path, lambda p, bbox=None: read(p, bbox=bbox), cut, bbox=_cut(full)),
        ]
    allowed = {"same", "refused"} if name != "masked-unchecked" else {"same", "refused", "different"}
    for outcome in outcomes:
        assert outcome.kind in allowed, (name, kind, seed, outcome)


# ------------------------------------------------------------------ regressions found by the runner


def _patched(raw: bytes, keyword: bytes, value: bytes, hdu: int = 0) -> bytes:
    """``raw`` with the value of ``keyword`` in HDU ``hdu`` replaced (same length)."""
    span = hdu_spans(raw)[hdu]
    card = span.keywords[keyword.decode()]
    out = bytearray(raw)
    out[card + 10 : card + 80] = value.ljust(70)
    return bytes(out)


@pytest.fixture
def masked_file(tmp_path):
    _, masked, _ = _objects()["masked"]
    path = tmp_path / "masked.fits"
    fits.write(masked, str(path), checksum=False)  # so that the structural checks are what refuses
    return path, masked


def _refused(path: Path, data: bytes, match: str, read=MaskedImage.read_fits) -> ArchiveReadError:
    path.write_bytes(data)
    with pytest.raises(ArchiveReadError, match=re.escape(path.name) + ".*" + match) as info:
        read(str(path))
    return info.value


def test_absurd_tfields_is_refused_at_once(masked_file):
    """Was a hang: a billion phantom columns were looped over."""
    path, _ = masked_file
    _refused(path, _patched(path.read_bytes(), b"TFIELDS", b"999999999999", hdu=1), "TFIELDS")


@pytest.mark.parametrize("keyword", [b"ZNAXIS1", b"ZNAXIS2", b"NAXIS2", b"PCOUNT", b"ZTILE2"])
def test_absurd_sizes_are_refused_before_allocating(masked_file, keyword):
    path, _ = masked_file
    _refused(path, _patched(path.read_bytes(), keyword, b"1000000000", hdu=1), "IMAGE")


def test_garbage_locator_card_is_refused(masked_file):
    """Was an astropy VerifyError escaping."""
    path, _ = masked_file
    _refused(path, _patched(path.read_bytes(), b"INDXSIZE", b"'garbage"), "")


def test_zeroed_primary_header_is_refused_quickly(masked_file):
    """Was a 9 s read: the whole file was parsed as one header."""
    path, _ = masked_file
    raw = bytearray(path.read_bytes())
    raw[400:2880] = b"\0" * 2480
    _refused(path, bytes(raw), "primary header")


def test_tree_shape_disagreeing_with_hdu_is_refused_in_a_cutout(masked_file):
    """Was an IndexError: the damaged tree made a valid bbox look outside the image."""
    path, masked = masked_file
    raw = path.read_bytes()
    data = raw.replace(b'"shape":[24,30]', b'"shape":[4,30] ', 1)
    path.write_bytes(data)
    with pytest.raises(ArchiveReadError, match="masked.fits"):
        MaskedImage.read_fits(str(path), bbox=Box.factory[20:24, 0:5])


def test_bbox_outside_the_image_is_still_an_index_error(masked_file):
    path, _ = masked_file
    with pytest.raises(IndexError) as info:
        MaskedImage.read_fits(str(path), bbox=Box.factory[0:100, 0:5])
    assert not isinstance(info.value, ArchiveReadError)


def test_deeply_nested_json_is_refused(tmp_path):
    """Deep nesting would hit the JSON parser's recursion limit: refused up front instead."""
    _, masked, _ = _objects()["masked"]
    path = tmp_path / "deep.fits"
    pad = "x" * 700
    fits.write(masked, str(path), metadata={"pad": pad}, checksum=False)
    deep = (b"[" * 300 + b"]" * 300).ljust(len(pad) + 2)
    _refused(path, path.read_bytes().replace(f'"{pad}"'.encode(), deep), "nested deeper")


def test_legacy_missing_plane_is_a_legacy_format_error_and_still_a_lookup_error(tmp_path):
    source = FIXTURES / "legacy" / "ip_diffim__scienceMI.fits"
    if not source.exists():
        pytest.skip("shared fixtures not found")
    from lsst.images.legacy import LegacyFormatError

    path = tmp_path / "truncated.fits"
    raw = source.read_bytes()
    path.write_bytes(raw[: hdu_spans(raw)[1].stop])  # only the image plane is left
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LegacyFormatError, match="truncated.fits") as info:
            MaskedImage.read_legacy(str(path))
    assert isinstance(info.value, LookupError)
