"""Mask planes and schemas: which bit of a `Mask` means what.

A mask is stored as a 3-d integer array of shape ``(height, width, mask_size)``.  The
schema assigns each plane (or ``None`` placeholder, which just reserves a bit) a
sequential slot ``n``; slot ``n`` lives in element ``n // B`` of the last axis at bit
``n % B``, where ``B`` is the number of usable bits per element (all bits for unsigned
dtypes, all but the sign bit for signed ones).  Using extra elements instead of wider
integers means the number of planes is unbounded while each element stays a cheap
small integer.
"""

from __future__ import annotations

__all__ = ("MaskPlane", "MaskPlaneBit", "MaskSchema")

import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import astropy.io.fits


@dataclasses.dataclass(frozen=True)
class MaskPlane:
    """Name and description of one mask bit.

    Parameters
    ----------
    name
        Unique plane name (e.g. ``"BAD"``).
    description
        Human-readable meaning of the bit.
    """

    name: str
    description: str

    @classmethod
    def read_legacy(cls, header: astropy.io.fits.Header) -> dict[str, int]:
        """Pop afw ``MP_<NAME>`` cards from a FITS header.

        Returns
        -------
        dict[str, int]
            Mapping from legacy plane name to bit index.
        """
        result: dict[str, int] = {}
        for key in list(header.keys()):
            if key.startswith("MP_"):
                result[key[3:]] = int(header.pop(key))
        return result


@dataclasses.dataclass(frozen=True)
class MaskPlaneBit:
    """Location of a plane in a mask array.

    Parameters
    ----------
    index
        Element of the mask array's last axis that holds the plane.
    mask
        Bit value of the plane within that element.
    """

    index: int
    mask: np.integer

    @classmethod
    def compute(cls, overall_index: int, stride: int, mask_type: type[np.integer]) -> MaskPlaneBit:
        """Locate schema slot ``overall_index`` given ``stride`` usable bits per element."""
        return cls(overall_index // stride, mask_type(1 << (overall_index % stride)))

    def check(self, value: npt.ArrayLike) -> bool:
        """Whether this bit is set in one pixel's packed mask vector (Rubin 4300)."""
        from ._mask_editing import check

        return check(self, value)


def _mask_dtype(dtype: npt.DTypeLike) -> np.dtype:
    """Validate and normalize a mask dtype (integers only, not bool)."""
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise TypeError(f"dtype for masks must be an integer; got {dt} with kind={dt.kind}.")
    return dt


class MaskSchema:
    """Ordered mask planes and the integer dtype used to store them.

    Parameters
    ----------
    planes
        Mask planes in bit order; `None` entries reserve a bit without naming it.
    dtype
        Integer dtype of the mask array elements (default ``uint8``).

    Raises
    ------
    TypeError
        If ``dtype`` is not an integer type.
    ValueError
        If two planes share a name.
    """

    def __init__(self, planes: Iterable[MaskPlane | None], dtype: npt.DTypeLike = np.uint8):
        self._planes: tuple[MaskPlane | None, ...] = tuple(planes)
        self._dtype = _mask_dtype(dtype)
        stride = self.bits_per_element(self._dtype)
        self._bits: dict[str, MaskPlaneBit] = {}
        self._descriptions: dict[str, str] = {}
        for n, plane in enumerate(self._planes):
            if plane is None:
                continue
            if not isinstance(plane, MaskPlane):
                raise TypeError(f"Mask schema entries must be MaskPlane or None; got {plane!r}.")
            if plane.name in self._bits:
                raise ValueError(f"Duplicate mask plane name {plane.name!r}.")
            self._bits[plane.name] = MaskPlaneBit.compute(n, stride, self._dtype.type)
            self._descriptions[plane.name] = plane.description
        self._mask_size = max(1, math.ceil(len(self._planes) / stride))

    @staticmethod
    def bits_per_element(dtype: npt.DTypeLike) -> int:
        """Return the usable bits per element of an integer dtype.

        All bits are used for unsigned types; the sign bit is left alone for
        signed types so that values stay non-negative.
        """
        dt = _mask_dtype(dtype)
        bits = 8 * dt.itemsize
        return bits if dt.kind == "u" else bits - 1

    @property
    def dtype(self) -> np.dtype:
        """Numpy dtype of mask arrays using this schema."""
        return self._dtype

    @property
    def mask_size(self) -> int:
        """Length of the mask array's last axis (at least 1)."""
        return self._mask_size

    @property
    def names(self) -> Set[str]:
        """Set-like view of plane names, in bit order."""
        return self._bits.keys()

    @property
    def descriptions(self) -> Mapping[str, str]:
        """Mapping from plane name to description."""
        return self._descriptions

    def bit(self, plane: str) -> MaskPlaneBit:
        """Return where ``plane`` is stored (`KeyError` if unknown)."""
        return self._bits[plane]

    def bitmask(self, *planes: str) -> np.ndarray:
        """Return a length-``mask_size`` array with the bits of all named planes set."""
        result = np.zeros(self._mask_size, dtype=self._dtype)
        for name in planes:
            bit = self._bits[name]
            result[bit.index] |= bit.mask
        return result

    def split(self, dtype: npt.DTypeLike) -> list[MaskSchema]:
        """Re-pack the named planes into schemas of ``dtype`` with ``mask_size == 1`` each.

        Placeholders are dropped.  At least one (possibly empty) schema is
        returned, so a mask without named planes still maps to one array.
        """
        stride = self.bits_per_element(dtype)
        named = [p for p in self._planes if p is not None]
        if not named:
            return [MaskSchema([], dtype=dtype)]
        return [MaskSchema(named[i : i + stride], dtype=dtype) for i in range(0, len(named), stride)]

    def update_header(self, header: astropy.io.fits.Header) -> None:
        """Write ``MSKNnnnn``/``MSKMnnnn``/``MSKDnnnn`` cards describing each plane.

        Raises
        ------
        TypeError
            If ``mask_size != 1`` (the cards describe bits of a single integer).
        """
        if self._mask_size != 1:
            raise TypeError(f"Cannot describe a mask schema with mask_size={self._mask_size} in a header.")
        for n, plane in enumerate(self._planes):
            if plane is None:
                continue
            header[f"MSKN{n:04d}"] = (plane.name, f"Name for mask plane {n}.")
            header[f"MSKM{n:04d}"] = (1 << n, f"Bitmask for plane n={n}; always 1<<n.")
            header[f"MSKD{n:04d}"] = plane.description

    def strip_header(self, header: astropy.io.fits.Header) -> None:
        """Remove the cards `update_header` would write."""
        from .fits._headers import remove_cards

        keys = {f"{prefix}{n:04d}" for n in range(len(self._planes)) for prefix in ("MSKN", "MSKM", "MSKD")}
        remove_cards(header, keys.__contains__)

    def interpret(self, value: npt.ArrayLike) -> list[str]:
        """Names of the planes set in one pixel's packed mask vector (Rubin 4300)."""
        from ._mask_editing import interpret

        return interpret(self, value)

    @staticmethod
    def from_fits_header(header: astropy.io.fits.Header, dtype: npt.DTypeLike = np.uint8) -> MaskSchema:
        """The schema that `update_header` cards describe (Rubin 4300)."""
        from ._mask_editing import schema_from_fits_header

        return schema_from_fits_header(header, dtype)

    def __contains__(self, plane: object) -> bool:
        if isinstance(plane, MaskPlane):
            return plane in self._planes
        return plane in self._bits

    def __getitem__(self, i: int) -> MaskPlane | None:
        return self._planes[i]

    def __iter__(self) -> Iterator[MaskPlane | None]:
        return iter(self._planes)

    def __len__(self) -> int:
        return len(self._planes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MaskSchema):
            return NotImplemented
        return self._planes == other._planes and self._dtype == other._dtype

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MaskSchema([{', '.join(repr(p) for p in self._planes)}], dtype={self._dtype!r})"

    def __str__(self) -> str:
        lines = []
        for name, bit in self._bits.items():
            lines.append(f"{name} [{bit.index}@{int(bit.mask):#x}]: {self._descriptions[name]}")
        return "\n".join(lines)
