"""DifferenceImage on synthetic data: kernel and templates, copies, cut-outs, files."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

import lsst.images as li
from lsst.images import Box, DifferenceImage, DifferenceImageTemplateInfo, Polygon, fits
from lsst.images.tests import make_test_difference_image

B = Box.factory


@pytest.fixture(scope="module")
def di() -> DifferenceImage:
    return make_test_difference_image(4, kernel_center=(3, 5))


def test_exported_lazily() -> None:
    assert li.DifferenceImageSerializationModel.__name__ == "DifferenceImageSerializationModel"
    assert issubclass(DifferenceImage, li.VisitImage)


def test_components(di: DifferenceImage) -> None:
    assert di.band == "r" and di.physical_filter == "r_test"
    assert di.kernel.kernel_bbox == B[-3:6, -5:4]
    assert len(di.templates) == 2 and di.templates[1].psf_shape_flag
    assert di.sky_projection is di.projection
    assert str(di).startswith("DifferenceImage(")


def test_without_kernel_or_templates(tmp_path: Path) -> None:
    bare = make_test_difference_image(2, kernel=False, n_templates=0)
    with pytest.raises(AttributeError, match="kernel"):
        _ = bare.kernel
    with pytest.raises(AttributeError, match="template"):
        _ = bare.templates
    path = tmp_path / "bare.fits"
    bare.write(str(path))
    with fits.FitsInputArchive.open(str(path)) as archive:
        tree = archive.get_tree_dict()
        assert tree["kernel"] is None and tree["templates"] is None
        assert "KERNEL/BASIS" not in [k.name for k in archive.hdu_keys()]
    again = DifferenceImage.read(str(path))
    with pytest.raises(AttributeError):
        _ = again.kernel
    with pytest.raises(AttributeError):
        _ = again.templates
    np.testing.assert_array_equal(again.image.array, bare.image.array)


def test_kernel_and_templates_settable(di: DifferenceImage) -> None:
    copy = di.copy()
    del copy.kernel
    with pytest.raises(AttributeError):
        _ = copy.kernel
    copy.kernel = di.kernel
    assert copy.kernel is di.kernel
    copy.templates = []
    assert copy.templates == []
    del copy.templates
    with pytest.raises(AttributeError):
        _ = copy.templates
    assert len(di.templates) == 2  # the original is untouched


def test_copies_cutouts_and_units_keep_kernel_and_templates(di: DifferenceImage) -> None:
    box = B[110:120, 310:330]
    cut = di[box]
    assert type(cut) is DifferenceImage and cut.bbox == box
    assert cut.kernel is di.kernel and cut.templates is di.templates and cut.band == "r"
    assert np.shares_memory(cut.image.array, di.image.array)
    copy = di.copy()
    assert type(copy) is DifferenceImage and copy.kernel is di.kernel
    assert copy.templates == di.templates and copy.templates is not di.templates
    assert not np.shares_memory(copy.image.array, di.image.array)
    converted = di.convert_unit(u.uJy)
    assert type(converted) is DifferenceImage and converted.unit == u.uJy
    np.testing.assert_allclose(converted.image.array, di.image.array * 1e-3, rtol=1e-6)
    assert converted.kernel is di.kernel and converted.templates == di.templates
    assert di.convert_unit(u.nJy, copy=False) is di


def test_band_required() -> None:
    di = make_test_difference_image(1)
    with pytest.raises(TypeError, match="band"):
        DifferenceImage(
            di.image,
            mask=di.mask,
            variance=di.variance,
            projection=di.projection,
            obs_info=di.obs_info.model_copy(update={"physical_filter": None}),
            psf=di.psf,
            detector=di.detector,
        )
    explicit = DifferenceImage(
        di.image, mask=di.mask, variance=di.variance, sky_projection=di.projection, obs_info=di.obs_info,
        psf=di.psf, detector=di.detector, band="g",
    )  # fmt: skip
    assert explicit.band == "g"


def test_template_info_bounds_come_back_closed() -> None:
    info = DifferenceImageTemplateInfo(
        skymap="s", tract=1, patch=2, dataset_id=uuid.UUID(int=5), dataset_run="run",
        bounds=Polygon(x_vertices=[0, 1, 1, 0], y_vertices=[0, 0, 1, 1]),
        psf_shape_xx=1.0, psf_shape_yy=2.0, psf_shape_xy=0.0, psf_shape_flag=False,
    )  # fmt: skip
    data = json.loads(info.model_dump_json())
    assert data["dataset_id"] == "00000000-0000-0000-0000-000000000005" and data["instrument"] == "UNKNOWN"
    assert data["bounds"] == {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    again = DifferenceImageTemplateInfo.model_validate_json(info.model_dump_json())
    assert again.bounds.x_vertices.tolist() == [0, 1, 1, 0, 0]
    assert again.model_dump_json() == info.model_dump_json()


@pytest.mark.parametrize("suffix", [".fits", ".json"])
def test_round_trip(di: DifferenceImage, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"di{suffix}"
    di.write(str(path))
    again = DifferenceImage.read(str(path))
    assert type(again) is DifferenceImage and again.band == di.band
    np.testing.assert_array_equal(again.image.array, di.image.array)
    np.testing.assert_array_equal(again.mask.array, di.mask.array)
    assert again.kernel == di.kernel
    assert [t.model_dump() for t in again.templates] == [t.model_dump() for t in di.templates]
    cut = DifferenceImage.read(str(path), bbox=B[110:120, 310:330])
    assert cut.bbox == B[110:120, 310:330] and cut.kernel == di.kernel
    np.testing.assert_array_equal(cut.image.array, di[B[110:120, 310:330]].image.array)
    if suffix == ".fits":
        with fits.FitsInputArchive.open(str(path)) as archive:
            assert archive.layout == "4300"
            tree = archive.get_tree_dict()
            assert tree["schema_url"] == "https://images.lsst.io/schemas/difference_image-1.2.0"
            assert tree["kernel"]["schema_url"].endswith("image_basis_convolution_kernel-1.0.0")
            assert list(tree)[-4:] == ["band", "kernel", "templates", "schema_url"]
        with pytest.raises(IndexError):
            DifferenceImage.read(str(path), bbox=B[95:105, 300:310])
