"""The `Time` annotated type (kept in its own module so `astropy.time` loads only when used)."""

from __future__ import annotations

__all__ = ("Time",)

from typing import Annotated, Any

import astropy.time
import pydantic

from ._annotations import ModelBackedAnnotation, annotated_schema
from ._models import TimeModel


def _time_to_model(t: astropy.time.Time) -> TimeModel:
    if not t.isscalar:
        raise ValueError(f"Time annotation requires a scalar time, got shape {t.shape}.")
    scale = t.scale if t.scale in ("utc", "tai") else "tai"
    converted = getattr(t, scale)
    # Nanosecond digits: the ISO string must not lose precision on a round trip.
    converted = astropy.time.Time(converted, format="iso", precision=9)
    return TimeModel(value=converted.value, scale=scale)


def _time_from_model(model: TimeModel) -> astropy.time.Time:
    return astropy.time.Time(model.value, format=model.format, scale=model.scale)


class _TimeSerialization(ModelBackedAnnotation):
    """Pydantic hooks storing an astropy Time as a `TimeModel`."""

    model_type = TimeModel

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: pydantic.GetCoreSchemaHandler) -> Any:
        return annotated_schema(handler, astropy.time.Time, TimeModel, _time_from_model, _time_to_model)


Time = Annotated[astropy.time.Time, _TimeSerialization]
"""Astropy Time serialized as a `TimeModel` (ISO string, UTC or TAI scale)."""
