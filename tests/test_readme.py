"""Every example in README.md runs as written and prints what the README says it prints.

The README is read as a user reads it, top to bottom, in one scratch folder that sees
the bundled samples as ``examples/`` (the README says to run from the root of the
clone; outputs land in the scratch folder instead):

* every ```` ```python ```` block is executed, in order, in one namespace (later blocks
  use names earlier ones define, as in a session); a ``print(...)  # -> TEXT`` line
  claims that the print writes exactly ``TEXT``, and the claims are checked;
* every ``lsst-images ...`` line of a ```` ```bash ```` block is run through the
  command's ``main`` and must succeed (other shell lines, ``bash scripts/...``, are
  tested by tests/test_tour.py and on a fresh clone);
* every ``$ lsst-images ...`` line of a ```` ```text ```` block is run too, and what it
  writes (stdout and stderr) must be the lines that follow it.

Blocks that need a missing optional extra are skipped, with the extra named.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from lsst.images.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_CLAIM = re.compile(r"^\s*print\(.*\)\s*# -> (.*)$")

#: Import prefixes of optional features and the module (extra) each needs.
_OPTIONAL = {
    "lsst.images.display": "matplotlib",
    "lsst.images.dask": "dask",
    "dask": "dask",
    "distributed": "distributed",
    "lsst.daf.butler": "lsst.daf.butler",
    "lsst.images.ndf": "h5py",
}
_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|import\s+([\w., ]+))", re.MULTILINE)


@dataclasses.dataclass
class Example:
    """One runnable piece of the README."""

    kind: str  # "python", "bash" (one command line) or "text" (a command and its output)
    source: str
    line: int  # line number in README.md
    expected: list[str] = dataclasses.field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.kind}@L{self.line}"


def examples() -> list[Example]:
    """The README's examples, in document order."""
    text = README.read_text()
    found = []
    for match in _FENCE.finditer(text):
        kind, body = match.group(1), match.group(2)
        first = text.count("\n", 0, match.start(2)) + 1
        if kind == "python":
            claims = [m.group(1).rstrip() for m in map(_CLAIM.match, body.splitlines()) if m]
            found.append(Example("python", body, first, claims))
        elif kind == "bash":
            for offset, line in enumerate(body.splitlines()):
                if line.startswith("lsst-images "):
                    found.append(Example("bash", line, first + offset))
        elif kind == "text":
            lines = body.splitlines()
            for offset, line in enumerate(lines):
                if line.startswith("$ lsst-images "):
                    output = []
                    for following in lines[offset + 1 :]:
                        if following.startswith("$ "):
                            break
                        output.append(following)
                    found.append(Example("text", line[2:], first + offset, output))
    return found


def missing_extra(example: Example) -> str | None:
    """The optional module an example needs but cannot import, if any."""
    needed = []
    if example.kind == "python":
        for match in _IMPORT.finditer(example.source):
            if match.group(1):
                modules = [match.group(1)] + [
                    f"{match.group(1)}.{n.strip()}" for n in match.group(2).split(",")
                ]
            else:
                modules = [m.strip() for m in match.group(3).split(",")]
            for module in modules:
                needed += [
                    need
                    for prefix, need in _OPTIONAL.items()
                    if module.split(".")[: prefix.count(".") + 1] == prefix.split(".")
                ]
    elif shlex.split(example.source)[1] == "show":
        needed.append("matplotlib")
    for module in needed:
        if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
            return module
    return None


EXAMPLES = examples()


@dataclasses.dataclass
class Outcome:
    skipped: str | None = None
    error: BaseException | None = None
    status: int = 0
    output: list[str] = dataclasses.field(default_factory=list)


def _run_command(line: str) -> tuple[int, list[str]]:
    """Run one ``lsst-images`` command line; return its exit status and its output lines."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli_main(shlex.split(line, comments=True)[1:])
        except SystemExit as exc:  # --version and --help exit through argparse
            status = int(exc.code or 0)
    return status, (out.getvalue() + err.getvalue()).splitlines()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run the whole README once, in order; record what each example did."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    results: dict[str, Outcome] = {}
    previous = os.getcwd()
    os.chdir(folder)
    try:
        for example in EXAMPLES:
            outcome = results[example.id] = Outcome()
            extra = missing_extra(example)
            if extra is not None:
                outcome.skipped = f"needs {extra} (an optional extra)"
                continue
            if example.kind == "python":
                stdout = io.StringIO()
                try:
                    with contextlib.redirect_stdout(stdout):
                        exec(compile(example.source, f"README.md:{example.line}", "exec"), namespace)
                except Exception as err:  # reported by the example's own test
                    outcome.error = err
                outcome.output = stdout.getvalue().splitlines()
            else:
                outcome.status, outcome.output = _run_command(example.source)
    finally:
        os.chdir(previous)
        if importlib.util.find_spec("matplotlib") is not None:
            import matplotlib.pyplot as plt

            plt.close("all")
    return results


def _is_subsequence(claims: list[str], lines: list[str]) -> bool:
    remaining = iter(line.rstrip() for line in lines)
    return all(any(claim == line for line in remaining) for claim in claims)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example(example: Example, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[example.id]
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    if example.kind == "python":
        if outcome.error is not None:
            raise outcome.error
        assert _is_subsequence(example.expected, outcome.output), (
            f"README.md:{example.line} claims {example.expected}, the block printed {outcome.output}"
        )
    elif example.kind == "bash":
        assert outcome.status == 0, f"README.md:{example.line}: {example.source!r} -> {outcome.output}"
    else:
        if any(": error: " in line for line in example.expected):
            assert outcome.status != 0
        assert outcome.output == example.expected, f"README.md:{example.line}: {example.source!r}"


def test_readme_has_the_examples_it_promises() -> None:
    """The quick start, the command line and both set-up commands are there."""
    kinds = [e.kind for e in EXAMPLES]
    assert kinds.count("python") >= 6 and kinds.count("bash") >= 5 and "text" in kinds
    text = README.read_text()
    setup = re.findall(r"^bash scripts/(\w+)\.sh", text, re.MULTILINE)
    assert setup == ["demo", "test"]
    assert all((ROOT / "scripts" / f"{name}.sh").exists() for name in setup)
    assert "SPEED" not in text  # no placeholder left


def test_claims_are_checked() -> None:
    """A wrong claim is caught: the checker is not vacuous."""
    assert _is_subsequence(["a", "c"], ["a", "b", "c"])
    assert not _is_subsequence(["c", "a"], ["a", "b", "c"])
    assert not _is_subsequence(["a b"], ["a  b"])
