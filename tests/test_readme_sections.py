"""The README's "2100 and 4300" and "With the butler" examples run as written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _example(section: str) -> str:
    text = README.read_text()
    start = text.index("```python", text.index(f"## {section}")) + len("```python")
    return text[start : text.index("```", start)]


@pytest.mark.parametrize("section", ["2100 and 4300", "With the butler"])
def test_readme_example_runs(section: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if section == "With the butler":
        pytest.importorskip("lsst.daf.butler")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_example(section), f"README.md ({section})", "exec"), namespace)
    if section == "With the butler":
        butler = namespace["butler"]
        assert butler.get("deep.bbox") == namespace["masked"].bbox
    else:
        assert os.path.exists("image.json")
