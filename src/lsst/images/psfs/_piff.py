"""PSFs backed by Piff models (optional ``piff`` extra).

Piff and GalSim are imported only when a Piff PSF is evaluated or
(de)serialized.  Serialization goes through Piff's own writer/reader
interface (flat dicts, numpy tables and WCS maps), recorded in a
`PiffObjectModel`; nothing is ever unpickled, so reading a file cannot run
code from it.
"""

from __future__ import annotations

__all__ = ("PiffWrapper", "read_piff_psf", "write_piff_psf")

import contextlib
import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .._geom import Box
from ._stamps import SquareStampPSF

if TYPE_CHECKING:
    from .._geom import Bounds
    from .._image import Image
    from ..serialization import InputArchive, OutputArchive
    from ._models import PiffObjectModel, PiffSerializationModel

#: Name under which the top-level Piff PSF is written inside its object tree.
_ROOT_NAME = "psf"


def _import_piff() -> tuple[Any, Any]:
    """Import piff and galsim, with an error naming the extra that provides them."""
    try:
        import galsim
        import piff
    except ImportError as err:
        raise ImportError(
            "Piff PSFs need the optional 'piff' extra (pip install 'lsst-images-py[piff]', "
            "which installs piff and galsim)."
        ) from err
    return piff, galsim


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class _PiffWriter:
    """Piff writer interface recording everything into a `PiffObjectModel`."""

    def __init__(self, archive: OutputArchive[Any], model: PiffObjectModel, prefix: str = ""):
        self._archive = archive
        self._model = model
        self._prefix = prefix

    def get_full_name(self, name: str) -> str:
        return f"{self._prefix}/{name}" if self._prefix else name

    def write_struct(self, name: str, struct: dict[str, Any]) -> None:
        self._model.structs[name] = _plain(dict(struct))

    def write_table(self, name: str, array: np.ndarray, metadata: dict[str, Any] | None = None) -> None:
        from ._models import PiffTableModel

        table = self._archive.add_structured_array(np.asarray(array), name=self.get_full_name(name))
        self._model.tables[name] = PiffTableModel(metadata=_plain(dict(metadata or {})), table=table)

    def write_wcs_map(self, name: str, wcs_map: dict[Any, Any], pointing: Any) -> None:
        from ._models import GalSimPixelScaleModel

        _, galsim = _import_piff()
        if pointing is not None or len(wcs_map) != 1:
            raise NotImplementedError("Only single-chip Piff WCS maps without a pointing can be serialized.")
        (wcs,) = wcs_map.values()
        if not isinstance(wcs, galsim.PixelScale):
            raise NotImplementedError(f"Cannot serialize a Piff WCS of type {type(wcs).__name__}.")
        self._model.wcs[name] = GalSimPixelScaleModel(scale=wcs.scale)

    def write_bandpass(self, name: str, bandpass: Any) -> None:
        raise NotImplementedError("Chromatic Piff PSFs (bandpasses) are not supported.")

    @contextlib.contextmanager
    def nested(self, name: str) -> Iterator[_PiffWriter]:
        from ._models import PiffObjectModel

        child = self._model.objects.setdefault(name, PiffObjectModel())
        yield _PiffWriter(self._archive, child, self.get_full_name(name))


class _PiffReader:
    """Piff reader interface serving data from a `PiffObjectModel`."""

    def __init__(self, archive: InputArchive[Any], model: PiffObjectModel, prefix: str = ""):
        self._archive = archive
        self._model = model
        self._prefix = prefix

    def get_full_name(self, name: str) -> str:
        return f"{self._prefix}/{name}" if self._prefix else name

    def read_struct(self, name: str) -> dict[str, Any] | None:
        struct = self._model.structs.get(name)
        return dict(struct) if struct is not None else None

    def read_table(self, name: str, metadata: dict[str, Any] | None = None) -> np.ndarray | None:
        entry = self._model.tables.get(name)
        if entry is None:
            return None
        if metadata is not None:
            metadata.update(entry.metadata)
        return self._archive.get_structured_array(entry.table)

    def read_wcs_map(self, name: str, logger: Any = None) -> tuple[dict[int, Any] | None, Any]:
        _, galsim = _import_piff()
        entry = self._model.wcs.get(name)
        if entry is None:
            return None, None
        return {0: galsim.PixelScale(entry.scale)}, None

    def read_bandpass(self, name: str) -> Any:
        return None

    @contextlib.contextmanager
    def nested(self, name: str) -> Iterator[_PiffReader]:
        from ._models import PiffObjectModel

        child = self._model.objects.get(name, PiffObjectModel())
        yield _PiffReader(self._archive, child, self.get_full_name(name))


def _quiet_logger() -> Any:
    """A logger object with the extra levels Piff calls (``verbose``), discarding everything."""
    piff, _ = _import_piff()
    return piff.setup_logger(verbose=0)


#: Attributes that Piff's writer needs but that PSFs pickled by older Piff
#: versions lack, with neutral values (they only describe the fit history).
_MISSING_FIT_STATE = {"niter": 0, "set_center": False}


def _writable_copy(piff_psf: Any) -> Any:
    """Return a shallow copy of a Piff PSF that Piff's own writer can handle.

    Rubin's Piff PSFs (e.g. unpickled from afw files) keep their fit stars
    without pixel data and may come from an older Piff version; the copy
    gets pixel-less target stars at the same positions, its outlier rejector
    wrapped in the list newer Piff expects, and neutral fit-history values
    where they are missing.  The caller's object is never modified.
    """
    piff, _ = _import_piff()
    clone = copy.copy(piff_psf)
    stars = list(getattr(piff_psf, "stars", []) or [])
    if stars and not all(hasattr(star.data, "image") for star in stars):
        scale = None
        wcs = getattr(piff_psf, "wcs", None) or {}
        if len(wcs) == 1:
            scale = getattr(next(iter(wcs.values())), "scale", None)
        targets = []
        for star in stars:
            properties = dict(star.data.properties)
            target = piff.Star.makeTarget(
                x=star.image_pos.x,
                y=star.image_pos.y,
                u=properties.get("u"),
                v=properties.get("v"),
                scale=scale,
                stamp_size=1,
            )
            targets.append(target.withProperties(is_flagged=star.is_flagged, is_reserve=star.is_reserve))
        clone.stars = targets
    outliers = getattr(clone, "outliers", None)
    if outliers is not None and not isinstance(outliers, list):
        clone.outliers = [outliers]
    for name, value in _MISSING_FIT_STATE.items():
        if not hasattr(clone, name):
            setattr(clone, name, value)
    return clone


def write_piff_psf(piff_psf: Any, archive: OutputArchive[Any]) -> PiffObjectModel:
    """Record a Piff PSF through Piff's writer interface."""
    from ._models import PiffObjectModel

    _import_piff()
    model = PiffObjectModel()
    clone = _writable_copy(piff_psf)
    clone._write(_PiffWriter(archive, model), _ROOT_NAME, logger=_quiet_logger())
    return model


def read_piff_psf(model: PiffObjectModel, archive: InputArchive[Any]) -> Any:
    """Rebuild a Piff PSF through Piff's reader interface (no unpickling)."""
    piff, _ = _import_piff()
    psf = piff.PSF._read(_PiffReader(archive, model), _ROOT_NAME, logger=_quiet_logger())
    if getattr(psf, "stars", None) is None:
        # Trees that do not store the fit stars (they are not needed to draw
        # the PSF) still give an object with the attribute Piff code expects.
        psf.stars = []
    return psf


class PiffWrapper(SquareStampPSF):
    """A PSF backed by a ``piff.PSF``, rendered into fixed-size square stamps.

    Parameters
    ----------
    impl
        The ``piff.PSF``.
    bounds
        Validity region.
    stamp_size
        Width of the (square, odd-sized) stamps.
    """

    def __init__(self, impl: Any, bounds: Bounds, stamp_size: int):
        self._impl = impl
        super().__init__(bounds, stamp_size)

    @classmethod
    def from_legacy(cls, legacy_psf: Any, bounds: Bounds) -> PiffWrapper:
        """Wrap the Piff model inside an afw ``PiffPsf`` (needs the legacy stack)."""
        impl = getattr(legacy_psf, "_piffResult", None)
        if impl is None:
            raise TypeError(f"Cannot find the Piff model inside {type(legacy_psf).__name__}.")
        width = legacy_psf.width if hasattr(legacy_psf, "width") else legacy_psf.getKernel().getWidth()
        return cls(impl, bounds, width)

    @property
    def piff_psf(self) -> Any:
        """The wrapped ``piff.PSF``."""
        return self._impl

    def _draw(self, bbox: Box, *, x: float, y: float, center: Any) -> Image:
        from .._image import Image

        _import_piff()
        drawn = self._impl.draw(x=x, y=y, stamp_size=self._stamp_size, center=center)
        array = np.array(drawn.array, dtype=np.float64)
        array /= array.sum()
        return Image(array, bbox=bbox)

    def compute_kernel_image(self, *, x: float, y: float) -> Image:
        # center=True puts the profile on the stamp's true centre, i.e. the
        # central pixel of an odd stamp: pixel (0, 0) of the kernel box.
        return self._draw(self.kernel_bbox, x=float(x), y=float(y), center=True)

    def compute_stellar_image(self, *, x: float, y: float) -> Image:
        return self._draw(self.compute_stellar_bbox(x=x, y=y), x=float(x), y=float(y), center=None)

    @staticmethod
    def _get_archive_tree_type(pointer_type: type[Any]) -> type[PiffSerializationModel]:
        """Return the model to parse for a Piff PSF stored on its own (any pointer type)."""
        from ._models import PiffSerializationModel

        return PiffSerializationModel

    def serialize(self, archive: OutputArchive[Any]) -> PiffSerializationModel:
        """Record the Piff model through its writer interface and return the model."""
        from ._models import PiffSerializationModel

        return PiffSerializationModel(
            piff=write_piff_psf(self._impl, archive),
            stamp_size=self._stamp_size,
            bounds=self._bounds.serialize(),
        )
