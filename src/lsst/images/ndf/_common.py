"""Names shared by the NDF reader and writer: pointers, ``ndf:`` sources and HDS component names."""

from __future__ import annotations

__all__ = (
    "DEFAULT_LSST_PATH",
    "HDS_NAME_LIMIT",
    "HdsNameShrinker",
    "NdfPointerModel",
    "SOURCE_PREFIX",
    "archive_path_to_hdf5_path",
    "archive_path_to_hdf5_path_components",
)

import pydantic

#: Prefix of the ``source`` of every array reference stored in an NDF file's JSON tree.
SOURCE_PREFIX = "ndf:"

#: Where a file's JSON tree and hoisted arrays live (the LSST extension of the top NDF).
DEFAULT_LSST_PATH = "/MORE/LSST"

#: HDS's limit on component names (``DAT__SZNAM``).
HDS_NAME_LIMIT = 15

#: The longest component `archive_path_to_hdf5_path` accepts without a shrinker (the
#: 30.2026.2100 reference's own check, one more than HDS allows).
_UNSHRUNK_LIMIT = 16


class NdfPointerModel(pydantic.BaseModel):
    """Pointer from a JSON tree to a subtree stored elsewhere in the file: its HDF5 path."""

    path: str


class HdsNameShrinker:
    """Shorten component names to HDS's length limit, uniquely within one file.

    Names are upper-cased.  A name that fits is returned as is; a longer one is
    cut and ends in ``_`` plus a hexadecimal counter (at least three digits)
    that grows with every new long name, so two long names never collide.  The
    same name always gets the same answer from one shrinker.  Shortened names
    depend on the order of the writes, so readers must take paths from the JSON
    tree rather than recompute them.

    Parameters
    ----------
    max_length
        Longest allowed component (HDS: 15).
    """

    def __init__(self, max_length: int = HDS_NAME_LIMIT) -> None:
        if max_length < 5:
            raise ValueError(f"max_length must be at least 5 to fit a counter, not {max_length}.")
        self._max_length = max_length
        self._assigned: dict[tuple[str, int], str] = {}
        self._counter = 0

    @property
    def max_length(self) -> int:
        """Longest component this shrinker produces."""
        return self._max_length

    def shrink(self, name: str, reserve: int = 0) -> str:
        """Return ``name`` upper-cased, shortened to ``max_length - reserve`` characters if needed.

        ``reserve`` leaves room for a suffix the caller appends (see `shrink_versioned`).
        """
        name = name.upper()
        limit = self._max_length - reserve
        if len(name) <= limit:
            return name
        key = (name, limit)
        if key not in self._assigned:
            self._counter += 1
            suffix = f"_{self._counter:03X}"
            if len(suffix) >= limit:
                raise ValueError(f"Cannot shrink {name!r} to {limit} characters: too many long names.")
            self._assigned[key] = name[: limit - len(suffix)] + suffix
        return self._assigned[key]

    def shrink_versioned(self, base: str, version: int) -> str:
        """Shrink ``base`` keeping a visible ``_{version}`` suffix when ``version > 1``."""
        if version <= 1:
            return self.shrink(base)
        suffix = f"_{version}"
        return self.shrink(base, reserve=len(suffix)) + suffix


def archive_path_to_hdf5_path_components(
    archive_path: str, shrinker: HdsNameShrinker | None = None
) -> list[str]:
    """Split an archive path (``backgrounds/fields/fine_spline/data``) into HDS components.

    Components are upper-cased; empty ones (``a//b``) are dropped.

    Parameters
    ----------
    archive_path
        ``/``-separated archive path.
    shrinker
        Shortens components longer than its limit.  Without one, components longer
        than 16 characters raise (what the 30.2026.2100 reference accepts).

    Raises
    ------
    ValueError
        If, without a shrinker, a component is too long.
    """
    components = []
    for part in (p for p in archive_path.split("/") if p):
        if shrinker is not None:
            components.append(shrinker.shrink(part))
            continue
        component = part.upper()
        if len(component) > _UNSHRUNK_LIMIT:
            raise ValueError(
                f"NDF component {component!r} of archive path {archive_path!r} is longer than "
                f"{_UNSHRUNK_LIMIT} characters; pass an HdsNameShrinker to shorten it."
            )
        components.append(component)
    return components


def archive_path_to_hdf5_path(
    archive_path: str, shrinker: HdsNameShrinker | None = None, lsst_path: str = DEFAULT_LSST_PATH
) -> str:
    """Return the HDF5 path of an archive path: ``lsst_path`` + the upper-cased components.

    The empty path names the main JSON tree, ``/MORE/LSST/JSON``.  See
    `archive_path_to_hdf5_path_components` for the parameters.
    """
    components = archive_path_to_hdf5_path_components(archive_path, shrinker)
    return "/".join([lsst_path.rstrip("/"), *(components or ["JSON"])])
