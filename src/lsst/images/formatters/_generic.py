"""`GenericFormatter`: the butler's `~lsst.daf.butler.FormatterV2` for every lsst.images type.

Writing stores the object with its dataset reference and provenance (`._writing`);
reading goes through `lsst.images.serialization.open_archive`, so a component or a
``bbox`` cut-out reads only what it returns (`._reading`).  Remote datastores (S3,
HTTP, ...) are read with range requests straight from the `~lsst.resources.ResourcePath`
whenever a component or parameters are asked for; a plain full read is left to the
butler's local-file path so that its cache can keep the file.
"""

from __future__ import annotations

__all__ = ("GenericFormatter",)

from collections.abc import Mapping
from typing import Any, ClassVar

from lsst.daf.butler import DatasetProvenance, FormatterV2
from lsst.resources import ResourcePath

from ..serialization import ArchiveReadError, open_archive
from ._reading import cached_reader, detach, read_components
from ._writing import (
    compression_seed,
    fits_layout,
    make_butler_info,
    provenance_header_updater,
    select_recipe,
    validate_recipes,
)

#: ``format`` write parameter -> file extension.
_EXTENSIONS = {"fits": ".fits", "json": ".json", "ndf": ".sdf"}


class GenericFormatter(FormatterV2):
    """Read and write lsst.images objects (FITS by default, JSON or NDF on request) for the butler.

    Write parameters are ``format`` (``fits``, ``json`` or ``ndf``) and ``recipe``
    (a write recipe name such as the shipped ``lossy16``; a recipe called
    ``default`` applies when none is named).  Read parameters are those the storage
    class declares (``bbox`` for a true cut-out, ``components`` for the
    ``components`` multi-read); legacy ``lsst.geom.Box2I`` boxes are accepted.
    """

    default_extension = ".fits"
    supported_extensions: ClassVar[frozenset[str]] = frozenset({".fits", ".json", ".sdf"})
    supported_write_parameters: ClassVar[frozenset[str]] = frozenset({"format", "recipe"})
    can_read_from_uri = True
    can_read_from_local_file = True

    _provenance: DatasetProvenance | None = None

    # --- configuration ----------------------------------------------------------------------------

    @classmethod
    def validate_write_recipes(cls, recipes: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """Validate recipes: each maps plane names (``image``, ``mask``, ...) to FITS compression options."""
        return validate_recipes(recipes) if recipes else recipes

    def _format(self) -> str:
        fmt = str((self.write_parameters or {}).get("format", "fits")).lower()
        if fmt not in _EXTENSIONS:
            raise ValueError(
                f"Unknown 'format' write parameter {fmt!r}; expected one of {sorted(_EXTENSIONS)}."
            )
        return fmt

    def get_write_extension(self) -> str:
        """The extension of the ``format`` write parameter (``.fits`` by default)."""
        return _EXTENSIONS[self._format()]

    # --- writing --------------------------------------------------------------------------------

    def add_provenance(
        self, in_memory_dataset: Any, /, *, provenance: DatasetProvenance | None = None
    ) -> Any:
        """Keep the provenance for the write; the object itself is not changed."""
        self._provenance = provenance
        return in_memory_dataset

    def write_local_file(self, in_memory_dataset: Any, uri: ResourcePath) -> None:
        """Write the object, its dataset reference and provenance to ``uri`` (a local file)."""
        ref = self.dataset_ref
        info = make_butler_info(ref, self._provenance)
        fmt = self._format()
        if fmt == "fits":
            from ..fits import write

            write(
                in_memory_dataset,
                uri.ospath,
                compression_options=select_recipe(
                    self.write_recipes, (self.write_parameters or {}).get("recipe")
                ),
                update_header=provenance_header_updater(ref, self._provenance),
                compression_seed=compression_seed(ref),
                butler_info=info,
                layout=fits_layout(in_memory_dataset),
            )
        elif fmt == "json":
            from ..json import write

            write(in_memory_dataset, uri.ospath, butler_info=info)
        else:
            from ..serialization import backend_for_name

            backend_for_name("ndf").write(in_memory_dataset, uri.ospath, butler_info=info)

    # --- reading --------------------------------------------------------------------------------

    def read_from_uri(self, uri: ResourcePath, component: str | None = None, expected_size: int = -1) -> Any:
        """Read a component or a cut-out with range requests; plain full reads go to the local file."""
        if component is None and not self.file_descriptor.parameters:
            return NotImplemented
        return self._read(uri, component)

    def read_from_local_file(self, path: str, component: str | None = None, expected_size: int = -1) -> Any:
        """Read the object, a component or a cut-out from a local file."""
        return self._read(path, component)

    def _parameters(self) -> dict[str, Any]:
        params = dict(self.file_descriptor.parameters or {})
        bbox = params.get("bbox")
        if bbox is not None and hasattr(bbox, "getMinX"):  # an lsst.geom.Box2I
            from .. import Box

            params["bbox"] = Box.from_legacy(bbox)
        return params

    def _describe(self, target: Any) -> str:
        ref = self.dataset_ref
        return f"dataset {ref.datasetType.name}@{ref.dataId} (id {ref.id}, run {ref.run!r}) in {target}"

    def _read(self, target: Any, component: str | None) -> Any:
        storage_class = self.file_descriptor.storageClass
        cls = storage_class.pytype
        params = self._parameters()
        try:
            if component is None:
                with open_archive(target, cls) as reader:
                    return reader.read(**params)
            reader = cached_reader((self.dataset_ref.id, str(target)), target, cls)
            if component == "components":
                return read_components(
                    lambda name, kwargs: detach(reader.get_component(name, **kwargs)), storage_class, params
                )
            return detach(reader.get_component(component, **params))
        except ArchiveReadError as err:
            raise type(err)(f"{self._describe(target)}: {err}") from err
