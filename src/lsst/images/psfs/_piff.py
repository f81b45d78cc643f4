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
from collections.abc import Iterator, Mapping
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


def _normalise(value: Any) -> Any:
    """Turn a value Piff writes into a plain JSON value.

    Numpy scalars become the matching Python scalars (integer → `int`,
    floating → `float`, ``bool_`` → `bool`, ``str_`` → `str`), arrays,
    tuples and lists become lists (element by element, recursively, so
    nested tuples become nested lists) and dicts are normalised value by
    value.  Anything else (Python scalars, None, strings) is kept as it is.

    Rubin's writer leaves nested dicts alone, so a numpy scalar inside one
    makes its JSON dump fail; normalising them too is deliberate.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    return value


class _ArchivePiffWriter:
    """Piff's writer interface, recording what a Piff object writes until `serialize` stores it.

    Piff calls ``write_struct``, ``write_table``, ``write_wcs_map`` and
    ``nested``; the values are normalised to plain JSON values as they
    arrive, and nothing touches an archive until `serialize`, which needs
    one only for tables and nested writers (so ``serialize(None)`` works for
    a writer that holds neither).

    Parameters
    ----------
    base_name
        Name of this writer's object, ``"/"``-joined from the root (Piff
        uses `get_full_name` in its messages).
    """

    def __init__(self, base_name: str = ""):
        self._base_name = base_name
        self.structs: dict[str, dict[str, Any]] = {}
        self.tables: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
        self.wcs_models: dict[str, Any] = {}
        self.writers: dict[str, _ArchivePiffWriter] = {}

    def get_full_name(self, name: str) -> str:
        return f"{self._base_name}/{name}"

    def write_struct(self, name: str, struct: Mapping[str, Any]) -> None:
        self.structs[name] = {key: _normalise(value) for key, value in struct.items()}

    def write_table(self, name: str, array: np.ndarray, metadata: Mapping[str, Any] | None = None) -> None:
        self.tables[name] = (array, {key: _normalise(value) for key, value in (metadata or {}).items()})

    def write_wcs_map(self, name: str, wcs_map: Mapping[Any, Any], pointing: Any) -> None:
        """Record a single-chip GalSim ``PixelScale`` WCS map (the only kind Rubin's PSFs use)."""
        from ._models import GalSimPixelScaleModel

        _, galsim = _import_piff()
        if pointing is not None or list(wcs_map) != [0] or not isinstance(wcs_map[0], galsim.PixelScale):
            raise NotImplementedError(
                "Only a {0: galsim.PixelScale} Piff WCS map without a pointing can be serialized; "
                f"got keys {list(wcs_map)} and pointing {pointing!r}."
            )
        self.wcs_models[name] = GalSimPixelScaleModel(scale=wcs_map[0].scale)

    def write_bandpass(self, name: str, bandpass: Any) -> None:
        raise NotImplementedError("Chromatic Piff PSFs (bandpasses) are not supported.")

    @contextlib.contextmanager
    def nested(self, name: str) -> Iterator[_ArchivePiffWriter]:
        child = _ArchivePiffWriter(f"{self._base_name}/{name}")
        yield child
        self.writers[name] = child

    def serialize(self, archive: OutputArchive[Any] | None) -> PiffObjectModel:
        """Store the tables (and nested writers, under their names) in ``archive``; return the model."""
        from ._models import PiffObjectModel, PiffTableModel

        tables = {
            name: PiffTableModel(
                metadata=metadata, table=_require(archive).add_structured_array(np.asarray(array), name=name)
            )
            for name, (array, metadata) in self.tables.items()
        }
        objects = {
            name: _require(archive).serialize_direct(name, writer.serialize)
            for name, writer in self.writers.items()
        }
        return PiffObjectModel(structs=self.structs, tables=tables, wcs=self.wcs_models, objects=objects)


def _require(archive: OutputArchive[Any] | None) -> OutputArchive[Any]:
    if archive is None:
        raise TypeError("An archive is needed to serialize Piff tables or nested objects.")
    return archive


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
    _import_piff()
    writer = _ArchivePiffWriter()
    _writable_copy(piff_psf)._write(writer, _ROOT_NAME, logger=_quiet_logger())
    return writer.serialize(archive)


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
