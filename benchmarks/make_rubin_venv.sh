#!/usr/bin/env bash
# Make the Python 3.12 virtual environments with Rubin's lsst-images that the benchmarks
# compare against: benchmarks/.venv-rubin-2100 (bench_fits.py) and
# benchmarks/.venv-rubin-4300 (bench_cells.py); both are ignored by git.
# Usage: bash benchmarks/make_rubin_venv.sh [PYTHON] [RELEASE...]
#        (default: python3.12, releases 2100 and 4300)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${1:-python3.12}"
shift || true
releases=("$@")
[ ${#releases[@]} -eq 0 ] && releases=(2100 4300)
for release in "${releases[@]}"; do
    venv="$here/.venv-rubin-$release"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    # (4300 needs requests at run time without declaring it.)
    "$venv/bin/python" -m pip install -q "lsst-images==30.2026.$release" requests
    "$venv/bin/python" -c "import lsst.images; print('lsst-images $release ready in $venv')"
done
