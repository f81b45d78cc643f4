#!/usr/bin/env bash
# Make the Python 3.12 virtual environment with Rubin's lsst-images 30.2026.2100 that
# bench_fits.py compares against (benchmarks/.venv-rubin-2100, ignored by git).
# Usage: bash benchmarks/make_rubin_venv.sh [PYTHON]   (default: python3.12)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-rubin-2100"
"${1:-python3.12}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "lsst-images==30.2026.2100"
"$venv/bin/python" -c "import lsst.images; print('lsst-images ready in $venv')"
