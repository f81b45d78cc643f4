"""Notebook displays: compact tables and bounded thumbnails, with or without matplotlib."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest

import lsst.images as li
from lsst.images.display import _html, plane_color
from lsst.images.display._html import THUMBNAIL

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "lsstcam_synthetic_visit.fits"


@pytest.fixture(scope="module")
def visit() -> li.VisitImage:
    return li.VisitImage.read_fits(str(SAMPLE))


def _thumbnails(text: str) -> list[np.ndarray]:
    from matplotlib.image import imread

    return [
        imread(io.BytesIO(base64.b64decode(m)), format="png") for m in re.findall(r"base64,([^\"]+)\"", text)
    ]


def _cells(text: str) -> dict[str, str]:
    return dict(re.findall(r"<th[^>]*>([^<]*)</th><td[^>]*>([^<]*)</td>", text))


def test_visit_image_table(visit: li.VisitImage) -> None:
    pytest.importorskip("matplotlib")
    text = visit._repr_html_()
    cells = _cells(text)
    assert cells["bbox"] == "[y=1000:1160, x=2000:2192]"
    assert cells["shape (y, x)"] == "(160, 192)"
    assert cells["dtype"] == "float32" and cells["unit"] == "nJy"
    assert cells["mask planes"].split(", ") == [p.name for p in visit.mask.schema if p is not None]
    assert cells["PSF"].startswith("GaussianPointSpreadFunction, FWHM 4.71 px")
    assert cells["metadata"] == f"{len(visit.metadata)} entries"
    sky = visit.projection.pixel_to_sky(x=visit.bbox.x.center, y=visit.bbox.y.center)
    assert f"RA {sky.ra.deg:.6f}°" in cells["projection"]
    (thumb,) = _thumbnails(text)
    assert thumb.shape[:2] == (160 // 2, 192 // 2)  # stride 2 keeps it within THUMBNAIL


def test_every_image_type_and_component(visit: li.VisitImage) -> None:
    pytest.importorskip("matplotlib")
    color = li.ColorImage(np.stack([visit.image.array] * 3, axis=-1), bbox=visit.bbox)
    with_pixels = [
        visit.image,
        visit.mask,
        visit.variance,
        li.MaskedImage(visit.image, mask=visit.mask),
        color,
        visit.psf,
    ]
    with_pixels += [visit.photometric_scaling, *visit.aperture_corrections.values()]
    with_pixels += [b.field for b in visit.backgrounds.values()]
    for obj in with_pixels:
        text = obj._repr_html_()
        assert text.startswith("<div") and "<table>" in text
        (thumb,) = _thumbnails(text)
        assert max(thumb.shape[:2]) <= THUMBNAIL
    for obj in (visit.backgrounds, visit.projection, visit.detector):
        text = obj._repr_html_()
        assert "<table>" in text and "<img" not in text
    assert "standard" in _cells(visit.backgrounds._repr_html_())
    assert _cells(visit.detector._repr_html_())["name"] == "R21_S11"


def test_thumbnail_bounded_for_large_images() -> None:
    pytest.importorskip("matplotlib")
    big = li.Image(np.zeros((4000, 3000), np.float32), start=(10, 20))
    text = big._repr_html_()
    (thumb,) = _thumbnails(text)
    assert thumb.shape[:2] == (125, 94)  # every 32nd pixel
    assert len(text) < 60_000


def test_thumbnail_orientation_and_values() -> None:
    pytest.importorskip("matplotlib")
    array = np.zeros((10, 4))
    array[5:] = 1.0  # the upper half (large y) is bright
    png = _html.thumbnail_png(array, stretch="linear", interval="minmax")
    (thumb,) = _thumbnails(f'base64,{base64.b64encode(png).decode()}"')
    np.testing.assert_allclose(thumb[:5, :, :3], 1.0)  # PNG row 0 is the top: large y
    np.testing.assert_allclose(thumb[5:, :, :3], 0.0)


def test_mask_thumbnail_colours() -> None:
    pytest.importorskip("matplotlib")
    schema = li.MaskSchema([li.MaskPlane("BAD", "b"), li.MaskPlane("DETECTED", "d")])
    mask = li.Mask(schema=schema, bbox=li.Box.factory[0:6, 0:8])
    mask.set("BAD", np.arange(8)[np.newaxis, :].repeat(6, 0) < 3)
    (thumb,) = _thumbnails(mask._repr_html_())
    np.testing.assert_allclose(thumb[:, :3, :3], np.broadcast_to(plane_color("BAD"), (6, 3, 3)), atol=1 / 255)
    np.testing.assert_allclose(thumb[:, 3:, :3], 0.15, atol=1 / 255)


def test_table_without_matplotlib(visit: li.VisitImage, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    text = visit._repr_html_()
    assert "<img" not in text
    assert _cells(text)["bbox"] == "[y=1000:1160, x=2000:2192]"
    assert "<img" not in visit.psf._repr_html_()
