#!/usr/bin/env bash
# Set up a virtual environment with the project, then run the demonstration job:
# build a synthetic masked image, slice it, print a summary (and, once the FITS
# layer is present, write it to a temporary file and read a cut-out back).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[fast]"
python -m lsst.images._demo "$@"
