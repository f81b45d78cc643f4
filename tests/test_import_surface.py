"""The public import surface: every API.md name resolves, and ``import lsst.images`` stays light.

Heavy dependencies are imported lazily (inside functions or through module-level
``__getattr__``) so that ``import lsst.images`` stays fast.  These tests pin
both halves of that contract: the lazily-built names must still be importable
exactly as before, and the plain package import must not pull the heavy
modules in.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

# Public names of the API.md sections (``lsst.images.version`` is tested in
# test_version.py).  Kept inline so the test does not need the spec folder.
PUBLIC_NAMES: dict[str, tuple[str, ...]] = {
    "lsst.images": tuple(
        """
        AbsoluteSliceProxy Background BackgroundMap BackgroundMapSerializationModel Bounds
        BoundsError Box BoxSliceFactory CameraFrameSet CameraFrameSetSerializationModel ColorImage
        DetectorFrame FieldAngleFrame FocalPlaneFrame Frame FrameLookupError FrameSet GeneralFrame
        GeneralizedImage ICRS Image ImageSerializationModel Interval IntervalSliceFactory
        LocalSliceProxy Mask MaskPlane MaskPlaneBit MaskSchema MaskSerializationModel MaskedImage
        MaskedImageSerializationModel NoOverlapError ObservationSummaryStats Polygon Projection
        ProjectionAstropyView ProjectionSerializationModel Region RegionSerializationModel
        SerializableFrame SkyFrame TractFrame Transform TransformCompositionError
        TransformSerializationModel VisitImage VisitImageSerializationModel XY YX
        aperture_corrections cameras fields fits get_legacy_deep_coadd_mask_planes
        get_legacy_visit_image_mask_planes psfs serialization utils
        """.split()
    ),
    "lsst.images.psfs": tuple(
        """
        GaussianPSFSerializationModel GaussianPointSpreadFunction LegacyPointSpreadFunction
        PSFExSerializationModel PSFExWrapper PiffSerializationModel PiffWrapper PointSpreadFunction
        """.split()
    ),
    "lsst.images.fields": tuple(
        """
        BaseField ChebyshevField ChebyshevFieldSerializationModel Field FieldSerializationModel
        ProductField ProductFieldSerializationModel SplineField SplineFieldSerializationModel
        SumField SumFieldSerializationModel field_from_legacy field_from_legacy_background
        field_from_legacy_photo_calib
        """.split()
    ),
    "lsst.images.cameras": tuple(
        """
        Amplifier AmplifierCalibrations AmplifierRawGeometry Detector DetectorAttributes
        DetectorSerializationModel DetectorType Orientation ReadoutCorner
        """.split()
    ),
    "lsst.images.aperture_corrections": tuple(
        """
        ApertureCorrectionMap ApertureCorrectionMapSerializationModel
        aperture_corrections_from_legacy aperture_corrections_to_legacy
        """.split()
    ),
    "lsst.images.serialization": tuple(
        """
        ArchiveReadError ArchiveTree ArrayReferenceModel ArrayReferenceQuantityModel ButlerInfo
        FloatType InlineArray InlineArrayModel InlineArrayQuantity InlineArrayQuantityModel
        InputArchive IntegerType InvalidComponentError InvalidParameterError JsonRef MetadataValue
        NestedOutputArchive NumberType OpaqueArchiveMetadata OutputArchive Quantity QuantityModel
        ReadResult SignedIntegerType TableColumnModel TableModel Time TimeModel Unit
        UnsignedIntegerType UnsupportedTableError is_integer no_header_updates
        """.split()
    ),
    "lsst.images.utils": tuple(
        """
        is_none round_half_away_from_zero round_half_down round_half_up
        """.split()
    ),
}

# Modules that ``import lsst.images`` must leave unimported (they are only
# needed by particular operations and cost a lot of start-up time).
HEAVY_MODULES = (
    "astropy",  # astropy.units alone costs ~0.2 s: units stay text until used (lsst.images._lazy)
    "astropy.units",
    "scipy",
    "shapely",
    "astropy.wcs",
    "astropy.io.fits",
    "astropy.coordinates",
    "astropy.time",
    "astropy.table",
    "astro_metadata_translator",
    "matplotlib",
)


@pytest.mark.parametrize(
    ("module", "name"), [(module, name) for module, names in PUBLIC_NAMES.items() for name in names]
)
def test_public_name_imports(module: str, name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {module} import {name}", namespace)  # the exact form users write
    assert namespace[name] is getattr(importlib.import_module(module), name)


def test_unknown_name_raises_attribute_error() -> None:
    # The lazy ``__getattr__`` hooks must not swallow typos.
    import lsst.images

    with pytest.raises(AttributeError):
        lsst.images.NoSuchName  # noqa: B018
    with pytest.raises(ImportError):
        exec("from lsst.images import NoSuchName", {})


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import json, sys\n"
        "import lsst.images\n"
        f"print(json.dumps([m for m in {list(HEAVY_MODULES)!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_import_does_not_build_parametrized_models() -> None:
    # Every serialization model shares one archive-pointer TypeVar, so
    # ``ImageSerializationModel[P]`` in a field annotation is the generic model
    # itself; a separate ``...[~P]`` class would mean pydantic built an extra
    # schema at import time.
    from lsst.images import MaskedImageSerializationModel, VisitImageSerializationModel
    from lsst.images._color_image import ColorImageSerializationModel

    for model in (MaskedImageSerializationModel, VisitImageSerializationModel, ColorImageSerializationModel):
        for name, field in model.model_fields.items():
            assert "[~P]" not in repr(field.annotation), (model.__name__, name, field.annotation)
