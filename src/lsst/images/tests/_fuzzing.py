"""Reading damaged files and classifying what happened, for the fuzz tests and runner.

`read_outcome` writes a mutated copy of a file, reads it the way a user would (a full
read, then a small ``bbox``, or the legacy reader) and says how the reader behaved:

* ``"refused"`` -- an `ArchiveReadError` whose message names the file (the contract);
* ``"unnamed"`` -- an `ArchiveReadError` that does not name the file;
* ``"crash"`` -- any other exception;
* ``"different"`` -- a "successful" read whose pixels (or bbox) differ from the original;
* ``"same"`` -- a successful read giving the original pixels (the damage was harmless).

Hangs are the caller's business (the runner reads in a subprocess pool with a
time limit).
"""

from __future__ import annotations

__all__ = ("OUTCOMES", "Outcome", "pixel_planes", "read_outcome", "reader_for")

import dataclasses
import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

#: Every outcome `read_outcome` reports, best first.
OUTCOMES = ("same", "refused", "unnamed", "different", "crash")


@dataclasses.dataclass
class Outcome:
    """What one read of a damaged file did."""

    kind: str
    detail: str = ""


def pixel_planes(obj: Any) -> dict[str, np.ndarray]:
    """The pixel arrays of an Image, Mask, MaskedImage or VisitImage, by plane name."""
    planes = {}
    for name in ("image", "mask", "variance"):
        plane = getattr(obj, name, None)
        if plane is not None and hasattr(plane, "array"):
            planes[name] = np.asarray(plane.array)
    if not planes and hasattr(obj, "array"):
        planes["array"] = np.asarray(obj.array)
    return planes


def _same(a: Any, b: Any) -> bool:
    pa, pb = pixel_planes(a), pixel_planes(b)
    if pa.keys() != pb.keys() or getattr(a, "bbox", None) != getattr(b, "bbox", None):
        return False
    return all(
        x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
        for x, y in ((pa[k], pb[k]) for k in pa)
    )


def reader_for(class_name: str, legacy: bool) -> Callable[..., Any]:
    """``read(path, bbox=None)`` for one of the image classes (FITS archive or legacy file)."""
    import lsst.images as li

    cls = getattr(li, class_name)
    if legacy:
        return lambda path, bbox=None: cls.read_legacy(path)
    return lambda path, bbox=None: cls.read_fits(path, bbox=bbox)


def read_outcome(
    data: bytes, path: str, read: Callable[..., Any], reference: Any, bbox: Any = None
) -> Outcome:
    """Write ``data`` to ``path``, read it with ``read(path, bbox=bbox)`` and classify the result.

    ``reference`` is what the same read gives for the undamaged file.
    """
    from lsst.images.serialization import ArchiveReadError

    with open(path, "wb") as stream:
        stream.write(data)
    try:
        obj = read(path, bbox=bbox)
        # Touch lazily decoded parts too (e.g. a VisitImage's deferred components).
        pixel_planes(obj)
    except ArchiveReadError as err:
        text = str(err)
        named = path in text or os.path.basename(path) in text
        return Outcome("refused" if named else "unnamed", f"{type(err).__name__}: {text[:300]}")
    except Exception as err:  # noqa: BLE001 - classifying every escape is the point
        where = traceback.extract_tb(err.__traceback__)[-1]
        return Outcome("crash", f"{type(err).__name__}: {str(err)[:200]} at {where.filename}:{where.lineno}")
    return Outcome("same" if _same(obj, reference) else "different")
