"""afw mask planes: ``MP_*`` header cards and their translation to the new mask layout.

An afw mask is one integer per pixel whose bits are named by ``MP_<NAME> =
<bit>`` cards on the mask HDU.  The new layout (`lsst.images.Mask`) packs
planes sequentially into ``uint8`` elements along a third array axis, in the
order of its `MaskSchema`.  Translation rules (LEGACY.md §8):

* mapped planes keep the **legacy header-card order**;
* a legacy plane absent from the plane map is dropped silently when no pixel
  has its bit, and is an error (`RuntimeError`) when some pixel has it;
* without a plane map every legacy plane is kept under its legacy name.
"""

from __future__ import annotations

__all__ = ("MappedMask", "map_legacy_mask", "read_mask_plane_cards", "strip_mask_plane_cards")

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import astropy.io.fits

_MP_CARD = re.compile(r"^MP_(?P<name>.+)$")


def read_mask_plane_cards(header: astropy.io.fits.Header) -> dict[str, int]:
    """Return ``{plane name: bit index}`` from the ``MP_*`` cards, in card order.

    HIERARCH cards (long plane names) are handled by astropy, which exposes
    them without the ``HIERARCH`` prefix.
    """
    planes: dict[str, int] = {}
    for key, value in header.items():
        match = _MP_CARD.match(key)
        if match is None:
            continue
        planes[match.group("name")] = int(value)
    return planes


def strip_mask_plane_cards(header: astropy.io.fits.Header) -> None:
    """Remove every ``MP_*`` card from a header in place."""
    for key in [k for k in header.keys() if _MP_CARD.match(k)]:
        del header[key]


@dataclasses.dataclass
class MappedMask:
    """Result of translating an afw mask.

    Attributes
    ----------
    planes
        ``(name, description)`` of each new plane, in schema order.
    array
        ``uint8`` array of shape ``(height, width, ceil(len(planes) / 8))``
        (at least one element along the last axis).
    """

    planes: list[tuple[str, str]]
    array: np.ndarray


def map_legacy_mask(
    legacy: np.ndarray,
    legacy_planes: Mapping[str, int],
    plane_map: Mapping[str, Any] | None,
    *,
    filename: str = "<memory>",
) -> MappedMask:
    """Translate an afw mask array into the packed new layout.

    Parameters
    ----------
    legacy
        2-d integer array of afw mask pixels.
    legacy_planes
        ``{legacy name: bit index}`` in header-card order.
    plane_map
        ``{legacy name: MaskPlane}`` (anything with ``name`` and
        ``description`` attributes), or None to keep the legacy names.
    filename
        Used in error messages.

    Raises
    ------
    RuntimeError
        If a plane that is not in ``plane_map`` has bits set.
    """
    legacy = np.asarray(legacy)
    if legacy.dtype.kind not in "iu":
        legacy = legacy.astype(np.int64)
    wide = legacy.astype(np.uint64) if legacy.dtype.itemsize < 8 or legacy.dtype.kind == "i" else legacy
    selected: list[tuple[int, str, str]] = []
    for name, bit in legacy_planes.items():
        if plane_map is None:
            selected.append((bit, name, ""))
            continue
        target = plane_map.get(name)
        if target is None:
            if np.any(wide & np.uint64(1 << bit)):
                count = int(np.count_nonzero(wide & np.uint64(1 << bit)))
                raise RuntimeError(
                    f"Legacy mask plane {name!r} of {filename!r} is set on {count} pixel(s) but has no "
                    "entry in the plane map; pass a plane_map that includes it."
                )
            continue
        selected.append((bit, target.name, target.description))
    n_elements = max(1, (len(selected) + 7) // 8)
    packed = np.zeros(legacy.shape + (n_elements,), dtype=np.uint8)
    for position, (bit, _, _) in enumerate(selected):
        is_set = (wide >> np.uint64(bit)) & np.uint64(1)
        packed[..., position // 8] |= is_set.astype(np.uint8) << np.uint8(position % 8)
    return MappedMask(planes=[(name, description) for _, name, description in selected], array=packed)
