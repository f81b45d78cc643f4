#!/usr/bin/env bash
# Set up a virtual environment with the project, then run the demonstration job:
# build a synthetic masked image, slice it, print a summary (and, once the FITS
# layer is present, write it to a temporary file and read a cut-out back).
set -euo pipefail
. "$(dirname "$0")/_venv.sh" fast
python -m lsst.images._demo "$@"
