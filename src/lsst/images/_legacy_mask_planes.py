"""Default translations from legacy (``lsst.afw``) mask-plane names to `MaskPlane` objects.

Legacy afw masks only store plane names (often abbreviated, e.g. ``SAT``) and bit numbers; the new
`MaskSchema` also carries a description for each plane.  These maps are the defaults used when
reading or converting DP2-era legacy visit images and deep coadds.  The descriptions are part of the
data written into new files, so they are kept identical to the ones Rubin's converted files use.
"""

from __future__ import annotations

__all__ = ("get_legacy_deep_coadd_mask_planes", "get_legacy_visit_image_mask_planes")

from ._mask import MaskPlane

_EDGE_DESCRIPTION = (
    "Pixel was too close to the edge to be considered for detection, due to the finite size of the "
    "detection kernel."
)

# (legacy name, new name, description), in the order the new schema lists them when all are present.
_VISIT_IMAGE_PLANES: tuple[tuple[str, str, str], ...] = (
    ("BAD", "BAD", "Bad pixel in the instrument, including bad amplifiers."),
    ("SAT", "SATURATED", "Pixel was saturated or affected by saturation in a neighboring pixel."),
    ("INTRP", "INTERPOLATED", "Original pixel value was interpolated."),
    ("CR", "COSMIC_RAY", "A cosmic ray affected this pixel."),
    ("EDGE", "DETECTION_EDGE", _EDGE_DESCRIPTION),
    ("DETECTED", "DETECTED", "Pixel was part of a detected source."),
    ("SUSPECT", "SUSPECT", "Pixel was close to the saturation level. "),
    ("NO_DATA", "NO_DATA", "No data was available for this pixel."),
    ("VIGNETTED", "VIGNETTED", "Pixel was vignetted by the optics."),
    ("PARTLY_VIGNETTED", "PARTLY_VIGNETTED", "Pixel was partly vignetted by the optics."),
    ("CROSSTALK", "CROSSTALK", "Pixel was affected by crosstalk and corrected accordingly."),
    (
        "ITL_DIP",
        "ITL_DIP",
        "Pixel was affected by a dark vertical trail from a bright source, on an ITL CCD.",
    ),
    (
        "NOT_DEBLENDED",
        "NOT_DEBLENDED",
        "Pixel belonged to a detection that was not deblended, usually due to size limits.",
    ),
    ("SPIKE", "SPIKE", "Pixel is in the neighborhood of a diffraction spike from a bright star."),
)

_DEEP_COADD_PLANES: tuple[tuple[str, str, str], ...] = (
    ("NO_DATA", "NO_DATA", "No data was available for this pixel."),
    ("INTRP", "INTERPOLATED", "Pixel value is the result of interpolating nearby good pixels."),
    (
        "CR",
        "COSMIC_RAY",
        "A cosmic ray affected this pixel on at least one input image (and was interpolated).",
    ),
    ("SAT", "SATURATED", "More than 10% of the potential input visits."),
    ("EDGE", "DETECTION_EDGE", _EDGE_DESCRIPTION),
    (
        "REJECTED",
        "REJECTED",
        "At least one input visit was left out of the coadd for this pixel due to masking.",
    ),
    ("DETECTED", "DETECTED", "Pixel was part of a detected source."),
    (
        "INEXACT_PSF",
        "INEXACT_PSF",
        "Pixel is on or near a cell boundary and hence its PSF may be (usually slightly) discontinuous.",
    ),
)


def get_legacy_visit_image_mask_planes() -> dict[str, MaskPlane]:
    """Return the map from DP2-era afw visit-image mask plane names to new `MaskPlane` objects.

    This is the default ``plane_map`` of `VisitImage.read_legacy` and `VisitImage.from_legacy`.  A new
    dictionary is returned on every call, so callers may modify it freely.
    """
    return {legacy: MaskPlane(name, description) for legacy, name, description in _VISIT_IMAGE_PLANES}


def get_legacy_deep_coadd_mask_planes() -> dict[str, MaskPlane]:
    """Return the map from DP2-era afw deep-coadd mask plane names to new `MaskPlane` objects.

    A new dictionary is returned on every call, so callers may modify it freely.
    """
    return {legacy: MaskPlane(name, description) for legacy, name, description in _DEEP_COADD_PLANES}
