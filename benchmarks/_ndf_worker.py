"""One NDF benchmark measurement in a fresh process (run by ``bench_ndf.py``; either library).

``python _ndf_worker.py OP FILE SCENE_DIR``: ``write`` builds a `MaskedImage` from the
scene arrays and writes ``FILE`` with ``lsst.images.ndf.write``; ``read`` reads it whole;
``cutout`` reads a 200x200 box.  Prints ``{"cold": s, "warm": s}``: the first and the
second time the operation runs in this process (after ``import lsst.images``).
Uses only the public API shared by this project and Rubin's 30.2026.2100 wheel.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import astropy.units as u

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scene import PLANES, load_scene  # noqa: E402

import lsst.images as li  # noqa: E402
from lsst.images import ndf  # noqa: E402


def _masked_image(scene_dir: str) -> li.MaskedImage:
    image, packed, variance = load_scene(Path(scene_dir))
    schema = li.MaskSchema([li.MaskPlane(name, f"{name} pixels.") for name in PLANES])
    masked = li.MaskedImage(
        li.Image(image, unit=u.nJy), mask_schema=schema, variance=li.Image(variance, unit=u.nJy**2)
    )
    for bit, name in enumerate(PLANES):
        masked.mask.set(name, (packed & (1 << bit)) != 0)
    return masked


def main(op: str, path: str, scene_dir: str) -> dict[str, float]:
    if op == "write":
        obj = _masked_image(scene_dir)

        def run() -> None:
            if os.path.exists(path):
                os.unlink(path)  # the reference refuses to replace a file
            ndf.write(obj, path)
    elif op == "read":

        def run() -> None:
            ndf.read(li.MaskedImage, path)
    elif op == "cutout":
        box = li.Box.factory[1900:2100, 1900:2100]

        def run() -> None:
            ndf.read(li.MaskedImage, path, bbox=box)
    else:
        raise SystemExit(f"unknown operation {op!r}")
    times = []
    for _ in range(2):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"cold": times[0], "warm": times[1]}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
