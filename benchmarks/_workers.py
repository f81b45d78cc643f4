"""Fresh-process measurements shared by the benchmark scripts: finding Rubin's interpreter, running a worker.

Every timed operation runs in a new interpreter (ours or the one of a Rubin virtual
environment) so that *cold* really is the first call in a process.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path


def find_python(option: str | None, variables: Sequence[str], venvs: Sequence[Path]) -> str | None:
    """The interpreter given by ``option``, else the first of the environment ``variables``
    that is set, else the first of ``venvs`` that exists; None when there is none."""
    if option:
        return option
    for name in variables:
        if os.environ.get(name):
            return os.environ[name]
    for venv in venvs:
        if (venv / "bin" / "python").exists():
            return str(venv / "bin" / "python")
    return None


def run_worker(worker: Path, python: str, *args: str) -> dict:
    """Run one operation of the ``worker`` script in a fresh ``python``; return its JSON result."""
    env = dict(os.environ)
    # Modules load from cached bytecode, as in an installed package (the development
    # machines set PYTHONDONTWRITEBYTECODE, which would recompile everything each time).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run([python, str(worker), *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{python} {worker.name} {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
