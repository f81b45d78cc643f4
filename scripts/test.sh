#!/usr/bin/env bash
# Set up a virtual environment with the project and its test extras, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[test,fast,piff]"
python -m pytest -q -p no:cacheprovider "$@"
