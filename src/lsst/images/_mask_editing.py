"""Growing, shrinking, comparing and decoding masks plane by plane (Rubin's 4300 additions).

`Mask.add_plane`, `Mask.add_planes`, `Mask.compare`, `MaskSchema.interpret`,
`MaskSchema.from_fits_header` and `MaskPlaneBit.check` are thin methods over the
functions here.  A schema slot ``n`` lives in element ``n // B`` at bit ``n % B``, so
appending planes (or turning dropped ones into placeholders) never moves an existing
plane: the old packed elements are copied unchanged into the front of the new array.
"""

from __future__ import annotations

__all__ = ()

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import astropy.io.fits

    from ._mask import Mask, MaskPlane, MaskPlaneBit, MaskSchema


def with_planes(mask: Mask, planes: Iterable[MaskPlane | None], drop: Iterable[str] = ()) -> Mask:
    """A copy of ``mask`` whose schema lacks the ``drop`` planes and has ``planes`` appended.

    Without drops every existing plane keeps its slot and the packed elements are
    copied as they are; dropping planes moves the later ones down a slot, so their
    pixels are copied plane by plane.

    Raises
    ------
    ValueError
        If a plane to add already exists (and is not dropped) or a plane to drop does not.
    """
    from ._mask import Mask, MaskSchema

    schema = mask.schema
    drop = set(drop)
    missing = sorted(drop - set(schema.names))
    if missing:
        raise ValueError(f"Cannot drop mask planes that do not exist: {missing}.")
    kept = [p for p in schema if p is None or p.name not in drop]
    names = {p.name for p in kept if p is not None}
    new = list(planes)
    for plane in new:
        if plane is not None:
            if plane.name in names:
                raise ValueError(f"Mask plane {plane.name!r} already exists.")
            names.add(plane.name)
    new_schema = MaskSchema([*kept, *new], dtype=schema.dtype)
    shape = mask.array.shape[:2] + (new_schema.mask_size,)
    result = Mask(
        np.zeros(shape, dtype=schema.dtype),
        schema=new_schema,
        bbox=mask.bbox,
        projection=mask.projection,
        metadata=dict(mask.metadata),
    )
    if not drop:
        result.array[..., : schema.mask_size] = mask.array
    else:
        for plane in kept:
            if plane is not None:
                result.set(plane.name, mask.get(plane.name))
    return result


def compare(a: Mask, b: Mask) -> dict[str, tuple[int, int]]:
    """Per plane in both masks: the pixels set only in ``a`` and only in ``b`` (equal planes omitted).

    Raises
    ------
    ValueError
        If the masks cover different boxes.
    """
    if a.bbox != b.bbox:
        raise ValueError(f"Cannot compare masks with different bounding boxes ({a.bbox}, {b.bbox}).")
    result: dict[str, tuple[int, int]] = {}
    for name in a.schema.names:
        if name not in b.schema.names:
            continue
        in_a = a.get(name)
        in_b = b.get(name)
        only_a = int(np.count_nonzero(in_a & ~in_b))
        only_b = int(np.count_nonzero(in_b & ~in_a))
        if only_a or only_b:
            result[name] = (only_a, only_b)
    return result


def interpret(schema: MaskSchema, value: npt.ArrayLike) -> list[str]:
    """Names of the planes set in one pixel's packed mask vector (length ``mask_size``).

    Raises
    ------
    ValueError
        If ``value`` is not a vector of length ``schema.mask_size``.
    """
    vector = np.asarray(value)
    if vector.shape != (schema.mask_size,):
        raise ValueError(f"A pixel's mask value has shape ({schema.mask_size},); got {vector.shape}.")
    return [name for name in schema.names if check(schema.bit(name), vector)]


def check(bit: MaskPlaneBit, value: npt.ArrayLike) -> bool:
    """Whether ``bit`` is set in one pixel's packed mask vector."""
    return bool(np.asarray(value)[bit.index] & bit.mask)


_MSKN = re.compile(r"^MSKN(\d{4})$")


def schema_from_fits_header(header: astropy.io.fits.Header, dtype: npt.DTypeLike = np.uint8) -> MaskSchema:
    """The schema described by ``MSKNnnnn``/``MSKDnnnn`` cards (slots without a card become placeholders)."""
    from ._mask import MaskPlane, MaskSchema

    slots: dict[int, MaskPlane] = {}
    for key in header:
        match = _MSKN.match(str(key))
        if match:
            n = int(match.group(1))
            slots[n] = MaskPlane(str(header[key]).strip(), str(header.get(f"MSKD{n:04d}", "")).strip())
    planes: list[Any] = [slots.get(n) for n in range(max(slots) + 1)] if slots else []
    return MaskSchema(planes, dtype=dtype)
