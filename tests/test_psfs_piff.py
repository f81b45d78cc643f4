"""Tests of PiffWrapper: images against afw's stored renderings, and a serialization round trip.

The Piff PSF comes from the real afw file in the legacy fixtures, loaded by the legacy reader's
allow-list unpickler (never plain pickle).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest

from conftest import fixture_dir, load_manifest
from lsst.images._geom import Box

pytest.importorskip("piff")
pytest.importorskip("galsim")

PIFF_FILE = "meas_extensions_piff__exp.fits"


def _entry() -> dict[str, Any]:
    files = load_manifest("legacy")["files"]
    entries = files if isinstance(files, list) else list(files.values())
    return next(e for e in entries if e["name"] == PIFF_FILE)


def _legacy_piff() -> Any:
    from lsst.images.legacy._fits import LegacyFitsFile

    entry = _entry()
    with LegacyFitsFile(fixture_dir("legacy") / PIFF_FILE) as lf:
        return lf.archive.get(entry["decoded"]["component_ids"]["PSF"])


def _wrapper():
    from lsst.images.psfs import PiffWrapper

    legacy = _legacy_piff()
    return PiffWrapper(legacy.piff_psf, Box.factory[0:200, 0:200], legacy.width)


def test_stellar_images_match_afw():
    from lsst.images.legacy._fits import LegacyFitsFile

    psf = _wrapper()
    points = _entry()["decoded"]["psf"]["pure_python_evaluation"]["result"]["points"]
    for key, (x, y) in (("0_0", (0.0, 0.0)), ("10_100", (10.0, 100.0))):
        image = psf.compute_stellar_image(x=x, y=y)
        assert image.bbox == psf.compute_stellar_bbox(x=x, y=y)
        assert image.array.sum() == pytest.approx(1.0, abs=1e-14)
        with LegacyFitsFile(fixture_dir("legacy") / f"meas_extensions_piff__psfIm_{key}.fits") as ref:
            afw = ref.read_plane(0)
        assert (image.bbox.x.start, image.bbox.y.start) == (afw.x0, afw.y0)
        tolerance = max(points[key]["max_abs_diff_vs_piff_draw"], 1e-16) * 4
        assert np.abs(image.array - afw.array).max() <= tolerance


def test_kernel_image_is_centred():
    psf = _wrapper()
    kernel = psf.compute_kernel_image(x=10.0, y=100.0)
    assert kernel.bbox == psf.kernel_bbox == Box.factory[-12:13, -12:13]
    assert kernel.array.sum() == pytest.approx(1.0, abs=1e-14)
    yy, xx = np.meshgrid(kernel.bbox.y.arange, kernel.bbox.x.arange, indexing="ij")
    assert abs((kernel.array * xx).sum()) < 0.05 and abs((kernel.array * yy).sum()) < 0.05


class _TableArchive:
    """Records structured arrays (tables) by name, for both writing and reading."""

    def __init__(self) -> None:
        self.tables: dict[str, np.ndarray] = {}

    def add_structured_array(self, array: np.ndarray, *, name: str | None = None, **kwargs: Any) -> Any:
        from lsst.images.serialization import TableModel

        self.tables[str(name)] = np.array(array)
        return TableModel(meta={"key": str(name)})

    def get_structured_array(self, model: Any, **kwargs: Any) -> np.ndarray:
        return self.tables[model.meta["key"]]

    def serialize_direct(self, name: str, serializer: Any) -> Any:
        # As the real archives do: the nested object's names are prefixed by ``name``.
        return serializer(_PrefixedTableArchive(f"{name}/", self))


class _PrefixedTableArchive:
    def __init__(self, prefix: str, parent: _TableArchive):
        self._prefix, self._parent = prefix, parent

    def add_structured_array(self, array: np.ndarray, *, name: str | None = None, **kwargs: Any) -> Any:
        return self._parent.add_structured_array(array, name=f"{self._prefix}{name}", **kwargs)

    def serialize_direct(self, name: str, serializer: Any) -> Any:
        return serializer(_PrefixedTableArchive(f"{self._prefix}{name}/", self._parent))


def test_serialization_round_trip_without_pickle():
    from lsst.images.psfs import PiffSerializationModel, PiffWrapper

    psf = _wrapper()
    n_stars = len(psf.piff_psf.stars)
    archive = _TableArchive()
    model = psf.serialize(archive)
    text = model.model_dump_json()
    assert '"stamp_size":25' in text and "pickle" not in text
    assert any(name.endswith("stars") for name in archive.tables)
    parsed = PiffSerializationModel.model_validate_json(text)
    rebuilt = parsed.deserialize(archive)
    assert isinstance(rebuilt, PiffWrapper) and rebuilt.bounds == psf.bounds
    for x, y in ((0.0, 0.0), (10.0, 100.0), (150.0, 40.0)):
        np.testing.assert_array_equal(
            rebuilt.compute_stellar_image(x=x, y=y).array, psf.compute_stellar_image(x=x, y=y).array
        )
    assert len(rebuilt.piff_psf.stars) == n_stars
    # The wrapped object itself was not modified by writing.
    assert len(psf.piff_psf.stars) == n_stars and not hasattr(psf.piff_psf.stars[0].data, "image")


def test_missing_piff_is_a_clear_error(monkeypatch):
    from lsst.images.psfs import PiffWrapper

    psf = PiffWrapper(object(), Box.factory[0:10, 0:10], 5)
    real_import = builtins.__import__

    def no_piff(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("piff", "galsim"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_piff)
    with pytest.raises(ImportError, match="'piff' extra"):
        psf.compute_stellar_image(x=1.0, y=1.0)
    with pytest.raises(ValueError):
        PiffWrapper(object(), Box.factory[0:10, 0:10], 4)
