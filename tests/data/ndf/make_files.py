"""Write the NDF files of this folder with Rubin's lsst-images 30.2026.2100 wheel.

Run with that wheel's interpreter (it needs h5py) and the shared fixtures beside the
checkout (for the visit image)::

    /work/venvs/rubin-2100/bin/python tests/data/ndf/make_files.py [SHARED_FIXTURES]

Each ``<kind>.sdf`` is an object from ``tests/ndf_crosscheck.py`` written by the
reference's ``lsst.images.ndf.write``; ``manifest.json`` records, for each file, the
class and the summary the *reference* computes for the object it wrote (pixel digests,
mask planes and counts, sky positions, PSF and field values...).  The tests read the
files with this package and must reproduce those summaries, so CI (which has no Rubin
interpreter) still checks that we read Rubin-written NDF files correctly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/, for ndf_crosscheck

from importlib.metadata import version  # noqa: E402

import ndf_crosscheck  # noqa: E402
from lsst.images import ndf  # noqa: E402

CLASSES = {
    "image": "Image",
    "image_i16": "Image",
    "mask": "Mask",
    "masked_image": "MaskedImage",
    "color_image": "ColorImage",
    "visit": "VisitImage",
}


def main() -> None:
    fixtures = sys.argv[1] if len(sys.argv) > 1 else str(HERE.parents[3] / "shared" / "fixtures")
    manifest = {"writer": f"lsst-images {version('lsst-images')}", "files": {}}
    for kind, cls in CLASSES.items():
        obj = ndf_crosscheck.build(kind, fixtures)
        path = HERE / f"{kind}.sdf"
        if path.exists():
            path.unlink()  # the reference refuses to overwrite
        ndf.write(obj, str(path))
        manifest["files"][path.name] = {"class": cls, "summary": ndf_crosscheck.summarize(obj)}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
