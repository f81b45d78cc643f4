"""Load the read path when the package is imported, so a first read or write costs what later ones do.

Most scripts, batch jobs and cut-out services that import this package read a file
next.  Left to first use, that read would pay for importing the FITS container and tile
engine and for pydantic building the validators of the tree models (together several
times the ~25 ms of a warm 200x200 cut-out).  Doing both here moves that work into
``import lsst.images`` instead of adding it to the first read, so a fresh process reads
as fast as a warm one.  Validation itself is unchanged: every tree a read parses is
still validated in full; only the validators are ready before the first file arrives.

Nothing here imports astropy (units read from files stay validated text until used,
see `~lsst.images.serialization.UnitText`) or the heavy optional modules
(astro_metadata_translator, scipy, ...): the read path does not need them.
"""

from __future__ import annotations

__all__ = ()

import concurrent.futures.thread  # noqa: F401  (the tile engine's worker pool)

from . import _visit_image_model
from ._image import ImageSerializationModel
from ._mask import MaskSerializationModel
from ._masked_image import MaskedImageSerializationModel
from ._transforms import _ast_check  # noqa: F401  (checks the AST text of every projection read)
from .fits import PointerModel, _engine, _layout, _read  # noqa: F401  (container and tile engine)
from .serialization import parametrized


def _build_tree_validators() -> None:
    """Build the validators of the image tree models (smallest first, so larger ones reuse them)."""
    for model in (
        ImageSerializationModel,
        MaskSerializationModel,
        MaskedImageSerializationModel,
        _visit_image_model.VisitImageSerializationModel,
    ):
        parametrized(model, PointerModel).model_rebuild()


def _build_write_validators() -> None:
    """Build the validators of the component models a write instantiates one by one.

    A read validates the whole tree with the validators above; a write builds each
    component's model from the object (detector, fields, PSF, ...), and pydantic would
    build each class's validator at that first use: about 20 ms of a first write.
    """
    from ._backgrounds import BackgroundMapSerializationModel
    from ._transforms._models import (
        CameraFrameSetSerializationModel,
        ProjectionSerializationModel,
        TransformSerializationModel,
    )
    from .aperture_corrections import ApertureCorrectionMapSerializationModel
    from .cameras import DetectorSerializationModel
    from .fields._models import ChebyshevFieldSerializationModel, SplineFieldSerializationModel
    from .psfs._models import (
        GaussianPSFSerializationModel,
        PiffSerializationModel,
        PSFExSerializationModel,
    )
    from .serialization import ArrayReferenceModel, ArrayReferenceQuantityModel, InlineArrayModel

    for model in (
        ArrayReferenceModel,
        ArrayReferenceQuantityModel,
        InlineArrayModel,
        TransformSerializationModel,
        ProjectionSerializationModel,
        CameraFrameSetSerializationModel,
        DetectorSerializationModel,
        ChebyshevFieldSerializationModel,
        SplineFieldSerializationModel,
        ApertureCorrectionMapSerializationModel,
        BackgroundMapSerializationModel,
        GaussianPSFSerializationModel,
        PSFExSerializationModel,
        PiffSerializationModel,
    ):
        model.model_rebuild()


_build_tree_validators()
_build_write_validators()
