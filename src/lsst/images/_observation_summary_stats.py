"""Per-visit quality statistics (the new form of afw's ``ExposureSummaryStats``)."""

from __future__ import annotations

__all__ = ("ObservationSummaryStats",)

import math
from typing import Any, Self

import pydantic


def _default_corners() -> tuple[float, float, float, float]:
    """Four NaNs: the corners of an image whose sky footprint is unknown."""
    return (math.nan, math.nan, math.nan, math.nan)


def _same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN, also inside tuples."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class ObservationSummaryStats(pydantic.BaseModel):
    """Summary statistics of one observation (one detector of one visit).

    Field names mirror afw's ``ExposureSummaryStats`` so that values convert
    one to one.  Unmeasured floats are NaN and unmeasured counts 0; the sky
    corner tuples default to four NaNs.  NaN and infinities are written to
    JSON as the bare tokens ``NaN``/``Infinity``/``-Infinity``.
    """

    model_config = pydantic.ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    version: int = 0
    psfSigma: float = math.nan
    psfArea: float = math.nan
    psfIxx: float = math.nan
    psfIyy: float = math.nan
    psfIxy: float = math.nan
    ra: float = math.nan
    dec: float = math.nan
    pixelScale: float = math.nan
    zenithDistance: float = math.nan
    expTime: float = math.nan
    zeroPoint: float = math.nan
    skyBg: float = math.nan
    skyNoise: float = math.nan
    meanVar: float = math.nan
    raCorners: tuple[float, float, float, float] = pydantic.Field(default_factory=_default_corners)
    decCorners: tuple[float, float, float, float] = pydantic.Field(default_factory=_default_corners)
    psfAdaptiveThresholdValue: float = math.nan
    psfAdaptiveIncludeThresholdMultiplier: float = math.nan
    nShapeletsStar: int = 0
    shapeletsOnlyIqScore: float = math.nan
    shapeletsIqScore: float = math.nan
    shapeletsCoeffs: tuple[float, ...] = pydantic.Field(default_factory=tuple)
    centroidDiffShapeletsVsSlotMedian: float = math.nan
    shapeletsStarEMedian: float = math.nan
    shapeletsStarUnNormalizedEMedian: float = math.nan
    refCatSourceDensity: float = math.nan
    astromOffsetMean: float = math.nan
    astromOffsetStd: float = math.nan
    nPsfStar: int = 0
    psfStarDeltaE1Median: float = math.nan
    psfStarDeltaE2Median: float = math.nan
    psfStarDeltaE1Scatter: float = math.nan
    psfStarDeltaE2Scatter: float = math.nan
    psfStarDeltaSizeMedian: float = math.nan
    psfStarDeltaSizeScatter: float = math.nan
    psfStarScaledDeltaSizeScatter: float = math.nan
    psfTraceRadiusDelta: float = math.nan
    psfApFluxDelta: float = math.nan
    psfApCorrSigmaScaledDelta: float = math.nan
    maxDistToNearestPsf: float = math.nan
    starEMedian: float = math.nan
    starUnNormalizedEMedian: float = math.nan
    starComa1Median: float = math.nan
    starComa2Median: float = math.nan
    starTrefoil1Median: float = math.nan
    starTrefoil2Median: float = math.nan
    starKurtosisMedian: float = math.nan
    starE41Median: float = math.nan
    starE42Median: float = math.nan
    effTime: float = math.nan
    effTimePsfSigmaScale: float = math.nan
    effTimeSkyBgScale: float = math.nan
    effTimeZeroPointScale: float = math.nan
    magLim: float = math.nan

    @classmethod
    def from_legacy(cls, exposure_summary_stats: Any) -> Self:
        """Copy the values of an afw ``ExposureSummaryStats`` (or any object with the same attributes).

        Attributes the legacy object lacks keep their defaults; ``None`` is
        read as "unset" (NaN).
        """
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            if not hasattr(exposure_summary_stats, name):
                continue
            value = getattr(exposure_summary_stats, name)
            if isinstance(value, list | tuple):
                value = tuple(math.nan if v is None else v for v in value)
            elif value is None:
                continue
            values[name] = value
        return cls.model_validate(values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObservationSummaryStats):
            return NotImplemented
        return all(_same(getattr(self, name), getattr(other, name)) for name in type(self).model_fields)

    __hash__ = None  # type: ignore[assignment]
