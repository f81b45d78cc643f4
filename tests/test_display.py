"""Pictures from `lsst.images.display`, rendered headless (Agg) and checked pixel by pixel."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

import lsst.images as li  # noqa: E402
from lsst.images import display  # noqa: E402
from lsst.images.display._plots import FIELD_GRID, kernel_fwhm  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def visit() -> li.VisitImage:
    return li.VisitImage.read_fits(str(SAMPLES / "lsstcam_synthetic_visit.fits"))


def _masked(start=(1000, 2000), shape=(20, 30)) -> li.MaskedImage:
    rng = np.random.default_rng(5)
    image = li.Image(rng.normal(10.0, 1.0, shape).astype(np.float32), start=start, unit=u.nJy)
    schema = li.MaskSchema([li.MaskPlane("BAD", "bad"), li.MaskPlane("MY_PLANE", "custom"), None])
    masked = li.MaskedImage(image, mask_schema=schema)
    masked.mask.set("BAD", image.array > 11.0)
    masked.mask.set("MY_PLANE", image.array < 9.5)
    return masked


def _limits(ax) -> tuple[tuple[float, float], tuple[float, float]]:
    return tuple(map(float, ax.get_xlim())), tuple(map(float, ax.get_ylim()))


def test_image_axes_are_absolute_pixels() -> None:
    masked = _masked()
    ax = display.show(masked.image)
    assert _limits(ax) == ((1999.5, 2029.5), (999.5, 1019.5))
    assert "absolute pixel" in ax.get_xlabel()
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1999.5 <= t <= 2029.5]
    assert ticks and all(float(t).is_integer() for t in ticks)
    bar = ax.figure.axes[-1]
    assert bar.get_ylabel() == "pixel value [nJy]"


def test_every_type_renders(visit: li.VisitImage) -> None:
    masked = _masked()
    color = li.ColorImage(np.stack([masked.image.array] * 3, axis=-1), bbox=masked.bbox)
    for obj in (masked.image, masked, visit, masked.mask, visit.mask, color):
        ax = display.show(obj)
        ax.figure.canvas.draw()
        left, right = ax.get_xlim()
        assert (left, right) == (obj.bbox.x.start - 0.5, obj.bbox.x.stop - 0.5)
        assert type(obj).__name__ in ax.get_title()


def test_bbox_subset_and_errors() -> None:
    masked = _masked()
    box = li.Box.factory[1005:1010, 2003:2020]
    ax = display.show(masked, bbox=box)
    assert _limits(ax) == ((2002.5, 2019.5), (1004.5, 1009.5))
    assert ax.images[0].get_array().shape == (5, 17)
    with pytest.raises(ValueError, match="not inside"):
        display.show(masked, bbox=li.Box.factory[990:1010, 2000:2010])


def test_sky_axes_with_projection(visit: li.VisitImage) -> None:
    from astropy.visualization.wcsaxes import WCSAxes

    ax = display.show(visit)
    assert isinstance(ax, WCSAxes)
    assert ax.coords[0].get_axislabel() == "RA (ICRS)"
    assert ax.coords[1].get_axislabel() == "Dec (ICRS)"
    ax.figure.canvas.draw()
    assert ax.coords[0].get_ticklabel_visible() and ax.coords[1].get_ticklabel_visible()
    assert "h" in ax.coords[0].format_coord(150.1)  # RA ticks in hours
    # Data coordinates are absolute pixels: the axes' WCS maps them through the projection.
    x, y = visit.bbox.x.start + 10, visit.bbox.y.start + 20
    expected = visit.projection.pixel_to_sky(x=x, y=y)
    assert ax.wcs.pixel_to_world(x, y).separation(expected).to_value(u.arcsec) < 1e-6
    assert _limits(ax) == (
        (visit.bbox.x.start - 0.5, visit.bbox.x.stop - 0.5),
        (visit.bbox.y.start - 0.5, visit.bbox.y.stop - 0.5),
    )
    assert visit.bbox.x.start > 0  # the check above is meaningful only off the origin


def test_plain_image_has_no_sky_axes() -> None:
    from astropy.visualization.wcsaxes import WCSAxes

    assert not isinstance(display.show(_masked().image), WCSAxes)


def test_one_legend_entry_per_requested_plane(visit: li.VisitImage) -> None:
    ax = display.show(visit, mask=["DETECTED", "BAD"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["DETECTED", "BAD"]
    ax = display.show(visit, mask="all")
    names = [p.name for p in visit.mask.schema if p is not None]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == names
    colors = [tuple(h.get_facecolor()[:3]) for h in ax.get_legend().legend_handles]
    assert colors == [pytest.approx(display.plane_color(n)) for n in names]
    assert display.show(visit).get_legend() is None


def _render_centres(masked: li.MaskedImage, **kwargs) -> np.ndarray:
    """Render on a fixed-size canvas and return the RGB at every image pixel centre."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
    display.show(masked, ax=ax, colorbar=False, stretch="linear", interval=(8.0, 12.0), **kwargs)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    grid = masked.bbox.meshgrid()
    ys, xs = grid.y, grid.x
    points = ax.transData.transform(np.column_stack([xs.ravel(), ys.ravel()]).astype(float))
    cols = np.round(points[:, 0] - 0.5).astype(int)
    rows = np.round(rgba.shape[0] - points[:, 1] - 0.5).astype(int)
    return rgba[rows, cols, :3].reshape(*masked.bbox.shape, 3).astype(float)


def test_overlay_pixels_coloured_exactly_where_plane_is_set() -> None:
    masked = _masked(start=(-4, 7), shape=(12, 16))
    plain = _render_centres(masked)
    alpha = 0.5
    bad = masked.mask.get("BAD")
    overlaid = _render_centres(masked, mask=["BAD"], mask_alpha=alpha)
    changed = np.any(np.abs(overlaid - plain) > 2, axis=-1)
    np.testing.assert_array_equal(changed, bad)
    red = np.array(display.plane_color("BAD")) * 255
    expected = (1 - alpha) * plain[bad] + alpha * red
    np.testing.assert_allclose(overlaid[bad], expected, atol=3)
    both = _render_centres(masked, mask="all", mask_alpha=alpha)
    either = bad | masked.mask.get("MY_PLANE")
    np.testing.assert_array_equal(np.any(np.abs(both - plain) > 2, axis=-1), either)


def test_bad_names_list_the_valid_ones() -> None:
    masked = _masked()
    with pytest.raises(ValueError, match="unknown mask plane.*'NOPE'.*valid planes: BAD, MY_PLANE"):
        display.show(masked, mask=["BAD", "NOPE"])
    with pytest.raises(ValueError, match="unknown stretch 'cubic'; valid stretches: linear, sqrt"):
        display.show(masked, stretch="cubic")
    with pytest.raises(ValueError, match="unknown interval 'widest'; valid intervals: zscale, minmax"):
        display.show(masked, interval="widest")
    with pytest.raises(ValueError, match="has no mask"):
        display.show(masked.image, mask="all")
    with pytest.raises(TypeError, match="not dict"):
        display.show({})


def test_stretch_and_interval_values() -> None:
    image = li.Image(np.arange(12, dtype=np.float64).reshape(3, 4), start=(0, 0))
    ax = display.show(image, stretch="linear", interval="minmax")
    norm = ax.images[0].norm
    assert (norm.vmin, norm.vmax) == (0.0, 11.0)
    np.testing.assert_allclose(norm(np.array([0.0, 5.5, 11.0])), [0.0, 0.5, 1.0])
    ax = display.show(image, stretch="sqrt", interval=(2.0, 6.0))
    np.testing.assert_allclose(ax.images[0].norm(np.array([1.0, 3.0, 6.0])), [0.0, 0.5, 1.0])
    ax = display.show(image, interval="50%")
    assert ax.images[0].norm.vmin == pytest.approx(2.75)


def test_color_image_scaled_per_value() -> None:
    base = li.Image(np.linspace(0, 20, 24).reshape(4, 6), start=(3, -2))
    color = li.ColorImage(
        np.stack([base.array, base.array * 0.5, base.array * 0.25], axis=-1), bbox=base.bbox
    )
    ax = display.show(color, stretch="linear", interval=(0.0, 10.0))
    drawn = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(drawn, np.clip(color.array / 10.0, 0, 1))
    assert len(ax.figure.axes) == 1  # no colour bar for RGB


def test_show_psf_fwhm(visit: li.VisitImage) -> None:
    sigma = visit.psf.sigma
    kernel = visit.psf.compute_kernel_image(x=2050.0, y=1100.0)
    assert kernel_fwhm(kernel) == pytest.approx(2 * math.sqrt(2 * math.log(2)) * sigma, rel=1e-3)
    ax = display.show_psf(visit, x=2050.0, y=1100.0)
    scale = np.sqrt(np.abs(np.linalg.det(visit.fits_wcs.pixel_scale_matrix))) * 3600
    fwhm = kernel_fwhm(kernel)
    assert f"FWHM {fwhm:.3g} px = {fwhm * scale:.3g} arcsec" in ax.get_title()
    np.testing.assert_array_equal(ax.images[0].get_array(), kernel.array)
    assert _limits(ax) == (
        (kernel.bbox.x.start - 0.5, kernel.bbox.x.stop - 0.5),
        (kernel.bbox.y.start - 0.5, kernel.bbox.y.stop - 0.5),
    )
    ax = display.show_psf(visit.psf, x=10.0, y=10.0)
    assert "arcsec" not in ax.get_title()


def test_show_field_values(visit: li.VisitImage) -> None:
    background = visit.backgrounds["standard"]
    box = li.Box.factory[1000:1040, 2000:2060]
    ax = display.show_field(background, box)
    np.testing.assert_allclose(ax.images[0].get_array(), background.field.render(box).array, rtol=1e-12)
    assert _limits(ax) == ((1999.5, 2059.5), (999.5, 1039.5))
    assert ax.figure.axes[-1].get_ylabel() == "value [nJy]"
    assert ax.get_title().startswith("standard: ")
    # A large area is drawn on a bounded grid.
    ax = display.show_field(visit.photometric_scaling, visit.detector.bbox)
    assert max(ax.images[0].get_array().shape) == FIELD_GRID
    ax = display.show_field(next(iter(visit.aperture_corrections.values())), visit.bbox)
    assert ax.images[0].get_array().shape == (
        min(visit.bbox.y.size, FIELD_GRID),
        min(visit.bbox.x.size, FIELD_GRID),
    )


def test_plane_colours_are_stable() -> None:
    code = "from lsst.images.display import plane_color; print(plane_color('BAD'), plane_color('ZZ_CUSTOM'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {f"{display.plane_color('BAD')} {display.plane_color('ZZ_CUSTOM')}\n"}
    assert display.plane_color("BAD") == (1.0, 0.0, 0.0)


def test_matplotlib_not_imported_until_drawing() -> None:
    code = (
        "import sys, lsst.images, lsst.images.display\n"
        "import numpy as np\n"
        "im = lsst.images.Image(np.zeros((3, 3)))\n"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_matplotlib_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"lsst-images-py\[plot\]"):
        display.show(_masked())


def test_large_overlays_are_drawn_in_blocks_that_keep_every_pixel() -> None:
    from lsst.images.display._show import MAX_OVERLAY, plane_layer

    bits = np.zeros((MAX_OVERLAY * 2 + 5, 700), dtype=bool)
    bits[1000, 3] = bits[-1, -1] = True
    layer, block = plane_layer(bits)
    assert block == 3 and layer.shape == (685, 234)
    assert set(zip(*np.nonzero(layer), strict=True)) == {(333, 1), (684, 233)}
    small = np.eye(5, dtype=bool)
    assert plane_layer(small)[1] == 1 and plane_layer(small)[0] is small
    schema = li.MaskSchema([li.MaskPlane("BAD", "b")])
    mask = li.Mask(schema=schema, bbox=li.Box.factory[10 : 10 + bits.shape[0], -5 : -5 + bits.shape[1]])
    mask.set("BAD", bits)
    ax = display.show(mask)
    left, right, bottom, top = ax.images[-1].get_extent()
    assert (left, bottom) == (-5.5, 9.5) and (right - left, top - bottom) == (702, 2055)
    assert _limits(ax) == ((-5.5, 694.5), (9.5, 2062.5))
