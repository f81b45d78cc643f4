"""afw ``ExposureSummaryStats``: a YAML mapping stored as bytes in the archive.

The YAML is parsed with :func:`yaml.safe_load` only (it never constructs
Python objects).  Keys unknown to `ObservationSummaryStats` are dropped, and
afw's old ``decl`` key is renamed ``dec``.
"""

from __future__ import annotations

__all__ = ("decode_summary_stats", "summary_stats_dict", "to_summary_stats")

import math
from typing import TYPE_CHECKING, Any

from ._errors import LegacyFormatError

if TYPE_CHECKING:
    from ._archive import Catalog, LegacyArchive


def decode_summary_stats(archive: LegacyArchive, catalogs: list[Catalog]) -> dict[str, Any]:
    """Archive factory for ``ExposureSummaryStats``: the YAML mapping as a dict."""
    return summary_stats_dict(catalogs[0].bytes("bytes"))


def summary_stats_dict(blob: bytes) -> dict[str, Any]:
    """Parse the YAML text of an afw ``ExposureSummaryStats``."""
    import yaml

    try:
        data = yaml.safe_load(blob.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise LegacyFormatError(f"ExposureSummaryStats YAML could not be parsed: {err}") from err
    if not isinstance(data, dict):
        raise LegacyFormatError(f"ExposureSummaryStats YAML is a {type(data).__name__}, not a mapping.")
    if "decl" in data and "dec" not in data:
        data["dec"] = data.pop("decl")
    return data


def to_summary_stats(values: dict[str, Any]) -> Any:
    """Validate a summary-statistics dict into an `ObservationSummaryStats`, dropping unknown keys."""
    from .._observation_summary_stats import ObservationSummaryStats

    known = ObservationSummaryStats.model_fields
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            continue
        if isinstance(value, list):
            value = tuple(math.nan if v is None else v for v in value)
        cleaned[key] = math.nan if value is None else value
    return ObservationSummaryStats.model_validate(cleaned)
