"""Conversion between in-memory afw objects and `lsst.images` objects (placeholder, filled below)."""

from __future__ import annotations

__all__ = ("visit_image_from_legacy", "visit_image_to_legacy")

from typing import Any


def visit_image_from_legacy(legacy: Any, **kwargs: Any) -> Any:
    raise NotImplementedError


def visit_image_to_legacy(visit_image: Any, **kwargs: Any) -> Any:
    raise NotImplementedError
