"""Test helpers that need the data butler: `TemporaryButler` and `make_test_formatter`.

Both import ``lsst.daf.butler`` only when used, and raise `unittest.SkipTest`
(which pytest reports as a skip) when it is not installed, so that test suites
written with them pass on machines without the optional ``butler`` extra.
"""

from __future__ import annotations

__all__ = ("TemporaryButler", "make_test_formatter")

import os
import shutil
import tempfile
import unittest
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from lsst.daf.butler import Butler, DatasetRef

F = TypeVar("F")

#: Dotted name of the formatter the butler's configuration binds to lsst.images types.
FORMATTER = "lsst.images.formatters.GenericFormatter"


def _import_butler() -> Any:
    try:
        import lsst.daf.butler as butler
    except ImportError as err:
        raise unittest.SkipTest(
            "lsst.daf.butler is not installed (the 'butler' extra of lsst-images-py)"
        ) from err
    return butler


class TemporaryButler:
    """A throw-away butler repository with one dataset type per keyword.

    Parameters
    ----------
    run
        RUN collection that puts go to.
    format
        ``format`` write parameter bound to every given storage class (e.g. ``"json"``).
    recipe
        ``recipe`` write parameter bound to every given storage class (e.g. ``"lossy16"``).
    **kwargs
        Dataset type name -> storage class name; each is registered with empty
        dimensions and exposed as an (unresolved) `~lsst.daf.butler.DatasetRef`
        attribute of that name.

    Notes
    -----
    The repository is made by ``Butler.makeRepo`` with daf_butler's shipped
    configuration (SQLite registry, file datastore) in a temporary folder that is
    removed on exit; entering raises `unittest.SkipTest` without the butler.
    """

    def __init__(self, run: str = "test_run", *, format: str | None = None, recipe: str | None = None,
                 **kwargs: str) -> None:  # fmt: skip
        self.run = run
        self._format = format
        self._recipe = recipe
        self._dataset_types = dict(kwargs)
        self.root: str | None = None
        self.butler: Butler | None = None
        self._refs: dict[str, DatasetRef] = {}

    def __enter__(self) -> TemporaryButler:
        daf_butler = _import_butler()
        self.root = tempfile.mkdtemp(prefix="lsst-images-butler-")
        try:
            parameters = {k: v for k, v in (("format", self._format), ("recipe", self._recipe)) if v}
            config = None
            if parameters:
                bindings = {
                    sc: {"formatter": FORMATTER, "parameters": parameters}
                    for sc in set(self._dataset_types.values())
                }
                config = daf_butler.Config({"datastore": {"formatters": bindings}})
            daf_butler.Butler.makeRepo(self.root, config=config)
            self.butler = daf_butler.Butler.from_config(self.root, run=self.run, writeable=True)
            universe = self.butler.dimensions
            empty = daf_butler.DataCoordinate.make_empty(universe)
            for name, storage_class in self._dataset_types.items():
                dataset_type = daf_butler.DatasetType(name, (), storage_class, universe=universe)
                self.butler.registry.registerDatasetType(dataset_type)
                self._refs[name] = daf_butler.DatasetRef(dataset_type, empty, run=self.run)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *args: Any) -> bool | None:
        if self.butler is not None:
            self.butler.close()
            self.butler = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        return None

    def __getattr__(self, name: str) -> DatasetRef:
        refs = self.__dict__.get("_refs", {})
        if name in refs:
            return refs[name]
        raise AttributeError(f"TemporaryButler has no dataset type {name!r}.")


def make_test_formatter(
    formatter_cls: type[F],
    pytype: type,
    *,
    location: str = "$TMPDIR/test.fits",
    parameters: dict[str, Any] | None = None,
    write_parameters: dict[str, Any] | None = None,
) -> F:
    """A butler formatter wired to a fake file descriptor, for testing it without a repository.

    Parameters
    ----------
    formatter_cls
        A `lsst.daf.butler.FormatterV2` subclass (e.g. `lsst.images.formatters.GenericFormatter`).
    pytype
        The Python type read and written; a storage class named after it (without
        components) is made for it.
    location
        File path; ``$TMPDIR`` is the system's temporary folder.
    parameters
        Read parameters (e.g. ``{"bbox": box}``).
    write_parameters
        Write parameters (e.g. ``{"format": "json"}``).

    Raises
    ------
    unittest.SkipTest
        If the butler is not installed.
    """
    daf_butler = _import_butler()
    path = location.replace("$TMPDIR", tempfile.gettempdir())
    if "://" not in path:
        path = os.path.abspath(path)
    storage_class = daf_butler.StorageClass(pytype.__name__, pytype=pytype)
    descriptor = daf_butler.FileDescriptor(
        daf_butler.Location(None, path), storageClass=storage_class, parameters=parameters
    )
    universe = daf_butler.DimensionUniverse()
    dataset_type = daf_butler.DatasetType("test", (), storage_class, universe=universe)
    ref = daf_butler.DatasetRef(dataset_type, daf_butler.DataCoordinate.make_empty(universe), run="test")
    return formatter_cls(descriptor, ref=ref, write_parameters=write_parameters)  # type: ignore[call-arg]
