#!/usr/bin/env bash
# Regenerate the README's pictures (docs/images/*.png) from the bundled samples in examples/data.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" plot
python -m lsst.images._pictures docs/images
