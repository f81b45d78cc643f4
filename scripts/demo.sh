#!/usr/bin/env bash
# The main job on the bundled sample data: set up .venv, install the project, then
#  1. build a synthetic masked image, slice it, write it and read a cut-out back;
#  2. for each bundled visit image in examples/data: summarize it (lsst-images info),
#     draw it with its mask planes (lsst-images show -> sample-output/<name>.png), evaluate PSF / photometric scaling / sky position, convert to nJy, and cut out
#     a sky circle straight from the file (lsst-images cutout --ra --dec --radius).
# Outputs go to sample-output/ (or the folder given as the first argument).
set -euo pipefail
. "$(dirname "$0")/_venv.sh" fast,plot
out=${1:-sample-output}
python -m lsst.images._demo "$out"
python -m lsst.images._tour examples/data "$out"
