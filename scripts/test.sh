#!/usr/bin/env bash
# Set up a virtual environment with the project and its test extras, then run the test suite.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" test,fast,piff,ndf,butler
python -m pytest -q -p no:cacheprovider "$@"
