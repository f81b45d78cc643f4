# Shared by the scripts in this folder (source it, do not run it): go to the
# project root, create .venv there on first use (with $PYTHON, default python3),
# activate it and install the project editable with the extras given as "$1"
# (e.g. "test,fast").
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[$1]"
