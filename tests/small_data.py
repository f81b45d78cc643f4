"""Small files shipped in ``tests/data`` so that tests run without ``../shared`` (fresh clones, CI)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@functools.cache
def _dp2_components() -> dict[str, Any]:
    return json.loads((DATA / "dp2_detector_obs_info.json").read_text())


def dp2_detector() -> Any:
    """The LSSTCam detector 85 of the DP2 test visit, as Rubin's 2100 release serialized it."""
    from lsst.images.cameras import DetectorSerializationModel

    return DetectorSerializationModel.model_validate(_dp2_components()["detector"]).deserialize(None)


def dp2_obs_info() -> Any:
    """The ObservationInfo of the DP2 test visit."""
    from astro_metadata_translator import ObservationInfo

    return ObservationInfo.model_validate(_dp2_components()["obs_info"])
